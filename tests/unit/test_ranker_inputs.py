"""The learned ranker's inputs cannot see the future: a purchase on or after a window's
first day changes neither the staged training folder (what the throwaway graph and its
derived structure are built from) nor the model sources, statistics or features of any
training request. Also: validation carving for per-customer splits, the paired
bootstrap, and Optuna tuning of a baseline."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import scipy.sparse as sp

from ragrec.etl.generator import generate
from ragrec.evaluation import candidates
from ragrec.evaluation.baselines import EASE
from ragrec.evaluation.candidates import AsOf, read_catalogue
from ragrec.evaluation.selection import paired_bootstrap, tune_baseline
from ragrec.evaluation.splits import split_folder
from ragrec.recommender import ranker
from ragrec.recommender.types import Candidate, ProductInfo

KEY = b"leak-test-key"


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("shop")
    generate(folder, products=150, customers=200, transactions=3000, days=60, seed=5,
             progress=False)  # fmt: skip
    return folder


def features_as_of(folder: Path, out: Path) -> tuple[bytes, dict[str, np.ndarray], np.ndarray]:
    """Stage a window the way `ragrec evaluate` does; return the training folder's
    transactions, each customer's features and EASE's item-item matrix."""
    split = split_folder(folder, out / "train", KEY, test_days=7)
    window = split_folder(split.train_dir, out / "window", KEY, test_days=7, min_purchases=2)
    assert window.cutoff is not None
    staged = (window.train_dir / "transactions_train.csv").read_bytes()
    asof = AsOf(window.train_frame, window.cutoff, read_catalogue(folder), n_candidates=20)
    customers = sorted(c for c in window.test if window.train.get(c))[:40]
    assert customers
    histories = [[h["id"] for h in asof.customers[c].history] for c in customers]
    sources = asof.sources(histories, [set(h) for h in histories])
    feats = {}
    for c, src, h in zip(customers, sources, histories, strict=True):
        pool = asof.pool(c, src, exclude=set(h), repurchase=True)
        ids, x = ranker.pool_features(pool)
        feats[c] = np.column_stack([np.array([int(i) for i in ids], dtype=np.float64), x])
    return staged, feats, asof.models["ease"].W.toarray()


def add_purchases(folder: Path, out: Path, days_before_last: tuple[int, ...]) -> object:
    """Copy `folder` to `out` with 6 new (customer, product) purchases of the first
    customer, on each given number of days before the last day."""
    shutil.copytree(folder, out)
    tx = pl.read_csv(out / "transactions_train.csv", infer_schema=False)
    last = tx["t_dat"].str.to_date("%Y-%m-%d").max()
    assert last is not None
    buyer = tx["customer_id"][0]
    owned = set(tx.filter(pl.col("customer_id") == buyer)["article_id"].to_list())
    fresh = [p for p in sorted(set(tx["article_id"].to_list())) if p not in owned][:6]
    rows = [
        {"t_dat": str(last - timedelta(days=d)), "customer_id": buyer, "article_id": p}
        for d in days_before_last
        for p in fresh
    ]
    extra = pl.DataFrame(rows)
    for col in tx.columns:
        if col not in extra.columns:
            extra = extra.with_columns(pl.lit(tx[col][0]).alias(col))
    pl.concat([tx, extra.select(tx.columns)]).write_csv(out / "transactions_train.csv")
    return last


def test_a_purchase_on_or_after_the_cutoff_changes_no_training_feature(
    shop: Path, tmp_path: Path
) -> None:
    before = features_as_of(shop, tmp_path / "before")
    # purchases on the window's first day and later, by a customer with a history, of
    # products they never bought: a leak would show in every feature family
    last = add_purchases(shop, tmp_path / "changed", days_before_last=(13, 10))
    assert last is not None
    after = features_as_of(tmp_path / "changed", tmp_path / "after")
    staged_before, feats_before, ease_before = before
    staged_after, feats_after, ease_after = after
    assert staged_after == staged_before  # the graph of the window is built from this
    assert ease_after == pytest.approx(ease_before)
    common = feats_before.keys() & feats_after.keys()
    assert len(common) >= 30
    for c in common:
        np.testing.assert_array_equal(feats_after[c], feats_before[c])


def test_a_purchase_before_the_cutoff_does_change_features(shop: Path, tmp_path: Path) -> None:
    """The comparison above can fail: the same purchases before the window are seen."""
    before = features_as_of(shop, tmp_path / "before")
    add_purchases(shop, tmp_path / "changed", days_before_last=(20, 17))
    after = features_as_of(tmp_path / "changed", tmp_path / "after")
    assert after[0] != before[0]
    assert not np.allclose(after[2], before[2])


def test_per_customer_validation_is_not_empty(shop: Path, tmp_path: Path) -> None:
    split = split_folder(shop, tmp_path / "train", KEY, kind="per-customer", test_fraction=0.1)
    val = split_folder(
        split.train_dir, tmp_path / "val", KEY, kind="per-customer", test_fraction=0.1,
        min_purchases=2,
    )  # fmt: skip
    users = [c for c in val.test if val.train.get(c)]
    assert len(users) > 20
    for c in users:  # the validation part is each customer's latest training purchases
        assert val.test[c] <= split.train[c]


def test_paired_bootstrap() -> None:
    rng = np.random.default_rng(0)
    b = rng.random(400)
    better = paired_bootstrap(b + 0.05, b, names=("a", "b"))
    assert better.p_value < 0.01 and better.ci_low > 0
    assert better.verdict().startswith("a > b")
    same = paired_bootstrap(b + rng.normal(0, 0.01, 400), b)
    assert 0.01 < same.p_value < 0.99
    assert "no significant" in same.verdict()
    with pytest.raises(ValueError):
        paired_bootstrap(b, b[:10])


def test_tune_baseline_finds_the_better_lambda() -> None:
    rng = np.random.default_rng(1)
    X = sp.csr_matrix((rng.random((80, 20)) < 0.2).astype(np.float32))
    calls = []

    def score(model: EASE) -> float:  # prefers large lambdas
        calls.append(model.lam)
        return float(np.log(model.lam))

    model, tuned = tune_baseline("EASE", X, score, trials=8, seed=0)  # type: ignore[arg-type]
    assert len(calls) == 8 == tuned.trials
    assert isinstance(model, EASE) and model.lam == max(calls)
    assert tuned.params["lam"] == model.lam


def _frame(rows: list[tuple[str, str, int]], last: date) -> pl.DataFrame:
    """(customer, article, days before `last`) -> the pairs frame `AsOf` reads."""
    return pl.DataFrame(
        {
            "customer": [c for c, _, _ in rows],
            "article": [a for _, a, _ in rows],
            "day": [last - timedelta(days=d) for _, _, d in rows],
        }
    )


def test_recent_neighbours_weigh_similar_customers_recent_purchases() -> None:
    """score(item) = sum over the most similar customers (cosine over bought items, the
    requester left out) of similarity x 0.5 ** (age / half-life)."""
    last = date(2024, 3, 31)
    A, B, C, Z, W, Q = (f"000000{i}001" for i in range(1, 7))
    frame = _frame(
        [("me", A, 30), ("me", B, 30), ("me", Q, 0),  # Q: my own, recent
         ("n1", A, 40), ("n1", B, 40), ("n1", Z, 0),  # like me, bought Z yesterday
         ("n2", A, 40), ("n2", C, 40), ("n2", W, 14)],  # half like me, W 14 days before
        last,
    )  # fmt: skip
    catalogue = {p: ProductInfo(p) for p in (A, B, C, Z, W, Q)}
    asof = AsOf(frame, last + timedelta(days=1), catalogue, n_candidates=10)
    got = asof.sources([[A, B]], [set()], ["me"])[0]["recent_neighbours"]
    scores = {c.product_id: c.score for c in got}
    half = 0.5 ** (14 / candidates.NEIGHBOUR_HALF_LIFE_DAYS)
    sim_n1 = 2 / (np.sqrt(2) * np.sqrt(3))
    sim_n2 = 1 / (np.sqrt(2) * np.sqrt(3))
    assert scores[Z] == pytest.approx(sim_n1)
    assert scores[W] == pytest.approx(sim_n2 * half)
    assert scores[C] == pytest.approx(sim_n2 * 0.5 ** (40 / candidates.NEIGHBOUR_HALF_LIFE_DAYS))
    assert Q not in scores  # "me" is not my own neighbour
    assert A not in scores and B not in scores  # the row's own items are never proposed
    assert [c.product_id for c in got][:2] == [Z, W]
    # without knowing the requester, their own recent purchase comes back through them
    anonymous = asof.sources([[A, B]], [set()])[0]["recent_neighbours"]
    assert Q in {c.product_id for c in anonymous}


def test_siblings_are_the_other_variants_of_a_chosen_product() -> None:
    last = date(2024, 3, 31)
    frame = _frame([("x", "0100001002", 1), ("y", "0100001002", 1), ("y", "0100001003", 2),
                    ("x", "0200002001", 3)], last)  # fmt: skip
    ids = ["0100001001", "0100001002", "0100001003", "0100001004", "0200002001", "0200002002"]
    asof = AsOf(frame, last + timedelta(days=1), {p: ProductInfo(p) for p in ids})
    assert candidates.product_code("0100001002") == "0100001"
    assert candidates.product_code("abc") is None
    got = asof.sources([["0100001001", "0200002001"]], [{"0100001004"}])[0]["siblings"]
    # same code, not in the cart, not excluded; ties (one cart item each) by sales
    assert [c.product_id for c in got] == ["0100001002", "0100001003", "0200002002"]
    assert all(c.generator == "siblings" for c in got)


def test_a_ranker_scores_only_the_sources_it_learnt_on(shop: Path, tmp_path: Path) -> None:
    """Trained on model sources only (`--no-graph-windows`), the ranker ranks a serving
    pool with an extra source exactly as it ranks the pool without it."""
    split = split_folder(shop, tmp_path / "train", KEY, test_days=7)
    window = split_folder(split.train_dir, tmp_path / "w", KEY, test_days=7, min_purchases=2)
    assert window.cutoff is not None
    asof = AsOf(window.train_frame, window.cutoff, read_catalogue(shop), n_candidates=20)
    customers = sorted(c for c in window.test if window.train.get(c))
    histories = [[h["id"] for h in asof.customers[c].history] for c in customers]
    sources = asof.sources(histories, [set(h) for h in histories], customers)
    pools = [asof.pool(c, s, exclude=set(h)) for c, s, h in zip(customers, sources, histories,
                                                                 strict=True)]  # fmt: skip
    labels = [window.test[c] for c in customers]
    summary = ranker.train(pools, labels, tmp_path / "ranker", n_estimators=20)
    learned = ranker.LearnedFusion.load(tmp_path / "ranker", summary.version)
    assert "popularity" not in learned.meta["sources"] and "ease" in learned.meta["sources"]
    pool = pools[0]
    proposed = {c.product_id for items in pool.lists.values() for c in items}
    extra = next(p for p in sorted(asof.catalogue) if p not in pool.exclude | proposed)
    served = replace(pool, lists={**pool.lists, "popularity": [
        Candidate(extra, 9.0, "popularity", "popular"), *pool.lists["ease"][:5]]})  # fmt: skip
    plain = [(s.product_id, s.score) for s in learned.fuse(pool)]
    assert [(s.product_id, s.score) for s in learned.fuse(served)] == plain
    assert extra not in {pid for pid, _ in plain}


def test_one_seed_samples_the_same_customers_each_run(shop: Path, tmp_path: Path) -> None:
    """The evaluation samples customers in the order of their pseudonyms: under the
    seed's key two runs draw the same ones (a random key per run drew others each run,
    so two runs of one seed disagreed)."""
    from ragrec.evaluation.runner import evaluation_key, sample_stage

    def sample(key: str, out: str) -> list[str]:
        split = split_folder(shop, tmp_path / out, key.encode(), test_days=7)
        stage = sample_stage("test", split, 10, np.random.default_rng(0))
        assert len(stage.customers) == 10
        return stage.customers

    assert evaluation_key(0) == evaluation_key(0) != evaluation_key(1)
    first, second = sample(evaluation_key(0), "a"), sample(evaluation_key(0), "b")
    assert first == second
