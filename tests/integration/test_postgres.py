"""PostgreSQL + pgvector: an HNSW index builds and answers a nearest-neighbour query.

Needs the services the test session starts (`ragrec services up`); fails, never skips, when
PostgreSQL cannot be reached.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from ragrec.config import get_settings
from ragrec.services import postgres

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def conn() -> Iterator[psycopg.Connection]:
    settings = get_settings()
    state = postgres.status(settings)
    if not state.reachable:
        pytest.fail(
            f"PostgreSQL ({state.mode}, {state.listen}): {state.detail}. "
            "Start it with `ragrec services up` or set RAGREC_PG_DSN.",
            pytrace=False,
        )
    with psycopg.connect(settings.effective_pg_dsn(), autocommit=True) as connection:
        yield connection


def test_hnsw_nearest_neighbour(conn: psycopg.Connection) -> None:
    row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
    assert row is not None, "extension vector is not created in the database"

    conn.execute("CREATE TEMP TABLE nn_items (id int PRIMARY KEY, embedding vector(3))")
    # 2000 decoys point away from the query; row 0 points almost exactly along it.
    conn.execute(
        "INSERT INTO nn_items SELECT i, ARRAY[-random(), random(), random()]::vector"
        " FROM generate_series(1, 2000) AS i"
    )
    conn.execute("INSERT INTO nn_items VALUES (0, '[1, 0.05, 0.02]')")
    conn.execute(
        "CREATE INDEX nn_items_hnsw ON nn_items USING hnsw (embedding vector_cosine_ops)"
        " WITH (m = 16, ef_construction = 128)"
    )
    am = conn.execute(
        "SELECT am.amname FROM pg_class c JOIN pg_am am ON am.oid = c.relam"
        " WHERE c.relname = 'nn_items_hnsw'"
    ).fetchone()
    assert am == ("hnsw",)

    conn.execute("SET enable_seqscan = off")
    query = "SELECT id FROM nn_items ORDER BY embedding <=> '[1, 0, 0]' LIMIT 1"
    plan = "\n".join(r[0] for r in conn.execute(f"EXPLAIN {query}").fetchall())
    assert "nn_items_hnsw" in plan, plan
    assert conn.execute(query).fetchone() == (0,)
