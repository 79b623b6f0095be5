"""Campaign endpoints on the sample graph: recipients are pseudonymous ids with items that
follow from what each customer did, and a campaign marked as sent is not sent twice."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from automation_support import SAMPLE, pseudonym
from litestar.testing import TestClient
from neo4j import Driver

from app.main import create_app
from ragrec.config import Settings
from ragrec.cypher import query
from ragrec.graph.loader import load_data

KEY = "t-campaigns-admin"
HEADERS = {"X-API-Key": KEY}


@pytest.fixture(scope="module")
def client(neo4j_driver: Driver, settings: Settings) -> Iterator[TestClient[Any]]:
    with neo4j_driver.session(database=settings.neo4j_database) as session:
        session.run(query("graph/wipe")).consume()
    load_data(SAMPLE, settings, neo4j_driver, show_progress=False, bulk=False)
    app_settings = settings.model_copy(
        update={"api_keys": {"admin": [KEY]}, "api_rate_limit": 0, "api_cache_ttl_s": 0.0}
    )
    with TestClient(app=create_app(app_settings)) as test_client:
        yield test_client


def post(client: TestClient[Any], path: str, body: dict[str, Any], status: int = 200) -> Any:
    response = client.post(f"/api/v1/internal/{path}", json=body, headers=HEADERS)
    assert response.status_code == status, response.text
    return response.json()


def product(neo4j_driver: Driver, settings: Settings, skip: int) -> dict[str, Any]:
    records, _, _ = neo4j_driver.execute_query(
        "MATCH (p:Product) WHERE p.name IS NOT NULL RETURN p.id AS id, p.name AS name, "
        "p.product_type AS product_type, p.product_group AS product_group "
        "ORDER BY p.id SKIP $skip LIMIT 1",
        skip=skip,
        database_=settings.neo4j_database,
    )
    return records[0].data()


def recipient(answer: dict[str, Any], customer: str) -> dict[str, Any] | None:
    return next((r for r in answer["recipients"] if r["customer_id"] == customer), None)


def test_back_in_stock_tells_the_customers_who_wanted_it_once(
    client: TestClient[Any], neo4j_driver: Driver, settings: Settings
) -> None:
    p = product(neo4j_driver, settings, 11)
    post(client, "products", {"products": [{"id": p["id"], "in_stock": False}], "embed": False})
    shop_id = f"wish-{uuid.uuid4().hex[:8]}"
    post(
        client,
        "events",
        {"events": [{"customer_id": shop_id, "product_id": p["id"], "type": "wishlist_add"}]},
        201,
    )
    restock = post(
        client, "products", {"products": [{"id": p["id"], "in_stock": True}], "embed": False}
    )
    assert restock["restocked"] == [p["id"]] and restock["created"] == []
    customer = pseudonym(settings, shop_id)
    answer = post(client, "campaigns/back_in_stock", {})
    mine = recipient(answer, customer)
    assert mine is not None and [i["product_id"] for i in mine["items"]] == [p["id"]]
    assert mine["items"][0]["name"] == p["name"] and mine["items"][0]["why"] == "back in stock"
    assert all(shop_id not in str(r) for r in answer["recipients"])
    assert post(client, "campaigns/back_in_stock/sent", {"customer_ids": [customer]}) == {
        "campaign": "back_in_stock",
        "marked": 1,
    }
    assert recipient(post(client, "campaigns/back_in_stock", {}), customer) is None


def test_new_arrivals_and_digest_follow_what_the_customer_buys(
    client: TestClient[Any], neo4j_driver: Driver, settings: Settings
) -> None:
    bought = product(neo4j_driver, settings, 20)
    new_id = "arrival" + uuid.uuid4().hex[:8]
    post(
        client,
        "products",
        {
            "products": [
                {
                    "id": new_id,
                    "name": "Campaign test arrival",
                    "product_type": bought["product_type"],
                    "product_group": bought["product_group"],
                    "price": 0.03,
                }
            ],
            "embed": False,
        },
    )
    shop_id = f"buyer-{uuid.uuid4().hex[:8]}"
    post(
        client,
        "purchases",
        {"purchases": [{"customer_id": shop_id, "product_id": bought["id"]}]},
        201,
    )
    customer = pseudonym(settings, shop_id)
    arrivals = post(client, "campaigns/new_arrivals", {"days": 2, "active_days": 2, "items": 3})
    mine = recipient(arrivals, customer)
    assert mine is not None and mine["items"][0]["product_id"] == new_id
    digest = post(client, "campaigns/weekly_digest", {"active_days": 2, "items": 5})
    picks = recipient(digest, customer)
    assert picks is not None and 1 <= len(picks["items"]) <= 5
    assert bought["id"] not in [i["product_id"] for i in picks["items"]]  # already bought


def test_cart_abandonment_waits_for_the_idle_time(
    client: TestClient[Any], neo4j_driver: Driver, settings: Settings
) -> None:
    p = product(neo4j_driver, settings, 30)
    shop_id = f"cart-{uuid.uuid4().hex[:8]}"
    added = datetime.now(UTC) - timedelta(minutes=30)
    post(
        client,
        "events",
        {
            "events": [
                {
                    "customer_id": shop_id,
                    "product_id": p["id"],
                    "type": "cart_add",
                    "ts": added.isoformat(),
                }
            ]
        },
        201,
    )
    customer = pseudonym(settings, shop_id)
    assert recipient(post(client, "campaigns/cart_abandonment", {}), customer) is None
    later = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    due = recipient(post(client, "campaigns/cart_abandonment", {"now": later}), customer)
    assert due is not None and due["items"][0]["product_id"] == p["id"]
    assert due["items"][0]["why"] == "left in your cart"


def test_bad_input_and_missing_key(client: TestClient[Any]) -> None:
    bad = client.post(
        "/api/v1/internal/campaigns/cart_abandonment", json={"idle_minutes": 0}, headers=HEADERS
    )
    assert bad.status_code == 400 and "idle_minutes" in bad.text
    unknown = client.post(
        "/api/v1/internal/campaigns/spam/sent", json={"customer_ids": []}, headers=HEADERS
    )
    assert unknown.status_code == 400 and "campaign" in unknown.text
    assert client.post("/api/v1/internal/campaigns/weekly_digest", json={}).status_code == 401
