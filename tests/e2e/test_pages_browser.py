"""The explorer pages, the shop widget and the API docs in headless Chromium against
`ragrec serve` on the sample, with every request outside the app blocked (no internet).
Screenshots land in tests/e2e/artifacts/ (gitignored)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import polars as pl
import pytest
from browser_support import (
    ADMIN_KEY,
    ARTIFACTS,
    LAPTOP,
    PHONE,
    SAMPLE,
    WIDGET_KEY,
    Watch,
    open_context,
    shot,
    sign_in,
)
from neo4j import Driver

from ragrec.config import Settings
from ragrec.etl.pseudonymise import pseudonymise_customer_id

pytestmark = pytest.mark.e2e

TX = pl.read_parquet(SAMPLE / "transactions_sample.parquet")
LOYAL = str(
    TX.group_by("customer_id").len().sort(["len", "customer_id"], descending=True)["customer_id"][0]
)
IMAGES = sorted((SAMPLE / "images").glob("*.jpg"))
_SOLD = set(f"{a:010d}" for a in TX["article_id"].to_list())
#: a product with a picture that was bought (so it has graph neighbours)
PICTURED = next((p.stem for p in IMAGES if p.stem in _SOLD), IMAGES[0].stem)
_ARTICLES = pl.read_parquet(SAMPLE / "articles_sample.parquet").with_columns(
    pl.col("article_id").cast(pl.Int64).map_elements(lambda a: f"{a:010d}", pl.String).alias("id")
)
_PICTURED_TYPES = _ARTICLES.filter(pl.col("id").is_in([p.stem for p in IMAGES]))
#: a pictured product of the product type with the most pictures (a neighbourhood of pictures)
CROWDED = _PICTURED_TYPES.filter(
    pl.col("product_type_name")
    == _PICTURED_TYPES.group_by("product_type_name")
    .len()
    .sort("len", descending=True)["product_type_name"][0]
).sort("id")["id"][0]

EXPLORER_PAGES = [
    "/",
    "/pages/visual-search",
    f"/pages/visual-search?product={PICTURED}",
    "/pages/search",
    "/pages/search?q=trousers",
    "/pages/personas",
    f"/pages/personas?customer={LOYAL}",
    "/pages/graph",
    f"/pages/graph?product={PICTURED}",
    "/pages/explain",
    "/pages/analytics",
    "/pages/benchmarks",
    "/pages/shop",
]


@pytest.fixture(scope="module")
def admin(browser: Any, server: str) -> Iterator[tuple[Any, Watch]]:
    """A laptop-sized page, signed in with an admin key."""
    context, watch = open_context(browser, server, LAPTOP)
    page = context.new_page()
    sign_in(page)
    yield page, watch
    context.close()


def _loaded(page: Any, path: str) -> Any:
    response = page.goto(path, wait_until="networkidle")
    assert response is not None and response.status == 200, (path, response and response.status)
    return response


def test_explorer_pages_need_a_key(browser: Any, server: str) -> None:
    context, _watch = open_context(browser, server, LAPTOP)
    page = context.new_page()
    page.goto("/pages/analytics?days=7")
    assert "/login" in page.url  # redirected to sign in
    page.fill("#key", "not-a-key")
    page.click("button[type=submit]")
    assert "does not open the pages" in page.inner_text(".msg.error")
    page.fill("#key", WIDGET_KEY)  # the publishable key does not open private pages
    page.click("button[type=submit]")
    assert "does not open the pages" in page.inner_text(".msg.error")
    page.fill("#key", ADMIN_KEY)
    page.click("button[type=submit]")
    page.wait_for_url("**/pages/analytics?days=7")
    assert page.inner_text("h1") == "Analytics"
    context.close()


def test_every_page_loads_without_console_errors(admin: tuple[Any, Watch]) -> None:
    page, watch = admin
    for path in EXPLORER_PAGES:
        watch.clear()
        _loaded(page, path)
        assert page.locator("h1").first.is_visible(), path
        assert "Traceback" not in page.content(), path
        missing_alt = page.eval_on_selector_all("img", "els => els.filter(e => !e.alt).length")
        assert missing_alt == 0, f"{path}: {missing_alt} images without alt text"
        broken = page.eval_on_selector_all(
            "img", "els => els.filter(e => e.complete && e.naturalWidth === 0).map(e => e.src)"
        )
        assert not broken, f"{path}: broken images {broken}"
        watch.assert_clean(path)


def test_bad_input_gets_a_friendly_page(admin: tuple[Any, Watch]) -> None:
    page, _watch = admin
    response = page.goto("/pages/graph?depth=99")
    assert response is not None and response.status == 400
    assert "Please check the request" in page.inner_text("h1")
    assert "depth" in page.inner_text(".msg.error")
    _loaded(page, "/pages/graph?product=0000000000")
    assert "no product with id" in page.inner_text(".msg.error")


def test_visual_search_with_a_sample_picture(admin: tuple[Any, Watch]) -> None:
    page, watch = admin
    watch.clear()
    _loaded(page, "/pages/visual-search")
    page.set_input_files("#image", str(IMAGES[0]))
    page.select_option("#store", "qdrant")
    page.check("#compare")
    with page.expect_navigation(wait_until="networkidle"):
        page.click("form[aria-label='Search by picture'] button[type=submit]")
    tiles = page.locator("#results .tile")
    assert tiles.count() > 0
    # the picture itself is the nearest product, and its score shows
    assert page.locator("#results .tile").first.get_attribute("data-product") == IMAGES[0].stem
    times = page.inner_text("#store-times")
    for store in ("pgvector", "qdrant", "neo4j"):
        assert store in times
    assert " ms" in times
    assert (
        page.eval_on_selector_all(
            "#results img", "els => els.filter(e => e.naturalWidth > 0).length"
        )
        > 0
    )
    shot(page, "visual_search_grid")
    # filtering by the top item's category keeps only that category
    category = page.locator("#results .tile").first.get_attribute("data-type")
    _loaded(page, f"/pages/visual-search?product={IMAGES[0].stem}&category={category}")
    types = [t.get_attribute("data-type") for t in page.locator("#results .tile").all()]
    assert types and set(types) == {category}
    watch.assert_clean("visual search")


def test_persona_map_and_lookup(admin: tuple[Any, Watch]) -> None:
    page, watch = admin
    watch.clear()
    _loaded(page, f"/pages/personas?customer={LOYAL}")
    assert page.locator("#persona-map circle").count() > 0
    assert page.locator("#lookup-result table tbody tr").count() >= 1
    shot(page, "personas_page")
    map_section = page.locator("section[aria-labelledby=map-h]")  # the map and its legend
    map_section.screenshot(path=str(ARTIFACTS / "persona_map.png"))
    watch.assert_clean("personas")


def test_graph_explorer_draws_a_network_with_pictures(admin: tuple[Any, Watch]) -> None:
    page, watch = admin
    watch.clear()
    _loaded(page, f"/pages/graph?product={CROWDED}&depth=2&max_nodes=40")
    page.wait_for_selector("#network[data-ready=true]", timeout=30_000)
    nodes = page.evaluate("window.ragrecNetwork.body.data.nodes.get()")
    assert len(nodes) > 1
    assert any(n.get("shape") == "image" for n in nodes), "no product picture among the nodes"
    assert page.locator("#network canvas").count() == 1
    shot(page, "graph_explorer")
    watch.assert_clean("graph explorer")


def test_explainer_shows_items_paths_and_sources(admin: tuple[Any, Watch]) -> None:
    page, watch = admin
    watch.clear()
    _loaded(page, f"/pages/explain?customer={LOYAL}&run=true")
    items = page.locator("#explained-items > li")
    assert items.count() > 0
    assert page.locator("#explained-items table tbody tr").count() >= items.count()
    shot(page, "explainer")
    _loaded(page, f"/pages/explain?context=product&products={PICTURED}&run=true")
    assert page.locator("#explained-items .path").count() > 0  # paths from the product
    watch.assert_clean("explainer")


def test_widget_click_is_recorded_with_its_request_id(
    browser: Any, server: str, admin: tuple[Any, Watch], sample_world: Driver, settings: Settings
) -> None:
    context, watch = open_context(browser, server, LAPTOP)  # a shopper: no sign-in
    page = context.new_page()
    _loaded(page, f"/pages/shop?customer={LOYAL}&product={PICTURED}")
    carousel = page.locator("#product-carousel")
    page.wait_for_selector("#product-carousel[data-request-id]")
    request_id = carousel.get_attribute("data-request-id")
    first = page.locator("#product-carousel li").first
    product_id = first.get_attribute("data-product")
    position = int(first.get_attribute("data-position"))
    assert page.locator("#product-carousel li img").first.get_attribute("loading") == "lazy"
    with page.expect_request("**/api/v1/interactions/batch"):  # impressions, once seen
        carousel.scroll_into_view_if_needed()
    with page.expect_navigation():
        page.locator("#product-carousel li a").first.click()
    assert f"product={product_id}" in page.url
    pseudonym = pseudonymise_customer_id(LOYAL, settings.effective_pseudonym_key())
    clicks: list[Any] = []
    impressions = 0
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not (clicks and impressions):
        records, _, _ = sample_world.execute_query(
            "MATCH (c:Customer {id: $c})-[r:INTERACTED {request_id: $rid}]->(p:Product) "
            "RETURN r.type AS type, p.id AS product, r.position AS position, r.context AS ctx",
            c=pseudonym,
            rid=request_id,
            database_=settings.neo4j_database,
        )
        clicks = [r for r in records if r["type"] == "recommendation_click"]
        impressions = sum(r["type"] == "recommendation_impression" for r in records)
        time.sleep(0.3)
    assert [(r["product"], r["position"], r["ctx"]) for r in clicks] == [
        (product_id, position, "product")
    ]
    assert impressions >= 1
    watch.assert_clean("shop widget")
    context.close()
    # the dashboard now counts the click
    page, watch = admin
    watch.clear()
    _loaded(page, "/pages/analytics?days=7")
    assert page.locator("#per-context").count() == 1
    assert page.locator("#daily-chart polyline").count() >= 1
    shot(page, "analytics_dashboard")
    watch.assert_clean("analytics")


PHONE_PAGES = [
    "/",
    "/pages/personas",
    f"/pages/visual-search?product={PICTURED}",
    "/pages/analytics",
    "/pages/explain?run=true",
    f"/pages/graph?product={CROWDED}",
    "/pages/shop",
]


def test_pages_fit_a_phone(browser: Any, server: str) -> None:
    context, watch = open_context(browser, server, PHONE)
    page = context.new_page()
    sign_in(page)
    for path in PHONE_PAGES:
        watch.clear()
        _loaded(page, path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{path} is {overflow}px wider than a phone"
        watch.assert_clean(f"{path} at phone width")
    page.wait_for_selector("#product-carousel[data-request-id]")
    shot(page, "shop_phone")
    context.close()


def test_api_docs_render_offline(browser: Any, server: str) -> None:
    context, watch = open_context(browser, server, LAPTOP)
    page = context.new_page()
    _loaded(page, "/schema")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "RagRec API" in page.inner_text(".swagger-ui .info .title")
    assert page.locator(".opblock").count() > 10
    shot(page, "api_docs_swagger", full_page=False)
    spec = page.request.get(f"{server}/schema/openapi.json").json()
    assert spec["info"]["title"] == "RagRec API"
    assert not any(p.startswith("/pages") for p in spec["paths"])  # pages are not API
    watch.assert_clean("/schema")
    context.close()


def test_browser_guide_and_bloom_phrases_run_on_the_sample(
    server: str, sample_world: Driver, settings: Settings
) -> None:
    import json

    import httpx
    from markupsafe import escape

    from app.pages.guide import saved_queries
    from ragrec.config import PROJECT_ROOT

    guide = httpx.get(f"{server}/guides/ragrec.html", timeout=30)
    assert guide.status_code == 200
    assert guide.headers["access-control-allow-origin"] == "*"
    queries = saved_queries()
    assert {q.name for q in queries} >= {
        "customer_journey",
        "persona_top_products",
        "co_purchase_neighbourhood",
        "communities",
    }
    #: the sample's customers buy once or twice: no co-purchase or similarity edges there
    sparse_on_sample = {"co_purchase_neighbourhood"}
    for q in queries:
        assert str(escape(q.title)) in guide.text  # as Jinja escapes it
        records, _, _ = sample_world.execute_query(q.cypher, database_=settings.neo4j_database)
        assert records or q.name in sparse_on_sample, f"{q.file} found nothing on the sample"
    perspective = json.loads((PROJECT_ROOT / "app" / "bloom" / "ragrec.json").read_text())
    assert {c["name"] for c in perspective["categories"]} == {
        "Customer",
        "Product",
        "Category",
        "Persona",
    }
    persona, product = sample_world.execute_query(
        "MATCH (p:Persona) WITH p ORDER BY p.size DESC LIMIT 1 "
        "MATCH (x:Product)<-[:PURCHASED]-() WITH p, x, count(*) AS n ORDER BY n DESC "
        "RETURN p.name AS persona, x.name AS product LIMIT 1",
        database_=settings.neo4j_database,
    ).records[0]
    values = {
        "customer": pseudonymise_customer_id(LOYAL, settings.effective_pseudonym_key()),
        "persona": persona,
        "product": product,
    }
    for phrase in perspective["templates"]:
        params = {p["name"].lstrip("$"): values[p["name"].lstrip("$")] for p in phrase["params"]}
        records, _, _ = sample_world.execute_query(
            phrase["cypher"], params, database_=settings.neo4j_database
        )
        assert records or phrase["text"].startswith("Bought with"), phrase["text"]
