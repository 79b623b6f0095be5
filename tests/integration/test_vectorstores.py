"""The three vector stores against the real engines: PostgreSQL + pgvector, Qdrant (the
embedded engine; the server code path against qdrant-client's local mode), Neo4j's
vector index. Same data, same protocol, same answers; named errors; the fallback order.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from neo4j import Driver

from ragrec.config import Settings
from ragrec.cypher import query
from ragrec.graph.schema import migrate
from ragrec.services import postgres as pg_service
from ragrec.vectorstores.base import (
    HnswParams,
    IndexNotFoundError,
    SearchFilters,
    StoreUnavailableError,
    VectorStore,
)
from ragrec.vectorstores.fallback import AllStoresFailedError, FallbackStore
from ragrec.vectorstores.neo4j import BENCH, Neo4jVectorStore
from ragrec.vectorstores.pgvector import PgVectorStore
from ragrec.vectorstores.qdrant import (
    EdgeQdrantStore,
    ServerQdrantStore,
    close_edge_handles,
    edge_handle,
)

pytestmark = [
    pytest.mark.integration,
    # qdrant-client's local mode (the server code path's stand-in here) is brute force
    pytest.mark.filterwarnings("ignore:Payload indexes have no effect:UserWarning"),
    pytest.mark.filterwarnings("ignore:Local mode performs exact:UserWarning"),
]

DIM = 32
CATS = ("dress", "trousers", "shoes", "bags")
PER = 60
HNSW = HnswParams(m=16, ef_construction=128, ef_search=100)


def _data() -> tuple[list[str], np.ndarray, list[dict[str, Any]]]:
    rng = np.random.default_rng(5)
    centres = rng.standard_normal((len(CATS), DIM)).astype(np.float32) * 2
    ids, rows, payloads = [], [], []
    for c, cat in enumerate(CATS):
        for j in range(PER):
            ids.append(f"{108775015 + c * 1000 + j:010d}")
            rows.append(centres[c] + rng.standard_normal(DIM).astype(np.float32))
            payloads.append(
                {"category": [cat, "all"], "price": round(float(rng.uniform(0, 100)), 2)}
            )
    matrix = np.stack(rows)
    return ids, matrix / np.linalg.norm(matrix, axis=1, keepdims=True), payloads


IDS, VECTORS, PAYLOADS = _data()


def _exact(query_vec: np.ndarray, flt: SearchFilters | None, k: int) -> list[str]:
    scores = VECTORS @ query_vec
    keep = [
        i
        for i in np.argsort(-scores)
        if flt is None or flt.matches(PAYLOADS[i]["category"], PAYLOADS[i]["price"])
    ]
    return [IDS[i] for i in keep[:k]]


@pytest.fixture(scope="module")
def pg_ready(settings: Settings) -> Settings:
    state = pg_service.status(settings)
    if not state.reachable:
        pytest.fail(
            f"PostgreSQL + pgvector ({state.listen}) is not reachable: {state.detail}. "
            "Start it with `ragrec services up postgres`.",
            pytrace=False,
        )
    return settings


@pytest.fixture(params=["pgvector", "qdrant-edge", "qdrant-client", "neo4j"])
def store(
    request: pytest.FixtureRequest,
    pg_ready: Settings,
    neo4j_driver: Driver,
    tmp_path: Path,
) -> Iterator[VectorStore]:
    kind = request.param
    built: VectorStore
    if kind == "pgvector":
        built = PgVectorStore(pg_ready.effective_pg_dsn(), "test_vectors_32", DIM, HNSW)
        built.drop()
    elif kind == "qdrant-edge":
        built = EdgeQdrantStore(tmp_path / "qdrant", "test_vectors_32", DIM, HNSW)
    elif kind == "qdrant-client":
        from qdrant_client import QdrantClient

        built = ServerQdrantStore(QdrantClient(location=":memory:"), "test_vectors_32", DIM, HNSW)
    else:
        migrate(neo4j_driver, pg_ready.neo4j_database)
        with neo4j_driver.session(database=pg_ready.neo4j_database) as session:
            session.run(query("embeddings/bench_clear")).consume()
        built = Neo4jVectorStore(
            neo4j_driver, pg_ready.neo4j_database, "test_vectors_32", DIM, BENCH, HNSW
        )
    built.ensure()
    built.upsert(IDS, VECTORS, PAYLOADS)
    if hasattr(built, "optimize"):
        built.optimize()
    if isinstance(built, Neo4jVectorStore):
        built.await_online()
    yield built
    if isinstance(built, PgVectorStore):
        built.drop()
    elif isinstance(built, Neo4jVectorStore):
        built.drop()
        with neo4j_driver.session(database=pg_ready.neo4j_database) as session:
            session.run(query("embeddings/bench_clear")).consume()
    elif isinstance(built, EdgeQdrantStore):
        close_edge_handles()
    built.close()


def test_count_search_and_self_match(store: VectorStore) -> None:
    assert store.count() == len(IDS)
    for i in (0, 61, 150, 239):
        hits = store.search(VECTORS[i], top_k=5)
        assert hits[0].id == IDS[i], store.kind
        assert hits[0].score == pytest.approx(1.0, abs=1e-3)
        assert [h.id for h in hits] == _exact(VECTORS[i], None, 5)
        assert all(a.score >= b.score for a, b in itertools.pairwise(hits))


def test_filters_by_category_and_price(store: VectorStore) -> None:
    flt = SearchFilters(category="Shoes", min_price=20, max_price=60)
    hits = store.search(VECTORS[0], top_k=5, filters=flt)  # a dress query, shoes filter
    assert [h.id for h in hits] == _exact(VECTORS[0], flt, 5), store.kind
    rows = {IDS[i]: PAYLOADS[i] for i in range(len(IDS))}
    for h in hits:
        assert "shoes" in rows[h.id]["category"]
        assert 20 <= rows[h.id]["price"] <= 60


def test_upsert_replaces_and_delete_removes(store: VectorStore) -> None:
    moved = VECTORS[200]  # item 0 now looks like a bag
    store.upsert([IDS[0]], moved[None, :], [PAYLOADS[200]])
    assert store.count() == len(IDS)
    assert IDS[0] in [h.id for h in store.search(moved, top_k=2)]
    assert store.delete([IDS[0], IDS[1]]) == 2
    assert store.count() == len(IDS) - 2
    assert IDS[1] not in [h.id for h in store.search(VECTORS[1], top_k=5)]


def test_pgvector_down_is_a_named_error(settings: Settings) -> None:
    dsn = "postgresql://ragrec@127.0.0.1:1/ragrec?connect_timeout=2"
    with pytest.raises(StoreUnavailableError, match="pgvector: cannot connect"):
        PgVectorStore(dsn, "test_vectors_32", DIM).count()


def test_missing_index_is_a_named_error(pg_ready: Settings, tmp_path: Path) -> None:
    with pytest.raises(IndexNotFoundError):
        PgVectorStore(pg_ready.effective_pg_dsn(), "no_such_table_32", DIM).count()
    with pytest.raises(IndexNotFoundError):
        EdgeQdrantStore(tmp_path, "no_such_collection", DIM).count()


def test_qdrant_shard_locked_elsewhere_is_unavailable(tmp_path: Path) -> None:
    root = tmp_path / "q"
    edge_handle(root, "locked", DIM, HNSW)
    close_edge_handles()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, time
                from ragrec.vectorstores.qdrant_edge import EdgeCollection
                c = EdgeCollection.open({str(root)!r}, "locked")
                print("open", flush=True)
                time.sleep(30)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        with pytest.raises(StoreUnavailableError, match="another process"):
            EdgeQdrantStore(root, "locked", DIM).count()
    finally:
        holder.kill()
        holder.wait()


def test_fallback_skips_a_down_store_and_says_which_answered(tmp_path: Path) -> None:
    down = PgVectorStore("postgresql://x@127.0.0.1:1/x?connect_timeout=2", "t_32", DIM)
    edge = EdgeQdrantStore(tmp_path / "fb", "fallback_32", DIM, HNSW)
    edge.ensure()
    edge.upsert(IDS, VECTORS, PAYLOADS)
    both = FallbackStore([down, edge])
    began = time.monotonic()
    hits = both.search(VECTORS[3], top_k=3)
    assert hits[0].id == IDS[3]
    assert both.last_used == "qdrant" and "pgvector" in both.skipped
    assert time.monotonic() - began < 10
    with pytest.raises(AllStoresFailedError, match="pgvector"):
        FallbackStore([down]).search(VECTORS[3], top_k=3)
    close_edge_handles()
