"""`ragrec benchmark ingest`: generate H&M-format data at a scale, load it through the
batched MERGE path and the bulk `neo4j-admin import` path, and report rows/s and peak
memory of each, side by side, in one run.

Each path runs in a child process so its peak RSS (`ru_maxrss` of that child) is its
own; the graph is emptied before each path. This REPLACES the graph of the configured
local Neo4j: it refuses to run when the graph holds data unless `--force` is given.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import resource
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ragrec.config import Settings, get_settings
from ragrec.cypher import query
from ragrec.etl.generator import generate
from ragrec.services import neo4j as neo4j_service

#: scale name -> (products, customers, transactions)
SCALES: dict[str, tuple[int, int, int]] = {
    "sample": (1_000, 5_000, 5_000),
    "100k": (5_000, 10_000, 100_000),
    "1m": (20_000, 100_000, 1_000_000),
    "5m": (50_000, 300_000, 5_000_000),
    "hm": (105_542, 1_371_980, 31_788_324),
}


@dataclass
class PathResult:
    path: str  # "batched" | "bulk"
    rows: int
    seconds: float
    rows_per_second: float
    peak_rss_mib: float
    nodes: int
    relationships: int


def run(
    scale: str,
    paths: tuple[str, ...] = ("batched", "bulk"),
    *,
    work_dir: Path | None = None,
    force: bool = False,
    seed: int = 7,
) -> dict[str, Any]:
    settings = get_settings()
    products, customers, transactions = SCALES[scale]
    with neo4j_service.driver(settings) as driver:
        if not force and _data_nodes(driver, settings) > 0:
            raise RuntimeError(
                "the graph holds data and this benchmark replaces it; use --force "
                "(or point RAGREC_HOME at a scratch home)"
            )
    folder = Path(work_dir or tempfile.mkdtemp(prefix=f"ragrec-ingest-{scale}-"))
    began = time.perf_counter()
    gen_summary = generate(folder, products, customers, transactions, seed=seed, progress=True)
    gen_seconds = time.perf_counter() - began
    results: list[PathResult] = []
    ctx = mp.get_context("spawn")
    for path in paths:
        with neo4j_service.driver(settings) as driver:
            _wipe(driver, settings)
        queue: mp.Queue[dict[str, Any]] = ctx.Queue()
        child = ctx.Process(target=_load_child, args=(str(folder), path == "bulk", queue))
        child.start()
        child.join()
        if child.exitcode != 0:
            raise RuntimeError(f"{path} load failed (exit code {child.exitcode})")
        results.append(PathResult(**queue.get()))
    if work_dir is None:
        shutil.rmtree(folder, ignore_errors=True)
    return {
        "scale": scale,
        "products": products,
        "customers": customers,
        "transactions": transactions,
        "generate_seconds": round(gen_seconds, 1),
        "generate_peak_rss_mib": round(_self_peak_mib(), 1),
        "generator": {k: v for k, v in gen_summary.items() if isinstance(v, int | float | str)},
        "results": [asdict(r) for r in results],
    }


def _load_child(folder: str, bulk: bool, queue: mp.Queue[dict[str, Any]]) -> None:
    from ragrec.graph.loader import load_data

    settings = get_settings()
    with neo4j_service.driver(settings) as driver:
        summary = load_data(Path(folder), settings, driver, bulk=bulk, show_progress=True)
    rows = sum(summary.rows_read.values())
    counts = summary.counts_after
    queue.put(
        {
            "path": summary.mode,
            "rows": rows,
            "seconds": summary.seconds,
            "rows_per_second": summary.rows_per_second,
            "peak_rss_mib": round(_self_peak_mib(), 1),
            "nodes": sum(counts["nodes"].values()),
            "relationships": sum(counts["relationships"].values()),
        }
    )


def _self_peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _data_nodes(driver: Any, settings: Settings) -> int:
    records, _, _ = driver.execute_query(query("graph/stats"), database_=settings.neo4j_database)
    labels = records[0]["labels"]
    return sum(int(v) for k, v in labels.items() if k not in ("Migration", "LoadJob"))


def _wipe(driver: Any, settings: Settings) -> None:
    with driver.session(database=settings.neo4j_database) as session:
        session.run(query("graph/wipe")).consume()


def write_json(result: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2))
