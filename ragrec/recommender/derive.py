"""Derived relationships the generators read, for graphs where the GDS pipeline (#5) has
not written them: BOUGHT_TOGETHER from baskets (one customer, one day), through the same
job as the pipeline's step (`ragrec.jobs.bought_together`), but keeping pairs seen in a
single basket (thin data such as one day of sales)."""

from __future__ import annotations

from datetime import date

from neo4j import Driver

from ragrec.cypher import query
from ragrec.gds.bought_together import derive_bought_together as _derive


def bought_together_count(driver: Driver, database: str) -> int:
    records, _, _ = driver.execute_query(
        query("recommend/count_bought_together"), database_=database
    )
    return int(records[0]["n"])


def derive_bought_together(
    driver: Driver,
    database: str,
    *,
    as_of: date | None = None,
    min_count: int = 1,
    max_basket: int | None = None,
) -> dict[str, float]:
    """(Re)write BOUGHT_TOGETHER {count, lift, score} from baskets before `as_of`."""
    result = _derive(driver, database, as_of=as_of, min_count=min_count, max_basket=max_basket)
    return {"bought_together": result["pairs"], "seconds": result["seconds"]}
