"""Loading H&M-format folders into the real Neo4j: exact counts, idempotence, resume,
bad input that never touches what is already loaded, and no personal data in the graph."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from neo4j import Driver

from ragrec.config import PROJECT_ROOT, Settings
from ragrec.cypher import query
from ragrec.etl.errors import EtlError
from ragrec.graph import loader
from ragrec.graph.loader import graph_stats, load_data

pytestmark = pytest.mark.integration

SAMPLE = PROJECT_ROOT / "data" / "sample"
DAY_SLICE = PROJECT_ROOT / "data" / "day_slice"


def _wipe(driver: Driver, settings: Settings) -> None:
    with driver.session(database=settings.neo4j_database) as session:
        session.run(query("graph/wipe")).consume()


def _data_counts(driver: Driver, settings: Settings) -> dict[str, dict[str, int]]:
    counts = graph_stats(driver, settings.neo4j_database)
    counts["nodes"].pop("LoadJob", None)
    return counts


@pytest.fixture()
def empty_graph(neo4j_driver: Driver, settings: Settings) -> Driver:
    _wipe(neo4j_driver, settings)
    return neo4j_driver


def test_sample_loads_exactly_and_second_run_changes_nothing(
    empty_graph: Driver, settings: Settings
) -> None:
    summary = load_data(SAMPLE, settings, empty_graph, show_progress=False)
    articles = pl.read_parquet(SAMPLE / "articles_sample.parquet")
    customers = pl.read_parquet(SAMPLE / "customers_sample.parquet")
    transactions = pl.read_parquet(SAMPLE / "transactions_sample.parquet")
    counts = _data_counts(empty_graph, settings)
    assert summary.rejected == 0, summary.rejects_by_reason
    assert counts["nodes"]["Product"] == articles["article_id"].n_unique() == 1_000
    assert counts["nodes"]["Customer"] == customers["customer_id"].n_unique() == 4_946
    records, _, _ = empty_graph.execute_query(
        "MATCH ()-[r:PURCHASED]->() RETURN count(r) AS n, sum(r.qty) AS units"
    )
    # identical rows are repeat purchases: one relationship, qty = how many
    assert records[0]["units"] == transactions.height == 5_000
    assert records[0]["n"] == transactions.unique().height
    assert counts["relationships"]["IN_CATEGORY"] == 1_000

    again = load_data(SAMPLE, settings, empty_graph, show_progress=False)
    assert _data_counts(empty_graph, settings) == counts
    assert again.resumed_from is not None

    # a fresh job over the same files (checkpoint gone) re-MERGEs and still changes nothing
    empty_graph.execute_query("MATCH (j:LoadJob) DELETE j")
    load_data(SAMPLE, settings, empty_graph, show_progress=False, batch_size=700)
    assert _data_counts(empty_graph, settings) == counts


def test_crash_mid_load_resumes_and_finishes(
    empty_graph: Driver, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = load_data(SAMPLE, settings, empty_graph, show_progress=False)
    expected = _data_counts(empty_graph, settings)
    _wipe(empty_graph, settings)

    real_write = loader._write_batch
    calls = {"n": 0}

    def crash_after_some_batches(*args: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 8:
            raise ConnectionError("simulated crash in the middle of the load")
        real_write(*args)

    monkeypatch.setattr(loader, "_write_batch", crash_after_some_batches)
    with pytest.raises(ConnectionError):
        load_data(SAMPLE, settings, empty_graph, show_progress=False, batch_size=500)
    partial = _data_counts(empty_graph, settings)
    assert partial != expected
    monkeypatch.setattr(loader, "_write_batch", real_write)

    resumed = load_data(SAMPLE, settings, empty_graph, show_progress=False, batch_size=500)
    assert resumed.resumed_from is not None and "stages done" in resumed.resumed_from
    assert _data_counts(empty_graph, settings) == expected
    assert resumed.written == reference.written


def test_day_slice_csv_with_baskets(
    empty_graph: Driver, settings: Settings, tmp_path: Path
) -> None:
    summary = load_data(
        DAY_SLICE, settings, empty_graph, show_progress=False, rejects_file=tmp_path / "r.csv"
    )
    tx = pl.read_csv(DAY_SLICE / "transactions.csv", infer_schema=False)
    assert summary.rows_read["transactions.csv"] == tx.height == 10_000
    records, _, _ = empty_graph.execute_query(
        "MATCH (c:Customer)-[r:PURCHASED]->() "
        "RETURN count(DISTINCT c) AS buyers, sum(r.qty) AS units, max(r.qty) AS top"
    )
    row = records[0]
    assert row["units"] + summary.rejects_by_source.get("transactions.csv", 0) == 10_000
    assert row["buyers"] == tx["customer_id"].n_unique() == 2_954
    # baskets: customers with several items on the day
    baskets, _, _ = empty_graph.execute_query(
        "MATCH (c:Customer)-[:PURCHASED]->(p) WITH c, count(DISTINCT p) AS items "
        "WHERE items > 1 RETURN count(c) AS n"
    )
    assert baskets[0]["n"] > 1_000


def test_no_personal_data_in_the_graph(empty_graph: Driver, settings: Settings) -> None:
    load_data(SAMPLE, settings, empty_graph, show_progress=False)
    customers = pl.read_parquet(SAMPLE / "customers_sample.parquet")
    forbidden = {str(v) for v in customers["customer_id"].to_list()}
    forbidden |= {str(v) for v in customers["postal_code"].drop_nulls().to_list()}
    records, _, _ = empty_graph.execute_query(
        "MATCH (n) RETURN labels(n) AS labels, properties(n) AS props "
        "UNION ALL MATCH ()-[r]->() RETURN [type(r)] AS labels, properties(r) AS props"
    )
    seen_keys: set[str] = set()
    for record in records:
        for key, value in record["props"].items():
            seen_keys.add(key)
            assert str(value) not in forbidden, f"{record['labels']}.{key} holds personal data"
    assert not seen_keys & {"age", "postal_code", "FN", "Active", "club_member_status"}
    ages, _, _ = empty_graph.execute_query("MATCH (c:Customer) RETURN DISTINCT c.age_bracket AS a")
    assert all(not str(r["a"]).isdigit() for r in ages)


def _bad_folder(tmp_path: Path, transactions: str, name: str = "transactions.csv") -> Path:
    folder = tmp_path / "bad"
    folder.mkdir()
    shutil.copy(SAMPLE / "articles_sample.parquet", folder / "articles.parquet")
    shutil.copy(SAMPLE / "customers_sample.parquet", folder / "customers.parquet")
    (folder / name).write_text(transactions)
    return folder


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty"),
        ("t_dat;customer_id;article_id;price\n2020-01-01;a;1;0.1\n", "column"),
    ],
    ids=["zero-byte", "wrong-delimiter"],
)
def test_unusable_file_changes_nothing(
    empty_graph: Driver, settings: Settings, tmp_path: Path, content: str, message: str
) -> None:
    load_data(SAMPLE, settings, empty_graph, show_progress=False)
    before = _data_counts(empty_graph, settings)
    with pytest.raises(EtlError, match=message):
        load_data(_bad_folder(tmp_path, content), settings, empty_graph, show_progress=False)
    assert _data_counts(empty_graph, settings) == before


def test_bad_rows_are_rejected_with_reasons_and_hostile_text_is_data(
    empty_graph: Driver, settings: Settings, tmp_path: Path
) -> None:
    load_data(SAMPLE, settings, empty_graph, show_progress=False)
    before = _data_counts(empty_graph, settings)
    customers = pl.read_parquet(SAMPLE / "customers_sample.parquet")["customer_id"]
    articles = pl.read_parquet(SAMPLE / "articles_sample.parquet")["article_id"]
    known_c, known_a = customers[0], int(articles[0])
    hostile = "x' }) MATCH (n) DETACH DELETE n //"
    lines = [
        "t_dat,customer_id,article_id,price,sales_channel_id",
        f"2020-09-01,{known_c},{known_a},0.05,2",  # valid
        f"2020-09-01,{known_c},999999999,0.05,2",  # unknown article
        f"not-a-date,{known_c},{known_a},0.05,2",  # bad date
        f"2020-09-02,{known_c},{known_a},-1,2",  # negative price
        f"2020-09-03,{known_c},{known_a},abc,1",  # non-numeric price
        f'2020-09-04,"{hostile}",{known_a},0.02,1',  # hostile id: a new customer, as data
    ]
    rejects = tmp_path / "rejects.csv"
    summary = load_data(
        _bad_folder(tmp_path, "\n".join(lines) + "\n"),
        settings,
        empty_graph,
        show_progress=False,
        rejects_file=rejects,
    )
    reasons = pl.read_csv(rejects)["reason"].to_list()
    assert len(reasons) == 4, reasons
    joined = " ".join(reasons)
    for word in ("unknown article_id", "t_dat", "negative", "non-numeric"):
        assert word in joined, (word, reasons)
    after = _data_counts(empty_graph, settings)
    assert after["nodes"]["Product"] == before["nodes"]["Product"]
    assert after["relationships"]["PURCHASED"] >= before["relationships"]["PURCHASED"] + 1
    assert summary.rejected == 4


def test_cli_reports_bad_input_without_traceback(tmp_path: Path) -> None:
    folder = _bad_folder(tmp_path, "")
    result = subprocess.run(
        [sys.executable, "-m", "ragrec.cli", "load-data", str(folder)],
        capture_output=True,
        text=True,
        env=dict(os.environ),
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "transactions.csv" in result.stderr


def test_hostile_customer_id_is_stored_as_a_pseudonym(
    empty_graph: Driver, settings: Settings, tmp_path: Path
) -> None:
    from ragrec.etl.pseudonymise import pseudonymise_customer_id

    articles = pl.read_parquet(SAMPLE / "articles_sample.parquet")["article_id"]
    hostile = "x' }) MATCH (n) DETACH DELETE n //"
    folder = _bad_folder(
        tmp_path,
        f't_dat,customer_id,article_id,price\n2020-09-04,"{hostile}",{int(articles[0])},0.02\n',
    )
    load_data(folder, settings, empty_graph, show_progress=False)
    pseudonym = pseudonymise_customer_id(hostile, settings.effective_pseudonym_key())
    records, _, _ = empty_graph.execute_query(
        "MATCH (c:Customer {id: $id})-[:PURCHASED]->(p:Product) RETURN count(p) AS n",
        id=pseudonym,
    )
    assert records[0]["n"] == 1
    assert _data_counts(empty_graph, settings)["nodes"]["Product"] == 1_000
