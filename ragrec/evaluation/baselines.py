"""Plain baselines, run on the same split as our strategies: random, popularity (recent
window), item-to-item co-occurrence, and implicit ALS / BPR. numpy/scipy in, lists out.

Every model scores a user from a row of item counts (their training purchases, or a
cart), so one code path serves the homepage and the basket-completion evaluations.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import polars as pl
import scipy.sparse as sp
from threadpoolctl import threadpool_limits


@dataclass
class Interactions:
    """customer x product counts from training pairs (customer, article, day)."""

    users: list[str]
    items: list[str]
    matrix: sp.csr_matrix
    last_day: date | None
    frame: pl.DataFrame
    user_index: dict[str, int] = field(init=False)
    item_index: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.user_index = {u: i for i, u in enumerate(self.users)}
        self.item_index = {p: i for i, p in enumerate(self.items)}

    @classmethod
    def from_pairs(cls, pairs: pl.DataFrame, catalogue: Sequence[str] = ()) -> Interactions:
        users = sorted(set(pairs["customer"].to_list()))
        items = sorted(set(pairs["article"].to_list()) | set(catalogue))
        u = {x: i for i, x in enumerate(users)}
        it = {x: i for i, x in enumerate(items)}
        rows = np.array([u[x] for x in pairs["customer"].to_list()], dtype=np.int32)
        cols = np.array([it[x] for x in pairs["article"].to_list()], dtype=np.int32)
        data = np.ones(len(rows), dtype=np.float32)
        matrix = sp.csr_matrix((data, (rows, cols)), shape=(len(users), len(items)))
        matrix.sum_duplicates()
        last = pairs["day"].max() if pairs.height else None
        return cls(users, items, matrix, last if isinstance(last, date) else None, pairs)

    def row(self, items: Sequence[str]) -> sp.csr_matrix:
        cols = [self.item_index[i] for i in items if i in self.item_index]
        data = np.ones(len(cols), dtype=np.float32)
        return sp.csr_matrix(
            (data, (np.zeros(len(cols), dtype=np.int32), cols)), shape=(1, len(self.items))
        )


class Baseline:
    name = "baseline"

    def fit(self, data: Interactions) -> None:
        self.data = data

    def scores(self, row: sp.csr_matrix) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def recommend(self, history: Sequence[str], k: int, exclude: set[str]) -> list[str]:
        scores = np.asarray(self.scores(self.data.row(history)), dtype=np.float64).ravel()
        blocked = [self.data.item_index[i] for i in exclude if i in self.data.item_index]
        scores[blocked] = -np.inf
        top = np.argsort(-scores, kind="stable")[: k + len(blocked)]
        return [self.data.items[i] for i in top if np.isfinite(scores[i])][:k]


class RandomBaseline(Baseline):
    name = "random"

    def __init__(self, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)

    def scores(self, row: sp.csr_matrix) -> np.ndarray:
        return self.rng.random(len(self.data.items))


class PopularityBaseline(Baseline):
    """Purchases in the last `window_days` of training; all-time count breaks ties."""

    def __init__(self, window_days: int = 7) -> None:
        self.window_days = window_days
        self.name = f"popularity ({window_days}d)"

    def fit(self, data: Interactions) -> None:
        super().fit(data)
        total = np.asarray(data.matrix.sum(axis=0)).ravel()
        recent = np.zeros(len(data.items))
        if data.last_day is not None:
            since = data.last_day - timedelta(days=self.window_days - 1)
            counts = data.frame.filter(pl.col("day") >= since).group_by("article").len().iter_rows()
            for article, n in counts:
                recent[data.item_index[article]] = n
        self._scores = recent + total / (total.max() + 1.0)

    def scores(self, row: sp.csr_matrix) -> np.ndarray:
        return self._scores.copy()


class ItemCooccurrenceBaseline(Baseline):
    """Item-to-item cosine over customers; a user's score = sum of similarity to their items."""

    name = "item co-occurrence"

    def fit(self, data: Interactions) -> None:
        super().fit(data)
        binary = (data.matrix > 0).astype(np.float32)
        co = (binary.T @ binary).tocsr()
        norms = np.sqrt(co.diagonal())
        norms[norms == 0] = 1.0
        inv = sp.diags(1.0 / norms)
        sim = (inv @ co @ inv).tocsr()
        sim.setdiag(0)
        sim.eliminate_zeros()
        self.sim = sim
        pop = np.asarray(binary.sum(axis=0)).ravel()
        self._tiebreak = pop / (pop.max() + 1.0) * 1e-6

    def scores(self, row: sp.csr_matrix) -> np.ndarray:
        return np.asarray((row @ self.sim).todense()).ravel() + self._tiebreak


