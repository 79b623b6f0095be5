"""Purchases out of Neo4j, page by page, into compact integer columns (Polars).

Customers are read in id order, `jobs_read_batch` per page (index-backed keyset
pagination), each with its purchases in [since, as_of) as parallel lists; a page's strings
are turned into int32 codes before the next page is read. What stays in memory is
12 bytes per purchase (customer code, item code, epoch day) plus the catalogue: about
380 MB for H&M's 31.8M purchases.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl
from neo4j import READ_ACCESS, Driver

from ragrec.cypher import query

EPOCH = date(1970, 1, 1)
#: a date after every purchase: "no cutoff"
FAR_FUTURE = date(9999, 12, 31)

Progress = Callable[[int, int], None]


@dataclass
class PurchaseExport:
    """Purchases as codes: `items[code]` is the product id, customers are 0..n-1."""

    items: list[str]
    categories: list[str | None]
    created: np.ndarray  # epoch day of each item's creation, -1 when unknown
    customers: pl.DataFrame  # customer (code), age_bracket, persona, community
    purchases: pl.DataFrame  # customer, item (int32 codes), day (int32 epoch day)
    ref_day: int | None  # the last purchase day before as_of
    seconds: float = 0.0

    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def n_customers(self) -> int:
        return self.customers.height


def to_day(d: date) -> int:
    return (d - EPOCH).days


def from_day(day: int) -> date:
    return EPOCH + timedelta(days=day)


def reference_day(driver: Driver, database: str, as_of: date | None = None) -> int | None:
    records, _, _ = driver.execute_query(
        query("jobs/reference_day"), as_of=as_of or FAR_FUTURE, database_=database
    )
    return int(records[0]["day"]) if records else None


def export_purchases(
    driver: Driver,
    database: str,
    *,
    batch: int,
    as_of: date | None = None,
    since_days: int | None = None,
    progress: Progress | None = None,
) -> PurchaseExport:
    """All customers with their purchases before `as_of` (only the last `since_days` days
    before the reference day when given)."""
    began = time.perf_counter()
    cutoff = as_of or FAR_FUTURE
    ref_day = reference_day(driver, database, as_of)
    since = EPOCH if since_days is None or ref_day is None else from_day(ref_day - since_days)
    records, _, _ = driver.execute_query(query("jobs/export_products"), database_=database)
    items = [r["id"] for r in records]
    categories = [r["category"] for r in records]
    created = np.array([-1 if r["created"] is None else r["created"] for r in records], np.int32)
    codes = pl.DataFrame(
        {"id": items, "item": np.arange(len(items), dtype=np.int32)},
        schema={"id": pl.Utf8, "item": pl.Int32},
    )
    total_rows, _, _ = driver.execute_query(query("jobs/count_customers"), database_=database)
    total = int(total_rows[0]["n"])

    chunks: list[pl.DataFrame] = []
    attrs: list[pl.DataFrame] = []
    after, done = "", 0
    text = query("jobs/export_purchases")
    with driver.session(database=database, default_access_mode=READ_ACCESS) as session:
        while True:
            rows = list(session.run(text, after=after, batch=batch, since=since, as_of=cutoff))
            if not rows:
                break
            first = done
            page = pl.DataFrame(
                {
                    "customer": np.arange(first, first + len(rows), dtype=np.int32),
                    "items": [r["items"] for r in rows],
                    "days": [r["days"] for r in rows],
                },
                schema={
                    "customer": pl.Int32,
                    "items": pl.List(pl.Utf8),
                    "days": pl.List(pl.Int32),
                },
            )
            bought = (
                page.explode(["items", "days"], empty_as_null=True)
                .drop_nulls("items")
                .join(codes, left_on="items", right_on="id", how="inner")
                .select("customer", "item", pl.col("days").alias("day"))
            )
            chunks.append(bought)
            attrs.append(
                pl.DataFrame(
                    {
                        "customer": page["customer"],
                        "age_bracket": [r["age_bracket"] for r in rows],
                        "persona": [r["persona"] for r in rows],
                        "community": [r["community"] for r in rows],
                    },
                    schema={
                        "customer": pl.Int32,
                        "age_bracket": pl.Utf8,
                        "persona": pl.Utf8,
                        "community": pl.Int64,
                    },
                )
            )
            done += len(rows)
            after = rows[-1]["customer"]
            if progress:
                progress(done, total)
            if len(rows) < batch:
                break
    purchases = (
        pl.concat(chunks)
        if chunks
        else pl.DataFrame(schema={"customer": pl.Int32, "item": pl.Int32, "day": pl.Int32})
    )
    customers = (
        pl.concat(attrs)
        if attrs
        else pl.DataFrame(
            schema={
                "customer": pl.Int32,
                "age_bracket": pl.Utf8,
                "persona": pl.Utf8,
                "community": pl.Int64,
            }
        )
    )
    return PurchaseExport(
        items=items,
        categories=categories,
        created=created,
        customers=customers,
        purchases=purchases,
        ref_day=ref_day,
        seconds=round(time.perf_counter() - began, 2),
    )
