"""`ragrec benchmark vectorstores`: the same vectors and queries into every store.

Data: `n` random-but-clustered unit vectors of `dim` (Gaussian blobs around ``n/1000``
random centres, so neighbours are meaningful), and `queries` more from the same
blobs. Ground truth and baseline: exact cosine top-k with numpy (brute force).
Every store gets the same HNSW parameters (m, ef_construction from settings) and the
same ef_search; each is measured for

* build time: load + HNSW build, until the index answers (pgvector: COPY then CREATE
  INDEX; Qdrant: upsert then optimize; Neo4j: CREATE VECTOR INDEX, write vectors, wait
  until it is ONLINE);
* recall@k against the exact top-k; single-client QPS and p50 / p95 latency over the
  queries (one query at a time, the client's own overhead included);
* size: on-disk bytes of the table + indexes (pgvector), of the shard (Qdrant), of the
  database store files growth (Neo4j, local only); brute force: the matrix in memory.

Benchmark objects are named ``bench_vectors_<dim>`` (pgvector table, Qdrant collection
under ``<home>/bench/qdrant``) and ``(:VectorBench)`` nodes with index
``bench_vectors_<dim>`` in Neo4j; they are removed afterwards unless `keep`.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import psutil
from rich.table import Table

from ragrec.config import PROJECT_ROOT, Settings
from ragrec.vectorstores.base import HnswParams

Progress = Callable[[str], None]


@dataclass
class StoreResult:
    store: str
    engine: str
    build_seconds: float | None = None
    load_seconds: float | None = None
    index_seconds: float | None = None
    recall_at_k: float | None = None
    qps: float | None = None
    p50_ms: float | None = None
    p95_ms: float | None = None
    size_bytes: int | None = None
    size_kind: str = ""
    error: str | None = None
    notes: str = ""


@dataclass
class BenchmarkResult:
    n: int
    dim: int
    queries: int
    top_k: int
    hnsw: dict[str, int]
    seed: int
    machine: dict[str, Any]
    started_at: str
    results: list[StoreResult] = field(default_factory=list)
    targets: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def clustered_vectors(
    n: int, dim: int, queries: int, seed: int = 7
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """(n, dim) data and (queries, dim) queries, unit length, from the same Gaussian blobs."""
    rng = np.random.default_rng(seed)
    k = max(10, n // 1000)
    centres = rng.standard_normal((k, dim)).astype(np.float32)
    spread = 1.2  # per-dimension noise relative to the centre scale: overlapping blobs

    def draw(count: int) -> npt.NDArray[np.float32]:
        out = np.empty((count, dim), dtype=np.float32)
        for start in range(0, count, 20_000):
            stop = min(start + 20_000, count)
            labels = rng.integers(0, k, stop - start)
            out[start:stop] = centres[labels] + spread * rng.standard_normal(
                (stop - start, dim)
            ).astype(np.float32)
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        return out

    return draw(n), draw(queries)


def exact_top_k(
    data: npt.NDArray[np.float32], queries: npt.NDArray[np.float32], k: int
) -> npt.NDArray[np.int64]:
    """Exact cosine top-k (rows are unit length, so the dot product), best first."""
    out = np.empty((len(queries), k), dtype=np.int64)
    for start in range(0, len(queries), 256):
        scores = queries[start : start + 256] @ data.T
        part = np.argpartition(-scores, k, axis=1)[:, :k]
        order = np.take_along_axis(scores, part, axis=1).argsort(axis=1)[:, ::-1]
        out[start : start + 256] = np.take_along_axis(part, order, axis=1)
    return out


def run_vectorstores_benchmark(
    settings: Settings,
    *,
    n: int = 100_000,
    dim: int = 768,
    queries: int = 1_000,
    top_k: int = 10,
    ef_search: int | None = None,
    stores: Sequence[str] = ("pgvector", "qdrant", "neo4j"),
    seed: int = 7,
    keep: bool = False,
    progress: Progress | None = None,
) -> BenchmarkResult:
    say = progress or (lambda _msg: None)
    hnsw = HnswParams(
        m=settings.vector_hnsw_m,
        ef_construction=settings.vector_hnsw_ef_construction,
        ef_search=ef_search or settings.vector_ef_search,
    )
    result = BenchmarkResult(
        n=n,
        dim=dim,
        queries=queries,
        top_k=top_k,
        hnsw={"m": hnsw.m, "ef_construction": hnsw.ef_construction, "ef_search": hnsw.ef_search},
        seed=seed,
        machine={
            "cpus": psutil.cpu_count(),
            "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "platform": platform.platform(),
            "load_avg_at_start": [round(x, 2) for x in psutil.getloadavg()],
        },
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        targets={
            "recall": "recall@10 >= 0.95 for every store",
            "latency": "p95 at least 10x below brute force",
        },
    )
    say(f"generating {n:,} x {dim} clustered vectors and {queries:,} queries")
    data, qs = clustered_vectors(n, dim, queries, seed)
    ids = [f"v{i:07d}" for i in range(n)]
    say("exact ground truth (numpy)")
    truth = exact_top_k(data, qs, top_k)
    result.results.append(_brute_force(data, qs, truth, top_k))
    runners = {"pgvector": _pgvector, "qdrant": _qdrant, "neo4j": _neo4j}
    for kind in stores:
        if kind not in runners:
            raise ValueError(f"unknown store {kind!r}; use pgvector, qdrant, neo4j")
        say(f"{kind}: load + build")
        try:
            res = runners[kind](settings, ids, data, qs, truth, top_k, hnsw, keep, say)
        except Exception as exc:  # one store failing must not hide the others' numbers
            res = StoreResult(kind, kind, error=f"{type(exc).__name__}: {exc}")
        brute = result.results[0]
        if res.p95_ms and brute.p95_ms:
            res.notes = (
                res.notes + f"; p95 speed-up over brute force {brute.p95_ms / res.p95_ms:.2f}x"
            ).strip("; ")
        result.results.append(res)
    return result


# -- measuring -----------------------------------------------------------------------------


def _measure(
    res: StoreResult,
    search: Callable[[npt.NDArray[np.float32]], list[str]],
    qs: npt.NDArray[np.float32],
    truth: npt.NDArray[np.int64],
    ids: Sequence[str],
    top_k: int,
) -> None:
    for q in qs[: min(20, len(qs))]:  # warm-up: caches, connections, JIT
        search(q)
    latencies = []
    hits = 0
    began = time.perf_counter()
    for q, true_rows in zip(qs, truth, strict=True):
        t0 = time.perf_counter()
        found = search(q)
        latencies.append(time.perf_counter() - t0)
        hits += len({ids[i] for i in true_rows} & set(found[:top_k]))
    total = time.perf_counter() - began
    lat = np.asarray(latencies) * 1000
    res.recall_at_k = round(hits / (len(qs) * top_k), 4)
    res.qps = round(len(qs) / total, 1)
    res.p50_ms = round(float(np.percentile(lat, 50)), 3)
    res.p95_ms = round(float(np.percentile(lat, 95)), 3)


def _brute_force(
    data: npt.NDArray[np.float32],
    qs: npt.NDArray[np.float32],
    truth: npt.NDArray[np.int64],
    top_k: int,
) -> StoreResult:
    res = StoreResult(
        "brute-force",
        "numpy exact (matrix-vector product + argpartition)",
        build_seconds=0.0,
        size_bytes=int(data.nbytes),
        size_kind="memory (float32 matrix)",
    )
    ids = [str(i) for i in range(len(data))]

    def search(q: npt.NDArray[np.float32]) -> list[str]:
        scores = data @ q
        part = np.argpartition(-scores, top_k)[:top_k]
        return [str(i) for i in part[np.argsort(-scores[part])]]

    _measure(res, search, qs, truth, ids, top_k)
    return res


def _pgvector(
    settings: Settings,
    ids: list[str],
    data: npt.NDArray[np.float32],
    qs: npt.NDArray[np.float32],
    truth: npt.NDArray[np.int64],
    top_k: int,
    hnsw: HnswParams,
    keep: bool,
    say: Progress,
) -> StoreResult:
    from ragrec.vectorstores.pgvector import PgVectorStore

    dim = data.shape[1]
    store = PgVectorStore(settings.effective_pg_dsn(), f"bench_vectors_{dim}", dim, hnsw)
    res = StoreResult("pgvector", "PostgreSQL + pgvector HNSW (vector_cosine_ops)")
    try:
        store.drop()
        began = time.perf_counter()
        store.create_table()
        store.copy_in(ids, data)
        res.load_seconds = round(time.perf_counter() - began, 2)
        say(f"pgvector: loaded in {res.load_seconds}s, building HNSW")
        t0 = time.perf_counter()
        store.conn.execute("SET maintenance_work_mem = '2GB'")
        store.conn.execute("SET max_parallel_maintenance_workers = 1")
        store.create_index()
        res.index_seconds = round(time.perf_counter() - t0, 2)
        res.build_seconds = round(time.perf_counter() - began, 2)
        store.analyze()
        say(f"pgvector: built in {res.build_seconds}s, querying")
        _measure(res, lambda q: [h.id for h in store.search(q, top_k)], qs, truth, ids, top_k)
        res.size_bytes = store.disk_bytes()
        res.size_kind = "disk (table + HNSW + btree)"
        res.notes = "COPY, then CREATE INDEX (1 parallel maintenance worker)"
    finally:
        if not keep:
            store.drop()
        store.close()
    return res


def _qdrant(
    settings: Settings,
    ids: list[str],
    data: npt.NDArray[np.float32],
    qs: npt.NDArray[np.float32],
    truth: npt.NDArray[np.int64],
    top_k: int,
    hnsw: HnswParams,
    keep: bool,
    say: Progress,
) -> StoreResult:
    import shutil

    from ragrec.vectorstores.qdrant import EdgeQdrantStore, ServerQdrantStore, close_edge_handles

    dim = data.shape[1]
    name = f"bench_vectors_{dim}"
    store: Any
    if settings.qdrant_url:
        store = ServerQdrantStore.connect(
            settings.qdrant_url, settings.qdrant_api_key, name, dim, hnsw
        )
        engine = "Qdrant server (qdrant-client)"
        root = None
    else:
        root = settings.home / "bench" / "qdrant"
        shutil.rmtree(root / name, ignore_errors=True)
        store = EdgeQdrantStore(root, name, dim, hnsw)
        engine = "Qdrant engine in-process (qdrant-edge-py)"
    res = StoreResult("qdrant", engine)
    rss0 = psutil.Process().memory_info().rss
    try:
        began = time.perf_counter()
        store.ensure()
        for start in range(0, len(ids), 10_000):
            store.upsert(ids[start : start + 10_000], data[start : start + 10_000])
        res.load_seconds = round(time.perf_counter() - began, 2)
        say(f"qdrant: loaded in {res.load_seconds}s, building HNSW (optimize)")
        t0 = time.perf_counter()
        if hasattr(store, "optimize"):
            store.optimize()
        res.index_seconds = round(time.perf_counter() - t0, 2)
        res.build_seconds = round(time.perf_counter() - began, 2)
        say(f"qdrant: built in {res.build_seconds}s, querying")
        _measure(res, lambda q: [h.id for h in store.search(q, top_k)], qs, truth, ids, top_k)
        if root is not None:
            res.size_bytes = store.disk_bytes()
            res.size_kind = "disk (shard dir, WAL segments preallocated)"
            info = store.collection.info()
            res.notes = (
                f"indexed_vectors={info['indexed_vectors']}, segments={info['segments']}, "
                f"process RSS +{(psutil.Process().memory_info().rss - rss0) / 2**20:.0f} MiB"
            )
    finally:
        if root is not None:
            close_edge_handles()
            if not keep:
                shutil.rmtree(root / name, ignore_errors=True)
        else:
            store.close()
    return res


def _neo4j(
    settings: Settings,
    ids: list[str],
    data: npt.NDArray[np.float32],
    qs: npt.NDArray[np.float32],
    truth: npt.NDArray[np.int64],
    top_k: int,
    hnsw: HnswParams,
    keep: bool,
    say: Progress,
) -> StoreResult:
    from ragrec.cypher import query
    from ragrec.graph.schema import migrate
    from ragrec.services import neo4j as neo4j_service
    from ragrec.vectorstores.neo4j import BENCH, Neo4jVectorStore

    dim = data.shape[1]
    name = f"bench_vectors_{dim}"
    res = StoreResult("neo4j", "Neo4j native vector index (Lucene HNSW, vector-2.0)")
    db_dir = settings.home / "neo4j" / "data" / "databases" / settings.neo4j_database
    with neo4j_service.driver(settings) as driver:
        migrate(driver, settings.neo4j_database)
        store = Neo4jVectorStore(driver, settings.neo4j_database, name, dim, BENCH, hnsw)
        _clear_bench(driver, settings, query)
        size0 = _dir_bytes(db_dir) if settings.local_neo4j else None
        try:
            began = time.perf_counter()
            for start in range(0, len(ids), 2_000):
                store.upsert(ids[start : start + 2_000], data[start : start + 2_000])
            res.load_seconds = round(time.perf_counter() - began, 2)
            say(f"neo4j: written in {res.load_seconds}s, building the index")
            t0 = time.perf_counter()
            store.ensure()
            _wait_populated(driver, settings, name, query)
            res.index_seconds = round(time.perf_counter() - t0, 2)
            res.build_seconds = round(time.perf_counter() - began, 2)
            say(f"neo4j: built in {res.build_seconds}s, querying")
            _measure(res, lambda q: [h.id for h in store.search(q, top_k)], qs, truth, ids, top_k)
            if size0 is not None:
                res.size_bytes = max(0, _dir_bytes(db_dir) - size0)
                res.size_kind = "disk (database growth: nodes + vector index)"
            res.notes = "nodes written, then CREATE VECTOR INDEX (population); queryNodes k=ef"
        finally:
            if not keep:
                store.drop()
                _clear_bench(driver, settings, query)
    return res


def _clear_bench(driver: Any, settings: Settings, query: Callable[[str], str]) -> None:
    with driver.session(database=settings.neo4j_database) as session:
        session.run(query("embeddings/bench_clear")).consume()


def _wait_populated(
    driver: Any, settings: Settings, name: str, query: Callable[[str], str]
) -> None:
    deadline = time.monotonic() + 3_600
    while time.monotonic() < deadline:
        records, _, _ = driver.execute_query(
            query("embeddings/vector_index_info"), name=name, database_=settings.neo4j_database
        )
        if records and records[0]["state"] == "ONLINE" and records[0]["populationPercent"] >= 100:
            return
        time.sleep(1)


def _dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


# -- output --------------------------------------------------------------------------------


def result_table(result: BenchmarkResult) -> Table:
    table = Table(
        title=(
            f"vector stores: n={result.n:,}, dim={result.dim}, {result.queries:,} queries, "
            f"recall@{result.top_k}; HNSW m={result.hnsw['m']}, "
            f"ef_construction={result.hnsw['ef_construction']}, "
            f"ef_search={result.hnsw['ef_search']}"
        )
    )
    for col in (
        "store",
        "build s",
        f"recall@{result.top_k}",
        "QPS",
        "p50 ms",
        "p95 ms",
        "size MiB",
        "p95 vs brute",
    ):
        table.add_column(col, justify="left" if col == "store" else "right")

    def fmt(v: float | None, spec: str) -> str:
        return "" if v is None else format(v, spec)

    brute = result.results[0].p95_ms if result.results else None
    for r in result.results:
        ratio = f"{brute / r.p95_ms:.2f}x" if brute and r.p95_ms else ""
        table.add_row(
            r.store,
            fmt(r.build_seconds, ".1f"),
            fmt(r.recall_at_k, ".4f"),
            fmt(r.qps, ",.0f"),
            fmt(r.p50_ms, ".2f"),
            fmt(r.p95_ms, ".2f"),
            "" if r.size_bytes is None else f"{r.size_bytes / 2**20:,.0f}",
            r.error or ratio,
        )
    return table


def default_json_path(settings: Settings, n: int, dim: int) -> Path:
    folder = settings.vector_benchmark_dir or PROJECT_ROOT / "benchmarks" / "results"
    return Path(folder) / f"vectorstores-n{n}-d{dim}.json"


def write_json(result: BenchmarkResult, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result.to_dict(), indent=2) + "\n")