class ImplicitBaseline(Baseline):
    """implicit's ALS or BPR; a user (or a cart) is the mean of its items' factors."""

    def __init__(self, kind: str, **params: Any) -> None:
        self.kind = kind
        self.params = params
        label = ", ".join(f"{k}={v}" for k, v in params.items())
        self.name = f"{kind.upper()} ({label})"

    def fit(self, data: Interactions) -> None:
        super().fit(data)
        from implicit.cpu.als import AlternatingLeastSquares
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        model: Any
        with threadpool_limits(1, "blas"):  # implicit's advice: its own threads, not BLAS's
            if self.kind == "als":
                model = AlternatingLeastSquares(random_state=0, num_threads=2, **self.params)
            else:
                model = BayesianPersonalizedRanking(random_state=0, num_threads=2, **self.params)
            model.fit(data.matrix, show_progress=False)
        self.model = model
        self.item_factors = np.asarray(model.item_factors)
        self.user_factors = np.asarray(model.user_factors)

    def scores(self, row: sp.csr_matrix) -> np.ndarray:
        cols = row.indices
        if len(cols) == 0:
            return np.zeros(len(self.data.items))
        user = self.item_factors[cols].mean(axis=0)
        if self.kind == "bpr":  # BPR's last item column is the bias; the user's is 1
            user[-1] = 1.0
        return self.item_factors @ user

    def recommend_user(self, customer: str, k: int, exclude: set[str]) -> list[str]:
        """A known training user: their own learnt factors (better than the item mean)."""
        u = self.data.user_index.get(customer)
        if u is None:
            return []
        scores = self.item_factors @ self.user_factors[u]
        blocked = [self.data.item_index[i] for i in exclude if i in self.data.item_index]
        scores[blocked] = -np.inf
        top = np.argsort(-scores, kind="stable")[:k]
        return [self.data.items[i] for i in top if np.isfinite(scores[i])]


ALS_GRID = (
    {"factors": 32, "regularization": 0.05, "iterations": 15, "alpha": 1.0},
    {"factors": 64, "regularization": 0.05, "iterations": 15, "alpha": 1.0},
    {"factors": 64, "regularization": 0.5, "iterations": 15, "alpha": 5.0},
    {"factors": 128, "regularization": 0.1, "iterations": 20, "alpha": 2.0},
)
BPR_GRID = (
    {"factors": 32, "learning_rate": 0.01, "regularization": 0.01, "iterations": 100},
    {"factors": 64, "learning_rate": 0.05, "regularization": 0.01, "iterations": 100},
    {"factors": 64, "learning_rate": 0.01, "regularization": 0.001, "iterations": 200},
)


def tune_implicit(
    kind: str,
    fit_data: Interactions,
    evaluate: Callable[[Baseline], float],
    grid: Sequence[dict[str, Any]] | None = None,
) -> tuple[dict[str, Any], list[tuple[dict[str, Any], float]]]:
    """Try each grid point on the validation slice; return the best params and all scores."""
    grid = grid or (ALS_GRID if kind == "als" else BPR_GRID)
    tried = []
    for params in grid:
        model = ImplicitBaseline(kind, **params)
        model.fit(fit_data)
        tried.append((dict(params), evaluate(model)))
    best = max(tried, key=lambda t: t[1])[0]
    return best, tried
