"""GET /api/v1/health reports every service, and 503 naming the one that is down."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from litestar.testing import TestClient

from app.domain.system.controllers import HEALTH_TTL_S, overall_status
from app.main import create_app
from ragrec.config import Settings
from ragrec.services import postgres

pytestmark = pytest.mark.integration


ADMIN = {"X-API-Key": "t-health-admin"}


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings.model_copy(update={"api_keys": {"admin": [ADMIN["X-API-Key"]]}}))
    with TestClient(app=app) as test_client:
        yield test_client


def test_health_ok_when_all_up(client: TestClient) -> None:
    anonymous = client.get("/api/v1/health")
    assert (anonymous.status_code, anonymous.json()) == (200, {"status": "up"})
    response = client.get("/api/v1/health", headers=ADMIN)
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert {s["name"] for s in body["services"]} == {"neo4j", "postgres", "qdrant", "models"}
    models = next(s for s in body["services"] if s["name"] == "models")
    assert models["required"] is False
    # no SigLIP weights here: the image encoder must be named as the fallback, not SigLIP
    assert "siglip" not in models["version"]["image"].lower() or "fallback" not in models["detail"]
    versions = {s["name"]: s["version"] for s in body["services"]}
    assert versions["neo4j"]["gds"].startswith("2.")
    assert versions["postgres"]["pgvector"].startswith("0.")


def test_health_degraded_names_the_stopped_store(client: TestClient, settings: Settings) -> None:
    """PostgreSQL down: the vector search falls back to the next store, so the API is
    degraded (200), not down; the report names PostgreSQL."""
    if not settings.local_pg:
        pytest.fail(
            "this test stops the local PostgreSQL; unset RAGREC_PG_DSN to run it", pytrace=False
        )
    postgres.stop(settings)
    try:
        time.sleep(HEALTH_TTL_S + 0.1)  # let the reused report expire
        response = client.get("/api/v1/health", headers=ADMIN)
        body = response.json()
        assert response.status_code == 200, body
        assert client.get("/api/v1/health").json() == {"status": "degraded"}
        assert body["failing"] == ["postgres"]
        assert body["status"] == "degraded"
    finally:
        postgres.start(settings)
    time.sleep(HEALTH_TTL_S + 0.1)
    response = client.get("/api/v1/health", headers=ADMIN)
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_overall_status_rules() -> None:
    assert overall_status([]) == "ok"
    assert overall_status(["qdrant"]) == "degraded"
    assert overall_status(["postgres", "qdrant"]) == "degraded"
    assert overall_status(["neo4j"]) == "down"
    assert overall_status(["neo4j", "postgres"]) == "down"


def test_openapi_schema_lists_health(client: TestClient) -> None:
    schema = client.get("/schema/openapi.json").json()
    assert "/api/v1/health" in schema["paths"]
