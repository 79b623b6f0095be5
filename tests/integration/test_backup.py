"""`ragrec backup` / `ragrec restore` against the private test stack: back up a loaded
graph, vector tables and Qdrant collections, wipe all three, restore, and get the same
counts and the same recommendations; an incompatible backup is refused, naming why, and
changes nothing. (The local Neo4j is stopped and started by the dump and the load.)"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import psycopg
import pytest
from neo4j import Driver

from ragrec.config import PROJECT_ROOT, Settings
from ragrec.cypher import query
from ragrec.etl.pseudonymise import pseudonymise_customer_id
from ragrec.graph.loader import graph_stats, load_data
from ragrec.ops.backup import BackupError, backup, check_compatible, read_manifest, restore
from ragrec.recommender.engine import Recommender
from ragrec.services import neo4j as neo4j_service
from ragrec.vectorstores.fallback import open_store
from ragrec.vectorstores.qdrant import close_edge_handles

pytestmark = pytest.mark.integration

SAMPLE = PROJECT_ROOT / "data" / "sample"
INDEX = "ops_backup_test_8"


def _slice(folder: Path) -> list[str]:
    """300 articles of data/sample with their transactions and customers; returns the
    shop's ids of the customers who bought most."""
    folder.mkdir(parents=True, exist_ok=True)
    articles = pl.read_parquet(SAMPLE / "articles_sample.parquet").head(300)
    articles.write_parquet(folder / "articles.parquet")
    tx = pl.read_parquet(SAMPLE / "transactions_sample.parquet").filter(
        pl.col("article_id").is_in(articles["article_id"].to_list())
    )
    tx.write_parquet(folder / "transactions.parquet")
    pl.read_parquet(SAMPLE / "customers_sample.parquet").filter(
        pl.col("customer_id").is_in(tx["customer_id"].unique().to_list())
    ).write_parquet(folder / "customers.parquet")
    top = tx.group_by("customer_id").len().sort(["len", "customer_id"], descending=True)
    return [str(c) for c in top["customer_id"].head(3).to_list()]


def _wipe_all(driver: Driver, settings: Settings) -> None:
    with driver.session(database=settings.neo4j_database) as session:
        session.run(query("graph/wipe")).consume()
    with psycopg.connect(settings.effective_pg_dsn(), autocommit=True) as conn:
        conn.execute(f'DROP TABLE IF EXISTS "{INDEX}"')
    close_edge_handles()
    shutil.rmtree(settings.qdrant_path / INDEX, ignore_errors=True)


def _recommendations(driver: Driver, settings: Settings, customers: list[str]) -> list[Any]:
    key = settings.effective_pseudonym_key()
    # generous query timeout: this checks answers, not latency, on a busy test machine
    patient = settings.model_copy(update={"rec_query_timeout_s": 60.0})
    with Recommender(driver, patient) as rec:
        out: list[Any] = []
        for customer in customers:
            result = rec.homepage(pseudonymise_customer_id(customer, key), k=8)
            out.append([item.product_id for item in result.items])
        return out


@pytest.fixture(scope="module")
def loaded(
    tmp_path_factory: pytest.TempPathFactory, settings: Settings, neo4j_driver: Driver
) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("backup") / "data"
    customers = _slice(folder)
    _wipe_all(neo4j_driver, settings)
    load_data(folder, settings, neo4j_driver, show_progress=False)
    ids = [f"p{i}" for i in range(200)]
    vectors = np.random.default_rng(7).random((200, 8), dtype=np.float32)
    for kind in ("pgvector", "qdrant"):
        store = open_store(kind, settings, INDEX, 8)
        store.ensure()
        store.upsert(ids, vectors, [{"n": i} for i in range(200)])
        store.close()
    close_edge_handles()
    return {
        "customers": customers,
        "graph": graph_stats(neo4j_driver, settings.neo4j_database),
        "recommendations": _recommendations(neo4j_driver, settings, customers),
    }


# the dump and the load each stop and start the local Neo4j (Community edition): on a
# busy 2-core machine that alone can take minutes
@pytest.mark.timeout(1500)
def test_backup_wipe_restore_gives_the_same_counts_and_recommendations(
    loaded: dict[str, Any], settings: Settings, neo4j_driver: Driver, tmp_path: Path
) -> None:
    assert any(loaded["recommendations"]), "the fixture's customers got no recommendations"
    target = tmp_path / "bk"
    manifest = backup(settings, target)

    counts = manifest["counts"]
    assert counts["graph"] == loaded["graph"]
    assert counts["postgres"][INDEX] == 200
    assert counts["qdrant"][INDEX] == 200
    assert manifest["versions"]["neo4j"] == settings.neo4j_version
    assert manifest["versions"]["gds"].startswith("2.")
    assert manifest["secrets_included"] == [] and not (target / "secrets").exists()
    plain = json.loads((target / "settings.json").read_text())
    assert plain["neo4j_database"] == settings.neo4j_database
    assert not [k for k in plain if "password" in k or "key" in k or "dsn" in k]
    assert (target / "neo4j" / f"{settings.neo4j_database}.dump").is_file()
    assert not target.with_name("bk.partial").exists()

    _wipe_all(neo4j_driver, settings)
    wiped = graph_stats(neo4j_driver, settings.neo4j_database)
    assert wiped["nodes"].get("Product", 0) == 0

    report = restore(settings, target)
    assert report["matches"], report
    assert report["restored"]["graph"] == loaded["graph"]
    assert report["restored"]["postgres"][INDEX] == 200
    assert report["restored"]["qdrant"][INDEX] == 200
    # a driver opened before the restore holds bookmarks of transactions the restored
    # database never had: processes that were running reconnect with a new driver
    with neo4j_service.driver(settings) as fresh:
        assert graph_stats(fresh, settings.neo4j_database) == loaded["graph"]
        again = _recommendations(fresh, settings, loaded["customers"])
        assert again == loaded["recommendations"]
    store = open_store("qdrant", settings, INDEX, 8)
    hits = store.search(np.ones(8, dtype=np.float32), top_k=3)
    store.close()
    close_edge_handles()
    assert len(hits) == 3

    # a backup from an incompatible version is refused with the reason; nothing changes
    newer = tmp_path / "newer"
    shutil.copytree(target, newer)
    doctored = read_manifest(newer)
    doctored["versions"]["neo4j"] = "6.1.0"
    (newer / "manifest.json").write_text(json.dumps(doctored))
    problems = check_compatible(doctored, settings)
    assert len(problems) == 1 and "Neo4j 6.1.0" in problems[0]
    with pytest.raises(BackupError, match=r"Neo4j 6\.1\.0"):
        restore(settings, newer)
    result = subprocess.run(
        [sys.executable, "-m", "ragrec.cli", "restore", str(newer), "--yes"],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=300,
    )
    assert result.returncode == 2, result.stderr
    assert "Neo4j 6.1.0" in result.stderr and "Traceback" not in result.stderr
    with neo4j_service.driver(settings) as fresh:
        assert graph_stats(fresh, settings.neo4j_database) == loaded["graph"]


def test_restore_refuses_a_damaged_or_foreign_backup(tmp_path: Path, settings: Settings) -> None:
    with pytest.raises(BackupError, match="not a ragrec backup"):
        restore(settings, tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"format": 99}))
    with pytest.raises(BackupError, match="format 99"):
        restore(settings, tmp_path)
