"""The GDS specs of gds_projections/ run for real: Louvain, node similarity, FastRP,
BOUGHT_TOGETHER; versions recorded, graphs dropped, re-runs idempotent, estimates."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from graphdatascience import GraphDataScience
from neo4j import Driver

from ragrec.config import Settings
from ragrec.etl.generator import generate
from ragrec.gds import gds_client
from ragrec.gds.pipeline import estimate_at_scale, recorded_runs, run_specs
from ragrec.gds.specs import GdsSpec, load_specs
from ragrec.graph.loader import load_data

pytestmark = pytest.mark.integration

COUNTS = {
    "runs": "MATCH (r:GdsRun) RETURN count(r) AS n",
    "similar": "MATCH (:Product)-[s:SIMILAR_TO {source: 'gds_node_similarity'}]->() "
    "RETURN count(s) AS n",
    "staging": "MATCH ()-[s:SIMILAR_TO_GDS_STAGING]->() RETURN count(s) AS n",
    "together": "MATCH (:Product)-[t:BOUGHT_TOGETHER]->() RETURN count(t) AS n",
    "communities": "MATCH (c:Customer) WHERE c.community_id IS NOT NULL RETURN count(c) AS n",
    "embeddings": "MATCH (c:Customer) WHERE c.behavior_embedding IS NOT NULL RETURN count(c) AS n",
}


@pytest.fixture(scope="module")
def loaded(
    tmp_path_factory: pytest.TempPathFactory, settings: Settings, neo4j_driver: Driver
) -> Iterator[None]:
    folder = tmp_path_factory.mktemp("gds") / "data"
    generate(folder, products=120, customers=600, transactions=6_000, seed=5, progress=False)
    with neo4j_driver.session(database=settings.neo4j_database) as session:
        session.run(
            "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
        ).consume()
    load_data(folder, settings, neo4j_driver, show_progress=False)
    yield


@pytest.fixture()
def gds(settings: Settings, neo4j_driver: Driver) -> GraphDataScience:
    return gds_client(neo4j_driver, settings)


def test_specs_run_record_versions_and_rerun_idempotently(
    loaded: None, gds: GraphDataScience, settings: Settings, neo4j_driver: Driver
) -> None:
    database = settings.neo4j_database
    specs = load_specs()
    first = run_specs(gds, neo4j_driver, database, specs)
    counts_first = _counts(neo4j_driver, database)
    second = run_specs(gds, neo4j_driver, database, specs)
    counts_second = _counts(neo4j_driver, database)

    by_spec = {s.spec: s for s in second}
    assert set(by_spec) == {
        "behavior_embeddings",
        "louvain_communities",
        "product_similarity",
        "bought_together",
    }
    louvain = by_spec["louvain_communities"].result
    print(
        "\n"
        + "\n".join(
            f"{s.run_id}: {s.seconds:.2f}s, estimate {s.estimate}, "
            f"{s.node_count:,} nodes / {s.relationship_count:,} rels"
            for s in first
        )
        + f"\nmodularity {louvain['modularity']:.3f}, {louvain['community_count']} communities"
    )
    assert louvain["modularity"] > 0.3
    assert all(s.estimate for s in second if s.algorithm != "cypher_template")
    # idempotent: a second run leaves the same counts, no staging relationships
    assert counts_first == counts_second
    assert counts_second["runs"] == 4 and counts_second["staging"] == 0
    assert counts_second["similar"] > 0 and counts_second["together"] > 0
    assert counts_second["communities"] == counts_second["embeddings"] > 500
    # in-memory graphs are dropped
    names = {s.projection.graph_name for s in specs if s.projection}
    listed = gds.graph.list()
    assert not names & {g.graph_name for g in listed}

    runs = {r["id"]: r for r in recorded_runs(neo4j_driver, database)}
    assert set(runs) == {s.run_id for s in specs}
    louvain_run = runs["louvain_communities:v1"]
    assert louvain_run["properties"] == ["Customer.community_id", "Product.community_id"]
    assert json.loads(louvain_run["params"])["weights"]["purchase"] == 5.0
    assert json.loads(louvain_run["result"])["modularity"] == pytest.approx(louvain["modularity"])

    records, _, _ = neo4j_driver.execute_query(
        "MATCH (c:Customer) WHERE c.community_id IS NOT NULL "
        "RETURN collect(DISTINCT c.community_version) AS cv, "
        "collect(DISTINCT c.embedding_version) AS ev, "
        "collect(DISTINCT size(c.behavior_embedding)) AS dims",
        database_=database,
    )
    assert records[0]["cv"] == ["louvain_communities:v1"]
    [spec] = load_specs(["behavior_embeddings"])
    assert spec.algorithm is not None
    assert records[0]["ev"] == [f"behavior_embeddings:v{spec.version}"]
    assert records[0]["dims"] == [spec.algorithm.config["embedding_dimension"]]


def test_behavior_embedding_vector_index_answers(
    loaded: None, gds: GraphDataScience, settings: Settings, neo4j_driver: Driver
) -> None:
    database = settings.neo4j_database
    run_specs(gds, neo4j_driver, database, load_specs(["behavior_embeddings"]))
    records, _, _ = neo4j_driver.execute_query(
        "SHOW VECTOR INDEXES YIELD name, state WHERE name = 'customer_behavior_embedding' "
        "RETURN state",
        database_=database,
    )
    assert records and records[0]["state"] == "ONLINE"
    neo4j_driver.execute_query("CALL db.awaitIndexes(60)", database_=database)
    records, _, _ = neo4j_driver.execute_query(
        "MATCH (c:Customer) WHERE c.behavior_embedding IS NOT NULL WITH c LIMIT 1 "
        "CALL db.index.vector.queryNodes('customer_behavior_embedding', 5, c.behavior_embedding) "
        "YIELD node, score RETURN c.id AS me, collect(node.id) AS ids, max(score) AS best",
        database_=database,
    )
    assert records[0]["me"] in records[0]["ids"]
    assert records[0]["best"] == pytest.approx(1.0, abs=5e-3)  # quantised index


def test_bought_together_lift_matches_its_definition(
    loaded: None, gds: GraphDataScience, settings: Settings, neo4j_driver: Driver
) -> None:
    database = settings.neo4j_database
    [step] = run_specs(gds, neo4j_driver, database, load_specs(["bought_together"]))
    total = step.result["baskets"]
    records, _, _ = neo4j_driver.execute_query(
        "MATCH (a:Product)-[t:BOUGHT_TOGETHER]->(b:Product) WITH a, b, t "
        "ORDER BY t.count DESC, a.id, b.id LIMIT 1 "
        "CALL (a) { MATCH (c:Customer)-[r:PURCHASED]->(a) "
        "  RETURN count(DISTINCT [elementId(c), r.ts]) AS na } "
        "CALL (b) { MATCH (c:Customer)-[r:PURCHASED]->(b) "
        "  RETURN count(DISTINCT [elementId(c), r.ts]) AS nb } "
        "RETURN t.count AS count, t.lift AS lift, na, nb",
        database_=database,
    )
    row = records[0]
    assert row["count"] >= 2
    # baskets of up to bt_basket_cap items weigh 1: the textbook lift (stored to 4 places)
    assert row["lift"] == pytest.approx(row["count"] * total / (row["na"] * row["nb"]), rel=1e-3)


def test_interactions_count_with_their_weights(
    loaded: None, gds: GraphDataScience, settings: Settings, neo4j_driver: Driver
) -> None:
    """A customer who only viewed products is in the projection; one who only removed
    items from the cart (negative weight) is not."""
    database = settings.neo4j_database
    neo4j_driver.execute_query(
        "MATCH (p:Product) WITH p ORDER BY p.id LIMIT 3 WITH collect(p) AS ps "
        "MERGE (v:Customer {id: 'test-viewer'}) MERGE (r:Customer {id: 'test-remover'}) "
        "WITH ps, v, r UNWIND range(0, size(ps) - 1) AS i WITH v, r, i, ps[i] AS p "
        "MERGE (v)-[x:INTERACTED {event_id: 'view-' + i}]->(p) "
        "  SET x.type = 'view', x.ts = datetime('2020-09-20T10:00:00Z') "
        "MERGE (r)-[y:INTERACTED {event_id: 'remove-' + i}]->(p) "
        "  SET y.type = 'cart_remove', y.ts = datetime('2020-09-20T10:00:00Z')",
        database_=database,
    )
    run_specs(gds, neo4j_driver, database, load_specs(["louvain_communities"]))
    records, _, _ = neo4j_driver.execute_query(
        "MATCH (c:Customer) WHERE c.id IN ['test-viewer', 'test-remover'] "
        "RETURN c.id AS id, c.community_id AS community",
        database_=database,
    )
    community = {r["id"]: r["community"] for r in records}
    assert community["test-viewer"] is not None
    assert community["test-remover"] is None


def test_product_similarity_is_bounded_and_switched_in_only_when_complete(
    loaded: None, gds: GraphDataScience, settings: Settings, neo4j_driver: Driver
) -> None:
    database = settings.neo4j_database
    [spec] = load_specs(["product_similarity"])
    assert spec.projection is not None and spec.algorithm is not None

    def variant(params: dict[str, int]) -> GdsSpec:
        assert spec.projection is not None
        projection = spec.projection.model_copy(update={"params": params})
        return spec.model_copy(update={"projection": projection})

    def links() -> set[tuple[str, str, str]]:
        records, _, _ = neo4j_driver.execute_query(
            "MATCH (a:Product)-[s:SIMILAR_TO {source: 'gds_node_similarity'}]->(b:Product) "
            "RETURN a.id AS a, b.id AS b, s.stamp AS stamp",
            database_=database,
        )
        return {(r["a"], r["b"], r["stamp"]) for r in records}

    # the bound: the 6 products bought most in the window, at most 5 buyers each
    [step] = run_specs(
        gds,
        neo4j_driver,
        database,
        [variant({"window_days": 3650, "max_products": 6, "max_buyers": 5})],
    )
    assert step.relationship_count <= 6 * 5 and 0 < step.node_count <= 6 + 6 * 5
    records, _, _ = neo4j_driver.execute_query(
        "MATCH ()-[r:PURCHASED]->(p:Product) WITH p, count(r) AS sold "
        "ORDER BY sold DESC, p.id LIMIT 6 RETURN collect(p.id) AS top",
        database_=database,
    )
    top = set(records[0]["top"])
    bounded = links()
    assert bounded and {a for a, _, _ in bounded} | {b for _, b, _ in bounded} <= top
    assert len({stamp for _, _, stamp in bounded}) == 1

    # a run stopped once the algorithm has written its staging links, before the switch:
    # the live links are those of the last complete run
    stopped = spec.model_copy(update={"post": []})
    run_specs(gds, neo4j_driver, database, [stopped])
    assert links() == bounded
    assert _counts(neo4j_driver, database)["staging"] > 0

    # the full spec replaces them all: none of the bounded run's stamp is left
    run_specs(gds, neo4j_driver, database, [spec])
    full = links()
    assert len(full) > len(bounded)
    assert len({stamp for _, _, stamp in full}) == 1
    assert not {stamp for _, _, stamp in full} & {stamp for _, _, stamp in bounded}
    assert _counts(neo4j_driver, database)["staging"] == 0


def test_memory_estimates_at_100k_and_hm_scale(gds: GraphDataScience) -> None:
    specs = load_specs()
    small = estimate_at_scale(gds, specs, customers=100_000, products=30_000, purchases=2_320_000)
    full = estimate_at_scale(
        gds, specs, customers=1_371_980, products=105_542, purchases=31_788_324
    )
    print()
    for row in small + full:
        print(
            f"{row['spec']} at {row['node_count']:,} nodes / {row['relationship_count']:,} "
            f"rels: {row['required_memory']}"
        )
    assert {r["algorithm"] for r in full} == {"fast_rp", "louvain", "node_similarity"}
    for a, b in zip(small, full, strict=True):
        assert 0 < a["bytes_max"] < b["bytes_max"]


def _counts(driver: Driver, database: str) -> dict[str, int]:
    out = {}
    for name, text in COUNTS.items():
        records, _, _ = driver.execute_query(text, database_=database)
        out[name] = int(records[0]["n"])
    return out
