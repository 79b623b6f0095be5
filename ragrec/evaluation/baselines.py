"""Baselines as plain as implicit's models: `fit(X)` on a users x items sparse matrix,
`recommend(user_rows, X, k)` returns item indices. The item-item models (ItemKNN, EASE,
RP3beta) also give their neighbour lists (`item_neighbours(top_n)`), which the offline
jobs write into the graph as candidate sources.

    model = EASE(lam=300).fit(X)
    top = model.recommend(np.arange(10), X, k=12)     # (10, 12) item indices, -1 = none
    nn = model.item_neighbours(50)                    # items x items, <= 50 per row

Conventions:
* `X` holds purchase counts (repeats allowed); the item-item models binarise it.
* `recommend` scores row `r` of the `X` it is given, so a cart or a history that the model
  never saw works the same way. ALS and BPR use their learnt user factors when `X` is
  the very matrix they were fitted on, and fold the row in otherwise.
* Scores of items a model cannot score (EASE outside its top-M items) are -inf; the
  returned array is padded with -1 where fewer than k items have a finite score.
* Neighbour matrices are oriented source -> target: row i holds the items recommended to
  someone who bought i (score_j = sum_i x_i * W[i, j]); the diagonal is always empty.
* Memory is bounded by the constructor's `block_items` (item rows per sparse product)
  and EASE's `max_items`, never by the data.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, Self

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

SCORE_CELLS = 1 << 22  # dense user x item scores per recommend batch (32 MiB of float64)


class Baseline:
    """fit / scores / recommend; subclasses implement `fit` and `scores`."""

    name = "baseline"

    def fit(self, X: sp.csr_matrix) -> Self:  # pragma: no cover - abstract
        raise NotImplementedError

    def scores(self, user_rows: np.ndarray, X: sp.csr_matrix) -> np.ndarray:
        """Dense (len(user_rows), n_items) scores; -inf where the model has none."""
        raise NotImplementedError  # pragma: no cover - abstract

    def params(self) -> dict[str, Any]:
        return {}

    def label(self) -> str:
        p = self.params()
        inner = ", ".join(f"{k}={_fmt(v)}" for k, v in p.items())
        return f"{self.name} ({inner})" if inner else self.name

    def recommend(
        self, user_rows: np.ndarray | list[int], X: sp.csr_matrix, k: int, exclude_seen: bool = True
    ) -> np.ndarray:
        rows = np.asarray(user_rows, dtype=np.int64)
        X = sp.csr_matrix(X)
        out = np.full((len(rows), k), -1, dtype=np.int64)
        if len(rows) == 0 or k <= 0:
            return out
        n_items = X.shape[1]
        batch = max(1, SCORE_CELLS // max(1, n_items))
        for start in range(0, len(rows), batch):
            chunk = rows[start : start + batch]
            s = np.array(self.scores(chunk, X), dtype=np.float64, copy=True)
            if exclude_seen:
                seen = X[chunk]
                r, c = seen.nonzero()
                s[r, c] = -np.inf
            out[start : start + len(chunk)] = top_k_rows(s, k)
        return out


class Random(Baseline):
    name = "random"

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def fit(self, X: sp.csr_matrix) -> Self:
        self.n_items = X.shape[1]
        self.rng = np.random.default_rng(self.seed)
        return self

    def scores(self, user_rows: np.ndarray, X: sp.csr_matrix) -> np.ndarray:
        return self.rng.random((len(user_rows), self.n_items))


class Popularity(Baseline):
    """Purchases per item over the whole training period."""

    name = "popularity"

    def fit(self, X: sp.csr_matrix) -> Self:
        self.popularity = np.asarray(X.sum(axis=0), dtype=np.float64).ravel()
        return self

    def scores(self, user_rows: np.ndarray, X: sp.csr_matrix) -> np.ndarray:
        return np.broadcast_to(self.popularity, (len(user_rows), len(self.popularity)))


class RecentPopularity(Baseline):
    """Buyers per item within the last `window_days` days of training; all-time
    purchases break ties. `days` (same shape as X) holds each (user, item)'s last
    purchase day as an integer (e.g. `date.toordinal()`); without it this is Popularity."""

    name = "recent popularity"

    def __init__(self, window_days: int = 7) -> None:
        self.window_days = int(window_days)

    def params(self) -> dict[str, Any]:
        return {"window_days": self.window_days}

    def fit(self, X: sp.csr_matrix, days: sp.csr_matrix | None = None) -> Self:
        total = np.asarray(X.sum(axis=0), dtype=np.float64).ravel()
        recent = np.zeros_like(total)
        if days is not None and days.nnz:
            d = sp.csr_matrix(days)
            since = d.data.max() - self.window_days + 1
            cols = d.indices[d.data >= since]
            recent = np.bincount(cols, minlength=len(total)).astype(np.float64)
        self.popularity = recent + total / (total.max() + 1.0 if total.size else 1.0)
        return self

    def scores(self, user_rows: np.ndarray, X: sp.csr_matrix) -> np.ndarray:
        return np.broadcast_to(self.popularity, (len(user_rows), len(self.popularity)))


class ItemItem(Baseline):
    """A model whose scores are `binary(X[rows]) @ W` for an items x items matrix W."""

    W: sp.csr_matrix

    def scores(self, user_rows: np.ndarray, X: sp.csr_matrix) -> np.ndarray:
        rows = binarise(sp.csr_matrix(X)[user_rows])
        return np.asarray((rows @ self.W).toarray(), dtype=np.float64)

    def item_neighbours(self, top_n: int) -> sp.csr_matrix:
        """Items x items, the `top_n` highest positive scores per row, no self."""
        W = sp.csr_matrix(self.W, copy=True)
        W.setdiag(0)
        W.data[W.data < 0] = 0
        W.eliminate_zeros()
        return top_n_per_row(W, top_n)


class ItemKNN(ItemItem):
    """Cosine item-item similarity with shrinkage, `k` neighbours per item:
    sim(i, j) = |U_i & U_j| / (sqrt(|U_i|) sqrt(|U_j|) + shrink). Without shrinkage the
    neighbour search is implicit's `all_pairs_knn`; with it, blocked scipy products."""

    name = "ItemKNN"

    def __init__(self, k: int = 100, shrink: float = 0.0, block_items: int = 1024) -> None:
        self.k = int(k)
        self.shrink = float(shrink)
        self.block_items = block_items

    def params(self) -> dict[str, Any]:
        return {"k": self.k, "shrink": self.shrink}

    def fit(self, X: sp.csr_matrix) -> Self:
        B = binarise(sp.csr_matrix(X))
        if self.shrink == 0.0:
            from implicit.nearest_neighbours import all_pairs_knn
            from sklearn.preprocessing import normalize

            normed = sp.csr_matrix(normalize(B.T.tocsr()).T)  # unit-length item columns
            with threadpool_limits(1, "blas"):
                sim = all_pairs_knn(normed, self.k + 1, num_threads=2, show_progress=False)
            sim = sp.csr_matrix(sim)
            sim.setdiag(0)
            sim.eliminate_zeros()
            self.W = top_n_per_row(sim, self.k)
            return self
        norms = np.sqrt(np.asarray(B.sum(axis=0), dtype=np.float64).ravel())
        Bt = B.T.tocsr()

        def block(lo: int, hi: int) -> sp.csr_matrix:
            co = sp.csr_matrix(Bt[lo:hi] @ B, dtype=np.float64)
            denom = norms[lo:hi].repeat(np.diff(co.indptr)) * norms[co.indices] + self.shrink
            co.data = co.data / np.where(denom > 0, denom, 1.0)
            return co

        self.W = blocked_top_n(block, B.shape[1], self.k, self.block_items)
        return self


