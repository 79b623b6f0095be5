"""Precomputed ranked lists: what the aggregating request templates used to recompute on
every request, computed once per refresh from the purchases export (Polars) and stored as
`(:RankedList {list, key, label, version})-[:RANKS {rank, score, n}]->(:Product)`.

    popular             keys "1d", "7d", "28d" and "<window>|<age bracket>"; half-life 7 days
    persona_favourites  keys persona id, and "age:<bracket>" (the bracket's main persona,
                        else customers of that age: cold start by demographics); 56 days
    community_trending  keys Louvain community id; 14 days, half-life 3
    category_best       keys product type; 56 days, half-life 14
    new_arrivals        key "all": products first sold within 30 days, by sales

Scores are time-decayed sales, sum of 0.5 ^ (days before the reference day / half-life),
the reference day being the last purchase day. Each family is one version: written
beside the live one, switched in when complete, the old one deleted in batches.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from neo4j import Driver

from ragrec.jobs import versions
from ragrec.jobs.export import PurchaseExport

POPULAR_WINDOWS = (1, 7, 28)
FAMILIES = ("popular", "persona_favourites", "community_trending", "category_best", "new_arrivals")
#: the days of history each family reads (the export's window when only lists are built)
HISTORY_DAYS = 56


@dataclass(frozen=True)
class Window:
    days: int
    half_life: float


POPULAR = Window(7, 7.0)  # half-life of every popular window
FAVOURITES = Window(56, 14.0)
TRENDING = Window(14, 3.0)
CATEGORY = Window(56, 14.0)
NEW_DAYS = 30

RankedLists = dict[str, tuple[str, list[dict[str, Any]]]]  # key -> (label, items)


def build(export: PurchaseExport, family: str, top_n: int) -> RankedLists:
    """The lists of one family: key -> (label, [{id, score, n}] best first)."""
    if export.ref_day is None or export.purchases.height == 0:
        return {}
    if family == "popular":
        return _popular(export, top_n)
    if family == "persona_favourites":
        return _persona_favourites(export, top_n)
    if family == "community_trending":
        recent = _decayed(export, TRENDING).join(
            export.customers.select("customer", "community"), on="customer"
        )
        recent = recent.drop_nulls("community").with_columns(
            pl.col("community").cast(pl.Utf8).alias("key")
        )
        return _ranked(export, recent, top_n, lambda k: f"community {k}")
    if family == "category_best":
        cats = pl.DataFrame(
            {"item": np.arange(export.n_items, dtype=np.int32), "key": export.categories},
            schema={"item": pl.Int32, "key": pl.Utf8},
        )
        recent = _decayed(export, CATEGORY).join(cats, on="item").drop_nulls("key")
        return _ranked(export, recent, top_n, lambda k: k)
    if family == "new_arrivals":
        return _new_arrivals(export, top_n)
    raise ValueError(f"unknown list family {family!r}: one of {', '.join(FAMILIES)}")


def write(
    driver: Driver,
    database: str,
    family: str,
    lists: RankedLists,
    *,
    write_batch: int,
    top_n: int,
    on_batch: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Write a new version of the family, switch it in, delete the old one."""
    began = time.perf_counter()
    delete_batch = max(1, write_batch // max(top_n, 1))
    payload = [
        {"key": key, "label": label, "items": items}
        for key, (label, items) in sorted(lists.items())
    ]

    def write(version: str) -> dict[str, Any]:
        versions.write_batches(
            driver,
            database,
            "jobs/write_ranked_lists",
            list(_batches(payload, delete_batch)),
            key="lists",
            on_batch=on_batch,
            list=family,
            version=version,
        )
        return {"lists": len(payload), "entries": sum(len(x["items"]) for x in payload)}

    version, previous, stats = versions.publish(
        driver,
        database,
        family,
        write,
        cleanup="jobs/delete_ranked_lists_except",
        list=family,
        batch=delete_batch,
    )
    return {
        **stats,
        "version": version,
        "previous": previous,
        "seconds": round(time.perf_counter() - began, 2),
    }


# -- families -----------------------------------------------------------------------------


def _popular(export: PurchaseExport, top_n: int) -> RankedLists:
    out: RankedLists = {}
    brackets = export.customers.select("customer", "age_bracket")
    for days in POPULAR_WINDOWS:
        recent = _decayed(export, Window(days, POPULAR.half_life))
        everyone = recent.with_columns(pl.lit(f"{days}d").alias("key"))
        out.update(_ranked(export, everyone, top_n, _age_label))
        by_age = (
            recent.join(brackets, on="customer")
            .drop_nulls("age_bracket")
            .with_columns((pl.lit(f"{days}d|") + pl.col("age_bracket")).alias("key"))
        )
        out.update(_ranked(export, by_age, top_n, _age_label))
    return out


def _age_label(key: str) -> str:
    window, _, bracket = key.partition("|")
    days = f"last {window.removesuffix('d')} days"
    return f"aged {bracket}, {days}" if bracket else days


def _persona_favourites(export: PurchaseExport, top_n: int) -> RankedLists:
    recent = _decayed(export, FAVOURITES).join(export.customers, on="customer")
    personas = recent.drop_nulls("persona").with_columns(pl.col("persona").alias("key"))
    out = _ranked(export, personas, top_n, lambda k: k)
    # cold start by demographics: the bracket's main persona, else its customers
    members = export.customers.drop_nulls("age_bracket")
    main = (
        members.drop_nulls("persona")
        .group_by("age_bracket", "persona")
        .agg(pl.len().alias("members"))
        .sort(["age_bracket", "members", "persona"], descending=[False, True, False])
        .group_by("age_bracket", maintain_order=True)
        .first()
    )
    for bracket, persona in main.select("age_bracket", "persona").iter_rows():
        if persona in out:
            out[f"age:{bracket}"] = out[persona]
    cohort = recent.drop_nulls("age_bracket").with_columns(
        (pl.lit("age:") + pl.col("age_bracket")).alias("key")
    )
    for key, value in _ranked(
        export, cohort, top_n, lambda k: f"customers aged {k.removeprefix('age:')}"
    ).items():
        out.setdefault(key, value)
    return out


def _new_arrivals(export: PurchaseExport, top_n: int) -> RankedLists:
    assert export.ref_day is not None
    fresh = np.flatnonzero(
        (export.created >= export.ref_day - NEW_DAYS) & (export.created <= export.ref_day)
    )
    if len(fresh) == 0:
        return {}
    sales = np.bincount(export.purchases["item"].to_numpy(), minlength=export.n_items)
    order = sorted(fresh.tolist(), key=lambda i: (-sales[i], -export.created[i], export.items[i]))
    items = [
        {"id": export.items[i], "score": float(sales[i]), "n": int(sales[i])} for i in order[:top_n]
    ]
    return {"all": ("new arrival", items)}


# -- helpers ------------------------------------------------------------------------------


def _decayed(export: PurchaseExport, window: Window) -> pl.DataFrame:
    """Purchases within the window before the reference day, with a decayed weight."""
    ref = export.ref_day
    assert ref is not None
    return export.purchases.filter(pl.col("day") >= ref - window.days).with_columns(
        (0.5 ** ((ref - pl.col("day")).cast(pl.Float64) / window.half_life)).alias("weight")
    )


def _ranked(
    export: PurchaseExport, frame: pl.DataFrame, top_n: int, label: Callable[[str], str]
) -> RankedLists:
    """Per key: items by summed weight (ties by product id), top_n of them."""
    if frame.height == 0:
        return {}
    top = (
        frame.group_by("key", "item")
        .agg(pl.col("weight").sum().alias("score"), pl.len().alias("n"))
        .sort(["key", "score", "item"], descending=[False, True, False])
        .group_by("key", maintain_order=True)
        .head(top_n)
    )
    out: RankedLists = {}
    items = export.items
    for key, item, score, n in top.select("key", "item", "score", "n").iter_rows():
        entry = out.setdefault(key, (label(key), []))
        entry[1].append({"id": items[item], "score": round(float(score), 5), "n": int(n)})
    return out


def _batches(rows: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for lo in range(0, len(rows), size):
        yield rows[lo : lo + size]
