"""`ragrec benchmark pipeline --scale sample|1m|hm`: the offline pipeline end to end on the
configured Neo4j (which it replaces: `--force`, or a scratch `RAGREC_HOME`), with each
step's seconds, the peak Neo4j heap used during it (JMX, sampled every 0.5 s) and the peak
RSS of this Python process (sampled alike).

Steps: generate (H&M-schema data at the scale's cardinality; `sample` loads
data/sample), load, every `ragrec refresh` step (export, bought_together, the ranked
lists, neighbours), optionally GDS + personas (`--gds`), then in-process homepage
latency over customers drawn from the whole base (the request path's floor).
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil
from neo4j import Driver

from ragrec.benchmarks.ingest import SCALES, _data_nodes, _wipe
from ragrec.config import PROJECT_ROOT, Settings, get_settings
from ragrec.services import neo4j as neo4j_service

if TYPE_CHECKING:
    from ragrec.recommender.engine import Recommender

SAMPLE = PROJECT_ROOT / "data" / "sample"
JMX = (
    "CALL dbms.queryJmx('java.lang:type=Memory') YIELD attributes "
    "RETURN attributes.HeapMemoryUsage.value.properties AS heap"
)


@dataclass
class Step:
    name: str
    seconds: float
    peak_heap_mib: float | None
    heap_max_mib: float | None
    peak_rss_mib: float
    detail: str = ""


class Sampler:
    """Polls Neo4j's heap (JMX) and this process's RSS in a thread."""

    def __init__(self, driver: Driver, database: str, every_s: float = 0.5) -> None:
        self.driver, self.database, self.every_s = driver, database, every_s
        self.samples: list[tuple[float, float | None, float]] = []
        self.heap_max: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="bench-sampler")
        self._me = psutil.Process()

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            heap: float | None = None
            try:
                records, _, _ = self.driver.execute_query(
                    JMX, database_=self.database, bookmark_manager_=None
                )
                props = records[0]["heap"]
                heap = props["used"] / 2**20
                self.heap_max = props["max"] / 2**20
            except Exception:  # the server is busy or restarting (bulk import)
                heap = None
            self.samples.append((time.monotonic(), heap, self._me.memory_info().rss / 2**20))
            self._stop.wait(self.every_s)

    def peaks(self, since: float, until: float) -> tuple[float | None, float]:
        inside = [s for s in self.samples if since <= s[0] <= until] or self.samples[-1:]
        heaps = [h for _, h, _ in inside if h is not None]
        return (
            round(max(heaps), 1) if heaps else None,
            round(max((r for _, _, r in inside), default=0.0), 1),
        )


def run(
    scale: str,
    *,
    force: bool = False,
    gds: bool = False,
    requests: int = 200,
    seed: int = 7,
    work_dir: Path | None = None,
) -> dict[str, Any]:
    if scale != "sample" and scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}: sample, {', '.join(SCALES)}")
    settings = get_settings()
    database = settings.neo4j_database
    steps: list[Step] = []
    began = time.perf_counter()
    with ExitStack() as stack:
        driver = stack.enter_context(neo4j_service.driver(settings))
        if not force and _data_nodes(driver, settings) > 0:
            raise RuntimeError(
                "the graph holds data and this benchmark replaces it; use --force "
                "(or point RAGREC_HOME at a scratch home)"
            )
        folder = SAMPLE
        scratch: Path | None = None
        with Sampler(driver, database) as sampler:

            @contextmanager
            def step(name: str, detail: str = "") -> Iterator[list[str]]:
                t0, m0 = time.perf_counter(), time.monotonic()
                note = [detail]
                yield note
                time.sleep(sampler.every_s)  # one more sample inside the step
                heap, rss = sampler.peaks(m0, time.monotonic())
                steps.append(
                    Step(name, round(time.perf_counter() - t0, 2), heap, sampler.heap_max, rss,
                         note[0])
                )  # fmt: skip

            if scale != "sample":
                from ragrec.etl.generator import generate

                products, customers, transactions = SCALES[scale]
                scratch = Path(work_dir or tempfile.mkdtemp(prefix=f"ragrec-pipeline-{scale}-"))
                with step("generate", f"{transactions:,} transactions"):
                    generate(
                        scratch, products, customers, transactions, seed=seed,
                        fmt="parquet", progress=False,
                    )  # fmt: skip
                folder = scratch
            from ragrec.graph.loader import BULK_THRESHOLD_ROWS, load_data

            # the bulk importer replaces the database; a batched load needs an empty graph
            bulk = (
                scale != "sample"
                and SCALES[scale][2] >= BULK_THRESHOLD_ROWS
                and settings.local_neo4j
            )
            if not bulk:
                _wipe(driver, settings)
            with step("load") as note:
                summary = load_data(
                    folder, settings, driver, show_progress=False, bulk=bulk, replace=bulk
                )
                note[0] = f"{summary.mode}, {sum(summary.rows_read.values()):,} rows"
            if summary.mode == "bulk":  # a new database: the old one's bookmarks never come
                driver = stack.enter_context(neo4j_service.driver(settings))
                sampler.driver = driver
            if gds:
                with step("gds + personas") as note:
                    note[0] = _gds_and_personas(driver, settings, seed)
            _refresh_steps(driver, settings, sampler, steps)
            from ragrec.recommender.engine import Recommender

            with Recommender(driver, settings) as rec:
                rec.precomputed()
                with step("item snapshot (per API worker)") as note:
                    note[0] = _snapshot(rec)
                with step("homepage (in-process)") as note:
                    note[0] = _homepage_latency(rec, driver, settings, requests, seed)
        if scratch is not None and work_dir is None:
            shutil.rmtree(scratch, ignore_errors=True)
    return {
        "scale": scale,
        "neo4j_heap_setting": settings.neo4j_heap,
        "seconds": round(time.perf_counter() - began, 1),
        "refresh_seconds": round(sum(s.seconds for s in steps if s.name.startswith("refresh:")), 1),
        "steps": [asdict(s) for s in steps],
    }


def _refresh_steps(driver: Driver, settings: Settings, sampler: Sampler, steps: list[Step]) -> None:
    from ragrec.jobs.refresh import refresh

    marks: list[tuple[str, float]] = []
    report = refresh(driver, settings, on_step=lambda n: marks.append((n, time.monotonic())))
    end = time.monotonic()
    time.sleep(sampler.every_s)
    bounds = [*[m for _, m in marks[1:]], end]
    for (name, start), stop, result in zip(marks, bounds, report.steps, strict=False):
        heap, rss = sampler.peaks(start, stop)
        detail = result.status if result.status != "ok" else _short(result.detail)
        steps.append(Step(f"refresh:{name}", result.seconds, heap, sampler.heap_max, rss, detail))


def _gds_and_personas(driver: Driver, settings: Settings, seed: int) -> str:
    """`discover-personas --no-stability` as `make demo` runs it, less the bought_together
    spec (the refresh's job of the same name follows); each GDS spec's seconds."""
    from ragrec.gds import gds_client
    from ragrec.gds.specs import load_specs
    from ragrec.personas.service import discover

    specs = [s for s in load_specs() if s.name != "bought_together"]
    report = discover(
        gds_client(driver, settings), driver, settings.neo4j_database, seed=seed,
        stability=False, specs=specs,
    )  # fmt: skip
    parts = [f"{name.removeprefix('gds:')} {sec:,.0f} s" for name, sec in report.timings.items()]
    return f"{len(report.personas)} personas of {report.customers:,} customers; " + ", ".join(parts)


def _snapshot(rec: Recommender) -> str:
    """Build the item snapshot as an API worker does at start (its RSS is this step's)."""
    if not rec.load_snapshot():
        return "off (RAGREC_REC_ITEM_SNAPSHOT=false)"
    assert rec.snapshot is not None
    state = rec.snapshot.state()
    left = f", left out: {state['left_out']}" if state["left_out"] else ""
    return f"{state['products']:,} products, {state['entries']:,} entries{left}"


def _homepage_latency(
    rec: Recommender, driver: Driver, settings: Settings, requests: int, seed: int
) -> str:
    from ragrec.recommender.latency import draw_customers, time_homepage

    warmup = 10
    picks, total = draw_customers(driver, settings.neo4j_database, requests + warmup, seed)
    if not total:
        return "no customer with purchases"
    rec.warm_up()  # plan the candidates queries before measuring
    t = time_homepage(rec, picks[: min(requests, total) + warmup], warmup)
    return (
        f"{t['requests']} customers of {total:,}: p50 {t['p50_ms']:.1f} ms, "
        f"p95 {t['p95_ms']:.1f} ms, degraded {t['degraded']}"
    )


def _short(detail: dict[str, Any]) -> str:
    keep = ("purchases", "customers", "pairs", "baskets", "big_baskets", "chunks", "lists")
    shown = {k: v for k, v in detail.items() if k in keep}
    if not shown and detail:  # neighbours: per model
        shown = {k: v.get("pairs") for k, v in detail.items() if isinstance(v, dict)}
    return ", ".join(f"{k}={v}" for k, v in shown.items())
