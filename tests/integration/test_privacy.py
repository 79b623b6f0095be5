"""GDPR erasure proves the customer is gone from every store: Neo4j (node, purchases,
interactions, persona membership), pgvector, Qdrant, ranker training data and the API's
cache; an audit record without personal data is written; a second call answers 404.
The CLI twins (`ragrec gdpr export|erase`) do the same."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import date
from typing import Any

import polars as pl
import psycopg
import pytest
from litestar.testing import TestClient
from neo4j import Driver
from psycopg import sql
from typer.testing import CliRunner

from app.main import create_app
from ragrec.cli import app as cli_app
from ragrec.config import PROJECT_ROOT, Settings
from ragrec.cypher import query
from ragrec.etl.pseudonymise import pseudonymise_customer_id
from ragrec.graph.loader import load_data
from ragrec.personas.service import current_personas
from ragrec.privacy.gdpr import AUDIT_TABLE
from ragrec.recommender.engine import models_dir
from ragrec.vectorstores.qdrant import EdgeQdrantStore, close_edge_handles
from ragrec.vectorstores.qdrant_edge import point_id

pytestmark = pytest.mark.integration

SAMPLE = PROJECT_ROOT / "data" / "sample"
TX = pl.read_parquet(SAMPLE / "transactions_sample.parquet")
CUSTOMERS = TX.group_by("customer_id").len().sort(["len", "customer_id"], descending=True)
VECTOR_TABLE = "privacy_test_customer_vectors"
LOG_TABLE = "privacy_test_rec_log"
COLLECTION = "privacy_test_customers"
PERSONA = "privacy-test-persona"
OTHER = "someone-else-pseudonym"


@pytest.fixture(scope="module")
def stores(neo4j_driver: Driver, settings: Settings) -> Iterator[Settings]:
    """The sample in an emptied graph, plus customer data in pgvector, Qdrant and a
    training file (what the erasure must find); removed again afterwards."""
    with neo4j_driver.session(database=settings.neo4j_database) as session:
        session.run(query("graph/wipe")).consume()
    load_data(SAMPLE, settings, neo4j_driver, show_progress=False, bulk=False)
    neo4j_driver.execute_query(
        query("personas/create_personas"),
        rows=[{"id": PERSONA, "props": {"version": 1, "size": 2, "name": "Test persona"}}],
        database_=settings.neo4j_database,
    )
    with psycopg.connect(settings.effective_pg_dsn(), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        for table, columns in (
            (VECTOR_TABLE, "id text PRIMARY KEY, embedding vector(3)"),
            (LOG_TABLE, "customer_id text, product_id text"),
        ):
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))
            conn.execute(
                sql.SQL("CREATE TABLE {} ({})").format(sql.Identifier(table), sql.SQL(columns))
            )
    training = models_dir(settings) / "ranker" / "privacy_test_training.parquet"
    training.parent.mkdir(parents=True, exist_ok=True)
    yield settings
    with psycopg.connect(settings.effective_pg_dsn(), autocommit=True) as conn:
        for table in (VECTOR_TABLE, LOG_TABLE):
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))
    training.unlink(missing_ok=True)
    close_edge_handles()
    shutil.rmtree(settings.qdrant_path / COLLECTION, ignore_errors=True)


def plant(settings: Settings, driver: Driver, pseudonym: str) -> None:
    """Customer data in every store, next to someone else's that must survive."""
    driver.execute_query(
        query("personas/write_memberships"),
        rows=[{"customer_id": pseudonym, "persona_id": PERSONA, "via": "test", "similarity": 1.0}],
        version=1,
        as_of=date(2020, 9, 22),
        database_=settings.neo4j_database,
    )
    with psycopg.connect(settings.effective_pg_dsn(), autocommit=True) as conn:
        for who in (pseudonym, OTHER):
            conn.execute(
                sql.SQL("INSERT INTO {} VALUES (%s, %s) ON CONFLICT DO NOTHING").format(
                    sql.Identifier(VECTOR_TABLE)
                ),
                (who, "[1,0,0]"),
            )
            conn.execute(
                sql.SQL("INSERT INTO {} VALUES (%s, %s)").format(sql.Identifier(LOG_TABLE)),
                (who, "0685816002"),
            )
    store = EdgeQdrantStore(settings.qdrant_path, COLLECTION, dim=3)
    store.ensure()
    store.upsert([pseudonym, OTHER], [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    training = models_dir(settings) / "ranker" / "privacy_test_training.parquet"
    previous = pl.read_parquet(training) if training.exists() else None
    rows = pl.DataFrame({"customer_id": [pseudonym, OTHER], "label": [1, 0]})
    (rows if previous is None else pl.concat([previous, rows])).write_parquet(training)


def pg_count(settings: Settings, table: str, column: str, value: str) -> int:
    with psycopg.connect(settings.effective_pg_dsn()) as conn:
        stmt = sql.SQL("SELECT count(*) FROM {} WHERE {} = %s").format(
            sql.Identifier(table), sql.Identifier(column)
        )
        row = conn.execute(stmt, (value,)).fetchone()
        assert row is not None
        return int(row[0])


def qdrant_has(settings: Settings, pseudonym: str) -> bool:
    from ragrec.vectorstores.qdrant import edge_handle

    handle = edge_handle(settings.qdrant_path, COLLECTION)
    return bool(handle._handle().retrieve([point_id(pseudonym)], False, False))


def graph_customer(driver: Driver, settings: Settings, pseudonym: str) -> list[Any]:
    records, _, _ = driver.execute_query(
        query("privacy/customer_export"), id=pseudonym, database_=settings.neo4j_database
    )
    return records


def test_erasure_removes_the_customer_from_every_store(
    stores: Settings, neo4j_driver: Driver
) -> None:
    settings = stores
    raw = CUSTOMERS["customer_id"][0]
    pseudonym = pseudonymise_customer_id(raw, settings.effective_pseudonym_key())
    plant(settings, neo4j_driver, pseudonym)
    keys = {"admin": ["p-admin"], "events": ["p-events"]}
    admin, events = {"X-API-Key": "p-admin"}, {"X-API-Key": "p-events"}
    app_settings = settings.model_copy(
        update={"api_rate_limit": 0, "api_cache_ttl_s": 60.0, "api_keys": keys}
    )
    with TestClient(app=create_app(app_settings)) as client:
        event = {"customer_id": raw, "product_id": "0685816002", "type": "view"}
        assert client.post("/api/v1/interactions", json=event, headers=events).status_code == 201
        cached = client.get("/api/v1/recommendations/homepage", params={"customer_id": raw})
        assert cached.status_code == 200
        assert client.get(f"/api/v1/privacy/customers/{raw}/export").status_code == 401
        exported = client.get(f"/api/v1/privacy/customers/{raw}/export", headers=admin).json()
        assert exported["graph"]["personas"] == [{"id": PERSONA, "name": "Test persona"}]
        assert exported["graph"]["interactions"][0]["type"] == "view"
        assert {f"public.{VECTOR_TABLE}", f"public.{LOG_TABLE}"} <= set(exported["pgvector"])
        assert [p["collection"] for p in exported["qdrant"]] == [COLLECTION]
        # the export names neither the shop's id nor the pseudonym (issue 14)
        assert [r["customer_id"] for r in exported["training_data"]] == ["(this customer)"]
        assert raw not in json.dumps(exported) and pseudonym not in json.dumps(exported)

        assert client.delete(f"/api/v1/privacy/customers/{raw}", headers=events).status_code == 403
        response = client.delete(f"/api/v1/privacy/customers/{raw}", headers=admin)
        assert response.status_code == 200, response.text
        report = response.json()
        assert raw not in response.text and pseudonym not in response.text
        purchases = len(exported["graph"]["purchases"])
        assert report["neo4j_nodes"] == 1
        assert report["neo4j_relationships"] == purchases + 2  # + view + BELONGS_TO
        assert report["persona_memberships"] == 1
        assert report["pgvector_rows"] == 2
        assert report["qdrant_points"] == 1
        assert report["training_rows"] == 1
        assert report["cache_entries"] >= 1

        # gone from each store; the other customer's data is untouched
        assert graph_customer(neo4j_driver, settings, pseudonym) == []
        personas = current_personas(neo4j_driver, settings.neo4j_database)
        assert next(p["size"] for p in personas if p["id"] == PERSONA) == 1
        assert pg_count(settings, VECTOR_TABLE, "id", pseudonym) == 0
        assert pg_count(settings, LOG_TABLE, "customer_id", pseudonym) == 0
        assert pg_count(settings, VECTOR_TABLE, "id", OTHER) == 1
        assert not qdrant_has(settings, pseudonym) and qdrant_has(settings, OTHER)
        training = pl.read_parquet(
            models_dir(settings) / "ranker" / "privacy_test_training.parquet"
        )
        assert pseudonym not in training["customer_id"].to_list()
        assert OTHER in training["customer_id"].to_list()
        after = client.get("/api/v1/recommendations/homepage", params={"customer_id": raw})
        assert after.status_code == 404  # not served from the cache

        # the audit record has the counts and no personal data
        with psycopg.connect(settings.effective_pg_dsn()) as conn:
            row = conn.execute(
                sql.SQL("SELECT action, counts::text FROM {} WHERE id = %s").format(
                    sql.Identifier(AUDIT_TABLE)
                ),
                (report["audit_id"],),
            ).fetchone()
        assert row is not None and row[0] == "erase"
        assert pseudonym not in row[1] and raw not in row[1]
        assert json.loads(row[1])["qdrant_points"] == 1

        again = client.delete(f"/api/v1/privacy/customers/{raw}", headers=admin)
        assert again.status_code == 404 and again.json()["error"]["code"] == "not_found"
        gone = client.get(f"/api/v1/privacy/customers/{raw}/export", headers=admin)
        assert gone.status_code == 404


def test_cli_twins(stores: Settings, neo4j_driver: Driver) -> None:
    settings = stores
    raw = CUSTOMERS["customer_id"][1]
    pseudonym = pseudonymise_customer_id(raw, settings.effective_pseudonym_key())
    plant(settings, neo4j_driver, pseudonym)
    runner = CliRunner()
    exported = runner.invoke(cli_app, ["gdpr", "export", raw])
    assert exported.exit_code == 0, exported.output
    data = json.loads(exported.stdout)
    assert data["customer_ref"] == pseudonym and raw not in exported.stdout
    assert data["graph"]["purchases"]
    erased = runner.invoke(cli_app, ["gdpr", "erase", raw, "--json"])
    assert erased.exit_code == 0, erased.output
    report = json.loads(erased.stdout)
    assert report["neo4j_nodes"] == 1 and report["qdrant_points"] == 1
    assert report["pgvector_rows"] == 2 and report["training_rows"] == 1
    assert graph_customer(neo4j_driver, settings, pseudonym) == []
    assert not qdrant_has(settings, pseudonym)
    again = runner.invoke(cli_app, ["gdpr", "erase", raw])
    assert again.exit_code == 1
    assert runner.invoke(cli_app, ["gdpr", "export", raw]).exit_code == 1
