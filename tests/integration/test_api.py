"""Every /api/v1 endpoint in-process (Litestar's TestClient) against the real services,
with data/sample loaded into an emptied graph. Real-server tests: test_api_server.py."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from litestar.testing import TestClient
from neo4j import Driver

from app.lib.cache import SharedCache
from app.main import create_app
from ragrec.config import PROJECT_ROOT, Settings
from ragrec.cypher import query
from ragrec.embeddings.pipeline import generate_embeddings
from ragrec.etl.pseudonymise import pseudonymise_customer_id
from ragrec.graph.loader import load_data
from ragrec.vectorstores.qdrant import close_edge_handles

pytestmark = pytest.mark.integration

SAMPLE = PROJECT_ROOT / "data" / "sample"
API_KEY = "test-internal-key"  # an admin key (a plain list of keys = admin keys)
ADMIN = {"X-API-Key": API_KEY}
TX = pl.read_parquet(SAMPLE / "transactions_sample.parquet")
BY_CUSTOMER = TX.group_by("customer_id").len().sort(["len", "customer_id"], descending=True)
LOYAL = BY_CUSTOMER["customer_id"][0]  # the sample customer with the most purchases
BY_PRODUCT = TX.group_by("article_id").len().sort(["len", "article_id"], descending=True)
BEST_SELLER = f"{BY_PRODUCT['article_id'][0]:010d}"
SECOND = f"{BY_PRODUCT['article_id'][1]:010d}"
IMAGES = sorted((SAMPLE / "images").glob("*.jpg"))
WITH_IMAGE = IMAGES[0].stem


def load_sample(driver: Driver, settings: Settings) -> None:
    with driver.session(database=settings.neo4j_database) as session:
        session.run(query("graph/wipe")).consume()
    load_data(SAMPLE, settings, driver, show_progress=False, bulk=False)


def api_settings(settings: Settings, **changes: Any) -> Settings:
    base = {"api_keys": [API_KEY], "api_rate_limit": 0, "api_cache_ttl_s": 30.0}
    return settings.model_copy(update={**base, **changes})


@pytest.fixture(scope="module")
def sample_graph(neo4j_driver: Driver, settings: Settings) -> Iterator[Driver]:
    load_sample(neo4j_driver, settings)
    # image vectors of the sample's 100 pictures, for /similar (text vectors take minutes)
    generate_embeddings(settings, neo4j_driver, text=False, image=True, stores=("neo4j", "qdrant"))
    yield neo4j_driver
    close_edge_handles()  # the embedded Qdrant shards are free for the next server again


@pytest.fixture(scope="module")
def client(sample_graph: Driver, settings: Settings) -> Iterator[TestClient[Any]]:
    clear_shared_cache(settings)  # answers cached on an earlier graph must not come back
    with TestClient(app=create_app(api_settings(settings))) as test_client:
        yield test_client


def clear_shared_cache(settings: Settings) -> None:
    cache = SharedCache(settings.effective_pg_dsn(), ttl_s=1, max_size=1)
    try:
        cache.clear()
    finally:
        cache.close()


def error_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["status"] == status
    assert set(body["error"]) == {"status", "code", "message", "field"}
    assert "Traceback" not in response.text
    return dict(body["error"])


def assert_recommendations(body: dict[str, Any], top_k: int) -> None:
    assert len(body["request_id"]) == 32
    assert 0 < len(body["items"]) <= top_k
    assert [i["position"] for i in body["items"]] == list(range(1, len(body["items"]) + 1))
    for item in body["items"]:
        assert isinstance(item["score"], float)
        assert item["reasons"], item
    assert LOYAL not in json.dumps(body)


# -- schema ------------------------------------------------------------------------------------

PUBLIC_PATHS = {
    "/api/v1/health",
    "/api/v1/metrics",
    "/api/v1/recommend",
    "/api/v1/recommendations/homepage",
    "/api/v1/recommendations/product/{product_id}",
    "/api/v1/recommendations/cart",
    "/api/v1/recommendations/frequently-bought-together/{product_id}",
    "/api/v1/search",
    "/api/v1/similar",
    "/api/v1/similar/image",
    "/api/v1/products/{product_id}",
    "/api/v1/persona/{customer_id}",
    "/api/v1/personas",
    "/api/v1/interactions",
    "/api/v1/interactions/batch",
    "/api/v1/analytics/products/top-viewed",
    "/api/v1/analytics/products/top-recommended",
    "/api/v1/analytics/products/top-purchased",
    "/api/v1/analytics/recommendations/performance",
    "/api/v1/benchmark/compare",
    "/api/v1/privacy/customers/{customer_id}/export",
    "/api/v1/privacy/customers/{customer_id}",
    "/api/v1/internal/scripts/{name}",
    "/api/v1/internal/events",
    "/api/v1/internal/personas/refresh",
    "/api/v1/internal/cache/clear",
    "/api/v1/internal/products/{product_id}/reindex",
}


def test_openapi_documents_every_endpoint_and_the_error_shape(client: TestClient[Any]) -> None:
    schema = client.get("/schema/openapi.json").json()
    assert set(schema["paths"]) >= PUBLIC_PATHS
    assert "ApiKey" in schema["components"]["securitySchemes"]
    for path, item in schema["paths"].items():
        for method, op in item.items():
            if path in ("/api/v1/health", "/api/v1/metrics"):
                continue
            assert "500" in op["responses"], (method, path)
            ref = op["responses"]["500"]["content"]["application/json"]["schema"]["$ref"]
            assert ref.endswith("/ErrorResponse"), (method, path)
    internal = schema["paths"]["/api/v1/internal/events"]["post"]
    assert internal["security"] == [{"ApiKey": []}]


# -- recommendations ---------------------------------------------------------------------------


def test_recommend_homepage_for_a_known_customer(client: TestClient[Any]) -> None:
    response = client.post(
        "/api/v1/recommend", json={"customer_id": LOYAL, "context": "homepage", "top_k": 5}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["context"] == "homepage"
    assert_recommendations(body, 5)
    assert body["candidates"], "candidate counts per generator"
    bought = set(TX.filter(pl.col("customer_id") == LOYAL)["article_id"].to_list())
    assert not {int(i["product_id"]) for i in body["items"]} & bought


def test_recommend_every_context(client: TestClient[Any]) -> None:
    for payload in (
        {"context": "homepage"},
        {"context": "product", "product_id": BEST_SELLER},
        {"context": "cart", "cart": [BEST_SELLER, SECOND], "customer_id": LOYAL},
        {"context": "search", "query": "t-shirt"},
        {"context": "frequently_bought_together", "product_id": BEST_SELLER},
    ):
        response = client.post("/api/v1/recommend", json={**payload, "top_k": 4})
        assert response.status_code == 200, (payload, response.text)
        body = response.json()
        assert body["context"] == payload["context"]
        assert len(body["request_id"]) == 32
        assert len(body["items"]) <= 4
        if payload["context"] != "frequently_bought_together":  # the sample has few baskets
            assert_recommendations(body, 4)


def test_context_shortcuts(client: TestClient[Any]) -> None:
    for url, params in (
        ("/api/v1/recommendations/homepage", {"customer_id": LOYAL, "top_k": 3}),
        ("/api/v1/recommendations/homepage", {"top_k": 3}),
        (f"/api/v1/recommendations/product/{BEST_SELLER}", {"top_k": 3}),
        ("/api/v1/recommendations/cart", {"items": [BEST_SELLER], "top_k": 3}),
    ):
        response = client.get(url, params=params)
        assert response.status_code == 200, (url, response.text)
        assert_recommendations(response.json(), 3)
    fbt = client.get(f"/api/v1/recommendations/frequently-bought-together/{BEST_SELLER}")
    assert fbt.status_code == 200, fbt.text
    assert fbt.json()["context"] == "frequently_bought_together"


def test_filters_are_applied(client: TestClient[Any]) -> None:
    top = client.post("/api/v1/recommend", json={"top_k": 20}).json()["items"]
    prices = sorted(i["price"] for i in top if i["price"] is not None)
    ceiling = prices[len(prices) // 2]
    body = client.post(
        "/api/v1/recommend", json={"top_k": 20, "filters": {"max_price": ceiling}}
    ).json()
    assert body["items"]
    assert all(i["price"] is not None and i["price"] <= ceiling for i in body["items"])
    category = top[0]["category"]
    same = client.get(
        "/api/v1/recommendations/homepage", params={"category": category.upper(), "top_k": 10}
    ).json()
    assert same["items"] and {i["category"] for i in same["items"]} == {category}


def test_search_with_filters_and_personalisation(client: TestClient[Any]) -> None:
    body = client.post("/api/v1/search", json={"query": "shirt", "top_k": 5}).json()
    assert_recommendations(body, 5)
    assert any("shirt" in (i["name"] or "").lower() for i in body["items"])
    personal = client.post(
        "/api/v1/search", json={"query": "shirt", "top_k": 5, "customer_id": LOYAL}
    )
    assert personal.status_code == 200, personal.text
    cheap = client.post(
        "/api/v1/search", json={"query": "shirt", "filters": {"max_price": 0.01, "in_stock": True}}
    ).json()
    assert all(i["price"] <= 0.01 for i in cheap["items"])


def test_repeated_request_is_cached_with_a_new_request_id(client: TestClient[Any]) -> None:
    payload = {"customer_id": LOYAL, "context": "product", "product_id": SECOND, "top_k": 7}
    first = client.post("/api/v1/recommend", json=payload).json()
    second = client.post("/api/v1/recommend", json=payload).json()
    assert second["cached"] is True
    assert second["request_id"] != first["request_id"]
    assert second["items"] == first["items"]


# -- similar ---------------------------------------------------------------------------------


def test_similar_by_product(client: TestClient[Any]) -> None:
    response = client.post("/api/v1/similar", json={"product_id": WITH_IMAGE, "top_k": 5})
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["request_id"]) == 32 and body["modality"] == "image"
    assert 0 < len(body["items"]) <= 5
    assert [i["position"] for i in body["items"]] == list(range(1, len(body["items"]) + 1))
    assert WITH_IMAGE not in {i["product_id"] for i in body["items"]}
    assert all(i["reasons"] and -1 <= i["score"] <= 1 for i in body["items"])
    err = error_of(client.post("/api/v1/similar", json={"product_id": "0000000404"}), 404)
    assert "0000000404" in err["message"] and err["field"] == "product_id"
    err = error_of(client.post("/api/v1/similar", json={"product_id": "x", "top_k": 101}), 400)
    assert err["field"] == "top_k"


def test_similar_by_uploaded_image(client: TestClient[Any]) -> None:
    picture = IMAGES[1].read_bytes()
    response = client.post(
        "/api/v1/similar/image",
        files={"image": ("photo.jpg", picture, "image/jpeg")},
        data={"top_k": "3"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert 0 < len(body["items"]) <= 3
    assert body["items"][0]["product_id"] == IMAGES[1].stem  # the picture finds itself
    err = error_of(
        client.post(
            "/api/v1/similar/image", files={"image": ("notes.txt", b"hello", "image/jpeg")}
        ),
        415,
    )
    assert err["field"] == "image"
    err = error_of(client.post("/api/v1/similar/image", data={"top_k": "3"}), 400)


def test_upload_size_is_limited(sample_graph: Driver, settings: Settings) -> None:
    picture = IMAGES[2].read_bytes()
    app = create_app(api_settings(settings, api_max_upload_bytes=len(picture) - 1))
    with TestClient(app=app) as local:
        err = error_of(
            local.post("/api/v1/similar/image", files={"image": ("p.jpg", picture, "image/jpeg")}),
            413,
        )
        assert err["field"] == "image"
        huge = b"\xff\xd8\xff" + bytes(len(picture) + 200_000)
        error_of(
            local.post("/api/v1/similar/image", files={"image": ("p.jpg", huge, "image/jpeg")}),
            413,
        )


# -- limits and errors ---------------------------------------------------------------------------


def test_top_k_is_limited(client: TestClient[Any]) -> None:
    for bad in (0, 101):
        err = error_of(client.post("/api/v1/recommend", json={"top_k": bad}), 400)
        assert err["field"] == "top_k" and err["code"] == "validation_error"
        err = error_of(client.get("/api/v1/recommendations/homepage", params={"top_k": bad}), 400)
        assert err["field"] == "top_k"
    assert client.post("/api/v1/recommend", json={"top_k": 100}).status_code == 200


def test_unknown_ids_are_404_with_the_id(client: TestClient[Any]) -> None:
    err = error_of(client.get("/api/v1/products/9999999999"), 404)
    assert "9999999999" in err["message"] and err["field"] == "product_id"
    err = error_of(client.get("/api/v1/recommendations/product/9999999999"), 404)
    assert "9999999999" in err["message"]
    err = error_of(
        client.get("/api/v1/recommendations/cart", params={"items": [BEST_SELLER, "0000000001"]}),
        404,
    )
    assert "0000000001" in err["message"] and err["field"] == "cart"
    unknown = "no-such-shop-customer"
    err = error_of(client.get("/api/v1/recommendations/homepage?customer_id=" + unknown), 404)
    assert err["field"] == "customer_id"
    assert unknown not in err["message"]  # raw ids are never echoed
    error_of(client.get("/api/v1/no-such-endpoint"), 404)


def test_invalid_bodies_name_the_field(client: TestClient[Any]) -> None:
    err = error_of(
        client.post(
            "/api/v1/recommend", content=b"{not json", headers={"content-type": "application/json"}
        ),
        400,
    )
    assert err["code"] == "validation_error"
    err = error_of(client.post("/api/v1/recommend", json={"top_k": "ten"}), 400)
    assert err["field"] == "top_k"
    err = error_of(client.post("/api/v1/recommend", json={"contxt": "homepage"}), 400)
    assert "contxt" in err["message"]
    err = error_of(client.post("/api/v1/recommend", json={"filters": {"min_price": -1}}), 400)
    assert err["field"] == "filters.min_price"
    err = error_of(client.post("/api/v1/recommend", json={"context": "product"}), 400)
    assert err["field"] == "product_id"
    err = error_of(client.post("/api/v1/search", json={"query": ""}), 400)
    assert err["field"] == "query"
    err = error_of(client.post("/api/v1/recommend", json={"strategy": "magic"}), 400)
    assert err["field"] == "strategy"


def test_a_crash_is_a_500_without_a_trace(
    client: TestClient[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import app.domain.products.controllers as products

    def explode(*_: Any) -> None:
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(products, "get_product", explode)
    err = error_of(client.get(f"/api/v1/products/{BEST_SELLER}"), 500)
    assert err["code"] == "internal_error"
    assert "secret" not in err["message"]


# -- products, personas --------------------------------------------------------------------------


def test_product_detail(client: TestClient[Any]) -> None:
    body = client.get(f"/api/v1/products/{BEST_SELLER}").json()
    assert body["id"] == BEST_SELLER and body["name"]
    levels = [c["level"] for c in body["categories"]]
    assert levels[0] == "index_group" and levels[-1] == "product_type"
    assert body["colours"]


def test_personas(client: TestClient[Any], settings: Settings) -> None:
    listing = client.get("/api/v1/personas")
    assert listing.status_code == 200 and isinstance(listing.json()["personas"], list)
    body = client.get(f"/api/v1/persona/{LOYAL}", headers=ADMIN).json()
    pseudonym = pseudonymise_customer_id(LOYAL, settings.effective_pseudonym_key())
    assert pseudonym not in json.dumps(body) and body["purchases"] >= 1  # no pseudonym out
    assert body["persona"] is not None or body["reason"]
    err = error_of(client.get("/api/v1/persona/nobody-at-all", headers=ADMIN), 404)
    assert err["field"] == "customer_id"


# -- interactions and analytics -----------------------------------------------------------------


def test_interactions_with_attribution_feed_analytics(client: TestClient[Any]) -> None:
    before = client.get("/api/v1/analytics/recommendations/performance", headers=ADMIN).json()[
        "total"
    ]
    rec = client.post(
        "/api/v1/recommend", json={"customer_id": LOYAL, "context": "homepage", "top_k": 2}
    ).json()
    request_id, items = rec["request_id"], rec["items"]
    attribution = {"request_id": request_id, "context": "homepage"}
    events = [
        {"customer_id": LOYAL, "product_id": i["product_id"], "type": "recommendation_impression",
         "position": i["position"], **attribution}
        for i in items
    ]  # fmt: skip
    first = items[0]["product_id"]
    events += [
        {"customer_id": LOYAL, "product_id": first, "type": "recommendation_click",
         "position": 1, **attribution},
        {"customer_id": LOYAL, "product_id": first, "type": "cart_add", **attribution},
    ]  # fmt: skip
    accepted = client.post("/api/v1/interactions/batch", json={"events": events}, headers=ADMIN)
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["created"] == len(events)
    assert accepted.json()["weights"]["cart_add"] == 3.0
    after = client.get("/api/v1/analytics/recommendations/performance", headers=ADMIN).json()
    delta = {k: after["total"][k] - before[k] for k in ("impressions", "clicks", "conversions")}
    assert delta == {"impressions": len(items), "clicks": 1, "conversions": 1}
    homepage = next(c for c in after["by_context"] if c["context"] == "homepage")
    assert 0 < homepage["ctr"] <= 1
    top = client.get(
        "/api/v1/analytics/products/top-recommended", params={"days": 1}, headers=ADMIN
    ).json()
    assert first in {i["product_id"] for i in top["items"]}


def test_interactions_single_idempotent_and_validated(client: TestClient[Any]) -> None:
    event = {
        "customer_id": "shop-visitor-17",
        "product_id": SECOND,
        "type": "view",
        "event_id": uuid.uuid4().hex,
    }
    assert client.post("/api/v1/interactions", json=event, headers=ADMIN).json()["created"] == 1
    again = client.post("/api/v1/interactions", json=event, headers=ADMIN)
    assert again.status_code == 201 and again.json()["duplicates"] == 1
    viewed = client.get(
        "/api/v1/analytics/products/top-viewed", params={"days": 2}, headers=ADMIN
    ).json()
    assert SECOND in {i["product_id"] for i in viewed["items"]}
    err = error_of(
        client.post("/api/v1/interactions", json={**event, "type": "like"}, headers=ADMIN), 400
    )
    assert err["field"] == "type"
    bad = [dict(event, event_id=None), dict(event, product_id="0000000042")]
    err = error_of(
        client.post("/api/v1/interactions/batch", json={"events": bad}, headers=ADMIN), 404
    )
    assert err["field"] == "events[1].product_id" and "0000000042" in err["message"]
    err = error_of(
        client.post("/api/v1/interactions", json={**event, "position": 0}, headers=ADMIN), 400
    )
    assert err["field"] == "position"


def test_top_products_and_time_window(client: TestClient[Any]) -> None:
    body = client.get(
        "/api/v1/analytics/products/top-purchased", params={"limit": 3}, headers=ADMIN
    ).json()
    assert body["items"][0]["product_id"] == BEST_SELLER
    assert body["items"][0]["events"] >= int(BY_PRODUCT["len"][0])
    window = client.get(
        "/api/v1/analytics/products/top-purchased",
        params={"since": "2019-01-01", "until": "2019-02-01", "limit": 100},
        headers=ADMIN,
    ).json()
    in_window = TX.filter(pl.col("t_dat").is_between(pl.lit("2019-01-01"), pl.lit("2019-01-31")))
    assert sum(i["events"] for i in window["items"]) <= in_window.height
    assert window["window"] == {"since": "2019-01-01", "until": "2019-02-01"}
    err = error_of(
        client.get("/api/v1/analytics/products/top-viewed", params={"since": "2020-01-02",
                   "until": "2020-01-01"}, headers=ADMIN),
        400,
    )  # fmt: skip
    assert err["field"] == "since"


# -- benchmark, metrics ----------------------------------------------------------------------------


def test_benchmark_compare_reads_the_newest_file(
    sample_graph: Driver, settings: Settings, tmp_path: Path
) -> None:
    app = create_app(api_settings(settings, vector_benchmark_dir=tmp_path))
    with TestClient(app=app) as local:
        err = error_of(local.get("/api/v1/benchmark/compare"), 404)
        assert str(tmp_path) in err["message"]
        old = tmp_path / "vectorstores-old.json"
        old.write_text(json.dumps({"stores": {"pgvector": {"p95_ms": 9}}}))
        new = tmp_path / "vectorstores-new.json"
        new.write_text(json.dumps({"stores": {"qdrant": {"p95_ms": 3}}}))
        import os

        os.utime(old, (1_000_000, 1_000_000))
        body = local.get("/api/v1/benchmark/compare").json()
        assert body["file"] == new.name and body["results"]["stores"]["qdrant"]["p95_ms"] == 3


def test_metrics_in_prometheus_format(client: TestClient[Any]) -> None:
    client.get("/api/v1/recommendations/homepage", params={"top_k": 2})
    client.get("/api/v1/products/0000000000")
    response = client.get("/api/v1/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    for name in (
        "ragrec_requests_total",
        "ragrec_request_duration_seconds_bucket",
        "ragrec_api_errors_total",
        "ragrec_candidates_per_request_bucket",
    ):
        assert name in text, name
    assert 'generator="popularity"' in text
    assert 'code="not_found"' in text


# -- keys and rate limits -------------------------------------------------------------------------


def test_internal_endpoints_need_a_key(client: TestClient[Any]) -> None:
    url = "/api/v1/internal/scripts/interaction_kpis"
    body = {"params": {"since": "2000-01-01T00:00:00Z"}}
    assert error_of(client.post(url, json=body), 401)["code"] == "unauthorized"
    error_of(client.post(url, json=body, headers={"X-API-Key": API_KEY + "x"}), 401)
    ok = client.post(url, json=body, headers={"X-API-Key": API_KEY})
    assert ok.status_code == 200, ok.text
    assert ok.json()["file"] == "cypher/n8n/interaction_kpis.v1.cypher"
    headers = {"X-API-Key": API_KEY}
    err = error_of(client.post("/api/v1/internal/scripts/no_such", json={}, headers=headers), 404)
    assert "no_such" in err["message"]
    err = error_of(client.post(url, json={}, headers=headers), 422)
    assert err["field"] == "params"
    event = {"customer_id": "automation-1", "product_id": BEST_SELLER, "type": "wishlist_add"}
    ingested = client.post("/api/v1/internal/events", json={"events": [event]}, headers=headers)
    assert ingested.status_code == 201 and ingested.json()["created"] == 1
    cleared = client.post("/api/v1/internal/cache/clear", headers=headers)
    assert cleared.status_code == 200 and cleared.json()["cleared"] >= 0


def test_internal_reindex_of_one_product(client: TestClient[Any]) -> None:
    headers = {"X-API-Key": API_KEY}
    url = f"/api/v1/internal/products/{WITH_IMAGE}/reindex"
    error_of(client.post(url, json={"text": False}), 401)
    response = client.post(url, json={"text": False}, headers=headers)
    assert response.status_code == 200, response.text
    image = response.json()["summary"]["image"]
    assert image["embedded"] == 1 and image["store_counts"]["neo4j"] >= 100
    err = error_of(
        client.post("/api/v1/internal/products/0000000404/reindex", json={}, headers=headers),
        404,
    )
    assert "0000000404" in err["message"]


def test_internal_is_closed_without_configured_keys(
    sample_graph: Driver, settings: Settings
) -> None:
    with TestClient(app=create_app(api_settings(settings, api_keys=[]))) as local:
        err = error_of(local.post("/api/v1/internal/cache/clear", headers={"X-API-Key": ""}), 401)
        assert "no API key configured" in err["message"]


def test_public_endpoints_behind_keys_when_configured(
    sample_graph: Driver, settings: Settings
) -> None:
    with TestClient(app=create_app(api_settings(settings, api_keys_public=True))) as local:
        error_of(local.get(f"/api/v1/products/{BEST_SELLER}"), 401)
        ok = local.get(f"/api/v1/products/{BEST_SELLER}", headers={"X-API-Key": API_KEY})
        assert ok.status_code == 200
        assert local.get("/api/v1/health").status_code == 200


def test_rate_limit_per_key(sample_graph: Driver, settings: Settings) -> None:
    key = f"read-{uuid.uuid4().hex}"  # its own counter (counters live in PostgreSQL)
    limited = api_settings(
        settings,
        api_keys={"admin": [API_KEY], "read": [key]},
        api_rate_limit=1000,
        api_rate_limit_scopes={"read": 3},
        api_rate_limit_unit="day",
    )
    with TestClient(app=create_app(limited)) as local:
        for _ in range(3):
            assert (
                local.get(f"/api/v1/products/{BEST_SELLER}", headers={"X-API-Key": key}).status_code
                == 200
            )
        err = error_of(
            local.get(f"/api/v1/products/{BEST_SELLER}", headers={"X-API-Key": key}), 429
        )
        assert err["code"] == "rate_limited"
        assert local.get("/api/v1/health").status_code == 200  # monitoring is exempt
        assert local.get(f"/api/v1/products/{BEST_SELLER}", headers=ADMIN).status_code == 200


# -- privacy (the cross-store erasure test is test_privacy.py) ------------------------------------


def test_export_then_erase_then_404(client: TestClient[Any], settings: Settings) -> None:
    customer = BY_CUSTOMER["customer_id"][1]
    exported = client.get(f"/api/v1/privacy/customers/{customer}/export", headers=ADMIN)
    assert exported.status_code == 200, exported.text
    body = exported.json()
    assert pseudonymise_customer_id(customer, settings.effective_pseudonym_key()) not in (
        exported.text
    )  # no pseudonym in any response (issue 14)
    assert len(body["graph"]["purchases"]) == 2 and customer not in exported.text
    erased = client.delete(f"/api/v1/privacy/customers/{customer}", headers=ADMIN)
    assert erased.status_code == 200, erased.text
    assert erased.json()["neo4j_nodes"] == 1 and erased.json()["neo4j_relationships"] == 2
    assert customer not in erased.text
    error_of(client.delete(f"/api/v1/privacy/customers/{customer}", headers=ADMIN), 404)
    error_of(client.get(f"/api/v1/privacy/customers/{customer}/export", headers=ADMIN), 404)
    err = error_of(client.get("/api/v1/recommendations/homepage?customer_id=" + customer), 404)
    assert err["field"] == "customer_id"
