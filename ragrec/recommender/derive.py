"""Derived relationships the generators read, for graphs where the GDS pipeline (#5) has
not written them: BOUGHT_TOGETHER from baskets (one customer, one day)."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from neo4j import Driver

from ragrec.cypher import query
from ragrec.recommender.generators import FAR_FUTURE


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
    max_basket: int = 40,
    replace: bool = True,
) -> dict[str, float]:
    """(Re)write BOUGHT_TOGETHER {count, lift} from baskets before `as_of`."""
    began = time.perf_counter()
    params: dict[str, Any] = {"as_of": as_of or FAR_FUTURE}
    with driver.session(database=database) as session:
        if replace:
            session.run(query("recommend/clear_bought_together")).consume()
        session.run(
            query("recommend/derive_bought_together"),
            min_count=min_count,
            max_basket=max_basket,
            **params,
        ).consume()
        session.run(query("recommend/derive_bought_together_lift"), **params).consume()
    return {
        "bought_together": bought_together_count(driver, database),
        "seconds": round(time.perf_counter() - began, 2),
    }