class EASE(ItemItem):
    """Steck (2019): B = I - P / diag(P), P = (X'X + lam I)^-1, diag(B) = 0, on the
    `max_items` most bought items (dense M x M, so memory is bounded by M^2)."""

    name = "EASE"

    def __init__(self, lam: float = 500.0, max_items: int = 5000) -> None:
        self.lam = float(lam)
        self.max_items = int(max_items)

    def params(self) -> dict[str, Any]:
        return {"lam": self.lam, "max_items": self.max_items}

    def fit(self, X: sp.csr_matrix) -> Self:
        B = binarise(sp.csr_matrix(X))
        n_items = B.shape[1]
        pop = np.asarray(B.sum(axis=0)).ravel()
        order = np.argsort(-pop, kind="stable")
        self.items = np.sort(order[: min(self.max_items, int((pop > 0).sum()))])
        sub = B[:, self.items]
        G = np.asarray((sub.T @ sub).toarray(), dtype=np.float64)
        G[np.diag_indices_from(G)] += self.lam
        P = np.linalg.inv(G)
        Bm = -P / np.diag(P)[None, :]
        Bm[np.diag_indices_from(Bm)] = 0.0
        self.B = Bm
        self.n_items = n_items
        self._W: sp.csr_matrix | None = None
        return self

    @property
    def W(self) -> sp.csr_matrix:
        """B on the full item axis, built on first use (scoring uses the dense B)."""
        if self._W is None:
            rows, cols = np.nonzero(self.B)
            self._W = sp.csr_matrix(
                (self.B[rows, cols], (self.items[rows], self.items[cols])),
                shape=(self.n_items, self.n_items),
            )
        return self._W

    def scores(self, user_rows: np.ndarray, X: sp.csr_matrix) -> np.ndarray:
        rows = binarise(sp.csr_matrix(X)[user_rows][:, self.items])
        out = np.full((len(user_rows), self.n_items), -np.inf)
        out[:, self.items] = np.asarray(rows @ self.B, dtype=np.float64)
        return out


