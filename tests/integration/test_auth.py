"""Access (issue 14): every private endpoint answers 401 without a key and with a wrong
key, 403 with a key of another scope, and works with the right one; the widget key may
only read recommendations and post impressions/clicks of known customers; no response
carries a pseudonym or the key; anonymous /health says only up/degraded/down.
Input hygiene: timestamps, batch sizes, content types, JSON depth, decompression bombs,
dedup by content, short escaped error excerpts, and no shop id in the access log."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import psycopg
import pytest
from litestar.testing import TestClient
from neo4j import Driver
from PIL import Image

from app.lib.hygiene import RedactIds, redact
from app.main import create_app
from ragrec.config import PROJECT_ROOT, Settings
from ragrec.cypher import query
from ragrec.etl.pseudonymise import pseudonymise_customer_id
from ragrec.graph.loader import load_data

pytestmark = pytest.mark.integration

SAMPLE = PROJECT_ROOT / "data" / "sample"
TX = pl.read_parquet(SAMPLE / "transactions_sample.parquet")
CUSTOMERS = TX.group_by("customer_id").len().sort(["len", "customer_id"], descending=True)
KNOWN = str(CUSTOMERS["customer_id"][0])
VICTIM = str(CUSTOMERS["customer_id"][3])  # erased by the "right key works" test
BEST_SELLER = (
    f"{TX.group_by('article_id').len().sort('len', descending=True)['article_id'][0]:010d}"
)

KEYS = {
    "admin": ["t-admin-1", "t-admin-2"],  # two active keys: rotation
    "events": ["t-events"],
    "read": ["t-read"],
    "widget": ["pk-widget"],
    "metrics": ["t-metrics"],
}
ADMIN = {"X-API-Key": "t-admin-2"}
EVENTS = {"X-API-Key": "t-events"}
READ = {"X-API-Key": "t-read"}
WIDGET = {"X-API-Key": "pk-widget"}
WRONG = {"X-API-Key": "t-admin-1x"}


def keyed(settings: Settings, **changes: Any) -> Settings:
    base: dict[str, Any] = {"api_keys": KEYS, "api_rate_limit": 0, "api_cache_ttl_s": 0.0}
    return settings.model_copy(update={**base, **changes})


@pytest.fixture(scope="module")
def sample(neo4j_driver: Driver, settings: Settings) -> Driver:
    with neo4j_driver.session(database=settings.neo4j_database) as session:
        session.run(query("graph/wipe")).consume()
    load_data(SAMPLE, settings, neo4j_driver, show_progress=False, bulk=False)
    return neo4j_driver


@pytest.fixture(scope="module")
def client(sample: Driver, settings: Settings) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(keyed(settings))) as test_client:
        yield test_client


def error_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert set(body) == {"error"} and body["error"]["status"] == status, body
    return dict(body["error"])


# -- every operation that declares a required key ---------------------------------------------


def private_operations(client: TestClient[Any]) -> list[tuple[str, str]]:
    schema = client.get("/schema/openapi.json").json()
    found = []
    for path, item in schema["paths"].items():
        for method, op in item.items():
            if op.get("security") == [{"ApiKey": []}]:
                found.append((method.upper(), path))
    return sorted(found)


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x0", path)


def test_every_private_operation_needs_a_key(client: TestClient[Any]) -> None:
    operations = private_operations(client)
    paths = {p for _, p in operations}
    for expected in (
        "/api/v1/privacy/customers/{customer_id}/export",
        "/api/v1/privacy/customers/{customer_id}",
        "/api/v1/persona/{customer_id}",
        "/api/v1/interactions",
        "/api/v1/interactions/batch",
        "/api/v1/analytics/products/top-viewed",
        "/api/v1/analytics/recommendations/performance",
        "/api/v1/internal/events",
        "/api/v1/internal/scripts/{name}",
        "/api/v1/internal/cache/clear",
    ):
        assert expected in paths, expected
    for method, path in operations:
        url = concrete(path)
        body = {} if method in ("POST", "PUT", "PATCH") else None
        missing = client.request(method, url, json=body)
        assert missing.status_code == 401, (method, path, missing.text)
        assert missing.json()["error"]["code"] == "unauthorized"
        wrong = client.request(method, url, json=body, headers=WRONG)
        assert wrong.status_code == 401, (method, path, wrong.text)
        allowed = client.request(method, url, json=body, headers=ADMIN)
        assert allowed.status_code not in (401, 403), (method, path, allowed.text)
        assert allowed.status_code < 500, (method, path, allowed.text)
        if "/interactions" in path:
            continue  # the widget may post (impressions and clicks: checked below)
        assert client.request(method, url, json=body, headers=WIDGET).status_code == 403, path


SCOPE_CASES = [
    # (method, url, body, allowed keys, refused keys)
    ("GET", f"/api/v1/privacy/customers/{KNOWN}/export", None, [ADMIN], [EVENTS, READ, WIDGET]),
    ("GET", f"/api/v1/persona/{KNOWN}", None, [ADMIN, READ], [EVENTS, WIDGET]),
    ("GET", "/api/v1/analytics/products/top-purchased", None, [ADMIN, READ], [EVENTS, WIDGET]),
    (
        "POST",
        "/api/v1/interactions",
        {"customer_id": KNOWN, "product_id": BEST_SELLER, "type": "view"},
        [ADMIN, EVENTS],
        [READ, WIDGET],
    ),
    (
        "POST",
        "/api/v1/internal/scripts/interaction_kpis",
        {"params": {"since": "2000-01-01T00:00:00Z"}},
        [ADMIN],
        [EVENTS, READ, WIDGET],
    ),
]


@pytest.mark.parametrize(("method", "url", "body", "allowed", "refused"), SCOPE_CASES)
def test_scopes(
    client: TestClient[Any],
    method: str,
    url: str,
    body: Any,
    allowed: list[dict[str, str]],
    refused: list[dict[str, str]],
) -> None:
    for headers in refused:
        err = error_of(client.request(method, url, json=body, headers=headers), 403)
        assert err["code"] == "forbidden" and headers["X-API-Key"] not in json.dumps(err)
    for headers in allowed:
        response = client.request(method, url, json=body, headers=headers)
        assert response.status_code in (200, 201), (url, headers, response.text)
        assert headers["X-API-Key"] not in response.text


def test_right_key_works_for_erasure_and_no_pseudonym_is_returned(
    client: TestClient[Any], settings: Settings
) -> None:
    pseudonym = pseudonymise_customer_id(VICTIM, settings.effective_pseudonym_key())
    exported = client.get(f"/api/v1/privacy/customers/{VICTIM}/export", headers=ADMIN)
    assert exported.status_code == 200 and exported.json()["graph"]["purchases"]
    erased = client.delete(f"/api/v1/privacy/customers/{VICTIM}", headers=ADMIN)
    assert erased.status_code == 200, erased.text
    for response in (
        client.delete(f"/api/v1/privacy/customers/{VICTIM}", headers=ADMIN),
        client.get(f"/api/v1/privacy/customers/{VICTIM}/export", headers=ADMIN),
        client.get(f"/api/v1/persona/{VICTIM}", headers=ADMIN),
        client.get("/api/v1/persona/never-a-customer", headers=ADMIN),
        client.get(f"/api/v1/recommendations/homepage?customer_id={VICTIM}"),
    ):
        err = error_of(response, 404)
        assert pseudonym not in response.text and VICTIM not in response.text
        assert not re.search(r"[0-9a-f]{32,}", err["message"]), err  # nothing hash-like
    persona = client.get(f"/api/v1/persona/{KNOWN}", headers=READ)
    assert persona.status_code == 200
    known_pseudonym = pseudonymise_customer_id(KNOWN, settings.effective_pseudonym_key())
    assert known_pseudonym not in persona.text and KNOWN not in persona.text


def test_widget_may_post_impressions_and_clicks_of_known_customers_only(
    client: TestClient[Any],
) -> None:
    rec = client.get("/api/v1/recommendations/homepage", params={"customer_id": KNOWN, "top_k": 2})
    assert rec.status_code == 200, rec.text
    item = rec.json()["items"][0]
    event = {
        "customer_id": KNOWN,
        "product_id": item["product_id"],
        "type": "recommendation_impression",
        "request_id": rec.json()["request_id"],
        "position": 1,
        "context": "homepage",
    }
    ok = client.post("/api/v1/interactions", json=event, headers=WIDGET)
    assert ok.status_code == 201, ok.text
    click = client.post(
        "/api/v1/interactions/batch",
        json={"events": [{**event, "type": "recommendation_click"}]},
        headers=WIDGET,
    )
    assert click.status_code == 201, click.text
    err = error_of(
        client.post("/api/v1/interactions", json={**event, "type": "cart_add"}, headers=WIDGET),
        403,
    )
    assert err["field"] == "type"
    stranger = {**event, "customer_id": f"new-visitor-{uuid.uuid4().hex[:8]}"}
    err = error_of(client.post("/api/v1/interactions", json=stranger, headers=WIDGET), 404)
    assert err["field"] == "customer_id" and "widget" in err["message"]
    created = client.post("/api/v1/interactions", json=stranger, headers=EVENTS)
    assert created.status_code == 201 and created.json()["created"] == 1  # cold start


def test_keys_public_puts_the_reads_behind_read_or_widget_keys(
    sample: Driver, settings: Settings
) -> None:
    with TestClient(app=create_app(keyed(settings, api_keys_public=True))) as local:
        url = f"/api/v1/products/{BEST_SELLER}"
        error_of(local.get(url), 401)
        error_of(local.get(url, headers=WRONG), 401)
        error_of(local.get(url, headers=EVENTS), 403)
        for headers in (READ, WIDGET, ADMIN):
            assert local.get(url, headers=headers).status_code == 200
        rec = local.post("/api/v1/recommend", json={"top_k": 2}, headers=WIDGET)
        assert rec.status_code == 200, rec.text
    with TestClient(app=create_app(keyed(settings))) as local:
        assert local.get(f"/api/v1/products/{BEST_SELLER}").status_code == 200


def test_no_keys_configured_closes_the_private_endpoints(
    sample: Driver, settings: Settings
) -> None:
    with TestClient(app=create_app(keyed(settings, api_keys={}))) as local:
        err = error_of(local.post("/api/v1/internal/cache/clear", headers=ADMIN), 401)
        assert "no API key configured" in err["message"]
        error_of(local.get(f"/api/v1/privacy/customers/{KNOWN}/export", headers=ADMIN), 401)


def test_health_anonymous_says_only_up_and_admin_gets_the_report(
    client: TestClient[Any],
) -> None:
    anonymous = client.get("/api/v1/health")
    assert anonymous.status_code == 200
    assert anonymous.json() == {"status": "up"}
    full = client.get("/api/v1/health", headers=ADMIN).json()
    assert {s["name"] for s in full["services"]} >= {"neo4j", "postgres"}
    assert client.get("/api/v1/health", headers=WIDGET).json() == {"status": "up"}


def test_metrics_can_be_protected(sample: Driver, settings: Settings) -> None:
    with TestClient(app=create_app(keyed(settings, api_metrics_protected=True))) as local:
        error_of(local.get("/api/v1/metrics"), 401)
        error_of(local.get("/api/v1/metrics", headers=WIDGET), 403)
        for headers in (ADMIN, {"X-API-Key": "t-metrics"}):
            response = local.get("/api/v1/metrics", headers=headers)
            assert response.status_code == 200 and "ragrec_requests_total" in response.text


def test_keys_file_is_generated_once_with_private_permissions(
    settings: Settings, tmp_path: Any
) -> None:
    path = tmp_path / "secrets" / "api_keys.json"
    local = settings.model_copy(update={"api_keys": None, "api_keys_file": path})
    first = local.effective_api_keys()
    assert path.stat().st_mode & 0o777 == 0o600
    assert {"admin", "events", "widget"} <= {s for s, keys in first.items() if keys}
    assert local.effective_api_keys() == first  # not regenerated


# (rate limits across two server workers: test_cache.py)


def test_generous_limits_are_counted_in_batches_and_still_hold(
    sample: Driver, settings: Settings
) -> None:
    """A limit of 100 flushes every 2 hits to PostgreSQL: the 101st request is refused
    and the shared row holds the count."""
    key = f"r-{uuid.uuid4().hex}"
    limited = keyed(
        settings,
        api_keys={**KEYS, "read": [key]},
        api_rate_limit=1000,
        api_rate_limit_unit="day",
        api_rate_limit_scopes={"read": 100},
    )
    with TestClient(app=create_app(limited)) as local:
        codes = [
            local.get("/api/v1/personas", headers={"X-API-Key": key}).status_code
            for _ in range(101)
        ]
        assert codes == [200] * 100 + [429], codes[-5:]
    key_id = hashlib.sha256(key.encode()).hexdigest()[:16]
    with psycopg.connect(settings.effective_pg_dsn()) as conn:
        row = conn.execute(
            "SELECT max(hits) FROM api_rate_limit WHERE bucket = %s", (f"key:{key_id}",)
        ).fetchone()
    assert row is not None and 100 <= row[0] <= 101


# -- input hygiene -------------------------------------------------------------------------------


def test_event_timestamps_are_bounded(client: TestClient[Any]) -> None:
    event = {"customer_id": KNOWN, "product_id": BEST_SELLER, "type": "view"}
    now = datetime.now(UTC)
    for ts, word in (
        ((now + timedelta(hours=2)).isoformat(), "future"),
        ("1970-01-02T00:00:00Z", "past"),
        ("2024-05-01T10:00:00+19:00", "offset"),
        ("2024-05-01T10:00:00-23:59", "offset"),
    ):
        err = error_of(
            client.post("/api/v1/interactions", json={**event, "ts": ts}, headers=EVENTS), 400
        )
        assert err["field"] == "ts" and word in err["message"], (ts, err)
    batch = {"events": [event, {**event, "ts": (now + timedelta(days=1)).isoformat()}]}
    err = error_of(client.post("/api/v1/interactions/batch", json=batch, headers=EVENTS), 400)
    assert err["field"] == "events[1].ts"
    ok_ts = (now - timedelta(minutes=5)).replace(microsecond=0).isoformat()
    ok = client.post("/api/v1/interactions", json={**event, "ts": ok_ts}, headers=EVENTS)
    assert ok.status_code == 201, ok.text
    shifted = (now - timedelta(minutes=5)).astimezone(
        __import__("datetime").timezone(timedelta(hours=18))
    )
    edge = client.post(
        "/api/v1/interactions", json={**event, "ts": shifted.isoformat()}, headers=EVENTS
    )
    assert edge.status_code == 201, edge.text


def test_events_without_id_are_deduplicated_by_content(client: TestClient[Any]) -> None:
    product = BEST_SELLER
    event = {"customer_id": f"dedup-{uuid.uuid4().hex[:8]}", "product_id": product, "type": "view"}
    first = client.post("/api/v1/interactions", json=event, headers=EVENTS).json()
    second = client.post("/api/v1/interactions", json=event, headers=EVENTS).json()
    assert (first["created"], second["created"], second["duplicates"]) == (1, 0, 1)
    timed = {**event, "ts": "2024-03-01T12:00:00Z"}
    assert client.post("/api/v1/interactions", json=timed, headers=EVENTS).json()["created"] == 1
    batch = client.post(
        "/api/v1/interactions/batch", json={"events": [timed, timed]}, headers=EVENTS
    ).json()
    assert batch["created"] == 0 and batch["duplicates"] == 2


def test_batches_above_the_maximum_are_413(client: TestClient[Any]) -> None:
    event = {"customer_id": KNOWN, "product_id": BEST_SELLER, "type": "view"}
    err = error_of(
        client.post("/api/v1/interactions/batch", json={"events": [event] * 1001}, headers=EVENTS),
        413,
    )
    assert err["field"] == "events" and "1,000" in err["message"]
    err = error_of(
        client.post("/api/v1/internal/events", json={"events": [event] * 10_001}, headers=ADMIN),
        413,
    )
    assert err["field"] == "events"


def test_non_json_bodies_are_415_and_deep_json_is_400(client: TestClient[Any]) -> None:
    for url, headers in (
        ("/api/v1/recommend", {}),
        ("/api/v1/interactions", EVENTS),
        ("/api/v1/internal/events", ADMIN),
    ):
        err = error_of(
            client.post(
                url, content=b'{"top_k": 3}', headers={**headers, "content-type": "text/plain"}
            ),
            415,
        )
        assert err["field"] == "Content-Type"
        deep = b"[" * 10_000 + b"]" * 10_000
        err = error_of(
            client.post(url, content=deep, headers={**headers, "content-type": "application/json"}),
            400,
        )
        assert err["field"] == "body" and "nested" in err["message"]
    strings = json.dumps({"query": "[[[[{{{{" * 50, "top_k": 2}).encode()
    ok = client.post(
        "/api/v1/search", content=strings, headers={"content-type": "application/json"}
    )
    assert ok.status_code == 200, ok.text  # brackets inside strings do not count


def test_huge_pixel_images_are_refused_before_decoding(client: TestClient[Any]) -> None:
    buffer = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(buffer, format="PNG", optimize=True)
    bomb = buffer.getvalue()
    assert len(bomb) < 5_000_000
    err = error_of(
        client.post("/api/v1/similar/image", files={"image": ("bomb.png", bomb, "image/png")}),
        413,
    )
    assert err["field"] == "image" and "pixels" in err["message"]


def test_errors_echo_only_a_short_escaped_excerpt(client: TestClient[Any]) -> None:
    long_field = "<script>" + "x" * 5000
    response = client.post("/api/v1/recommend", json={long_field: 1})
    err = error_of(response, 400)
    assert len(err["message"]) <= 300 and "<script>" not in response.text
    control = client.post("/api/v1/recommend", json={"a\u0007b": 1})
    assert "\u0007" not in error_of(control, 400)["message"]


def test_shop_ids_never_reach_the_access_log() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        (
            "127.0.0.1:5",
            "GET",
            f"/api/v1/recommendations/homepage?top_k=3&customer_id={KNOWN}",
            "1.1",
            200,
        ),
        None,
    )
    RedactIds().filter(record)
    assert KNOWN not in record.getMessage() and "customer_id=<redacted>" in record.getMessage()
    for path in (
        f"/api/v1/persona/{KNOWN}",
        f"/api/v1/privacy/customers/{KNOWN}/export",
        f"/pages/personas?customer={KNOWN}",
    ):
        assert KNOWN not in redact(path)
