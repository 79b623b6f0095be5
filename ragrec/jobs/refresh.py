"""`ragrec refresh`: every derived structure the request path reads, step by step.

    bought_together      BOUGHT_TOGETHER {count, lift, score, rank, version}
    popular ...          the ranked lists of `ragrec.jobs.lists.FAMILIES`
    neighbours           NEIGHBOUR {model, score, rank, version} per item-neighbour model
    product_stats        Product.sales, sales_1d/7d/28d, last_sale (the ranker's trend features)

One purchases export serves every step (only the last 56 days when no step needs more).
Each step writes a new version and switches it in when complete; a step that fails or is
interrupted leaves its live version as it was, and running `refresh` again completes it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from neo4j import Driver

from ragrec.config import Settings
from ragrec.jobs import bought_together, lists, versions
from ragrec.jobs.export import PurchaseExport, export_purchases

STEPS: tuple[str, ...] = ("bought_together", *lists.FAMILIES, "neighbours", "product_stats")

Say = Callable[[str], None]
BatchHook = Callable[[str, int, int], None]


@dataclass
class StepResult:
    name: str
    seconds: float
    status: str  # ok | failed | skipped
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class RefreshReport:
    steps: list[StepResult]
    seconds: float

    @property
    def ok(self) -> bool:
        return all(s.status != "failed" for s in self.steps)

    def to_dict(self) -> dict[str, Any]:
        return {
            "seconds": self.seconds,
            "ok": self.ok,
            "steps": [
                {"name": s.name, "seconds": s.seconds, "status": s.status, **s.detail}
                for s in self.steps
            ],
        }


def check_steps(only: Sequence[str] | None) -> list[str]:
    """The steps to run, in order; a name that is not a step raises ValueError naming it."""
    if not only:
        return list(STEPS)
    unknown = [n for n in only if n not in STEPS]
    if unknown:
        raise ValueError(f"unknown step {unknown[0]!r}: choose from {', '.join(STEPS)}")
    return [s for s in STEPS if s in only]


def refresh(
    driver: Driver,
    settings: Settings,
    *,
    only: Sequence[str] | None = None,
    as_of: date | None = None,
    say: Say | None = None,
    on_batch: BatchHook | None = None,
    bt_min_count: int | None = None,
    stop_on_error: bool = False,
    on_step: Callable[[str], None] | None = None,
) -> RefreshReport:
    """Run the steps; `on_batch(step, i, n)` is called after each written batch."""
    log = say or (lambda _m: None)
    steps = check_steps(only)
    database = settings.neo4j_database
    began = time.perf_counter()
    versions.ensure_indexes(driver, database)
    results: list[StepResult] = []

    t = time.perf_counter()
    if on_step:
        on_step("export")
    needs_history = any(s in steps for s in ("bought_together", "neighbours", "product_stats"))

    def exported(done: int, total: int) -> None:
        if done == total or done % (settings.jobs_read_batch * 10) == 0:
            log(f"  export: {done:,}/{total:,} customers")

    log("export purchases" + ("" if needs_history else f" (last {lists.HISTORY_DAYS} days)"))
    export = export_purchases(
        driver,
        database,
        batch=settings.jobs_read_batch,
        as_of=as_of,
        since_days=None if needs_history else lists.HISTORY_DAYS,
        progress=exported,
    )
    results.append(
        StepResult(
            "export",
            round(time.perf_counter() - t, 2),
            "ok",
            {
                "purchases": export.purchases.height,
                "customers": export.n_customers,
                "items": export.n_items,
            },
        )
    )
    log(
        f"  {export.purchases.height:,} purchases of {export.n_customers:,} customers, "
        f"{export.n_items:,} products in {results[-1].seconds:.1f}s"
    )
    for name in steps:
        t = time.perf_counter()
        if on_step:
            on_step(name)
        log(f"{name}")
        try:
            detail = _run_step(name, driver, settings, export, log, on_batch, bt_min_count)
            status = "skipped" if detail.pop("skipped", False) else "ok"
        except Exception as exc:  # a failed step is reported; a signal stops the run
            if stop_on_error:
                raise
            detail, status = {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}, "failed"
        seconds = round(time.perf_counter() - t, 2)
        results.append(StepResult(name, seconds, status, detail))
        log(f"  {status} in {seconds:.1f}s" + (f": {detail['error']}" if "error" in detail else ""))
    return RefreshReport(results, round(time.perf_counter() - began, 2))


def _run_step(
    name: str,
    driver: Driver,
    settings: Settings,
    export: PurchaseExport,
    log: Say,
    on_batch: BatchHook | None,
    bt_min_count: int | None,
) -> dict[str, Any]:
    database = settings.neo4j_database

    def hook(i: int, n: int) -> None:
        if on_batch:
            on_batch(name, i, n)
        if n >= 10 and i % max(1, n // 10) == 0:
            log(f"  written {i}/{n} batches")

    if name == "bought_together":
        opts = bought_together.PairOptions(
            basket_cap=settings.bt_basket_cap,
            big_baskets=settings.bt_big_baskets,
            min_count=float(bt_min_count or settings.bt_min_count),
            top_n=settings.bt_top_n,
            pair_budget=settings.jobs_pair_budget,
        )
        return bought_together.derive(
            driver,
            database,
            export,
            opts,
            write_batch=settings.jobs_write_batch,
            say=lambda m: log(f"  {m}"),
            on_batch=hook,
        )
    if name in lists.FAMILIES:
        built = lists.build(export, name, settings.lists_top_n)
        return lists.write(
            driver,
            database,
            name,
            built,
            write_batch=settings.jobs_write_batch,
            top_n=settings.lists_top_n,
            on_batch=hook,
        )
    if name == "neighbours":
        from ragrec.jobs import neighbours

        return neighbours.derive(
            driver, settings, export, say=lambda m: log(f"  {m}"), on_batch=hook
        )
    if name == "product_stats":
        from ragrec.jobs import stats

        return stats.derive(
            driver, database, export, write_batch=settings.jobs_write_batch, on_batch=hook
        )
    raise ValueError(name)
