"""Evaluation cannot see the test period: the training folder holds no held-out row, the
graph loaded from it holds no purchase on or after the cutoff, and a full `evaluate`
runs in its own throwaway Neo4j, leaving the serving graph as it was."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from neo4j import Driver
from rich.console import Console

from ragrec.config import Settings
from ragrec.etl.generator import generate
from ragrec.evaluation.report import print_report, write_json
from ragrec.evaluation.runner import EvalOptions, evaluate
from ragrec.evaluation.splits import split_folder
from ragrec.graph.loader import load_data
from ragrec.recommender.engine import Recommender

pytestmark = pytest.mark.integration

WIPE = "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"


@pytest.fixture(scope="module")
def small_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("generated")
    generate(folder, products=120, customers=150, transactions=2500, days=40, seed=3,
             n_segments=4, segment_share=1.0, progress=False)  # fmt: skip
    return folder


def test_graph_holds_nothing_after_the_cutoff(
    small_data: Path, neo4j_driver: Driver, settings: Settings, tmp_path: Path
) -> None:
    with neo4j_driver.session(database=settings.neo4j_database) as session:
        session.run(WIPE).consume()
    split = split_folder(
        small_data, tmp_path / "train", settings.effective_pseudonym_key(), test_days=7
    )
    assert split.cutoff is not None and split.test_rows > 0
    load_data(split.train_dir, settings, neo4j_driver, show_progress=False)
    records, _, _ = neo4j_driver.execute_query(
        "MATCH ()-[r:PURCHASED]->() RETURN max(r.ts) AS last, count(r) AS n",
        database_=settings.neo4j_database,
    )
    last = records[0]["last"].to_native()
    assert last < split.cutoff
    assert isinstance(last, date)
    # no held-out (customer, product) pair exists as a purchase on or after the cutoff
    rows = [{"c": c, "p": p} for c, items in split.test.items() for p in items]
    records, _, _ = neo4j_driver.execute_query(
        "UNWIND $rows AS row MATCH (:Customer {id: row.c})-[r:PURCHASED]->(:Product {id: row.p}) "
        "WHERE r.ts >= $cutoff RETURN count(r) AS n",
        rows=rows,
        cutoff=split.cutoff,
        database_=settings.neo4j_database,
    )
    assert records[0]["n"] == 0
    patient = settings.model_copy(update={"rec_query_timeout_s": 60.0})  # a busy test box
    with Recommender(neo4j_driver, patient) as rec:
        customer = next(c for c in split.test if split.train.get(c))
        pool = rec.homepage_pool(customer)
        assert all(h["ts"] < split.cutoff for h in pool.profile.history)


@pytest.mark.timeout(1800)  # its own Neo4j start + three stagings: minutes on a busy box
def test_evaluate_end_to_end_in_a_throwaway_neo4j(
    small_data: Path, neo4j_driver: Driver, settings: Settings, tmp_path: Path
) -> None:
    """Planted segments (every purchase from the customer's segment, one segment per
    product) are the strong signal: the models that can see it rank above random and
    popularity, our chosen strategy is picked on validation and scored once, and the
    serving graph is untouched."""
    neo4j_driver.execute_query("MERGE (:EvalSentinel {id: 1})", database_=settings.neo4j_database)
    before, _, _ = neo4j_driver.execute_query(
        "MATCH (n) RETURN count(n) AS n", database_=settings.neo4j_database
    )
    opts = EvalOptions(
        data=small_data,
        tune_trials=2,
        rerank=True,
        cross_encoder="no-such-model-anywhere",
        personas=False,
        max_customers=40,
        validation_customers=40,
        window_customers=40,
        ranker_windows=1,
        candidates=20,
    )
    console = Console(record=True, width=200)
    report = evaluate(opts, settings, console)
    names = [s.name for s in report.systems]
    assert names[:2] == ["random", "popularity"]
    for prefix in ("recent popularity", "ItemKNN", "EASE", "RP3beta", "ALS", "BPR"):
        assert sum(n.startswith(prefix) for n in names) == 1, prefix
    assert [s.kind for s in report.systems].count("ours") == 1  # the test period, once
    chosen = report.chosen()
    assert chosen is not None and chosen.kind == "ours"
    assert [v["name"] for v in report.validation if v.get("chosen")] == [chosen.name]
    for s in report.systems:
        assert set(s.metrics) >= {"ndcg@10", "precision@5", "recall@10", "hr@10", "map@12",
                                  "coverage", "p50_ms", "p95_ms"}  # fmt: skip
    by_score = sorted(report.systems, key=lambda s: -s.metrics["ndcg@10"])
    assert by_score[0].name.split(" ")[0] not in ("random", "popularity")
    ndcg = {s.name.split(" (")[0]: s.metrics["ndcg@10"] for s in report.systems}
    assert ndcg["EASE"] > ndcg["popularity"] > ndcg["random"]
    assert chosen.metrics["ndcg@10"] > ndcg["random"]
    assert report.candidate_recall["(all sources)"] >= report.candidate_recall["ease"] > 0
    assert sum("cross-encoder" in n for n in report.notes) == 1  # reported once, skipped
    assert report.significance is not None and report.significance.requests > 0
    print_report(report, console)
    text = console.export_text()
    assert "chosen on validation" in text and "paired bootstrap" in text
    data = json.loads(write_json(report, tmp_path / "eval.json").read_text())
    assert data["chosen"] == chosen.name and data["best_baseline"] in names
    assert len(data["systems"]) == len(report.systems) and data["significance"]["requests"] > 0
    after, _, _ = neo4j_driver.execute_query(
        "MATCH (n) RETURN count(n) AS n", database_=settings.neo4j_database
    )
    assert after[0]["n"] == before[0]["n"]  # the serving graph was not touched
