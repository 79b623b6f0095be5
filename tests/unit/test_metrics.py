"""Ranking metrics with hand-computed answers, and the splits that keep held-out
purchases out of the training folder."""

from __future__ import annotations

import math
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from ragrec.etl.pseudonymise import pseudonymise_customer_id
from ragrec.evaluation.metrics import (
    average_precision_at_k,
    coverage,
    hit_rate_at_k,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
    summarise,
)
from ragrec.evaluation.splits import split_baskets, split_folder

KEY = b"test-key"


def test_ndcg() -> None:
    assert ndcg_at_k(["a", "b"], {"a"}, 10) == 1.0
    assert ndcg_at_k(["x", "a"], {"a"}, 10) == pytest.approx(1 / math.log2(3))
    ideal = 1 + 1 / math.log2(3)
    assert ndcg_at_k(["x", "a", "b"], {"a", "b"}, 10) == pytest.approx(
        (1 / math.log2(3) + 1 / math.log2(4)) / ideal
    )
    assert ndcg_at_k(["a"], set(), 10) == 0.0
    assert ndcg_at_k(["x"] * 10 + ["a"], {"a"}, 10) == 0.0


def test_precision_recall_hit_rate() -> None:
    ranked = ["a", "x", "b", "y", "z"]
    assert precision_at_k(ranked, {"a", "b", "c"}, 5) == 2 / 5
    assert precision_at_k(["a"], {"a"}, 5) == 1 / 5  # short lists are not rewarded
    assert recall_at_k(ranked, {"a", "b", "c", "d"}, 10) == 0.5
    assert hit_rate_at_k(ranked, {"z"}, 5) == 1.0
    assert hit_rate_at_k(ranked, {"z"}, 4) == 0.0


def test_map_at_12_is_the_competition_metric() -> None:
    # hits at 1 and 3: (1/1 + 2/3) / min(2, 12)
    assert average_precision_at_k(["a", "x", "b"], {"a", "b"}, 12) == pytest.approx((1 + 2 / 3) / 2)
    # more relevant items than k: divided by k
    many = {f"p{i}" for i in range(20)}
    assert average_precision_at_k(["p0"], many, 12) == pytest.approx(1 / 12)
    assert average_precision_at_k(["x"] * 12 + ["a"], {"a"}, 12) == 0.0


def test_coverage_and_summary() -> None:
    assert coverage([["a", "b"], ["b", "c"]], 10, 10) == 0.3
    assert coverage([["a", "b"], ["b", "c"]], 10, 1) == 0.2
    out = summarise([["a", "b"], ["x"]], [{"a"}, {"y"}], 4, k=10, latencies_ms=[1.0, 3.0])
    assert out["ndcg@10"] == 0.5
    assert out["hr@10"] == 0.5
    assert out["coverage"] == 0.75
    assert out["p50_ms"] == 2.0
    with pytest.raises(ValueError):
        summarise([["a"]], [], 4)


def _folder(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    pl.DataFrame(
        {
            "article_id": ["108775015", "108775044", "110065001"],
            "prod_name": ["a", "b", "c"],
            "product_type_name": ["t", "t", "u"],
            "product_group_name": ["g", "g", "g"],
        }
    ).write_csv(src / "articles.csv")
    pl.DataFrame({"customer_id": [f"c{i}" for i in range(3)], "age": [20, 30, 40]}).write_csv(
        src / "customers.csv"
    )
    start = date(2020, 9, 1)
    rows = []
    for day in range(20):
        for c in range(3):
            rows.append(
                (
                    (start + timedelta(days=day)).isoformat(),
                    f"c{c}",
                    "108775015" if day % 2 else "110065001",
                    "0.01",
                    "2",
                )
            )
    pl.DataFrame(
        rows,
        schema=["t_dat", "customer_id", "article_id", "price", "sales_channel_id"],
        orient="row",
    ).write_csv(src / "transactions_train.csv")
    return src


def test_temporal_split_writes_no_held_out_day(tmp_path: Path) -> None:
    split = split_folder(_folder(tmp_path), tmp_path / "train", KEY, test_days=7)
    assert split.cutoff == date(2020, 9, 14)
    train = pl.read_csv(tmp_path / "train" / "transactions_train.csv", infer_schema=False)
    assert train["t_dat"].max() == "2020-09-13"
    assert train.height == split.train_rows == 39
    assert split.test_rows == 21
    assert (tmp_path / "train" / "articles.csv").exists()
    assert set(split.test) == {pseudonymise_customer_id(f"c{i}", KEY) for i in range(3)}
    assert split.test[pseudonymise_customer_id("c0", KEY)] == {"0108775015", "0110065001"}


def test_per_customer_split_holds_out_the_last_fraction(tmp_path: Path) -> None:
    split = split_folder(
        _folder(tmp_path), tmp_path / "train", KEY, kind="per-customer", test_fraction=0.1
    )
    assert split.cutoff is None
    assert split.test_rows == 3 * 2  # ceil(20 * 0.1) per customer
    train = pl.read_csv(tmp_path / "train" / "transactions_train.csv", infer_schema=False)
    assert train["t_dat"].max() == "2020-09-18"


def test_basket_split_hides_one_item_per_basket(tmp_path: Path) -> None:
    src = _folder(tmp_path)
    tx = pl.read_csv(src / "transactions_train.csv", infer_schema=False)
    extra = tx.with_columns(pl.lit("108775044").alias("article_id"))
    pl.concat([tx, extra]).write_csv(src / "transactions_train.csv")
    split = split_baskets(src, tmp_path / "train", KEY, max_baskets=10, validation_baskets=5)
    assert len(split.test) == 10 and len(split.validation) == 5
    train = pl.read_csv(tmp_path / "train" / "transactions_train.csv", infer_schema=False)
    assert train.height == 120 - 15
    for _customer, _day, cart, hidden in split.test + split.validation:
        assert hidden not in cart and len(cart) == 1
