"""`ragrec worker` for real, next to a real `ragrec serve`: a purchase changes that
customer's recommendations and its products' bought-together answer, and a new product
shows up in similar-product results, each within the worker's interval plus its run time."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest
from automation_support import (
    ADMIN_KEY,
    RAGREC,
    api_env,
    api_server,
    embed_through_api,
    prepare_graph,
    running,
    small_sample,
    wait_for,
)
from neo4j import Driver

from ragrec.config import Settings
from ragrec.worker.loop import wait_for_step

pytestmark = pytest.mark.timeout(600)

INTERVAL_S = 2.0
#: the worker's longest expected step here (embedding through the API included)
RUN_BOUND_S = 90.0


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_sample(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def sample(neo4j_driver: Driver, settings: Settings, data: Path) -> Driver:
    prepare_graph(neo4j_driver, settings, data, personas=False)
    return neo4j_driver


@pytest.fixture(scope="module")
def api(
    sample: Driver, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    with api_server(tmp_path_factory.mktemp("api") / "serve.log") as base:
        embed_through_api(base, sample, settings)
        yield base


@pytest.fixture(scope="module")
def worker(
    api: str, sample: Driver, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    env = api_env(RAGREC_N8N_API_URL=api, RAGREC_N8N_API_KEY=ADMIN_KEY)
    with running([RAGREC, "worker", "--interval", str(INTERVAL_S)], log, env) as proc:
        assert wait_for_step(sample, settings), f"no worker step: {log.read_text()[-2000:]}"
        assert proc.poll() is None, log.read_text()[-2000:]
        yield str(log)


def get(api: str, path: str, **params: Any) -> dict[str, Any]:
    response = httpx.get(f"{api}/api/v1{path}", params=params, timeout=60)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def ids(answer: dict[str, Any]) -> list[str]:
    return [i["product_id"] for i in answer["items"]]


def lonely_products(driver: Driver, settings: Settings, n: int) -> list[str]:
    """Products without any bought-together link yet."""
    records, _, _ = driver.execute_query(
        "MATCH (p:Product) WHERE NOT EXISTS { (p)-[:BOUGHT_TOGETHER]-() } "
        "RETURN p.id AS id ORDER BY p.id LIMIT $n",
        n=n,
        database_=settings.neo4j_database,
    )
    return [r["id"] for r in records]


def test_a_purchase_changes_recommendations(
    worker: str, api: str, sample: Driver, settings: Settings, data: Path
) -> None:
    shop_customer = str(pl.read_parquet(data / "transactions.parquet")["customer_id"][0])
    a, b = lonely_products(sample, settings, 2)
    before_home = ids(get(api, "/recommendations/homepage", customer_id=shop_customer, top_k=10))
    assert b not in ids(get(api, f"/recommendations/frequently-bought-together/{a}"))
    posted = httpx.post(
        f"{api}/api/v1/internal/purchases",
        json={
            "purchases": [
                {"customer_id": shop_customer, "product_id": a},
                {"customer_id": shop_customer, "product_id": b},
            ]
        },
        headers={"X-API-Key": ADMIN_KEY},
        timeout=60,
    )
    assert posted.status_code == 201, posted.text
    posted_at = time.monotonic()

    def fbt_has_b() -> bool:
        return b in ids(get(api, f"/recommendations/frequently-bought-together/{a}"))

    assert wait_for(fbt_has_b, INTERVAL_S + RUN_BOUND_S), (
        f"{b} not bought together with {a} after the worker's interval + run time; "
        f"worker log: {Path(worker).read_text()[-2000:]}"
    )
    delay = time.monotonic() - posted_at
    after_home = ids(get(api, "/recommendations/homepage", customer_id=shop_customer, top_k=10))
    assert after_home != before_home
    assert a not in after_home and b not in after_home  # bought now
    records, _, _ = sample.execute_query(
        "MATCH (w:WorkerState {id: 'worker'}) RETURN w.last_report AS report",
        database_=settings.neo4j_database,
    )
    assert records and records[0]["report"], "the worker recorded no step"
    assert delay >= 0


def test_a_new_product_appears_in_similar_results(
    worker: str, api: str, sample: Driver, settings: Settings
) -> None:
    records, _, _ = sample.execute_query(
        "MATCH (p:Product) WHERE p.image_encoder IS NOT NULL AND p.image_path IS NOT NULL "
        "RETURN p.id AS id, p.name AS name, p.product_type AS product_type, "
        "p.product_group AS product_group, p.colour AS colour, p.image_path AS image_path "
        "ORDER BY p.id SKIP 3 LIMIT 1",
        database_=settings.neo4j_database,
    )
    source = records[0].data()
    new_id = "wrk" + uuid.uuid4().hex[:10]
    response = httpx.post(
        f"{api}/api/v1/internal/products",
        json={"products": [{**source, "id": new_id}], "embed": False},
        headers={"X-API-Key": ADMIN_KEY},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    assert response.json()["created"] == [new_id] and response.json()["embedded"] is None

    def similar_has_new() -> bool:
        answer = httpx.post(
            f"{api}/api/v1/similar/", json={"product_id": source["id"], "top_k": 5}, timeout=60
        )
        return answer.status_code == 200 and new_id in ids(answer.json())

    assert wait_for(similar_has_new, INTERVAL_S + RUN_BOUND_S), (
        f"{new_id} not among the products similar to {source['id']}; "
        f"worker log: {Path(worker).read_text()[-2000:]}"
    )


def test_bad_product_input_is_a_clear_error(api: str) -> None:
    response = httpx.post(
        f"{api}/api/v1/internal/products",
        json={"products": [{"id": "brand-new-" + uuid.uuid4().hex[:6], "name": "x"}]},
        headers={"X-API-Key": ADMIN_KEY},
        timeout=60,
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == "products[0].product_type"
    unknown = httpx.post(
        f"{api}/api/v1/internal/purchases",
        json={"purchases": [{"customer_id": "c1", "product_id": "no-such-product"}]},
        headers={"X-API-Key": ADMIN_KEY},
        timeout=60,
    )
    assert unknown.status_code == 404 and unknown.json()["error"]["field"] == (
        "purchases[0].product_id"
    )
    anonymous = httpx.post(f"{api}/api/v1/internal/purchases", json={"purchases": []}, timeout=60)
    assert anonymous.status_code == 401
