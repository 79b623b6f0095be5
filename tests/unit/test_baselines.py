"""Baselines on tiny hand-made matrices with answers worked out by hand."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import polars as pl
import pytest
import scipy.sparse as sp

from ragrec.evaluation.baselines import (
    ALS,
    BPR,
    EASE,
    ItemKNN,
    Popularity,
    Random,
    RecentPopularity,
    RP3beta,
    top_k_rows,
    top_n_per_row,
)
from ragrec.evaluation.interactions import Interactions


def csr(rows: list[list[float]]) -> sp.csr_matrix:
    return sp.csr_matrix(np.array(rows, dtype=np.float32))


# users: u0 bought items 0 and 1, u1 items 1 and 2
CHAIN = csr([[1, 1, 0], [0, 1, 1]])


def test_ease_two_items_closed_form() -> None:
    # item 0 bought by u0, u1, u2; item 1 by u0 only: G = [[3, 1], [1, 1]] (+ lam I)
    # P = G^-1; B_ij = -P_ij / P_jj  =>  B_01 = c / (a + lam), B_10 = c / (b + lam)
    X = csr([[1, 1], [1, 0], [1, 0]])
    model = EASE(lam=1.0).fit(X)
    assert model.W.toarray() == pytest.approx(np.array([[0.0, 1 / 4], [1 / 2, 0.0]]))


def test_ease_matches_the_numpy_closed_form_and_scores_users() -> None:
    rng = np.random.default_rng(3)
    X = sp.csr_matrix((rng.random((40, 6)) < 0.4).astype(np.float32))
    lam = 2.5
    G = (X.T @ X).toarray().astype(np.float64) + lam * np.eye(6)
    P = np.linalg.inv(G)
    B = np.eye(6) - P / np.diag(P)
    model = EASE(lam=lam).fit(X * 3)  # counts are binarised first
    assert model.W.toarray() == pytest.approx(B, abs=1e-9)
    assert model.scores(np.array([0, 1]), X)[:, model.items] == pytest.approx(
        X[[0, 1]].toarray() @ B
    )


def test_ease_keeps_only_the_top_m_items() -> None:
    X = csr([[1, 1, 0, 1], [1, 1, 0, 0], [1, 0, 1, 0], [1, 0, 0, 0]])  # pops 4, 2, 1, 1
    model = EASE(lam=1.0, max_items=2).fit(X)
    assert model.items.tolist() == [0, 1]
    s = model.scores(np.array([2]), X)
    assert np.isinf(s[0, 2]) and np.isinf(s[0, 3])
    top = model.recommend([3], X, k=3)  # u3 bought item 0: only item 1 is left to score
    assert top.tolist() == [[1, -1, -1]]


def test_rp3beta_transition_products() -> None:
    # P_ui: u0 -> (1/2, 1/2, 0), u1 -> (0, 1/2, 1/2)
    # P_iu: i0 -> (1, 0), i1 -> (1/2, 1/2), i2 -> (0, 1)
    # P_iu @ P_ui = [[.5, .5, 0], [.25, .5, .25], [0, .5, .5]]; columns / pop^beta (1, 2, 1)
    W = RP3beta(alpha=1.0, beta=0.5, k=10).fit(CHAIN).W.toarray()
    r2 = 1 / math.sqrt(2)
    np.testing.assert_allclose(W, [[0, 0.5 * r2, 0], [0.25, 0, 0.25], [0, 0.5 * r2, 0]])
    # alpha = 2 squares every transition probability first
    W2 = RP3beta(alpha=2.0, beta=0.0, k=10).fit(CHAIN).W.toarray()
    np.testing.assert_allclose(W2, [[0, 0.25, 0], [0.0625, 0, 0.0625], [0, 0.25, 0]])


def test_itemknn_cosine_and_shrinkage() -> None:
    # |U_0 & U_1| = 1, |U_0| = 1, |U_1| = 2: cosine 1 / sqrt(2); shrink 1: 1 / (sqrt(2) + 1)
    plain = ItemKNN(k=10).fit(CHAIN).W.toarray()
    assert plain[0, 1] == pytest.approx(1 / math.sqrt(2))
    assert plain[0, 2] == 0 and plain[0, 0] == 0
    shrunk = ItemKNN(k=10, shrink=1.0).fit(CHAIN).W.toarray()
    assert shrunk[0, 1] == pytest.approx(1 / (math.sqrt(2) + 1))
    assert shrunk[1, 2] == pytest.approx(1 / (math.sqrt(2) + 1))


def test_itemknn_implicit_path_equals_the_blocked_path() -> None:
    rng = np.random.default_rng(1)
    X = sp.csr_matrix((rng.random((120, 30)) < 0.15).astype(np.float32))
    a = ItemKNN(k=29).fit(X).W.toarray()  # implicit's all_pairs_knn
    b = ItemKNN(k=29, shrink=1e-12, block_items=7).fit(X).W.toarray()  # scipy, in blocks
    assert a == pytest.approx(b, abs=1e-6)


@pytest.mark.parametrize(
    "model", [ItemKNN(k=2), EASE(lam=0.5), RP3beta(k=2)], ids=["knn", "ease", "rp3"]
)
def test_item_neighbours_no_self_at_most_top_n(model: ItemKNN | EASE | RP3beta) -> None:
    rng = np.random.default_rng(2)
    X = sp.csr_matrix((rng.random((60, 12)) < 0.3).astype(np.float32))
    nn = model.fit(X).item_neighbours(2)
    assert nn.shape == (12, 12)
    assert np.diff(nn.indptr).max() <= 2
    assert nn.diagonal().sum() == 0
    assert (nn.data > 0).all()


def test_popularity_and_recent_popularity() -> None:
    X = csr([[1, 0, 0], [1, 0, 1], [1, 1, 0], [0, 1, 0]])  # all-time: item 0 first
    d0 = date(2024, 1, 1).toordinal()
    days = csr([[d0, 0, 0], [d0, 0, d0 + 9], [d0, d0 + 9, 0], [0, d0 + 8, 0]])
    assert Popularity().fit(X).recommend([3], X, k=3).tolist() == [[0, 2, -1]]
    recent = RecentPopularity(window_days=2).fit(X, days)  # days d0+8, d0+9: item 1 twice
    # item 1: 2 recent buyers + 2/4; item 2: 1 + 1/4; item 0: 0 + 3/4
    assert recent.recommend([0], X, k=3).tolist() == [[1, 2, -1]]
    assert recent.recommend([0], X, k=3, exclude_seen=False).tolist() == [[1, 2, 0]]


def test_random_is_seeded() -> None:
    X = csr([[1, 0, 0, 0, 0]] * 3)
    a = Random(seed=4).fit(X).recommend([0, 1], X, k=4)
    b = Random(seed=4).fit(X).recommend([0, 1], X, k=4)
    assert a.tolist() == b.tolist()
    assert 0 not in a


def block_data() -> sp.csr_matrix:
    """Two groups: users 0-19 buy items 0-4, users 20-39 items 5-9 (each misses one)."""
    rows = []
    for u in range(40):
        base = 0 if u < 20 else 5
        rows.append([1.0 if base <= i < base + 5 and i != base + u % 5 else 0.0 for i in range(10)])
    return csr(rows)


@pytest.mark.parametrize(
    "model",
    [
        ItemKNN(k=5),
        EASE(lam=1.0),
        RP3beta(k=5),
        ALS(factors=4, iterations=20, regularization=0.01),
        BPR(factors=4, iterations=300, learning_rate=0.05),
    ],
    ids=["knn", "ease", "rp3", "als", "bpr"],
)
def test_models_fill_the_missing_item_of_the_group(model: ItemKNN) -> None:
    X = block_data()
    model.fit(X)
    top = model.recommend(np.arange(40), X, k=1)[:, 0]
    missing = np.array([(0 if u < 20 else 5) + u % 5 for u in range(40)])
    assert (top == missing).mean() >= 0.9
    cart = sp.csr_matrix(np.eye(10, dtype=np.float32)[[5, 6]].sum(axis=0, keepdims=True))
    assert model.recommend([0], cart, k=1)[0, 0] in {7, 8, 9}  # a cart the model never saw


def test_top_helpers_tie_break_by_index() -> None:
    s = np.array([[0.5, 0.9, 0.9, -np.inf]])
    assert top_k_rows(s, 5).tolist() == [[1, 2, 0, -1, -1]]
    M = sp.csr_matrix(np.array([[0.0, 2.0, 2.0, 1.0]]))
    assert top_n_per_row(M, 2).toarray().tolist() == [[0.0, 2.0, 2.0, 0.0]]


def test_interactions_counts_and_last_days() -> None:
    pairs = pl.DataFrame(
        {
            "customer": ["a", "a", "b"],
            "article": ["p1", "p1", "p2"],
            "day": [date(2024, 1, 1), date(2024, 1, 5), date(2024, 1, 2)],
        }
    )
    data = Interactions.from_pairs(pairs, catalogue=["p3"])
    assert data.items == ["p1", "p2", "p3"]
    assert data.matrix.toarray().tolist() == [[2, 0, 0], [0, 1, 0]]
    assert data.days[0, 0] == date(2024, 1, 5).toordinal()
    assert data.rows_of([["p3", "zz"]]).toarray().tolist() == [[0, 0, 1]]