class RP3beta(ItemItem):
    """Paudel et al. (2017) / Dacrema et al. (2019): W = (P_iu^alpha @ P_ui^alpha) / pop^beta,
    with P_ui, P_iu the row-normalised user->item and item->user transition matrices,
    (element-wise powers), `k` neighbours per item."""

    name = "RP3beta"

    def __init__(
        self, alpha: float = 1.0, beta: float = 0.5, k: int = 100, block_items: int = 1024
    ) -> None:
        self.alpha = float(alpha)
        self.beta = float(beta)
        self.k = int(k)
        self.block_items = block_items

    def params(self) -> dict[str, Any]:
        return {"alpha": self.alpha, "beta": self.beta, "k": self.k}

    def fit(self, X: sp.csr_matrix) -> Self:
        B = binarise(sp.csr_matrix(X))
        p_ui = row_normalise(B)
        p_iu = row_normalise(B.T.tocsr())
        if self.alpha != 1.0:
            p_ui.data **= self.alpha
            p_iu.data **= self.alpha
        pop = np.asarray(B.sum(axis=0), dtype=np.float64).ravel()
        with np.errstate(divide="ignore"):
            scale = np.where(pop > 0, pop ** (-self.beta), 0.0)

        def block(lo: int, hi: int) -> sp.csr_matrix:
            w = sp.csr_matrix(p_iu[lo:hi] @ p_ui, dtype=np.float64)
            w.data *= scale[w.indices]
            return w

        self.W = blocked_top_n(block, B.shape[1], self.k, self.block_items)
        return self


