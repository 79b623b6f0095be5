"""ragrec.client (sync and async) against a real `ragrec serve` subprocess with data/sample
loaded into an emptied graph."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import polars as pl
import pytest
from neo4j import Driver

from ragrec.client import (
    AsyncRagRecClient,
    AuthenticationError,
    Filters,
    ForbiddenError,
    Interaction,
    NotFoundError,
    RagRecClient,
    ValidationError,
)
from ragrec.config import PROJECT_ROOT, Settings
from ragrec.cypher import query
from ragrec.graph.loader import load_data

pytestmark = pytest.mark.integration

SAMPLE = PROJECT_ROOT / "data" / "sample"
TX = pl.read_parquet(SAMPLE / "transactions_sample.parquet")
CUSTOMERS = TX.group_by("customer_id").len().sort(["len", "customer_id"], descending=True)
LOYAL = CUSTOMERS["customer_id"][0]
BEST_SELLER = "0685816002"
KEYS = {"admin": ["cl-admin"], "events": ["cl-events"], "read": ["cl-read"], "widget": ["cl-pk"]}


@pytest.fixture(scope="module")
def base_url(
    neo4j_driver: Driver, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    with neo4j_driver.session(database=settings.neo4j_database) as session:
        session.run(query("graph/wipe")).consume()
    load_data(SAMPLE, settings, neo4j_driver, show_progress=False, bulk=False)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = tmp_path_factory.mktemp("client") / "serve.log"
    env = {**os.environ, "RAGREC_API_RATE_LIMIT": "0", "RAGREC_API_KEYS": json.dumps(KEYS)}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(Path(sys.executable).with_name("ragrec")), "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300  # a loaded machine: model warm-up
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"ragrec serve did not start: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=30).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def test_sync_client_covers_the_public_api(base_url: str) -> None:
    with RagRecClient(base_url, api_key="cl-admin") as client:
        health = client.health()
        assert health.status == "ok" and health.services  # the full report for admin
        home = client.homepage(LOYAL, top_k=4)
        assert len(home.items) == 4 and home.items[0].position == 1 and home.items[0].reasons
        assert client.get_recommendations(LOYAL, top_k=2).items
        posted = client.recommend(LOYAL, context="product", product_id=BEST_SELLER, top_k=3)
        assert posted.context == "product" and posted.items
        assert client.product_recommendations(BEST_SELLER, top_k=3).items
        assert client.cart([BEST_SELLER], top_k=3).context == "cart"
        assert client.bought_together(BEST_SELLER).context == "frequently_bought_together"
        found = client.search("t-shirt", top_k=5, filters=Filters(max_price=1.0))
        assert found.items and all((i.price or 0) <= 1.0 for i in found.items)
        product = client.product(BEST_SELLER)
        assert product.id == BEST_SELLER and product.categories
        assert client.persona(LOYAL).purchases >= 1
        assert isinstance(client.personas().personas, list)
        item = home.items[0]
        accepted = client.track(
            LOYAL,
            item.product_id,
            "recommendation_click",
            request_id=home.request_id,
            position=item.position,
            context="homepage",
        )
        assert accepted.created == 1
        batch = client.track_batch(
            [Interaction(customer_id=LOYAL, product_id=BEST_SELLER, type="view")]
        )
        assert batch.received == 1
        top = client.top_products("top-purchased", limit=3)
        assert top.items[0].product_id == BEST_SELLER
        perf = client.recommendation_performance(days=1)
        assert perf.total.clicks >= 1
        assert "ragrec_requests_total" in client.metrics()


def test_keys_and_scopes(base_url: str) -> None:
    with RagRecClient(base_url) as anonymous:
        assert anonymous.health().status == "up" and not anonymous.health().services
        assert anonymous.homepage(top_k=2).items  # recommendation reads are open
        with pytest.raises(AuthenticationError) as missing:
            anonymous.persona(LOYAL)
        assert missing.value.status == 401
    with RagRecClient(base_url, api_key="cl-pk") as widget:
        with pytest.raises(ForbiddenError):
            widget.export_customer(LOYAL)
        with pytest.raises(ForbiddenError):
            widget.track(LOYAL, BEST_SELLER, "cart_add")
    with RagRecClient(base_url, api_key="cl-events") as events:
        assert events.track(LOYAL, BEST_SELLER, "view").received == 1
        with pytest.raises(ForbiddenError):
            events.top_products("top-viewed")
    with RagRecClient(base_url, api_key="cl-read") as reader:
        assert reader.persona(LOYAL).purchases >= 1


def test_errors_are_typed(base_url: str) -> None:
    with RagRecClient(base_url, api_key="cl-read") as client:
        with pytest.raises(NotFoundError) as missing:
            client.product("0000000000")
        assert missing.value.status == 404 and missing.value.field == "product_id"
        with pytest.raises(ValidationError) as invalid:
            client.homepage(top_k=500)
        assert invalid.value.field == "top_k"
        with pytest.raises(NotFoundError):
            client.homepage("no-such-customer")


def test_async_client(base_url: str) -> None:
    async def run() -> None:
        async with AsyncRagRecClient(base_url, api_key="cl-read") as client:
            results = await asyncio.gather(
                client.homepage(top_k=3),
                client.search("dress", top_k=3),
                client.product(BEST_SELLER),
                client.top_products("top-viewed", days=30),
            )
            assert len(results[0].items) == 3
            assert results[2].name
            with pytest.raises(NotFoundError):
                await client.persona("nobody")

    asyncio.run(run())


def test_gdpr_through_the_client(base_url: str) -> None:
    customer = CUSTOMERS["customer_id"][2]
    with RagRecClient(base_url, api_key="cl-admin") as client:
        exported = client.export_customer(customer)
        assert exported["graph"]["purchases"]
        erased = client.erase_customer(customer)
        assert erased.neo4j_nodes == 1
        with pytest.raises(NotFoundError):
            client.erase_customer(customer)
