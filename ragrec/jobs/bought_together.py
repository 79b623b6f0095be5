"""BOUGHT_TOGETHER {count, lift, score, rank, version}: pair counts by sparse products.

A basket is one customer's purchases of one day. With B the baskets x items 0/1 matrix
and W the basket weights, C = B' W B holds the (weighted) number of baskets with both
items; C's diagonal holds each item's basket count. Baskets above `bt_basket_cap` items
are handled on purpose (`bt_big_baskets`): `downweight` gives a basket of n items the
weight cap/n (a bulk order says less about each pair), `drop` leaves it out.

    count(a, b) = sum of weights of baskets holding a and b
    lift(a, b)  = count(a, b) * N / (n(a) * n(b))       N, n: weighted basket counts
    score(a, b) = count / (count + 2) * ln(1 + lift)    lift, shrunk for rare pairs

C is computed in chunks of item rows: a chunk's rows are chosen so that the pair
products it needs (sum over its items of the sizes of their baskets) stay under
`jobs_pair_budget`, which bounds the working memory; each chunk keeps only the top
`bt_top_n` partners per item (by score, pairs seen at least `bt_min_count` times) before
the next chunk is computed. The result is written as a new version, then switched in.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
import scipy.sparse as sp
from neo4j import Driver

from ragrec.jobs import versions
from ragrec.jobs.export import PurchaseExport

NAME = "bought_together"
SHRINK = 2.0

Say = Callable[[str], None]


@dataclass(frozen=True)
class PairOptions:
    basket_cap: int = 40
    big_baskets: str = "downweight"  # downweight | drop
    min_count: float = 2.0
    top_n: int = 50
    pair_budget: int = 20_000_000


@dataclass
class PairTable:
    """Top partners per item: parallel arrays (a, b item codes; count, lift, score, rank)."""

    a: np.ndarray
    b: np.ndarray
    count: np.ndarray
    lift: np.ndarray
    score: np.ndarray
    rank: np.ndarray
    baskets: int
    big_baskets: int
    chunks: int

    def __len__(self) -> int:
        return len(self.a)


def basket_matrix(
    purchases: pl.DataFrame, n_items: int, opts: PairOptions
) -> tuple[sp.csr_matrix, np.ndarray, int]:
    """(B baskets x items 0/1, basket weights, number of big baskets)."""
    if purchases.height == 0:
        return sp.csr_matrix((0, n_items), dtype=np.float32), np.zeros(0, np.float32), 0
    pairs = (
        purchases.select(
            (pl.col("customer").cast(pl.Int64) * 1_000_000 + pl.col("day")).alias("key"),
            pl.col("item"),
        )
        .unique()
        .with_columns(pl.col("key").rank("dense").cast(pl.Int64).sub(1).alias("basket"))
    )
    basket = pairs["basket"].to_numpy()
    item = pairs["item"].to_numpy().astype(np.int32)
    n_baskets = int(basket.max()) + 1
    sizes = np.bincount(basket, minlength=n_baskets).astype(np.float32)
    big = sizes > opts.basket_cap
    if opts.big_baskets == "drop":
        weights = np.where(big, 0.0, 1.0).astype(np.float32)
    else:
        weights = np.where(big, opts.basket_cap / np.maximum(sizes, 1.0), 1.0).astype(np.float32)
    matrix = sp.csr_matrix(
        (np.ones(len(item), np.float32), (basket, item)), shape=(n_baskets, n_items)
    )
    return matrix, weights, int(big.sum())


def pair_table(purchases: pl.DataFrame, n_items: int, opts: PairOptions) -> PairTable:
    b, weights, n_big = basket_matrix(purchases, n_items, opts)
    keep = weights > 0
    b, weights = b[keep], weights[keep]
    sizes = np.asarray(b.sum(axis=1)).ravel()
    bw = sp.diags(weights) @ b  # rows weighted
    freq = np.asarray(bw.sum(axis=0)).ravel()  # weighted baskets per item
    total = float(weights.sum())
    # pair products per item row of C: sum of the sizes of the item's baskets
    work = np.asarray(b.T @ sizes).ravel()
    bt = b.T.tocsr()  # items x baskets
    out: dict[str, list[np.ndarray]] = {k: [] for k in ("a", "b", "count", "lift", "score", "rank")}
    chunks = 0
    for start, stop in _chunks(work, opts.pair_budget):
        chunks += 1
        c = (bt[start:stop] @ bw).tocsr()  # (stop-start) x items, weighted counts
        _zero_self(c, start)
        c.eliminate_zeros()
        _top_rows(c, start, freq, total, opts, out)
    if not out["a"]:
        empty = np.zeros(0)
        return PairTable(empty, empty, empty, empty, empty, empty, b.shape[0], n_big, chunks)
    return PairTable(
        a=np.concatenate(out["a"]),
        b=np.concatenate(out["b"]),
        count=np.concatenate(out["count"]),
        lift=np.concatenate(out["lift"]),
        score=np.concatenate(out["score"]),
        rank=np.concatenate(out["rank"]),
        baskets=int(b.shape[0]),
        big_baskets=n_big,
        chunks=chunks,
    )


def derive(
    driver: Driver,
    database: str,
    export: PurchaseExport,
    opts: PairOptions,
    *,
    write_batch: int,
    say: Say | None = None,
    on_batch: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Count, write a new version, switch it in, delete the old ones. Returns a summary."""
    log = say or (lambda _m: None)
    began = time.perf_counter()
    table = pair_table(export.purchases, export.n_items, opts)
    counted = time.perf_counter()
    log(
        f"{len(table):,} pairs kept from {table.baskets:,} baskets "
        f"({table.big_baskets:,} above {opts.basket_cap} items, {opts.big_baskets}) "
        f"in {table.chunks} chunk(s), {counted - began:.1f}s"
    )

    def write(version: str) -> dict[str, Any]:
        versions.write_batches(
            driver,
            database,
            "jobs/write_bought_together",
            _row_batches(table, export.items, write_batch),
            total=-(-len(table) // write_batch),
            on_batch=on_batch,
            version=version,
        )
        return {
            "pairs": len(table),
            "baskets": table.baskets,
            "big_baskets": table.big_baskets,
            "chunks": table.chunks,
            "basket_cap": opts.basket_cap,
            "big_basket_mode": opts.big_baskets,
            "max_lift": round(float(table.lift.max()), 3) if len(table) else 0.0,
        }

    # a run interrupted earlier left its partial version: `publish` removes it first
    version, previous, stats = versions.publish(
        driver,
        database,
        NAME,
        write,
        cleanup="jobs/delete_bought_together_except",
        batch=write_batch,
    )
    return {
        **stats,
        "version": version,
        "previous": previous,
        "count_seconds": round(counted - began, 2),
        "seconds": round(time.perf_counter() - began, 2),
    }


# -- helpers ---------------------------------------------------------------------------------


def _chunks(work: np.ndarray, budget: int) -> Iterator[tuple[int, int]]:
    """Contiguous item ranges whose summed work stays under the budget (one item at least)."""
    start, acc = 0, 0.0
    for i, w in enumerate(work):
        if i > start and acc + w > budget:
            yield start, i
            start, acc = i, 0.0
        acc += float(w)
    if start < len(work):
        yield start, len(work)


def _zero_self(c: sp.csr_matrix, start: int) -> None:
    """Zero each row's own item (row r is item start + r)."""
    rows = np.repeat(np.arange(c.shape[0]), np.diff(c.indptr))
    c.data[c.indices == rows + start] = 0.0


def _top_rows(
    c: sp.csr_matrix,
    start: int,
    freq: np.ndarray,
    total: float,
    opts: PairOptions,
    out: dict[str, list[np.ndarray]],
) -> None:
    for r in range(c.shape[0]):
        lo, hi = c.indptr[r], c.indptr[r + 1]
        if lo == hi:
            continue
        a = start + r
        cols = c.indices[lo:hi]
        counts = c.data[lo:hi].astype(np.float64)
        ok = counts >= opts.min_count - 1e-9
        if not ok.any():
            continue
        cols, counts = cols[ok], counts[ok]
        lift = counts * total / (freq[a] * freq[cols])
        score = counts / (counts + SHRINK) * np.log1p(lift)
        if len(score) > opts.top_n:
            top = np.argpartition(-score, opts.top_n - 1)[: opts.top_n]
            cols, counts, lift, score = cols[top], counts[top], lift[top], score[top]
        order = np.lexsort((cols, -score))
        n = len(order)
        out["a"].append(np.full(n, a, np.int32))
        out["b"].append(cols[order].astype(np.int32))
        out["count"].append(counts[order])
        out["lift"].append(lift[order])
        out["score"].append(score[order])
        out["rank"].append(np.arange(1, n + 1, dtype=np.int32))


def _row_batches(table: PairTable, items: list[str], size: int) -> Iterator[list[dict[str, Any]]]:
    for lo in range(0, len(table), size):
        hi = min(lo + size, len(table))
        yield [
            {
                "a": items[int(a)],
                "b": items[int(b)],
                "count": round(float(n), 3),
                "lift": round(float(lf), 4),
                "score": round(float(s), 5),
                "rank": int(k),
            }
            for a, b, n, lf, s, k in zip(
                table.a[lo:hi],
                table.b[lo:hi],
                table.count[lo:hi],
                table.lift[lo:hi],
                table.score[lo:hi],
                table.rank[lo:hi],
                strict=True,
            )
        ]
