"""BOUGHT_TOGETHER {count, lift} from baskets (same customer, same day), by Cypher templates.

lift(a, b) = P(a and b in a basket) / (P(a) P(b)) = count x baskets / (baskets(a) x
baskets(b)). Computed inside Neo4j (no pairs travel to Python). The previous
BOUGHT_TOGETHER are deleted first, so a re-run rewrites them. `as_of` limits the
baskets to those before a date, so evaluation can derive them from training data only.
"""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from neo4j import Driver

from ragrec.cypher import query
from ragrec.gds.specs import GdsSpec

#: a date after every purchase: "no cutoff"
FAR_FUTURE = date(9999, 12, 31)


def write_bought_together(driver: Driver, database: str, spec: GdsSpec) -> dict[str, Any]:
    """The pipeline step of `gds_projections/bought_together.yaml`."""
    assert spec.template is not None
    return derive_bought_together(
        driver, database, min_count=spec.template.min_count, version=spec.run_id
    )


def derive_bought_together(
    driver: Driver,
    database: str,
    *,
    as_of: date | None = None,
    min_count: int = 2,
    max_basket: int = 40,
    version: str | None = None,
) -> dict[str, Any]:
    """(Re)write BOUGHT_TOGETHER from baskets before `as_of`; returns counts and seconds.

    Baskets larger than `max_basket` items (bulk orders) are not paired.
    """
    began = time.perf_counter()
    cutoff = as_of or FAR_FUTURE
    with driver.session(database=database) as session:
        session.run(query("gds/delete_bought_together")).consume()
        session.run(
            query("gds/derive_bought_together"),
            as_of=cutoff,
            min_count=min_count,
            max_basket=max_basket,
            version=version,
        ).consume()
        session.run(query("gds/derive_bought_together_lift"), as_of=cutoff).consume()
    records, _, _ = driver.execute_query(
        query("gds/bought_together_summary"), as_of=cutoff, database_=database
    )
    row = records[0]
    return {
        "baskets": int(row["baskets"]),
        "pairs": int(row["pairs"]),
        "max_lift": round(float(row["max_lift"] or 0.0), 3),
        "seconds": round(time.perf_counter() - began, 2),
    }
