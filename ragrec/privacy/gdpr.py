"""GDPR export and erasure of one customer across every store RagRec writes.

Customers are known by their pseudonym (HMAC of the shop's id, see
`ragrec.etl.pseudonymise`); callers pseudonymise the shop's id first.

Where customer data can live, and how each is found:

* **Neo4j**: the `Customer` node and all its relationships (purchases, interactions,
  persona membership, anything else); persona sizes are decremented.
* **PostgreSQL / pgvector**: any table with a text column `id` or `customer_id` holding
  the pseudonym (embedding tables are keyed by `id`; product ids never look like a
  64-hex pseudonym, so the scan is safe and finds customer tables added later).
* **Qdrant**: the point of the pseudonym (uuid5 of it) in every collection except the
  product indexes (`product_*`, written by `ragrec generate-embeddings` and keyed by
  product id only). Skipping them also keeps erasure working while another process
  (a second API worker) holds those shards of the embedded engine open.
* **Ranker training data**: rows with the customer in any `*.parquet`, `*.csv` or
  `*.jsonl` file with a `customer_id` column under the models folder.
* **Caches**: callers pass `evict_caches` (the API drops its cached responses).

Erasure runs PostgreSQL, Qdrant and files first and Neo4j last: the graph node is what
makes a customer "exist", so if a step fails the next call retries everything instead of
answering 404 with data left behind. Each erasure (and export) writes an audit row,
`privacy_audit(id, at, action, counts)`, with counts per store and no personal data.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import psycopg
from neo4j import Driver, RoutingControl
from psycopg import sql

from ragrec.config import Settings
from ragrec.cypher import query

AUDIT_TABLE = "privacy_audit"
_TRAINING_SUFFIXES = (".parquet", ".csv", ".jsonl")
#: Qdrant collections keyed by product id only (see the module docstring)
PRODUCT_COLLECTION_PREFIX = "product_"

PgConnect = Callable[[], AbstractContextManager[psycopg.Connection[Any]]]


class PrivacyError(RuntimeError):
    """A store could not be read or changed; `store` names it."""

    def __init__(self, store: str, message: str) -> None:
        super().__init__(f"{store}: {message}")
        self.store = store


@dataclass
class ErasureReport:
    audit_id: str
    at: str
    neo4j_nodes: int = 0
    neo4j_relationships: int = 0
    persona_memberships: int = 0
    pgvector_rows: int = 0
    qdrant_points: int = 0
    training_rows: int = 0
    cache_entries: int = 0
    stores: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class PrivacyStores:
    """The stores to search. `pg` opens a connection (a pool's `connection` or
    `psycopg.connect`)."""

    settings: Settings
    driver: Driver
    pg: PgConnect

    @property
    def database(self) -> str:
        return self.settings.neo4j_database


def export_customer(stores: PrivacyStores, pseudonym: str) -> dict[str, Any] | None:
    """Everything held about the customer, JSON-ready; None when nothing is held."""
    graph = _graph_export(stores, pseudonym)
    tables = _pg_rows(stores, pseudonym)
    points = _qdrant_points(stores.settings, pseudonym)
    training = _training_rows(stores.settings, pseudonym, delete=False)
    if graph is None and not tables and not points and not training[0]:
        return None
    _audit(stores, "export", {"tables": len(tables), "points": len(points)})
    return _jsonable(
        {
            "customer_ref": pseudonym,
            "exported_at": datetime.now(UTC).isoformat(),
            "graph": graph,
            "pgvector": tables,
            "qdrant": points,
            "training_data": training[1],
        }
    )


def erase_customer(
    stores: PrivacyStores,
    pseudonym: str,
    evict_caches: Callable[[str], int] | None = None,
) -> ErasureReport | None:
    """Erase the customer everywhere; None when no store held anything about them."""
    pg_rows = _pg_delete(stores, pseudonym)
    points = _qdrant_delete(stores.settings, pseudonym)
    training, _ = _training_rows(stores.settings, pseudonym, delete=True)
    cached = evict_caches(pseudonym) if evict_caches else 0
    records, _, _ = stores.driver.execute_query(
        query("privacy/customer_erase"), id=pseudonym, database_=stores.database
    )
    graph = records[0] if records else None
    if graph is None and not pg_rows and not points and not training:
        return None
    report = ErasureReport(
        audit_id=uuid.uuid4().hex,
        at=datetime.now(UTC).isoformat(),
        neo4j_nodes=1 if graph is not None else 0,
        neo4j_relationships=int(graph["relationships"]) if graph else 0,
        persona_memberships=int(graph["memberships"]) if graph else 0,
        pgvector_rows=sum(pg_rows.values()),
        qdrant_points=sum(points.values()),
        training_rows=training,
        cache_entries=cached,
        stores={**{f"pg:{k}": v for k, v in pg_rows.items()}, **points},
    )
    counts = {k: v for k, v in report.to_dict().items() if k not in ("audit_id", "at")}
    _audit(stores, "erase", counts, audit_id=report.audit_id)
    return report


# -- Neo4j --------------------------------------------------------------------------------


def _graph_export(stores: PrivacyStores, pseudonym: str) -> dict[str, Any] | None:
    records, _, _ = stores.driver.execute_query(
        query("privacy/customer_export"),
        id=pseudonym,
        database_=stores.database,
        routing_=RoutingControl.READ,
    )
    return records[0].data() if records else None


# -- PostgreSQL ---------------------------------------------------------------------------

_ID_COLUMNS = """
SELECT table_schema, table_name, column_name
FROM information_schema.columns
WHERE column_name IN ('id', 'customer_id')
  AND data_type IN ('text', 'character varying')
  AND table_schema NOT IN ('pg_catalog', 'information_schema')
  AND table_name <> %s
