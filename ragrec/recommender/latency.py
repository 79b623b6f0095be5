"""In-process homepage latency, as `ragrec bench-recommend` and the pipeline benchmark's
homepage step measure it: customers drawn at random from the whole base, each asked once,
the warm-up on other customers than the measured ones (no page of a measured customer is
warm from an earlier request)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from neo4j import Driver, RoutingControl

from ragrec.cypher import query
from ragrec.recommender.engine import Recommender


def draw_customers(driver: Driver, database: str, n: int, seed: int) -> tuple[list[str], int]:
    """`n` customers with purchases in a seeded random order (repeating only when the base
    has fewer), and how many the base has."""
    # all of them (1.4M at H&M size): no request timeout on this one
    records, _, _ = driver.execute_query(
        query("recommend/customers_with_history"),
        limit=None,
        database_=database,
        routing_=RoutingControl.READ,
    )
    everyone = [r["customer_id"] for r in records]
    if not everyone:
        return [], 0
    drawn = np.random.default_rng(seed).permutation(len(everyone))
    return [everyone[int(drawn[i % len(everyone)])] for i in range(n)], len(everyone)


def time_homepage(
    rec: Recommender, customers: Sequence[str], warmup: int, **kwargs: Any
) -> dict[str, Any]:
    """Ask `customers[:warmup]` unmeasured, then time one homepage request for each of the
    rest, one at a time."""
    for cid in customers[:warmup]:
        rec.homepage(cid, **kwargs)
    times, degraded = [], 0
    for cid in customers[warmup:]:
        t = time.perf_counter()
        result = rec.homepage(cid, **kwargs)
        times.append((time.perf_counter() - t) * 1000)
        degraded += bool(result.degraded)
    arr = np.asarray(times)
    return {
        "requests": len(times),
        "degraded": degraded,
        "p50_ms": round(float(np.percentile(arr, 50)), 2),
        "p95_ms": round(float(np.percentile(arr, 95)), 2),
        "p99_ms": round(float(np.percentile(arr, 99)), 2),
        "max_ms": round(float(arr.max()), 2),
    }
