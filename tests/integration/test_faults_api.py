"""Faults while the API serves (the private test stack's services are stopped and killed
here, never the user's):

* Qdrant unavailable (its collection held by another process, as with several workers of
  the embedded engine): similar-product requests still answer, served by pgvector and
  marked ``degraded``; once Qdrant is free again, Qdrant answers, without an app restart.
* PostgreSQL stopped: requests still answer (the vector search falls back, the shared
  cache is bypassed), /health says ``degraded`` (200); after a restart the pool's stale
  connections are replaced and nothing answers 500.
* Neo4j killed (SIGKILL) in the middle of `ragrec load-data`: the API answers 503 with
  Retry-After within the configured timeout, a burst of requests does not block the
  endpoints that do not need Neo4j, /health says ``down``; Neo4j started again, the API
  serves again by itself, and re-running the load gives exactly a clean load's counts.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from litestar.testing import TestClient
from neo4j import Driver

from app.domain.system.controllers import HEALTH_TTL_S
from app.lib.graph import BREAKER
from ragrec.config import PROJECT_ROOT, Settings
from ragrec.cypher import query
from ragrec.embeddings.pipeline import generate_embeddings
from ragrec.graph.loader import graph_stats, load_data
from ragrec.services import neo4j as neo4j_service
from ragrec.services import postgres as pg_service
from ragrec.services.base import wait_until
from ragrec.vectorstores.qdrant import close_edge_handles

pytestmark = pytest.mark.integration

SAMPLE = PROJECT_ROOT / "data" / "sample"
ADMIN = {"X-API-Key": "t-ops-admin"}
NEO4J_TIMEOUT_S = 2.0
LOAD = [sys.executable, "-m", "ragrec.cli", "load-data"]


def _slice(folder: Path) -> list[str]:
    """The imaged articles of data/sample plus 200 more, with their transactions and
    customers; returns the imaged product ids."""
    folder.mkdir(parents=True, exist_ok=True)
    imaged = sorted(int(p.stem) for p in (SAMPLE / "images").glob("*.jpg"))
    articles = pl.read_parquet(SAMPLE / "articles_sample.parquet")
    others = articles.filter(~pl.col("article_id").is_in(imaged)).head(200)["article_id"]
    keep = [*imaged, *others.to_list()]
    articles.filter(pl.col("article_id").is_in(keep)).write_parquet(folder / "articles.parquet")
    tx = pl.read_parquet(SAMPLE / "transactions_sample.parquet").filter(
        pl.col("article_id").is_in(keep)
    )
    tx.write_parquet(folder / "transactions.parquet")
    pl.read_parquet(SAMPLE / "customers_sample.parquet").filter(
        pl.col("customer_id").is_in(tx["customer_id"].unique().to_list())
    ).write_parquet(folder / "customers.parquet")
    (folder / "images").symlink_to(SAMPLE / "images", target_is_directory=True)
    return [f"{a:010d}" for a in imaged]


def _wipe(driver: Driver, settings: Settings) -> None:
    with driver.session(database=settings.neo4j_database) as session:
        session.run(query("graph/wipe")).consume()


def _data_counts(driver: Driver, settings: Settings) -> dict[str, dict[str, int]]:
    counts = graph_stats(driver, settings.neo4j_database)
    counts["nodes"].pop("LoadJob", None)
    return counts


class World:
    def __init__(self, folder: Path, imaged: list[str], reference: dict[str, Any]) -> None:
        self.folder = folder
        self.imaged = imaged
        self.reference = reference


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, settings: Settings, neo4j_driver: Driver
) -> World:
    folder = tmp_path_factory.mktemp("faults") / "data"
    imaged = _slice(folder)
    _wipe(neo4j_driver, settings)
    load_data(folder, settings, neo4j_driver, show_progress=False)
    reference = _data_counts(neo4j_driver, settings)
    close_edge_handles()
    generate_embeddings(settings, neo4j_driver, text=False)
    close_edge_handles()  # the app opens the collections itself
    return World(folder, imaged, reference)


def _app_settings(settings: Settings, **update: Any) -> Settings:
    return settings.model_copy(
        update={
            "api_keys": {"admin": [ADMIN["X-API-Key"]]},
            "api_rate_limit": 0,
            "api_neo4j_timeout_s": NEO4J_TIMEOUT_S,
            "api_retry_after_s": 3,
            **update,
        }
    )


@pytest.fixture
def client_factory(world: World, app_clients: Any) -> Iterator[Any]:
    yield app_clients
    app_clients.close()  # the apps end before the shared handles and breaker are reset
    close_edge_handles()
    BREAKER.reset()


def _similar(client: TestClient[Any], product_id: str) -> dict[str, Any]:
    response = client.post("/api/v1/similar/", json={"product_id": product_id, "top_k": 5})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["items"], body
    return body


def _health(client: TestClient[Any]) -> tuple[int, dict[str, Any]]:
    time.sleep(HEALTH_TTL_S + 0.1)  # the report is reused for HEALTH_TTL_S
    response = client.get("/api/v1/health", headers=ADMIN)
    return response.status_code, response.json()


def _fallbacks(client: TestClient[Any], fallback: str) -> float:
    text = client.get("/api/v1/metrics", headers=ADMIN).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith("ragrec_fallbacks_total{") and f'fallback="{fallback}"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_qdrant_unavailable_pgvector_serves_marked_degraded(
    world: World, settings: Settings, client_factory: Any
) -> None:
    client = client_factory(_app_settings(settings, vector_store_order="qdrant,pgvector,neo4j"))
    product = world.imaged[0]
    normal = _similar(client, product)
    assert normal["store"] == "qdrant" and normal["degraded"] == []
    index = normal["index"]
    before = _fallbacks(client, "pgvector")

    # another process takes the collection (as a second worker would): Qdrant is unavailable
    close_edge_handles()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys\n"
            "from ragrec.vectorstores.qdrant_edge import EdgeCollection\n"
            "h = EdgeCollection.open(sys.argv[1], sys.argv[2], lock_timeout=10)\n"
            "print('held', flush=True)\n"
            "sys.stdin.read()\n",
            str(settings.qdrant_path),
            index,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        degraded = _similar(client, product)
        assert degraded["store"] == "pgvector"
        assert degraded["degraded"] == ["vector:pgvector"]
        assert "qdrant" in degraded["skipped_stores"]
        assert [i["product_id"] for i in degraded["items"]] == [
            i["product_id"] for i in normal["items"]
        ]
        assert _fallbacks(client, "pgvector") == before + 1
    finally:
        holder.communicate(input="", timeout=30)
    # released: Qdrant answers again, same app
    again = _similar(client, product)
    assert again["store"] == "qdrant" and again["degraded"] == []


def test_postgres_stopped_requests_still_answer_then_recover(
    world: World, settings: Settings, client_factory: Any
) -> None:
    client = client_factory(_app_settings(settings, vector_store_order="pgvector,qdrant,neo4j"))
    product = world.imaged[1]
    normal = _similar(client, product)
    assert normal["store"] == "pgvector" and normal["degraded"] == []
    assert client.get(f"/api/v1/products/{product}").status_code == 200

    pg_service.stop(settings)
    try:
        degraded = _similar(client, product)
        assert degraded["store"] == "qdrant"
        assert degraded["degraded"] == ["vector:qdrant"]
        assert client.get(f"/api/v1/products/{product}").status_code == 200
        status, body = _health(client)
        assert (status, body["status"], body["failing"]) == (200, "degraded", ["postgres"])
    finally:
        pg_service.start(settings)

    # back: stale pooled / retriever connections are replaced, never a 500
    for _ in range(3):
        assert client.get(f"/api/v1/products/{product}").status_code == 200
    recovered = [_similar(client, product) for _ in range(2)]
    assert recovered[-1]["store"] == "pgvector" and recovered[-1]["degraded"] == []
    status, body = _health(client)
    assert (status, body["status"]) == (200, "ok")


def _neo4j_pid(settings: Settings) -> int:
    return int((settings.home / "neo4j" / "run" / "neo4j.pid").read_text().strip())


def _checkpoint(driver: Driver, settings: Settings) -> bool:
    try:
        records, _, _ = driver.execute_query(
            "MATCH (j:LoadJob) RETURN count(j) AS n", database_=settings.neo4j_database
        )
    except Exception:
        return False
    return bool(records[0]["n"])


def test_neo4j_killed_during_load_503_then_recovers_and_rerun_equals_clean_load(
    world: World, settings: Settings, neo4j_driver: Driver, client_factory: Any
) -> None:
    client = client_factory(_app_settings(settings))
    product = world.imaged[2]
    assert client.get(f"/api/v1/products/{product}").status_code == 200

    _wipe(neo4j_driver, settings)
    load = subprocess.Popen(
        [*LOAD, str(world.folder), "--batch-size", "100", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    try:
        assert wait_until(lambda: _checkpoint(neo4j_driver, settings), 120, interval=0.05), (
            "the load never wrote a checkpoint"
        )
        os.kill(_neo4j_pid(settings), signal.SIGKILL)
        assert wait_until(lambda: not neo4j_service.reachable(settings), 30, interval=0.2)

        # the first request waits at most about the configured timeout, then 503
        began = time.perf_counter()
        response = client.get(f"/api/v1/products/{product}")
        first_s = time.perf_counter() - began
        assert response.status_code == 503, response.text
        assert response.headers["Retry-After"] == "3"
        assert response.json()["error"]["code"] == "neo4j_unavailable"
        assert first_s < NEO4J_TIMEOUT_S + 5, first_s

        # a burst gets 503 at once (breaker) and does not block what needs no Neo4j
        began = time.perf_counter()
        with ThreadPoolExecutor(max_workers=48) as pool:
            codes = list(
                pool.map(lambda _: client.get(f"/api/v1/products/{product}").status_code, range(48))
            )
        burst_s = time.perf_counter() - began
        assert set(codes) == {503}, codes
        assert burst_s < 10, burst_s
        assert client.get("/api/v1/metrics", headers=ADMIN).status_code == 200
        status, body = _health(client)
        assert (status, body["status"]) == (503, "down")
        assert "neo4j" in body["failing"]

        out, _ = load.communicate(timeout=120)
        assert load.returncode != 0, f"the load finished before Neo4j was killed:\n{out[-500:]}"
    finally:
        if load.poll() is None:
            load.kill()
            load.wait()
        neo4j_service.start(settings)

    # Neo4j is back: the same app serves again by itself
    assert wait_until(
        lambda: client.get(f"/api/v1/products/{product}").status_code in (200, 404), 60
    ), "the API did not recover after Neo4j came back"
    assert not BREAKER.is_open

    partial = _data_counts(neo4j_driver, settings)
    assert partial != world.reference
    rerun = subprocess.run(
        [*LOAD, str(world.folder), "--json"],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=600,
    )
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert _data_counts(neo4j_driver, settings) == world.reference
    assert client.get(f"/api/v1/products/{product}").status_code == 200
