"""The offline jobs (`ragrec refresh`) on dense generated data: customers with hundreds of
purchases and bulk baskets of 300 items; versions switched in only when complete."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from neo4j import Driver
from typer.testing import CliRunner

from ragrec.cli import app as cli_app
from ragrec.config import Settings
from ragrec.etl.generator import generate
from ragrec.graph.loader import load_data
from ragrec.jobs import versions
from ragrec.jobs.refresh import STEPS, refresh
from ragrec.recommender.engine import Recommender
from ragrec.recommender.precomputed import SOURCE_TEMPLATES

pytestmark = pytest.mark.integration

WIPE = "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"


class Interrupted(BaseException):
    """Stands for a kill (a signal) in the middle of a step's writes."""


@pytest.fixture(scope="module")
def dense(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dense")
    generate(
        out,
        products=3_000,
        n_segments=2,
        customers=60,
        transactions=30_000,
        seed=3,
        days=120,
        max_basket=300,
        bulk_share=0.02,
        progress=False,
    )
    return out


@pytest.fixture(scope="module")
def graph(neo4j_driver: Driver, settings: Settings, dense: Path) -> Iterator[Driver]:
    with neo4j_driver.session(database=settings.neo4j_database) as session:
        session.run(WIPE).consume()
    load_data(dense, settings, neo4j_driver, show_progress=False, bulk=False)
    yield neo4j_driver
    with neo4j_driver.session(database=settings.neo4j_database) as session:
        session.run(WIPE).consume()


def rows(driver: Driver, settings: Settings, text: str, **params: Any) -> list[dict[str, Any]]:
    records, _, _ = driver.execute_query(text, params, database_=settings.neo4j_database)
    return [r.data() for r in records]


def test_dense_data_has_the_shape_that_broke_pair_counting(
    graph: Driver, settings: Settings
) -> None:
    [shape] = rows(
        graph,
        settings,
        """
        MATCH (c:Customer)-[r:PURCHASED]->()
        WITH c, r.ts AS day, count(*) AS items
        WITH c, max(items) AS biggest, sum(items) AS bought
        RETURN max(biggest) AS biggest_basket, max(bought) AS most_bought
        """,
    )
    assert shape["biggest_basket"] >= 250
    assert shape["most_bought"] >= 300


def test_refresh_builds_every_step_with_a_live_version(graph: Driver, settings: Settings) -> None:
    small = settings.model_copy(update={"jobs_read_batch": 25, "jobs_pair_budget": 20_000})
    report = refresh(graph, small, only=[s for s in STEPS if s != "neighbours"])
    assert report.ok, report.to_dict()
    bt = next(s for s in report.steps if s.name == "bought_together")
    assert bt.detail["chunks"] > 1  # the pair budget split the product into chunks
    assert bt.detail["big_baskets"] > 0
    live = versions.live_versions(graph, settings.neo4j_database)
    for name in ("bought_together", "popular", "persona_favourites", "category_best"):
        assert live[name]["live"] and live[name]["building"] is None
    [bt_rows] = rows(
        graph,
        settings,
        """
        MATCH (a:Product)-[r:BOUGHT_TOGETHER]->(b:Product)
        RETURN count(r) AS n, count(DISTINCT r.version) AS versions, max(r.rank) AS max_rank,
               min(r.count) AS min_count
        """,
    )
    assert bt_rows["n"] == bt.detail["pairs"] > 0
    assert bt_rows["versions"] == 1
    assert bt_rows["max_rank"] <= settings.bt_top_n
    assert bt_rows["min_count"] >= settings.bt_min_count - 1e-9


def test_lift_matches_its_definition_on_unit_weight_baskets(
    graph: Driver, settings: Settings
) -> None:
    """With the cap above every basket, count and lift are the textbook ones: recount one
    pair in Cypher from the baskets."""
    big = settings.model_copy(update={"bt_basket_cap": 1000})
    refresh(graph, big, only=["bought_together"], stop_on_error=True)
    [pair] = rows(
        graph,
        settings,
        """
        MATCH (a:Product)-[r:BOUGHT_TOGETHER {rank: 1}]->(b:Product)
        RETURN a.id AS a, b.id AS b, r.count AS count, r.lift AS lift
        ORDER BY r.count DESC, a.id LIMIT 1
        """,
    )
    baskets: dict[tuple[str, Any], set[str]] = {}
    for r in rows(
        graph,
        settings,
        "MATCH (c:Customer)-[r:PURCHASED]->(p:Product) RETURN c.id AS c, r.ts AS day, p.id AS p",
    ):
        baskets.setdefault((r["c"], r["day"]), set()).add(r["p"])
    truth = {
        "total": len(baskets),
        "both": sum(1 for b in baskets.values() if pair["a"] in b and pair["b"] in b),
        "na": sum(1 for b in baskets.values() if pair["a"] in b),
        "nb": sum(1 for b in baskets.values() if pair["b"] in b),
    }
    assert pair["count"] == pytest.approx(truth["both"])
    assert pair["lift"] == pytest.approx(
        truth["both"] * truth["total"] / (truth["na"] * truth["nb"]), rel=1e-3
    )


def test_interrupted_refresh_leaves_live_lists_unchanged_and_a_rerun_completes(
    graph: Driver, settings: Settings
) -> None:
    db = settings.neo4j_database
    small = settings.model_copy(update={"jobs_write_batch": 200})
    refresh(graph, small, only=["popular", "bought_together"], stop_on_error=True)
    before = versions.live_versions(graph, db)
    snapshot = """
        MATCH (d:DerivedVersion {name: 'popular'})
        MATCH (l:RankedList {list: 'popular', key: '28d', version: d.live})-[r:RANKS]->(p)
        RETURN p.id AS id, r.rank AS rank, r.score AS score ORDER BY r.rank
    """
    live_list = rows(graph, settings, snapshot)
    assert live_list

    def kill_after_first_batch(step: str, i: int, n: int) -> None:
        if i == 1 and n > 1:
            raise Interrupted(step)

    for step in ("popular", "bought_together"):
        with pytest.raises(Interrupted):
            refresh(graph, small, only=[step], on_batch=kill_after_first_batch)
    after = versions.live_versions(graph, db)
    assert after["popular"]["live"] == before["popular"]["live"]
    assert after["bought_together"]["live"] == before["bought_together"]["live"]
    assert after["popular"]["building"]  # the partial version is there, not live
    assert rows(graph, settings, snapshot) == live_list
    [bt] = rows(
        graph,
        settings,
        """
        MATCH (d:DerivedVersion {name: 'bought_together'})
        MATCH ()-[r:BOUGHT_TOGETHER]->()
        RETURN sum(CASE WHEN r.version = d.live THEN 1 ELSE 0 END) AS live,
               sum(CASE WHEN r.version <> d.live THEN 1 ELSE 0 END) AS partial
        """,
    )
    assert bt["live"] == before["bought_together"]["stats"]["pairs"]
    assert bt["partial"] > 0

    report = refresh(graph, small, only=["popular", "bought_together"])
    assert report.ok
    done = versions.live_versions(graph, db)
    assert done["popular"]["live"] != before["popular"]["live"]
    assert done["popular"]["building"] is None
    [left] = rows(
        graph,
        settings,
        """
        MATCH (d:DerivedVersion {name: 'popular'})
        WITH d.live AS live
        MATCH (l:RankedList {list: 'popular'})
        WITH live, collect(DISTINCT l.version) AS found
        RETURN size(found) AS versions, found[0] = live AS live
        """,
    )
    assert left == {"versions": 1, "live": True}
    assert [r["id"] for r in rows(graph, settings, snapshot)] == [r["id"] for r in live_list]


def test_unknown_step_is_named(settings: Settings, graph: Driver) -> None:
    with pytest.raises(ValueError, match="'nope'"):
        refresh(graph, settings, only=["nope"])


# -- the request path over the refreshed structure -------------------------------------------


@pytest.fixture(scope="module")
def patient(settings: Settings) -> Settings:
    """The shared 2-core test box is loaded: a generous request timeout, so that only
    the failures a test makes on purpose show up in `degraded`. The Cypher request path
    (the item snapshot is off: its own tests below compare it with this path)."""
    return settings.model_copy(update={"rec_query_timeout_s": 30.0, "rec_item_snapshot": False})


@pytest.fixture(scope="module")
def refreshed(graph: Driver, settings: Settings) -> Driver:
    report = refresh(graph, settings)
    assert report.ok, report.to_dict()
    neighbours = next(s for s in report.steps if s.name == "neighbours").detail
    assert all(neighbours[m]["pairs"] > 0 for m in ("itemknn", "rp3beta", "ease")), neighbours
    return graph


def customer_ids(driver: Driver, settings: Settings) -> list[str]:
    return [
        r["id"]
        for r in rows(
            driver,
            settings,
            "MATCH (c:Customer) WHERE EXISTS { (c)-[:PURCHASED]->() } "
            "RETURN c.id AS id ORDER BY id LIMIT 5",
        )
    ]


def test_homepage_reads_the_precomputed_lists_in_one_round_trip(
    refreshed: Driver, settings: Settings, patient: Settings
) -> None:
    with Recommender(refreshed, patient) as rec:
        assert rec.precomputed()
        cid = customer_ids(refreshed, settings)[0]
        result = rec.homepage(cid, k=10)
        pool = rec.homepage_pool(cid)
    assert len(result.items) == 10 and result.degraded == []
    assert {"popularity", "co_purchase", "category_affinity", "behaviour_neighbours"} <= set(
        pool.lists
    )
    assert not set(result.items[0].product_id) & set(pool.profile.bought)


def test_serving_carries_the_rankers_model_sources_and_sales_counters(
    refreshed: Driver, settings: Settings, patient: Settings
) -> None:
    """The learned ranker's inputs at serving are those of the evaluation: one list per
    item-neighbour model, trending, and the 1/7/28-day counters written by the refresh."""
    cid = customer_ids(refreshed, settings)[0]
    with Recommender(refreshed, patient) as rec:
        pool = rec.homepage_pool(cid)
    assert {"ease", "rp3beta", "itemknn", "trending"} <= set(pool.lists), set(pool.lists)
    assert pool.stats, "no sales counters reached the pool"
    pid, got = sorted(pool.stats.items())[0]
    [want] = rows(
        refreshed,
        settings,
        """
        MATCH ()-[r:PURCHASED]->() WITH max(r.ts) AS ref
        MATCH (p:Product {id: $pid})<-[r:PURCHASED]-()
        WITH ref, r.ts AS ts, 1 AS q
        RETURN sum(q) AS sales,
               sum(CASE WHEN ts >= ref THEN q ELSE 0 END) AS sales_1d,
               sum(CASE WHEN ts >= ref - duration({days: 6}) THEN q ELSE 0 END) AS sales_7d,
               sum(CASE WHEN ts >= ref - duration({days: 27}) THEN q ELSE 0 END) AS sales_28d
        """,
        pid=pid,
    )
    assert {k: got[k] for k in want} == want
    # the model lists say why (the model is the item's source), never propose what was bought
    for model in ("ease", "rp3beta", "itemknn"):
        assert not {c.product_id for c in pool.lists[model]} & set(pool.profile.bought)
        assert all(c.reason.startswith("people who bought ") for c in pool.lists[model])


def test_all_zero_vector_no_neighbours_and_empty_persona_get_normal_answers(
    refreshed: Driver, settings: Settings, patient: Settings
) -> None:
    db = settings.neo4j_database
    cid = customer_ids(refreshed, settings)[1]
    refreshed.execute_query(
        """
        MATCH (c:Customer {id: $cid}) SET c.behavior_embedding = [0.0, 0.0, 0.0, 0.0]
        MERGE (p:Persona {id: 'persona-empty'}) SET p.name = 'Nobody buys'
        WITH c, p
        OPTIONAL MATCH (c)-[old:BELONGS_TO]->() DELETE old
        CREATE (c)-[:BELONGS_TO]->(p)
        CREATE (:Product {id: '0999999999', name: 'Never sold', product_type: 'Sock'})
        """,
        cid=cid,
        database_=db,
    )
    try:
        with Recommender(refreshed, patient) as rec:
            home = rec.homepage(cid, k=10)
            lonely = rec.product("0999999999", k=10)
            past = rec.homepage_pool(cid, as_of=date(2100, 1, 1))  # the aggregating path
        assert len(home.items) == 10 and home.degraded == []
        assert home.persona == "Nobody buys"
        assert len(lonely.items) == 10 and lonely.degraded == []
        assert any("popularity" in i.generators for i in lonely.items)
        assert past.lists and past.degraded == []
    finally:
        refreshed.execute_query(
            """
            MATCH (c:Customer {id: $cid}) REMOVE c.behavior_embedding
            WITH c MATCH (c)-[b:BELONGS_TO]->(:Persona {id: 'persona-empty'}) DELETE b
            WITH 1 AS one
            MATCH (x) WHERE x:Persona AND x.id = 'persona-empty'
               OR x:Product AND x.id = '0999999999'
            DETACH DELETE x
            """,
            cid=cid,
            database_=db,
        )


def test_a_failing_source_is_named_in_degraded_and_the_request_answers(
    refreshed: Driver, settings: Settings, patient: Settings
) -> None:
    broken = {**SOURCE_TEMPLATES, "co_purchase": "recommend/sources/co_purchase_renamed"}
    cid = customer_ids(refreshed, settings)[2]
    with Recommender(refreshed, patient, source_templates=broken) as rec:
        result = rec.homepage(cid, k=10)
    assert result.degraded == ["co_purchase"]
    assert len(result.items) == 10
    assert all("co_purchase" not in i.generators for i in result.items)


def test_two_round_trips_side_by_side_answer_as_the_joined_query(
    refreshed: Driver, settings: Settings, patient: Settings
) -> None:
    """`rec_parallel_reads` splits the candidates query in two round trips run side by side:
    the same candidates, scores and items as one joined query, in every context."""
    cid = customer_ids(refreshed, settings)[1]
    answers = []
    for parallel in (False, True):
        local = patient.model_copy(update={"rec_parallel_reads": parallel})
        with Recommender(refreshed, local) as rec:
            assert rec.precomputed()
            home = rec.homepage_pool(cid)
            anchor = home.profile.history[0]["id"]
            cart = rec.items_pool("cart", [anchor], cid)
            answers.append(
                (
                    {
                        g: [(c.product_id, round(c.score, 9)) for c in cs]
                        for g, cs in home.lists.items()
                    },
                    {
                        g: [(c.product_id, round(c.score, 9)) for c in cs]
                        for g, cs in cart.lists.items()
                    },
                    [i.product_id for i in rec.homepage(cid, k=10).items],
                    home.degraded + cart.degraded,
                )
            )
    joined, split = answers
    assert joined[0] and joined[1] and joined[2], joined
    assert joined[3] == [] and split[3] == []
    assert split == joined


def _pools(rec: Recommender, cid: str) -> dict[str, Any]:
    home = rec.homepage_pool(cid)
    anchor = home.profile.history[0]["id"]
    cart = rec.items_pool("cart", [anchor, home.profile.history[-1]["id"]], cid)
    product = rec.items_pool("product", [anchor], None)
    out: dict[str, Any] = {"degraded": home.degraded + cart.degraded + product.degraded}
    for name, pool in (("home", home), ("cart", cart), ("product", product)):
        # in score order; items whose scores differ only past the 9th decimal (the two
        # paths sum floats in another order) in id order, as the templates break ties
        out[name] = {
            g: sorted(((c.product_id, round(c.score, 9)) for c in cs), key=lambda t: (-t[1], t[0]))
            for g, cs in pool.lists.items()
        }
        out[f"{name} infos"] = {pid: pool.products[pid] for cs in pool.lists.values()
                                for pid in (c.product_id for c in cs)}  # fmt: skip
        out[f"{name} stats"] = pool.stats
    out["items"] = [i.product_id for i in rec.homepage(cid, k=10).items]
    out["learned-free reasons"] = {
        (c.product_id, g): c.reason
        for g, cs in home.lists.items()
        if g in ("popularity", "trending", "new_arrivals", "persona_favourites", "siblings",
                 "community_trending", "category_affinity")
        for c in cs
    }  # fmt: skip
    return out


def test_the_item_snapshot_answers_as_the_cypher_templates(
    refreshed: Driver, settings: Settings, patient: Settings
) -> None:
    """The in-process item snapshot (the default request path) gives every context the same
    candidates, scores, product details, sales counters, items and list reasons as the
    branch templates read in Neo4j, for customers of every kind in the test graph."""
    cids = customer_ids(refreshed, settings)
    answers = []
    for snapshot in (False, True):
        local = patient.model_copy(update={"rec_item_snapshot": snapshot})
        with Recommender(refreshed, local) as rec:
            assert rec.precomputed()
            assert rec.load_snapshot() is snapshot
            answers.append([_pools(rec, cid) for cid in cids])
            if snapshot:
                assert rec.snapshot is not None and rec.snapshot.current is not None
                assert rec.snapshot.current.entries > 0
    cypher, snap = answers
    assert all(a["home"] and a["cart"] and a["product"] for a in cypher)
    assert all(a["degraded"] == [] for a in cypher + snap)
    for mine, want in zip(snap, cypher, strict=True):
        for key in want:
            assert mine[key] == want[key], key


def test_bench_recommend_times_both_request_paths_for_customers_drawn_at_random(
    refreshed: Driver, settings: Settings, tmp_path: Path
) -> None:
    """`ragrec bench-recommend` (the in-process latency benchmark of the README) builds the
    item snapshot as a worker does, or times the Cypher path; it asks customers drawn from
    the whole base, each once, and writes what it printed as JSON."""
    (count,) = rows(
        refreshed,
        settings,
        "MATCH (c:Customer) WHERE EXISTS { (c)-[:PURCHASED]->() } RETURN count(c) AS n",
    )
    for flag, path in (("--snapshot", "item snapshot"), ("--no-snapshot", "cypher")):
        out = tmp_path / f"{path}.json"
        args = ["bench-recommend", flag, "--requests", "10", "--warmup", "2", "--out", str(out)]
        result = CliRunner().invoke(cli_app, args)
        assert result.exit_code == 0, result.output
        (row,) = json.loads(out.read_text())
        assert row["path"] == path and row["requests"] == 10, row
        assert row["customers_in_graph"] == count["n"]
        assert 0 < row["p50_ms"] <= row["p95_ms"] <= row["p99_ms"] <= row["max_ms"]
        assert f"{row['p95_ms']:.1f}" in result.output


def test_a_snapshot_part_that_cannot_load_names_its_sources_in_degraded(
    refreshed: Driver, settings: Settings, patient: Settings
) -> None:
    local = patient.model_copy(update={"rec_item_snapshot": True})
    broken = {"bought_together": "recommend/snapshot/bought_together_renamed"}
    cid = customer_ids(refreshed, settings)[2]
    with Recommender(refreshed, local, snapshot_templates=broken) as rec:
        assert rec.precomputed() and rec.load_snapshot()
        result = rec.homepage(cid, k=10)
        assert rec.snapshot is not None and rec.snapshot.current is not None
    assert result.degraded == ["co_purchase"]
    assert len(result.items) == 10
    assert all("co_purchase" not in i.generators for i in result.items)


def test_a_version_switch_rebuilds_the_snapshot_and_ready_says_so(
    refreshed: Driver, settings: Settings, patient: Settings
) -> None:
    """`/api/v1/ready` is 503 until this worker's snapshot is built, then 200 (an admin sees
    the worker and the snapshot's size; anyone else only `ready`). A refresh that switches
    a list's version makes the engine build a new snapshot in the background; the old one
    answers meanwhile, and the new one answers as the Cypher templates do."""
    from litestar.testing import TestClient

    from app.lib.engines import recommender
    from app.main import create_app

    admin = {"X-API-Key": "t-jobs-admin"}
    local = patient.model_copy(
        update={
            "rec_item_snapshot": True,
            "rec_snapshot_poll_s": 0.0,
            "api_keys": {"admin": [admin["X-API-Key"]]},
        }
    )
    cid = customer_ids(refreshed, settings)[1]
    with TestClient(app=create_app(local)) as client:
        deadline = time.monotonic() + 120
        while (answer := client.get("/api/v1/ready", headers=admin)).status_code != 200:
            assert answer.status_code == 503 and answer.json()["ready"] is False, answer.text
            assert time.monotonic() < deadline, "the item snapshot was not built in 120 s"
            time.sleep(0.2)
        body = answer.json()
        assert body["ready"] is True and body["worker"] > 0, body
        assert body["item_snapshot"]["state"] == "ready"
        assert body["item_snapshot"]["entries"] > 0 and body["item_snapshot"]["left_out"] == []
        assert client.get("/api/v1/ready").json() == {"ready": True}

        rec = recommender(client.app.state.resources)
        assert rec.snapshot is not None and rec.snapshot.current is not None
        before = rec.snapshot.current
        report = refresh(refreshed, settings, only=["popular"])
        assert report.ok, report.to_dict()
        rec._live = (-1e9, rec._live[1])  # the 30 s live-version check, due now
        deadline = time.monotonic() + 120
        while rec.snapshot.current is before:
            assert rec.homepage(cid, k=10).degraded == []  # the old snapshot answers meanwhile
            assert time.monotonic() < deadline, "no rebuild after a version switch"
            time.sleep(0.2)
        assert rec.snapshot.current.stamp != before.stamp
        rebuilt = _pools(rec, cid)
    with Recommender(refreshed, patient) as cypher:
        assert cypher.precomputed()
        want = _pools(cypher, cid)
    for key in want:
        assert rebuilt[key] == want[key], key


def test_the_open_loop_benchmark_measures_once_every_worker_is_ready(
    refreshed: Driver, dense: Path
) -> None:
    """`ragrec benchmark api --rate`: a real `ragrec serve --workers 2` under vegeta; it
    measures only after both workers said (through `/api/v1/ready`) that their item
    snapshot is built, and reports what each built."""
    from ragrec.benchmarks import api

    result = api.run_open_loop(
        rate=5,
        seconds=2,
        workers=2,
        customers_file=dense / "customers.csv",
        cache_modes=("off",),
        targets=("health", "homepage"),
    )
    snapshots = result["item_snapshots"]["off"]
    assert len(snapshots) == 2, snapshots
    assert all(s["state"] == "ready" and s["entries"] > 0 for s in snapshots.values())
    by_target = {r["target"]: r for r in result["results"]}
    assert set(by_target) == {"health", "homepage"}
    assert by_target["homepage"]["requests"] == 10 and by_target["homepage"]["unsent"] == 0
    assert by_target["homepage"]["errors"] == 0, by_target["homepage"]["error_samples"]
    assert result["customers_in_base"] == 60


def test_closing_the_engine_stops_its_background_snapshot_work(
    refreshed: Driver, settings: Settings, patient: Settings
) -> None:
    """The API closes the engine, then the driver: a snapshot build still reading in the
    background would make the driver's close fail. Closing stops it at its next row, and
    no new one starts afterwards."""
    local = patient.model_copy(update={"rec_item_snapshot": True, "rec_snapshot_poll_s": 0.0})
    rec = Recommender(refreshed, local)
    assert rec.precomputed()  # starts the first build in the background
    snapshot = rec.snapshot
    assert snapshot is not None and snapshot._thread is not None
    rec.close()
    assert not snapshot._thread.is_alive()
    snapshot.maybe_rebuild()
    assert not snapshot._thread.is_alive(), "a closed snapshot started new work"
    assert rows(refreshed, settings, "RETURN 1 AS one") == [{"one": 1}]
