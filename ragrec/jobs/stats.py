"""Product sales counters on `Product`: `sales` (all time), `sales_1d`, `sales_7d`,
`sales_28d` (the 1/7/28 days up to the reference day), `last_sale` (date) and `stats_day`.

The learned ranker's item-trend features (`ragrec.recommender.ranker`), read at serving
with the candidates (no per-request aggregation over purchases); computed like the
evaluation's `AsOf._stats` (PURCHASED relationships counted: identical rows folded into
`qty` count once; windows end on the last purchase day). Each
product's counters are written in one SET; a run that stops half-way leaves some
products with the previous day's counters and the previous `product_stats` version live,
and a re-run completes it. Products sold before but not in the export are reset to 0.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import polars as pl
from neo4j import Driver

from ragrec.jobs import versions
from ragrec.jobs.export import PurchaseExport, from_day

NAME = "product_stats"


def build(export: PurchaseExport) -> list[dict[str, Any]]:
    """One row per product bought in the export: {id, sales, sales_1d, sales_7d, sales_28d,
    last_sale (date)}."""
    ref = export.ref_day
    if ref is None or export.purchases.height == 0:
        return []
    day = pl.col("day")
    agg = (
        export.purchases.group_by("item")
        .agg(
            pl.len().alias("sales"),
            (day >= ref).sum().alias("sales_1d"),
            (day >= ref - 6).sum().alias("sales_7d"),
            (day >= ref - 27).sum().alias("sales_28d"),
            day.max().alias("last_sale"),
        )
        .sort("item")
    )
    items = export.items
    return [
        {
            "id": items[item],
            "sales": int(s),
            "sales_1d": int(s1),
            "sales_7d": int(s7),
            "sales_28d": int(s28),
            "last_sale": from_day(int(last)),
        }
        for item, s, s1, s7, s28, last in agg.iter_rows()
    ]


def derive(
    driver: Driver,
    database: str,
    export: PurchaseExport,
    *,
    write_batch: int,
    on_batch: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    began = time.perf_counter()
    rows = build(export)
    if not rows or export.ref_day is None:
        return {"skipped": True, "products": 0}
    stats_day = from_day(export.ref_day)
    version = versions.begin(driver, database, NAME)
    versions.write_batches(
        driver,
        database,
        "jobs/write_product_stats",
        [rows[i : i + write_batch] for i in range(0, len(rows), write_batch)],
        on_batch=on_batch,
        stats_day=stats_day,
        version=version,
    )
    versions.autocommit(
        driver,
        database,
        "jobs/reset_product_stats_except",
        version=version,
        batch=write_batch,
    )
    max_sales = max(r["sales"] for r in rows)
    stats = {"products": len(rows), "max_sales": max_sales, "stats_day": str(stats_day)}
    previous = versions.switch(driver, database, NAME, version, stats)
    return {
        **stats,
        "version": version,
        "previous": previous,
        "seconds": round(time.perf_counter() - began, 2),
    }