ORDER BY table_schema, table_name, column_name
"""


def _id_columns(conn: psycopg.Connection[Any]) -> list[tuple[str, str, str]]:
    with conn.cursor() as cur:
        cur.execute(_ID_COLUMNS, (AUDIT_TABLE,))
        return [(r[0], r[1], r[2]) for r in cur.fetchall()]


def _pg_rows(stores: PrivacyStores, pseudonym: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    with _pg(stores) as conn:
        for schema, table, column in _id_columns(conn):
            stmt = sql.SQL("SELECT * FROM {}.{} WHERE {} = %s").format(
                sql.Identifier(schema), sql.Identifier(table), sql.Identifier(column)
            )
            with conn.cursor() as cur:
                cur.execute(stmt, (pseudonym,))
                names = [d.name for d in cur.description or ()]
                rows = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
            if rows:
                out.setdefault(f"{schema}.{table}", []).extend(rows)
    return out


def _pg_delete(stores: PrivacyStores, pseudonym: str) -> dict[str, int]:
    deleted: dict[str, int] = {}
    with _pg(stores) as conn, conn.transaction():
        for schema, table, column in _id_columns(conn):
            stmt = sql.SQL("DELETE FROM {}.{} WHERE {} = %s").format(
                sql.Identifier(schema), sql.Identifier(table), sql.Identifier(column)
            )
            with conn.cursor() as cur:
                cur.execute(stmt, (pseudonym,))
                if cur.rowcount:
                    key = f"{schema}.{table}"
                    deleted[key] = deleted.get(key, 0) + cur.rowcount
    return deleted


def _audit(
    stores: PrivacyStores, action: str, counts: dict[str, Any], audit_id: str | None = None
) -> None:
    with _pg(stores) as conn, conn.transaction(), conn.cursor() as cur:
        cur.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (id uuid PRIMARY KEY, at timestamptz NOT NULL, "
                "action text NOT NULL, counts jsonb NOT NULL)"
            ).format(sql.Identifier(AUDIT_TABLE))
        )
        cur.execute(
            sql.SQL("INSERT INTO {} (id, at, action, counts) VALUES (%s, now(), %s, %s)").format(
                sql.Identifier(AUDIT_TABLE)
            ),
            (audit_id or uuid.uuid4().hex, action, json.dumps(counts, default=str)),
        )


class _pg:
    """`with _pg(stores) as conn`, naming PostgreSQL when it cannot be reached."""

    def __init__(self, stores: PrivacyStores) -> None:
        self._cm = stores.pg()

    def __enter__(self) -> psycopg.Connection[Any]:
        try:
            return self._cm.__enter__()
        except psycopg.OperationalError as exc:
            raise PrivacyError("postgres", f"unreachable: {exc}") from exc

    def __exit__(self, *exc: Any) -> None:
        self._cm.__exit__(*exc)


# -- Qdrant -------------------------------------------------------------------------------


def _qdrant_points(settings: Settings, pseudonym: str) -> list[dict[str, Any]]:
    found = []
    for name, record in _qdrant_records(settings, pseudonym):
        found.append({"collection": name, **record})
    return found


def _qdrant_records(settings: Settings, pseudonym: str) -> Iterator[tuple[str, dict[str, Any]]]:
    from ragrec.vectorstores.qdrant_edge import point_id

    pid = point_id(pseudonym)
    if settings.local_qdrant:
        for name, handle in _edge_collections(settings):
            for rec in handle._handle().retrieve([pid], True, True):
                yield name, {"payload": dict(rec.payload or {}), "vector": _vector(rec.vector)}
        return
    client = _qdrant_client(settings)
    for coll in client.get_collections().collections:
        if coll.name.startswith(PRODUCT_COLLECTION_PREFIX):
            continue
        for point in client.retrieve(coll.name, [str(pid)], with_payload=True, with_vectors=True):
            yield coll.name, {"payload": dict(point.payload or {}), "vector": point.vector}


def _qdrant_delete(settings: Settings, pseudonym: str) -> dict[str, int]:
    from ragrec.vectorstores.qdrant_edge import point_id

    deleted: dict[str, int] = {}
    held = {name for name, _ in _qdrant_records(settings, pseudonym)}
    if not held:
        return deleted
    if settings.local_qdrant:
        for name, handle in _edge_collections(settings):
            if name in held:
                handle.delete([pseudonym])
                handle.flush()
                deleted[f"qdrant:{name}"] = 1
        return deleted
    from qdrant_client import models

    client = _qdrant_client(settings)
    for name in held:
        client.delete(
            name, points_selector=models.PointIdsList(points=[str(point_id(pseudonym))]), wait=True
        )
        deleted[f"qdrant:{name}"] = 1
    return deleted


def _edge_collections(settings: Settings) -> Iterator[tuple[str, Any]]:
    from ragrec.vectorstores.base import VectorStoreError
    from ragrec.vectorstores.qdrant import edge_handle
    from ragrec.vectorstores.qdrant_edge import list_collections

    for name in list_collections(settings.qdrant_path):
        if name.startswith(PRODUCT_COLLECTION_PREFIX):
            continue
        try:
            yield name, edge_handle(settings.qdrant_path, name)
        except VectorStoreError as exc:
            raise PrivacyError(
                "qdrant",
                f"{exc}; the embedded engine allows one process per collection: erase "
                "through the running API (DELETE /api/v1/privacy/customers/{id}) or stop it",
            ) from exc


def _qdrant_client(settings: Settings) -> Any:
    from qdrant_client import QdrantClient

    return QdrantClient(url=settings.qdrant_url, api_key=settings.qdrant_api_key, timeout=10)


def _vector(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _vector(v) for k, v in value.items()}
    return list(value) if value is not None and not isinstance(value, list) else value


# -- ranker training data ------------------------------------------------------------------


def _training_files(settings: Settings) -> list[Path]:
    from ragrec.recommender.engine import models_dir

    root = models_dir(settings)
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*") if p.suffix in _TRAINING_SUFFIXES and p.is_file())


def _training_rows(
    settings: Settings, pseudonym: str, *, delete: bool
) -> tuple[int, list[dict[str, Any]]]:
    """Rows of the customer in training files (removed from the files when `delete`)."""
    count, rows = 0, []
    for path in _training_files(settings):
        frame = _read_table(path)
        if frame is None or "customer_id" not in frame.columns:
            continue
        mine = frame.filter(pl.col("customer_id").cast(pl.String) == pseudonym)
        if mine.height == 0:
            continue
        count += mine.height
        if delete:
            _write_table(frame.filter(pl.col("customer_id").cast(pl.String) != pseudonym), path)
        else:
            rows += [{"file": path.name, **r} for r in mine.to_dicts()]
    return count, rows


def _read_table(path: Path) -> pl.DataFrame | None:
    try:
        if path.suffix == ".parquet":
            return pl.read_parquet(path)
        if path.suffix == ".csv":
            return pl.read_csv(path, infer_schema_length=0)
        return pl.read_ndjson(path)
    except (pl.exceptions.PolarsError, OSError):
        return None


def _write_table(frame: pl.DataFrame, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    if path.suffix == ".parquet":
        frame.write_parquet(tmp)
    elif path.suffix == ".csv":
        frame.write_csv(tmp)
    else:
        frame.write_ndjson(tmp)
    tmp.replace(path)


# -- JSON ---------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "iso_format"):  # neo4j temporal types
        return value.iso_format()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, uuid.UUID):
        return str(value)
    return str(value)
