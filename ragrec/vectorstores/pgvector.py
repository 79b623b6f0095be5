"""PostgreSQL + pgvector: one table per index, HNSW on cosine distance.

Table ``<name>`` (the index name, e.g. ``product_image_hsvdesc_v1_248``)::

    id text primary key, embedding vector(dim), category text[], price double precision

Index ``<name>_hnsw`` USING hnsw (embedding vector_cosine_ops) WITH (m, ef_construction);
``hnsw.ef_search`` is set per query, and with filters ``hnsw.iterative_scan =
relaxed_order`` (pgvector 0.8) keeps scanning the graph until enough rows pass, so a
selective filter still returns `top_k` rows. The category filter uses a GIN index.

`PgVectorStore.search` is the one nearest-neighbour query over these tables: the
neo4j-graphrag `PgVectorNeo4jRetriever` (`ragrec.retrieval.pgvector`) calls it too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
from pgvector.psycopg import register_vector
from psycopg import sql

from ragrec.vectorstores.base import (
    CATEGORY_FIELD,
    PRICE_FIELD,
    HnswParams,
    IndexNotFoundError,
    SearchFilters,
    StoreUnavailableError,
    VectorHit,
    VectorStoreError,
    check_vectors,
)

KIND = "pgvector"
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,50}$")
_BATCH = 1_000


def check_table_name(name: str) -> str:
    """`name` if it is a valid table name (lower-case letters, digits, '_'), else ValueError."""
    if not _NAME.match(name):
        raise ValueError(f"invalid table name {name!r}: lower-case letters, digits, '_'")
    return name


def connect(dsn: str) -> psycopg.Connection[Any]:
    """An autocommit connection with the vector type registered; named error when down."""
    try:
        conn = psycopg.connect(dsn, autocommit=True)
    except psycopg.OperationalError as exc:
        raise StoreUnavailableError(KIND, f"cannot connect to PostgreSQL: {exc}") from exc
    try:
        register_vector(conn)
    except psycopg.ProgrammingError as exc:
        conn.close()
        raise StoreUnavailableError(
            KIND, f"the pgvector extension is not installed in this database: {exc}"
        ) from exc
    return conn


class PgVectorStore:
    """One index's table. It connects to `dsn` on first use, or uses the caller's `conn`
    (with ``dsn=None`` a closed `conn` is a store that is unavailable)."""

    kind = KIND

    def __init__(
        self,
        dsn: str | None,
        name: str,
        dim: int,
        hnsw: HnswParams | None = None,
        *,
        conn: psycopg.Connection[Any] | None = None,
    ) -> None:
        self.name = check_table_name(name)
        self.dim = dim
        self.hnsw = hnsw or HnswParams()
        self._dsn = dsn
        self._conn = conn

    # -- connection --------------------------------------------------------------------

    @property
    def conn(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            if self._dsn is None:
                raise StoreUnavailableError(KIND, "the caller's PostgreSQL connection is closed")
            self._conn = connect(self._dsn)
            self._conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            register_vector(self._conn)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _run(self, query: Any, params: Sequence[Any] | None = None) -> Any:
        try:
            return self.conn.execute(query, params)
        except psycopg.errors.UndefinedTable as exc:
            raise IndexNotFoundError(
                KIND, f"table {self.name} does not exist: run `ragrec generate-embeddings`"
            ) from exc
        except psycopg.OperationalError as exc:
            self._conn = None
            raise StoreUnavailableError(KIND, f"PostgreSQL went away: {exc}") from exc
        except psycopg.Error as exc:
            raise VectorStoreError(KIND, f"{type(exc).__name__}: {exc}") from exc

    # -- schema ------------------------------------------------------------------------

    def ensure(self) -> None:
        """Table, filter indexes and the HNSW index (idempotent)."""
        self.create_table()
        table = sql.Identifier(self.name)
        self._run(
            sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} USING gin (category)").format(
                sql.Identifier(f"{self.name}_category"), table
            )
        )
        self._run(
            sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} (price)").format(
                sql.Identifier(f"{self.name}_price"), table
            )
        )
        self.create_index()

    def create_table(self) -> None:
        self._run(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (id text PRIMARY KEY, embedding vector({}) NOT NULL,"
                " category text[] NOT NULL DEFAULT '{{}}', price double precision)"
            ).format(sql.Identifier(self.name), sql.Literal(self.dim))
        )

    def create_index(self) -> None:
        """The HNSW index (a bulk load is faster with it built after the rows are in)."""
        self._run(
            sql.SQL(
                "CREATE INDEX IF NOT EXISTS {} ON {} USING hnsw (embedding vector_cosine_ops) "
                "WITH (m = {}, ef_construction = {})"
            ).format(
                sql.Identifier(f"{self.name}_hnsw"),
                sql.Identifier(self.name),
                sql.Literal(self.hnsw.m),
                sql.Literal(self.hnsw.ef_construction),
            )
        )

    def analyze(self) -> None:
        self._run(sql.SQL("VACUUM ANALYZE {}").format(sql.Identifier(self.name)))

    def drop(self) -> None:
        self._run(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(self.name)))

    # -- writes ------------------------------------------------------------------------

    def upsert(
        self,
        ids: Sequence[str],
        vectors: npt.ArrayLike,
        payloads: Sequence[Mapping[str, Any]] | None = None,
    ) -> int:
        matrix = check_vectors(ids, vectors, self.dim, payloads)
        query = sql.SQL(
            "INSERT INTO {} (id, embedding, category, price) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (id) DO UPDATE SET embedding = EXCLUDED.embedding, "
            "category = EXCLUDED.category, price = EXCLUDED.price"
        ).format(sql.Identifier(self.name))
        rows = []
        for i, item_id in enumerate(ids):
            payload = payloads[i] if payloads is not None else {}
            cats = [str(c).lower() for c in payload.get(CATEGORY_FIELD) or []]
            price = payload.get(PRICE_FIELD)
            rows.append((str(item_id), matrix[i], cats, None if price is None else float(price)))
        try:
            with self.conn.cursor() as cur:
                for start in range(0, len(rows), _BATCH):
                    cur.executemany(query, rows[start : start + _BATCH])
        except psycopg.errors.UndefinedTable as exc:
            raise IndexNotFoundError(KIND, f"table {self.name} does not exist") from exc
        except psycopg.OperationalError as exc:
            self._conn = None
            raise StoreUnavailableError(KIND, f"PostgreSQL went away: {exc}") from exc
        return len(rows)

    def copy_in(self, ids: Sequence[str], vectors: npt.ArrayLike) -> int:
        """Bulk load (COPY, binary) into an empty table; for benchmarks and first loads."""
        matrix = check_vectors(ids, vectors, self.dim, None)
        copy = sql.SQL("COPY {} (id, embedding) FROM STDIN WITH (FORMAT BINARY)").format(
            sql.Identifier(self.name)
        )
        with self.conn.cursor() as cur, cur.copy(copy) as writer:
            writer.set_types(["text", "vector"])
            for item_id, row in zip(ids, matrix, strict=True):
                writer.write_row((str(item_id), row))
        return len(ids)

    def delete(self, ids: Sequence[str]) -> int:
        if not ids:
            return 0
        cur = self._run(
            sql.SQL("DELETE FROM {} WHERE id = ANY(%s)").format(sql.Identifier(self.name)),
            [[str(i) for i in ids]],
        )
        return int(cur.rowcount)

    # -- reads -------------------------------------------------------------------------

    def search(
        self,
        vector: npt.ArrayLike,
        top_k: int = 10,
        filters: SearchFilters | None = None,
        *,
        ef_search: int | None = None,
    ) -> list[VectorHit]:
        query = np.asarray(vector, dtype=np.float32)
        if query.shape != (self.dim,):
            raise ValueError(f"query must have shape ({self.dim},); got {query.shape}")
        where, params = _where(filters)
        ef = max(ef_search or self.hnsw.ef_search, top_k)
        statement = sql.SQL(
            "SELECT id, 1 - (embedding <=> %s) AS score FROM {} {} "
            "ORDER BY embedding <=> %s LIMIT %s"
        ).format(sql.Identifier(self.name), where)
        try:
            with self.conn.transaction(), self.conn.cursor() as cur:
                cur.execute(sql.SQL("SET LOCAL hnsw.ef_search = {}").format(sql.Literal(ef)))
                if filters is not None and not filters.empty:
                    cur.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
                cur.execute(statement, [query, *params, query, top_k])
                rows = cur.fetchall()
        except psycopg.errors.UndefinedTable as exc:
            raise IndexNotFoundError(
                KIND, f"table {self.name} does not exist: run `ragrec generate-embeddings`"
            ) from exc
        except psycopg.OperationalError as exc:
            self._conn = None
            raise StoreUnavailableError(KIND, f"PostgreSQL went away: {exc}") from exc
        hits = [VectorHit(str(r[0]), float(r[1])) for r in rows]
        hits.sort(key=lambda h: -h.score)  # relaxed_order may return slightly out of order
        return hits

    def count(self) -> int:
        row = self._run(
            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(self.name))
        ).fetchone()
        return int(row[0])

    def disk_bytes(self) -> int:
        row = self._run("SELECT pg_total_relation_size(%s::regclass)", [self.name]).fetchone()
        return int(row[0])


def _where(filters: SearchFilters | None) -> tuple[sql.Composable, list[Any]]:
    """The SQL ``WHERE`` for `filters` over the ``category`` / ``price`` columns."""
    if filters is None or filters.empty:
        return sql.SQL(""), []
    parts: list[sql.Composable] = []
    params: list[Any] = []
    if filters.category_key is not None:
        parts.append(sql.SQL("category @> ARRAY[%s]::text[]"))
        params.append(filters.category_key)
    if filters.min_price is not None:
        parts.append(sql.SQL("price >= %s"))
        params.append(filters.min_price)
    if filters.max_price is not None:
        parts.append(sql.SQL("price <= %s"))
        params.append(filters.max_price)
    return sql.SQL("WHERE ") + sql.SQL(" AND ").join(parts), params
