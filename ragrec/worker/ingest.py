"""Live ingestion of products and purchases (what n8n's realtime webhooks and the shop
post), written the way the loader writes them, plus the stamps the worker reads.

Products go through the loader's own statements (categories from the H&M hierarchy,
colour links), so a product that arrives live is linked into the graph exactly like one
loaded from files. Purchases are stored per (customer, product, day, price, channel)
like the loader's, stamped with `recorded_at` for the worker.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import polars as pl
from neo4j import Driver, RoutingControl

from ragrec.config import Settings
from ragrec.cypher import query
from ragrec.etl.pipeline import PRODUCTS_SCHEMA, build_categories

#: fields whose change makes a product's embeddings outdated
EMBEDDED_FIELDS = ("name", "description", "product_type", "colour", "image_path")
PRODUCT_FIELDS = tuple(k for k in PRODUCTS_SCHEMA if k != "id")
#: fields a product needs when it is new
NEW_PRODUCT_FIELDS = ("name", "product_type", "product_group")


class IngestError(ValueError):
    """Bad input: `field` names it (e.g. `purchases[3].product_id`)."""

    def __init__(self, field: str, message: str, *, not_found: bool = False) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.not_found = not_found


@dataclass
class ProductUpsert:
    ids: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    restocked: list[str] = field(default_factory=list)
    reembed: list[str] = field(default_factory=list)


@dataclass
class PurchaseRecord:
    recorded: int = 0
    product_ids: list[str] = field(default_factory=list)
    customers: list[str] = field(default_factory=list)  # pseudonyms
    new_customers: int = 0


def upsert_products(
    driver: Driver, settings: Settings, products: list[dict[str, Any]]
) -> ProductUpsert:
    """Create or update products (dicts with `id` and PRODUCTS_SCHEMA fields)."""
    db = settings.neo4j_database
    ids = [str(p["id"]) for p in products]
    if len(set(ids)) != len(ids):
        raise IngestError("products", "the same product id appears twice")
    records, _, _ = driver.execute_query(
        query("worker/product_states"), ids=ids, database_=db, routing_=RoutingControl.READ
    )
    before = {r["id"]: r.data() for r in records}
    for i, p in enumerate(products):
        missing = [f for f in NEW_PRODUCT_FIELDS if str(p["id"]) not in before and not p.get(f)]
        if missing:
            raise IngestError(
                f"products[{i}].{missing[0]}", f"new product {p['id']!r} needs {missing[0]}"
            )
    today = datetime.now(UTC).date()
    rows = []
    for p in products:
        row = {k: p.get(k) for k in PRODUCT_FIELDS}
        old = before.get(str(p["id"]))
        if row["created_at"] is None:
            row["created_at"] = today if old is None else None
        if row["in_stock"] is None and old is None:
            row["in_stock"] = True
        rows.append({"id": str(p["id"]), **row})
    frame = pl.DataFrame(rows, schema=PRODUCTS_SCHEMA)
    categories, links = build_categories(frame)
    report = ProductUpsert(ids=ids)
    stamps = []
    writes = []
    for row in rows:
        pid = str(row["id"])
        old = before.get(pid)
        writes.append(
            {"id": pid, "props": {k: v for k, v in row.items() if k != "id" and v is not None}}
        )
        restocked = old is not None and old["in_stock"] is False and row["in_stock"] is True
        reembed = old is not None and any(
            row[k] is not None and row[k] != old.get(k) for k in EMBEDDED_FIELDS
        )
        if old is None:
            report.created.append(pid)
        if restocked:
            report.restocked.append(pid)
        if reembed:
            report.reembed.append(pid)
        stamps.append({"id": pid, "restocked": restocked, "reembed": reembed})
    driver.execute_query(query("etl/products"), rows=writes, database_=db)
    driver.execute_query(query("etl/categories"), rows=categories.to_dicts(), database_=db)
    driver.execute_query(
        query("etl/product_categories"),
        rows=links.filter(pl.col("category_id").is_not_null()).to_dicts(),
        database_=db,
    )
    colours = [
        {
            "product_id": r["id"],
            "colour": r["colour"],
            "perceived_colour": r["perceived_colour"],
            "perceived_colour_value": None,
        }
        for r in rows
        if r["colour"]
    ]
    if colours:
        driver.execute_query(query("etl/product_colours"), rows=colours, database_=db)
    driver.execute_query(query("worker/stamp_products"), rows=stamps, database_=db)
    return report


def record_purchases(
    driver: Driver, settings: Settings, purchases: list[dict[str, Any]]
) -> PurchaseRecord:
    """Store purchases: dicts with `customer_id` (a pseudonym), `product_id`, `ts`
    (datetime or date), `price` (None: the product's price), `qty`, `channel`."""
    db = settings.neo4j_database
    wanted = sorted({str(p["product_id"]) for p in purchases})
    found, _, _ = driver.execute_query(
        query("worker/product_states"), ids=wanted, database_=db, routing_=RoutingControl.READ
    )
    prices: dict[str, float | None] = {r["id"]: r["price"] for r in found}
    known = set(prices)
    rows = []
    for i, p in enumerate(purchases):
        pid = str(p["product_id"])
        if pid not in known:
            raise IngestError(
                f"purchases[{i}].product_id", f"unknown product id {pid!r}", not_found=True
            )
        ts = p.get("ts") or datetime.now(UTC)
        day = ts.date() if isinstance(ts, datetime) else ts
        if not isinstance(day, date):
            raise IngestError(f"purchases[{i}].ts", "ts must be a date or a datetime")
        price = p.get("price")
        rows.append(
            {
                "customer_id": p["customer_id"],
                "product_id": pid,
                "day": day,
                "price": float(price if price is not None else prices.get(pid) or 0.0),
                "channel": int(p.get("channel") or 0),
                "qty": int(p.get("qty") or 1),
            }
        )
    customers = sorted({r["customer_id"] for r in rows})
    created, _, _ = driver.execute_query(
        query("worker/ensure_customers"), ids=customers, database_=db
    )
    records, _, _ = driver.execute_query(query("worker/record_purchases"), rows=rows, database_=db)
    return PurchaseRecord(
        recorded=int(records[0]["recorded"]) if records else 0,
        product_ids=wanted,
        customers=customers,
        new_customers=int(created[0]["created"]) if created else 0,
    )
