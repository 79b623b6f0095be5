"""The recommender against a small graph built here with known answers: each generator,
cold start, errors, contexts, rules, reasons, `as_of` time travel, the cross-encoder."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from neo4j import Driver

from ragrec.config import Settings
from ragrec.graph.schema import migrate
from ragrec.recommender.engine import Recommender
from ragrec.recommender.errors import InvalidRequest, UnknownCustomer, UnknownProduct
from ragrec.recommender.generators import FAR_FUTURE, GeneratorParams
from ragrec.recommender.rerank import CrossEncoderReranker

pytestmark = pytest.mark.integration

REF = date(2020, 9, 20)
WIPE = "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"

# products: id, name, type, price, in_stock, created_at (days before REF)
PRODUCTS = [
    ("0000000001", "Strap top", "Vest top", 10.0, True, 300),
    ("0000000002", "Denim skirt", "Skirt", 25.0, True, 300),
    ("0000000003", "Sun hat", "Hat", 15.0, True, 300),
    ("0000000004", "Black dress", "Dress", 40.0, True, 300),
    ("0000000005", "Red dress", "Dress", 45.0, True, 300),
    ("0000000006", "Blue dress", "Dress", 42.0, True, 300),
    ("0000000007", "Green dress", "Dress", 41.0, True, 300),
    ("0000000008", "Sold-out sandal", "Sandals", 30.0, False, 300),
    ("0000000009", "New parka", "Jacket", 90.0, True, 3),
    ("0000000010", "Wool socks", "Socks", 5.0, True, 300),
    ("0000000011", "Silk scarf", "Scarf", 19.0, True, 300),
    ("0000000012", "Linen shirt", "Shirt", 29.0, True, 300),
]
SETUP = [
    """
    UNWIND $products AS p
    CREATE (:Product {id: p[0], name: p[1], product_type: p[2], price: p[3], in_stock: p[4],
                      created_at: $ref - duration({days: p[5]}),
                      description: p[1] + ' in soft fabric'})
    """,
    """
    CREATE (:Persona {id: 'persona-1', name: 'Ladieswear · dresses · 25-34', size: 3})
    """,
    """
    UNWIND $customers AS c
    CREATE (x:Customer {id: c[0], age_bracket: c[1], community_id: c[2]})
    SET x.behavior_embedding = c[3]
    WITH x, c WHERE c[4]
    MATCH (p:Persona {id: 'persona-1'}) CREATE (x)-[:BELONGS_TO]->(p)
    """,
    """
    UNWIND $purchases AS r
    MATCH (c:Customer {id: r[0]}), (p:Product {id: r[1]})
    CREATE (c)-[:PURCHASED {ts: $ref - duration({days: r[2]}), price: p.price, channel: 1,
                            qty: 1}]->(p)
    """,
    """
    MATCH (a:Product {id: '0000000001'}), (b:Product {id: '0000000002'}),
          (c:Product {id: '0000000003'}), (d:Product {id: '0000000011'})
    CREATE (a)-[:BOUGHT_TOGETHER {count: 14, lift: 3.0}]->(b),
           (c)-[:BOUGHT_TOGETHER {count: 3, lift: 1.5}]->(a),
           (a)-[:SIMILAR_TO {score: 0.9, source: 'visual'}]->(d)
    """,
    """
    CREATE VECTOR INDEX customer_behavior_embedding IF NOT EXISTS
    FOR (c:Customer) ON (c.behavior_embedding)
    OPTIONS {indexConfig: {`vector.dimensions`: 3, `vector.similarity_function`: 'cosine'}}
    """,
    "CALL db.awaitIndex('customer_behavior_embedding', 60)",
]
# customers: id, age bracket, community, embedding, persona member
CUSTOMERS = [
    ("alice", "25-34", 7, [1.0, 0.0, 0.0], True),
    ("bob", "25-34", 7, [0.99, 0.1, 0.0], True),
    ("carol", "25-34", 7, [0.0, 1.0, 0.0], True),
    ("dave", "45-54", 9, [0.0, 0.0, 1.0], False),
    ("newbie", "25-34", None, None, False),
]
# purchases: customer, product, days before REF
PURCHASES = [
    ("alice", "0000000001", 2),
    ("bob", "0000000001", 40),
    ("bob", "0000000012", 1),
    ("bob", "0000000004", 1),
    ("carol", "0000000004", 1),
    ("carol", "0000000005", 2),
    ("carol", "0000000004", 3),
    ("carol", "0000000006", 2),
    ("carol", "0000000007", 2),
    ("dave", "0000000010", 1),
    ("dave", "0000000010", 2),
    ("dave", "0000000010", 3),
    ("dave", "0000000009", 1),
    ("dave", "0000000008", 0),
]


@pytest.fixture(scope="module")
def graph(neo4j_driver: Driver, settings: Settings) -> Iterator[Driver]:
    migrate(neo4j_driver, settings.neo4j_database)  # the full-text index of search_text
    with neo4j_driver.session(database=settings.neo4j_database) as session:
        session.run(WIPE).consume()
        session.run("DROP INDEX customer_behavior_embedding IF EXISTS").consume()
        for statement in SETUP:
            session.run(
                statement,
                products=[list(p) for p in PRODUCTS],
                customers=[list(c) for c in CUSTOMERS],
                purchases=[list(p) for p in PURCHASES],
                ref=REF,
            ).consume()
    yield neo4j_driver
    with neo4j_driver.session(database=settings.neo4j_database) as session:
        session.run(WIPE).consume()
        session.run("DROP INDEX customer_behavior_embedding IF EXISTS").consume()


@pytest.fixture()
def rec(graph: Driver, settings: Settings, tmp_path: Path) -> Iterator[Recommender]:
    # a generous query timeout: the shared test box is loaded, a cold plan can take seconds
    local = settings.model_copy(
        update={"rec_models_dir": tmp_path / "models", "rec_query_timeout_s": 30.0}
    )
    with Recommender(graph, local, params=GeneratorParams(window_days=365)) as r:
        yield r


def ids(result: object) -> list[str]:
    return [c.product_id for c in result.candidates]  # type: ignore[attr-defined]


def when(as_of: date = FAR_FUTURE) -> dict[str, object]:
    return {"as_of": as_of, "ref_date": REF}


def test_co_purchase_ranks_the_most_frequent_pair_first(rec: Recommender) -> None:
    anchors = [{"id": "0000000001", "weight": 1.0}]
    result = rec.graph.co_purchase(anchors, [])
    assert ids(result) == ["0000000002", "0000000003"]
    assert result.candidates[0].reason == "bought together with Strap top 14 times"
    assert result.candidates[0].score == 14.0


def test_similar_items_says_looks_like(rec: Recommender) -> None:
    result = rec.graph.similar_items([{"id": "0000000001", "weight": 1.0}], [])
    assert ids(result) == ["0000000011"]
    assert result.candidates[0].reason == "looks like Strap top you bought"


def test_persona_favourites_time_decayed(rec: Recommender) -> None:
    result = rec.graph.persona_favourites("persona-1", "Ladieswear · dresses · 25-34", [], when())
    # Black dress: 3 recent purchases by persona members; Strap top: 2, one old
    assert ids(result)[0] == "0000000004"
    assert result.candidates[0].reason == "popular with persona Ladieswear · dresses · 25-34"
    assert "0000000010" not in ids(result)  # dave is not a member


def test_cohort_and_community_and_popularity(rec: Recommender) -> None:
    cohort = rec.graph.cohort_favourites("45-54", [], when())
    assert ids(cohort)[0] == "0000000010"
    community = rec.graph.community_trending(7, [], when())
    assert ids(community)[0] == "0000000004"
    popular = rec.graph.popularity([], when())  # 7-day window
    assert ids(popular)[0] in {"0000000004", "0000000010"}
    assert "0000000001" in ids(popular)  # alice, 2 days ago
    assert "popular now" in popular.candidates[0].reason


def test_new_arrivals_and_category_affinity(rec: Recommender) -> None:
    assert ids(rec.graph.new_arrivals([], when())) == ["0000000009"]
    affinity = rec.graph.category_affinity({"Dress": 1.0}, ["0000000004"], when())
    assert set(ids(affinity)) == {"0000000005", "0000000006", "0000000007"}
    assert affinity.candidates[0].reason == "you often buy Dress"


def test_behaviour_neighbours_vector_index_and_walk(rec: Recommender) -> None:
    nearest = rec.graph.behaviour_neighbours(
        "alice", "customer_behavior_embedding", ["0000000001"], when()
    )
    # bob is alice's nearest neighbour: his purchases score highest
    assert set(ids(nearest)[:2]) == {"0000000012", "0000000004"}
    walk = rec.graph.purchase_neighbours(
        "alice", [{"id": "0000000001", "weight": 1.0}], ["0000000001"], when()
    )
    assert set(ids(walk)) == {"0000000012", "0000000004"}


def test_generators_cannot_see_purchases_after_as_of(rec: Recommender) -> None:
    as_of = REF - timedelta(days=1)  # hides everything bought 0 and 1 days before REF
    popular = rec.graph.popularity([], when(as_of))
    assert "0000000012" not in ids(popular)  # bob bought it 1 day before REF only
    profile = rec.profile("bob", as_of=as_of)
    assert [h["id"] for h in profile.history] == ["0000000001"]


def test_a_purchase_just_made_moves_today_on_for_that_customer(
    rec: Recommender, settings: Settings
) -> None:
    # "today" (the last purchase day) is read once a minute for everyone; a customer's own
    # purchase made since must not wait for that: it is their most recent, most weighted one
    assert rec.profile("alice").ref_date == REF  # read and kept
    later = REF + timedelta(days=5)
    with rec.graph.driver.session(database=settings.neo4j_database) as session:
        session.run(
            "MATCH (c:Customer {id: 'alice'}), (p:Product {id: '0000000003'}) "
            "CREATE (c)-[:PURCHASED {ts: $day, price: 15.0, channel: 1, qty: 1, "
            "probe: true}]->(p)",
            day=later,
        ).consume()
    try:
        profile = rec.profile("alice")
        assert profile.ref_date == later
        assert profile.history[0]["id"] == "0000000003"
        assert rec.profile("alice", as_of=later).ref_date == REF  # the purchase is hidden
    finally:
        with rec.graph.driver.session(database=settings.neo4j_database) as session:
            session.run("MATCH ()-[r:PURCHASED {probe: true}]->() DELETE r").consume()


def test_homepage_with_history(rec: Recommender) -> None:
    result = rec.homepage("alice", k=10)
    got = [i.product_id for i in result.items]
    assert "0000000001" not in got  # already bought
    assert "0000000008" not in got  # out of stock
    # RRF: Black dress is proposed by the most generators (neighbours, persona, community,
    # popularity); the skirt bought together with alice's top comes with its reason
    assert got[0] == "0000000004"
    assert len(set(result.items[0].generators)) >= 3
    skirt = result.items[got.index("0000000002")]
    assert "co_purchase" in skirt.generators
    assert "bought together with Strap top 14 times" in skirt.reasons
    assert len(result.request_id) == 32
    assert [i.position for i in result.items] == list(range(1, len(got) + 1))
    assert all(i.reasons for i in result.items)
    assert result.timings["total_ms"] > 0


def test_homepage_caps_categories(rec: Recommender) -> None:
    result = rec.homepage("newbie", k=10)
    dresses = [i for i in result.items if i.category == "Dress"]
    assert len(dresses) <= 3


def test_cold_start_never_errors(rec: Recommender) -> None:
    result = rec.homepage("newbie", k=5)
    assert result.cold_start
    assert result.items
    assert any("persona" in r for i in result.items for r in i.reasons)
    anonymous = rec.homepage(None, k=5, age_bracket="45-54")
    # what 45-54s buy (socks, the new parka) leads; popularity and new arrivals fill in
    assert {i.product_id for i in anonymous.items[:2]} == {"0000000009", "0000000010"}


def test_unknown_ids_raise_named_errors(rec: Recommender) -> None:
    with pytest.raises(UnknownCustomer):
        rec.homepage("nobody")
    with pytest.raises(UnknownProduct):
        rec.product("9999999999")
    with pytest.raises(InvalidRequest):
        rec.cart([])
    with pytest.raises(InvalidRequest):
        rec.homepage("alice", strategy="nonsense")


def test_product_and_cart_contexts(rec: Recommender) -> None:
    page = rec.product("0000000001", k=5)
    got = [i.product_id for i in page.items]
    assert got[0] == "0000000002"
    assert "0000000001" not in got
    assert "looks like Strap top" in {r for i in page.items for r in i.reasons}
    cart = rec.cart(["0000000003", "0000000002"], "dave", k=5)
    got = [i.product_id for i in cart.items]
    assert got[0] == "0000000001"  # bought with both cart items
    assert not {"0000000003", "0000000002"} & set(got)


def test_weighted_strategy_and_config(rec: Recommender) -> None:
    result = rec.homepage("alice", k=5, strategy="weighted")
    assert result.strategy == "weighted"
    assert "0000000002" in [i.product_id for i in result.items]


def test_search_with_tiny_cross_encoder(
    graph: Driver, settings: Settings, tiny_cross_encoder: Path, tmp_path: Path
) -> None:
    # a generous query timeout: the shared test box is loaded, a cold plan can take seconds
    local = settings.model_copy(
        update={"rec_models_dir": tmp_path / "models", "rec_query_timeout_s": 30.0}
    )
    reranker = CrossEncoderReranker(str(tiny_cross_encoder))
    with Recommender(graph, local, reranker=reranker) as r:
        result = r.search("dress", "bob", k=5)
        assert result.reranked
        assert result.items
        assert all(i.category == "Dress" for i in result.items)
        assert all(any("matches" in reason for reason in i.reasons) for i in result.items)
        plain = r.homepage("alice", k=3, rerank=True)
        assert plain.reranked and plain.timings["rerank_ms"] > 0


@pytest.fixture(scope="module")
def tiny_cross_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ragrec.recommender.random_model import build_random_cross_encoder

    return build_random_cross_encoder(tmp_path_factory.mktemp("tiny-ce"))


class _LooksLike:
    """A stand-in for a #4 retriever: Linen shirt looks like Strap top."""

    def similar_to(self, product_id: str, k: int) -> list[tuple[str, float]]:
        return [("0000000012", 0.8), ("9999999999", 0.7)] if product_id == "0000000001" else []


def test_retriever_interface_adds_look_alikes(
    graph: Driver, settings: Settings, tmp_path: Path
) -> None:
    # a generous query timeout: the shared test box is loaded, a cold plan can take seconds
    local = settings.model_copy(
        update={"rec_models_dir": tmp_path / "models", "rec_query_timeout_s": 30.0}
    )
    with Recommender(graph, local, visual=_LooksLike()) as r:
        result = r.homepage("alice", k=10)
        shirt = next(i for i in result.items if i.product_id == "0000000012")
        assert "visual_similar" in shirt.generators
        assert "looks like Strap top you bought" in shirt.reasons
        assert "9999999999" not in [i.product_id for i in result.items]  # not in the graph
