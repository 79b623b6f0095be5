"""Candidate sources and ranker inputs known *as of* a day, built from the purchases
before that day only (the evaluation's stand-in for what the offline jobs write).

`AsOf(pairs, as_of, ...)` fits the strong item-item models (EASE, RP3beta, ItemKNN) and
the trend counts on purchases strictly before `as_of`; `pool()` turns a customer (or a
cart) into a `CandidatePool` whose model sources, history and sales statistics carry
exactly what `ranker.pool_features` reads at serving time. A graph pool (the engine's
sources, from a graph staged as of the same day) can be passed in and is enriched, not
replaced.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import scipy.sparse as sp

from ragrec.etl.readers import find_sources
from ragrec.evaluation.baselines import (
    EASE,
    ItemItem,
    ItemKNN,
    RecentPopularity,
    RP3beta,
    binarise,
    top_n_per_row,
)
from ragrec.evaluation.interactions import Interactions
from ragrec.recommender.types import Candidate, CandidatePool, ProductInfo, Profile

#: model source -> its baseline's name in the tuning record
MODEL_BASELINES = {"ease": "EASE", "rp3beta": "RP3beta", "itemknn": "ItemKNN"}
REASONS = {
    "ease": "people who bought what you bought also bought this (EASE)",
    "rp3beta": "people who bought what you bought also bought this (RP3beta)",
    "itemknn": "people who bought what you bought also bought this (ItemKNN)",
    "repurchase": "you bought this before",
    "trending": "trending now",
    "recent_neighbours": "customers who buy what you buy bought this lately",
    "siblings": "another version (colour) of something you chose",
}
DEFAULT_PARAMS: dict[str, dict[str, Any]] = {
    "EASE": {"lam": 300.0},
    "RP3beta": {"alpha": 1.0, "beta": 0.5, "k": 100},
    "ItemKNN": {"k": 100, "shrink": 10.0},
    "recent popularity": {"window_days": 7},
}
REPURCHASE_HALF_LIFE_DAYS = 30.0
#: recent_neighbours: the most similar customers (cosine over bought items); each of their
#: purchases counts 0.5 ** (age in days / half-life)
NEIGHBOUR_CUSTOMERS = 100
NEIGHBOUR_HALF_LIFE_DAYS = 14.0
ROW_BLOCK = 64  # request rows per sparse customer x customer product (memory)


def product_code(product_id: str) -> str | None:
    """H&M's product code from a 10-digit article id (`0` + code + 3-digit variant): the
    articles that share it are the same garment in other colours / variants."""
    return product_id[:-3] if len(product_id) == 10 and product_id.isdigit() else None


def read_catalogue(folder: Path) -> dict[str, ProductInfo]:
    """Product id (10 digits) -> ProductInfo(category = product type, colour) from the
    articles file of an H&M-format folder."""
    path = find_sources(folder)["articles"]
    frame = (
        pl.read_parquet(path)
        if path.suffix == ".parquet"
        else pl.read_csv(path, infer_schema=False)
    )
    cols = frame.columns
    out: dict[str, ProductInfo] = {}
    for row in frame.iter_rows(named=True):
        pid = str(row["article_id"]).strip().zfill(10)
        out[pid] = ProductInfo(
            product_id=pid,
            name=row.get("prod_name") if "prod_name" in cols else None,
            category=row.get("product_type_name") if "product_type_name" in cols else None,
            colour=row.get("colour_group_name") if "colour_group_name" in cols else None,
        )
    return out


@dataclass
class Customer:
    history: list[dict[str, Any]]  # most recent first: {id, ts, category, colour, price, n}
    bought: list[str]


class AsOf:
    """Everything the ranker may know on the morning of `as_of`."""

    def __init__(
        self,
        pairs: pl.DataFrame,
        as_of: date,
        catalogue: Mapping[str, ProductInfo],
        *,
        params: Mapping[str, Mapping[str, Any]] | None = None,
        n_candidates: int = 50,
        ease_max_items: int = 3000,
        block_items: int = 1024,
    ) -> None:
        self.as_of = as_of
        self.catalogue = catalogue
        self.n = n_candidates
        frame = pairs.filter(pl.col("day") < as_of)
        self.frame = frame
        self.data = Interactions.from_pairs(frame, sorted(catalogue))
        p = {**DEFAULT_PARAMS, **{k: dict(v) for k, v in (params or {}).items()}}
        X = self.data.matrix
        self.models: dict[str, ItemItem] = {}
        if X.nnz:
            self.models = {
                "ease": EASE(lam=p["EASE"]["lam"], max_items=ease_max_items).fit(X),
                "rp3beta": RP3beta(
                    alpha=p["RP3beta"]["alpha"],
                    beta=p["RP3beta"]["beta"],
                    k=int(p["RP3beta"]["k"]),
                    block_items=block_items,
                ).fit(X),
                "itemknn": ItemKNN(
                    k=int(p["ItemKNN"]["k"]),
                    shrink=float(p["ItemKNN"]["shrink"]),
                    block_items=block_items,
                ).fit(X),
            }
        self.trending = RecentPopularity(int(p["recent popularity"]["window_days"])).fit(
            X, self.data.days
        )
        self.stats = self._stats(frame)
        self.customers = self._customers(frame)
        self.sales = {pid: float(st["sales"]) for pid, st in self.stats.items()}
        self.by_code: dict[str, list[str]] = {}
        for pid in sorted(catalogue):
            code = product_code(pid)
            if code is not None:
                self.by_code.setdefault(code, []).append(pid)
        self.customer_unit = _unit_rows(binarise(X))
        days = sp.csr_matrix(self.data.days)  # last purchase day of each (customer, item)
        age = float(as_of.toordinal() - 1) - days.data
        self.recent = sp.csr_matrix(
            (0.5 ** (np.maximum(age, 0.0) / NEIGHBOUR_HALF_LIFE_DAYS), days.indices, days.indptr),
            shape=days.shape,
        )

    # -- sources ------------------------------------------------------------------------

    def sources(
        self,
        rows: Sequence[Sequence[str]],
        exclude: Sequence[set[str]],
        customers: Sequence[str | None] | None = None,
    ) -> list[dict[str, list[Candidate]]]:
        """Model sources for each basket of item ids (a history or a cart); `customers`
        (the row's own buyer, if any) keeps a customer out of their own neighbours."""
        X = self.data.rows_of(rows)
        out: list[dict[str, list[Candidate]]] = [{} for _ in rows]
        idx = np.arange(len(rows))
        for name, model in self.models.items():
            for start in range(0, len(rows), 256):
                chunk = idx[start : start + 256]
                scores = model.scores(chunk, X)
                for j, r in enumerate(chunk):
                    out[r][name] = self._top(name, scores[j], exclude[r] | set(rows[r]))
        trend = self.trending.popularity
        for r in range(len(rows)):
            out[r]["trending"] = self._top("trending", trend, exclude[r])
        if self.recent.nnz:
            own = [
                self.data.user_index.get(c, -1) if c else -1
                for c in (customers or [None] * len(rows))
            ]
            for start in range(0, len(rows), ROW_BLOCK):
                stop = min(len(rows), start + ROW_BLOCK)
                scores = self._neighbour_scores(X[start:stop], own[start:stop])
                for j, r in enumerate(range(start, stop)):
                    out[r]["recent_neighbours"] = self._top(
                        "recent_neighbours", scores[j], exclude[r] | set(rows[r])
                    )
        for r in range(len(rows)):
            out[r]["siblings"] = self._siblings(rows[r], exclude[r] | set(rows[r]))
        return out

    def _neighbour_scores(self, X: sp.csr_matrix, own: Sequence[int]) -> np.ndarray:
        """Each row's NEIGHBOUR_CUSTOMERS most similar customers (cosine over bought
        items; the row's own customer left out), their purchases weighted
        by similarity and decayed by age (half-life NEIGHBOUR_HALF_LIFE_DAYS)."""
        q = _unit_rows(binarise(X))
        S = sp.csr_matrix(q @ self.customer_unit.T)
        for j, u in enumerate(own):
            if u >= 0:
                lo, hi = S.indptr[j], S.indptr[j + 1]
                S.data[lo:hi][S.indices[lo:hi] == u] = 0.0
        S.eliminate_zeros()
        S = top_n_per_row(S, NEIGHBOUR_CUSTOMERS)
        return np.asarray((S @ self.recent).toarray(), dtype=np.float64)

    def _siblings(self, items: Sequence[str], exclude: set[str]) -> list[Candidate]:
        """Other variants (same product code) of the row's items; the more of the row's
        items share the code, the higher; all-time sales break ties."""
        scores: dict[str, float] = {}
        for pid in items:
            for other in self.by_code.get(product_code(pid) or "", ()):
                if other not in exclude:
                    scores[other] = scores.get(other, 0.0) + 1.0
        sales = self.sales
        top = max(sales.values(), default=0.0) + 1.0
        ranked = sorted(
            ((pid, sc + sales.get(pid, 0.0) / top) for pid, sc in scores.items()),
            key=lambda t: (-t[1], t[0]),
        )
        reason = REASONS["siblings"]
        return [Candidate(pid, sc, "siblings", reason) for pid, sc in ranked[: self.n]]

    def _top(self, name: str, scores: np.ndarray, exclude: set[str]) -> list[Candidate]:
        s = np.array(scores, dtype=np.float64, copy=True)
        blocked = [self.data.item_index[i] for i in exclude if i in self.data.item_index]
        s[blocked] = -np.inf
        s[s <= 0] = -np.inf
        k = min(self.n, len(s))
        top = np.argpartition(-s, k - 1)[:k] if k < len(s) else np.arange(len(s))
        top = top[np.lexsort((top, -s[top]))]
        items = self.data.items
        reason = REASONS[name]
        return [Candidate(items[i], float(s[i]), name, reason) for i in top if np.isfinite(s[i])]

    def repurchase(self, customer: str, exclude: set[str]) -> list[Candidate]:
        c = self.customers.get(customer)
        if c is None:
            return []
        ref = self.as_of - timedelta(days=1)
        scored = []
        for h in c.history:
            if h["id"] in exclude:
                continue
            age = (ref - h["ts"]).days
            scored.append((h["id"], float(h["n"]) * 0.5 ** (age / REPURCHASE_HALF_LIFE_DAYS)))
        scored.sort(key=lambda t: (-t[1], t[0]))
        reason = REASONS["repurchase"]
        return [Candidate(pid, sc, "repurchase", reason) for pid, sc in scored[: self.n]]

    # -- pools --------------------------------------------------------------------------

    def pool(
        self,
        customer: str | None,
        sources: dict[str, list[Candidate]],
        *,
        base: CandidatePool | None = None,
        exclude: set[str] | None = None,
        context: str = "homepage",
        repurchase: bool = False,
    ) -> CandidatePool:
        """A pool with the model sources added to `base`'s (a graph pool staged as of the
        same day) or alone; history and sales statistics as of `as_of`."""
        info = self.customers.get(customer or "")
        history = list(info.history) if info else []
        ex = set(exclude or set())
        lists = dict(base.lists) if base else {}
        for name, items in sources.items():
            lists.setdefault(name, [c for c in items if c.product_id not in ex])
        if repurchase and customer:
            lists.setdefault("repurchase", self.repurchase(customer, ex))
        if base is not None:
            profile = replace(base.profile, history=history or base.profile.history)
            products = dict(base.products)
            exclude_all = set(base.exclude) | ex
        else:
            profile = Profile(
                customer_id=customer,
                history=history,
                bought=list(info.bought) if info else [],
                ref_date=self.as_of - timedelta(days=1),
            )
            products = {}
            exclude_all = ex
        ids = {c.product_id for items in lists.values() for c in items}
        for pid in ids:
            known = self.catalogue.get(pid)
            have = products.get(pid)
            if have is None:
                products[pid] = known or ProductInfo(pid)
            elif known is not None and have.colour is None:
                products[pid] = replace(have, colour=known.colour)
        stats = {pid: self.stats[pid] for pid in ids if pid in self.stats}
        return CandidatePool(
            context="cart" if context == "cart" else "homepage",
            profile=profile,
            lists=lists,
            products=products,
            exclude=exclude_all,
            as_of=self.as_of,
            stats=stats,
        )

    # -- inputs -------------------------------------------------------------------------

    def _stats(self, frame: pl.DataFrame) -> dict[str, dict[str, Any]]:
        if frame.is_empty():
            return {}
        day = pl.col("day")
        agg = frame.group_by("article").agg(
            pl.len().alias("sales"),
            (day >= self.as_of - timedelta(days=1)).sum().alias("sales_1d"),
            (day >= self.as_of - timedelta(days=7)).sum().alias("sales_7d"),
            (day >= self.as_of - timedelta(days=28)).sum().alias("sales_28d"),
            day.max().alias("last_sale"),
        )
        return {
            row["article"]: {k: v for k, v in row.items() if k != "article"}
            for row in agg.iter_rows(named=True)
        }

    def _customers(self, frame: pl.DataFrame) -> dict[str, Customer]:
        if frame.is_empty():
            return {}
        cols = ["customer", "article"]
        aggs = [pl.len().alias("n"), pl.col("day").max().alias("ts")]
        if "price" in frame.columns:
            aggs.append(pl.col("price").mean().alias("price"))
        per = (
            frame.group_by(cols)
            .agg(aggs)
            .sort(["customer", "ts", "article"], descending=[False, True, False])
        )
        out: dict[str, Customer] = {}
        for row in per.iter_rows(named=True):
            info = self.catalogue.get(row["article"])
            entry = {
                "id": row["article"],
                "ts": row["ts"],
                "n": int(row["n"]),
                "price": row.get("price"),
                "category": info.category if info else None,
                "colour": info.colour if info else None,
                "name": info.name if info else None,
            }
            c = out.setdefault(row["customer"], Customer([], []))
            c.history.append(entry)
            c.bought.append(row["article"])
        return out


def _unit_rows(B: sp.csr_matrix) -> sp.csr_matrix:
    """Rows scaled to unit length (empty rows stay empty)."""
    B = sp.csr_matrix(B, dtype=np.float64, copy=True)
    norms = np.sqrt(np.asarray(B.multiply(B).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    B.data /= norms.repeat(np.diff(B.indptr))
    return B
