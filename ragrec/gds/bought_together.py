"""BOUGHT_TOGETHER {count, lift} from baskets (same customer, same day), by Cypher templates.

lift(a, b) = P(a and b in a basket) / (P(a) P(b)) = count x baskets / (baskets(a) x
baskets(b)). The previous BOUGHT_TOGETHER are deleted first, so a re-run rewrites them.
"""

from __future__ import annotations

from typing import Any

from neo4j import Driver

from ragrec.cypher import query
from ragrec.gds.specs import GdsSpec


def write_bought_together(driver: Driver, database: str, spec: GdsSpec) -> dict[str, Any]:
    """Rewrite BOUGHT_TOGETHER; returns counts (baskets, pairs, max lift)."""
    assert spec.template is not None
    min_count, batch = spec.template.min_count, spec.template.batch_size
    records, _, _ = driver.execute_query(query("gds/basket_total"), database_=database)
    total = int(records[0]["baskets"]) if records else 0
    records, _, _ = driver.execute_query(query("gds/basket_counts"), database_=database)
    per_product = {r["id"]: int(r["baskets"]) for r in records}
    with driver.session(database=database) as session:
        session.run(query("gds/delete_bought_together")).consume()
    rows: list[dict[str, Any]] = []
    pairs = 0
    max_lift = 0.0
    with driver.session(database=database) as session:
        result = session.run(query("gds/basket_pairs"), min_count=min_count)
        for record in result:
            count = int(record["count"])
            lift = count * total / (per_product[record["a"]] * per_product[record["b"]])
            max_lift = max(max_lift, lift)
            rows.append({"a": record["a"], "b": record["b"], "count": count, "lift": lift})
    for start in range(0, len(rows), batch):
        driver.execute_query(
            query("gds/write_bought_together"),
            rows=rows[start : start + batch],
            run_id=spec.run_id,
            database_=database,
        )
        pairs += len(rows[start : start + batch])
    return {"baskets": total, "pairs": pairs, "max_lift": round(max_lift, 3)}