class Factorisation(Baseline):
    """implicit's ALS or BPR (CPU). Known users: their learnt factors; other rows
    (carts, histories the model never saw): ALS recomputes the user factor, BPR takes
    the mean of the row's item factors."""

    kind = "als"

    def __init__(self, **params: Any) -> None:
        self._params = params

    def params(self) -> dict[str, Any]:
        return dict(self._params)

    def _model(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def fit(self, X: sp.csr_matrix) -> Self:
        self.X = sp.csr_matrix(X, dtype=np.float32)
        with threadpool_limits(1, "blas"), warnings.catch_warnings():
            # implicit's advice: its own threads, not BLAS's (limited here, so its
            # check of the global BLAS setting is noise)
            warnings.filterwarnings("ignore", message=".*BLAS.*")
            model = self._model()
            model.fit(self.X, show_progress=False)
        self.model = model
        self.item_factors = np.asarray(model.item_factors)
        self.user_factors = np.asarray(model.user_factors)
        return self

    def scores(self, user_rows: np.ndarray, X: sp.csr_matrix) -> np.ndarray:
        if X is self.X or (
            X.shape == self.X.shape
            and X.nnz == self.X.nnz
            and (X.indptr == self.X.indptr).all()
            and (X.indices == self.X.indices).all()
        ):
            users = self.user_factors[user_rows]
        else:
            users = self.fold_in(sp.csr_matrix(X, dtype=np.float32)[user_rows])
        return np.asarray(users @ self.item_factors.T, dtype=np.float64)

    def fold_in(self, rows: sp.csr_matrix) -> np.ndarray:
        out = np.zeros((rows.shape[0], self.item_factors.shape[1]), dtype=np.float32)
        for i in range(rows.shape[0]):
            cols = rows.indices[rows.indptr[i] : rows.indptr[i + 1]]
            if len(cols):
                out[i] = self.item_factors[cols].mean(axis=0)
        return out


class ALS(Factorisation):
    name = "ALS"

    def __init__(
        self,
        factors: int = 64,
        regularization: float = 0.05,
        alpha: float = 1.0,
        iterations: int = 15,
        seed: int = 0,
    ) -> None:
        super().__init__(
            factors=int(factors),
            regularization=float(regularization),
            alpha=float(alpha),
            iterations=int(iterations),
        )
        self.seed = seed

    def _model(self) -> Any:
        from implicit.cpu.als import AlternatingLeastSquares

        return AlternatingLeastSquares(random_state=self.seed, num_threads=2, **self._params)

    def fold_in(self, rows: sp.csr_matrix) -> np.ndarray:
        out = np.zeros((rows.shape[0], self.item_factors.shape[1]), dtype=np.float32)
        for i in range(rows.shape[0]):
            if rows.indptr[i + 1] > rows.indptr[i]:
                out[i] = np.asarray(self.model.recalculate_user(0, rows[i])).ravel()
        return out


class BPR(Factorisation):
    name = "BPR"

    def __init__(
        self,
        factors: int = 64,
        learning_rate: float = 0.01,
        regularization: float = 0.01,
        iterations: int = 100,
        seed: int = 0,
    ) -> None:
        super().__init__(
            factors=int(factors),
            learning_rate=float(learning_rate),
            regularization=float(regularization),
            iterations=int(iterations),
        )
        self.seed = seed

    def _model(self) -> Any:
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        return BayesianPersonalizedRanking(random_state=self.seed, num_threads=2, **self._params)

    def fold_in(self, rows: sp.csr_matrix) -> np.ndarray:
        out = super().fold_in(rows)
        out[:, -1] = 1.0  # implicit's BPR: the last item column is the bias, the user's is 1
        return out


# -- search spaces (Optuna), one per tunable baseline ------------------------------------

Suggest = Callable[[Any], Baseline]

SEARCH_SPACES: dict[str, Suggest] = {
    "recent popularity": lambda t: RecentPopularity(t.suggest_int("window_days", 1, 56, log=True)),
    "ItemKNN": lambda t: ItemKNN(
        k=t.suggest_int("k", 5, 800, log=True), shrink=t.suggest_float("shrink", 0.0, 200.0)
    ),
    "EASE": lambda t: EASE(lam=t.suggest_float("lam", 1.0, 1e4, log=True)),
    "RP3beta": lambda t: RP3beta(
        alpha=t.suggest_float("alpha", 0.2, 1.5),
        beta=t.suggest_float("beta", 0.0, 1.0),
        k=t.suggest_int("k", 5, 800, log=True),
    ),
    "ALS": lambda t: ALS(
        factors=t.suggest_categorical("factors", [16, 32, 64, 128]),
        regularization=t.suggest_float("regularization", 1e-3, 1.0, log=True),
        alpha=t.suggest_float("alpha", 0.5, 50.0, log=True),
        iterations=t.suggest_int("iterations", 5, 30),
    ),
    "BPR": lambda t: BPR(
        factors=t.suggest_categorical("factors", [16, 32, 64, 128]),
        learning_rate=t.suggest_float("learning_rate", 1e-3, 0.1, log=True),
        regularization=t.suggest_float("regularization", 1e-4, 0.1, log=True),
        iterations=t.suggest_int("iterations", 30, 300, log=True),
    ),
}


# -- sparse helpers ----------------------------------------------------------------------


def binarise(X: sp.csr_matrix) -> sp.csr_matrix:
    B = sp.csr_matrix(X, dtype=np.float64, copy=True)
    B.sum_duplicates()
    B.data[:] = 1.0
    B.eliminate_zeros()
    return B


def row_normalise(X: sp.csr_matrix) -> sp.csr_matrix:
    """Each row divided by its sum (rows of zeros stay zero)."""
    X = sp.csr_matrix(X, dtype=np.float64, copy=True)
    sums = np.asarray(X.sum(axis=1)).ravel()
    sums[sums == 0] = 1.0
    X.data /= sums.repeat(np.diff(X.indptr))
    return X


def top_k_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """Column indices of each row's k highest finite scores (ties: lower index first);
    -1 where a row has fewer than k finite scores."""
    n, m = scores.shape
    kk = min(k, m)
    out = np.full((n, k), -1, dtype=np.int64)
    if kk == 0:
        return out
    neg = -scores
    part = np.argpartition(neg, kk - 1, axis=1)[:, :kk] if kk < m else np.tile(np.arange(m), (n, 1))
    # stable order: by score desc, then by index asc
    vals = np.take_along_axis(neg, part, axis=1)
    order = np.lexsort((part, vals), axis=1)
    top = np.take_along_axis(part, order, axis=1)
    finite = np.isfinite(np.take_along_axis(scores, top, axis=1))
    out[:, :kk] = np.where(finite, top, -1)
    return out


def top_n_per_row(M: sp.csr_matrix, n: int) -> sp.csr_matrix:
    """Keep each row's n largest entries (ties: lower column first)."""
    M = sp.csr_matrix(M)
    M.sort_indices()
    counts = np.diff(M.indptr)
    if n <= 0:
        return sp.csr_matrix(M.shape, dtype=M.dtype)
    if (counts <= n).all():
        return M.copy()
    keep = np.zeros(M.nnz, dtype=bool)
    for r in np.flatnonzero(counts):
        lo, hi = M.indptr[r], M.indptr[r + 1]
        if hi - lo <= n:
            keep[lo:hi] = True
            continue
        vals = M.data[lo:hi]
        order = np.lexsort((M.indices[lo:hi], -vals))[:n]
        keep[lo + order] = True
    rows = np.repeat(np.arange(M.shape[0]), counts)[keep]
    return sp.csr_matrix((M.data[keep], (rows, M.indices[keep])), shape=M.shape)


def blocked_top_n(
    block: Callable[[int, int], sp.csr_matrix], n_rows: int, n: int, block_rows: int
) -> sp.csr_matrix:
    """Build an n_rows x n_cols matrix block by block (rows lo:hi), dropping the diagonal
    and keeping the top n per row, so memory is bounded by block_rows x n_cols."""
    parts = []
    for lo in range(0, n_rows, max(1, block_rows)):
        hi = min(n_rows, lo + max(1, block_rows))
        part = sp.csr_matrix(block(lo, hi))
        part = part.tocoo()
        off = part.row + lo != part.col
        part = sp.csr_matrix(
            (part.data[off], (part.row[off], part.col[off])), shape=(hi - lo, part.shape[1])
        )
        part.eliminate_zeros()
        parts.append(top_n_per_row(part, n))
    if not parts:
        return sp.csr_matrix((n_rows, n_rows))
    return sp.csr_matrix(sp.vstack(parts, format="csr"))


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v)
