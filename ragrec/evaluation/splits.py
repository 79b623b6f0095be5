"""Split an H&M-format folder into a training folder (what the throwaway graph sees) and
held-out purchases (what the metrics compare with). The split happens on the raw files,
before anything is loaded, so nothing held out can reach the graph.

* temporal: one global cutoff; the last `test_days` days are held out.
* per-customer: each customer with at least `min_purchases` purchases holds out the
  last `test_fraction` of them (by date); everyone else trains on everything.
* baskets: one item of each sampled basket (one customer, one day, >= 2 items) is
  hidden; the rest of the basket stays in training and becomes the cart.
"""

from __future__ import annotations

import math
import shutil
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl

from ragrec.etl.pseudonymise import pseudonymise_series
from ragrec.etl.readers import find_sources

SplitKind = Literal["temporal", "per-customer"]
DAY = "__day"
ROW = "__row"
CUSTOMER = "__customer"
ARTICLE = "__article"


@dataclass
class Split:
    train_dir: Path
    kind: str
    cutoff: date | None  # temporal: first held-out day
    train_rows: int
    test_rows: int
    #: held-out purchases: customer pseudonym -> product ids (10-digit)
    test: dict[str, set[str]] = field(default_factory=dict)
    #: training purchases: customer pseudonym -> product ids
    train: dict[str, set[str]] = field(default_factory=dict)
    train_frame: pl.DataFrame = field(default_factory=pl.DataFrame)  # customer, article, day
    first_day: date | None = None
    last_train_day: date | None = None


@dataclass
class BasketSplit:
    train_dir: Path
    train_frame: pl.DataFrame
    #: (customer pseudonym, day, cart product ids, hidden product id)
    test: list[tuple[str, date, list[str], str]]
    validation: list[tuple[str, date, list[str], str]]
    baskets: int


def read_transactions(folder: Path) -> tuple[Path, pl.DataFrame]:
    """The raw transactions file of `folder`, with helper columns for splitting."""
    path = find_sources(folder)["transactions"]
    frame = (
        pl.read_parquet(path)
        if path.suffix == ".parquet"
        else pl.read_csv(path, infer_schema=False)
    )
    day = pl.col("t_dat")
    parsed = (
        day.cast(pl.Date, strict=False)
        if frame.schema["t_dat"] != pl.String
        else day.str.strip_chars().str.to_date("%Y-%m-%d", strict=False)
    )
    frame = frame.with_row_index(ROW).with_columns(
        parsed.alias(DAY),
        pl.col("customer_id").cast(pl.String).str.strip_chars().alias(CUSTOMER),
        pl.col("article_id").cast(pl.String).str.strip_chars().str.zfill(10).alias(ARTICLE),
    )
    return path, frame.filter(pl.col(DAY).is_not_null() & pl.col(CUSTOMER).is_not_null())


def split_folder(
    folder: Path,
    out_dir: Path,
    key: bytes,
    *,
    kind: SplitKind = "temporal",
    test_days: int = 7,
    test_fraction: float = 0.1,
    min_purchases: int = 5,
) -> Split:
    path, tx = read_transactions(folder)
    if tx.is_empty():
        raise ValueError(f"{path}: no transactions with a date")
    cutoff: date | None = None
    if kind == "temporal":
        last = tx[DAY].max()
        assert isinstance(last, date)
        cutoff = last - timedelta(days=test_days - 1)
        is_test = pl.col(DAY) >= cutoff
        tx = tx.with_columns(is_test.alias("__test"))
    elif kind == "per-customer":
        if not 0 < test_fraction < 1:
            raise ValueError("test fraction must be within (0, 1)")
        tx = (
            tx.sort(CUSTOMER, DAY, ROW)
            .with_columns(
                pl.len().over(CUSTOMER).alias("__n"),
                pl.int_range(pl.len()).over(CUSTOMER).alias("__i"),
            )
            .with_columns(
                (
                    (pl.col("__n") >= min_purchases)
                    & (
                        pl.col("__i")
                        >= pl.col("__n") - (pl.col("__n") * test_fraction).ceil().cast(pl.Int64)
                    )
                ).alias("__test")
            )
            .drop("__n", "__i")
            .sort(ROW)
        )
    else:
        raise ValueError(f"unknown split {kind!r}: temporal or per-customer")
    train = tx.filter(~pl.col("__test"))
    test = tx.filter(pl.col("__test"))
    write_training_folder(folder, out_dir, path, train)
    train_pairs = _pairs(train, key)
    test_pairs = _pairs(test, key)
    first = train[DAY].min() if train.height else None
    last_train = train[DAY].max() if train.height else None
    return Split(
        train_dir=out_dir,
        kind=kind,
        cutoff=cutoff,
        train_rows=train.height,
        test_rows=test.height,
        test=_grouped(test_pairs),
        train=_grouped(train_pairs),
        train_frame=train_pairs,
        first_day=first if isinstance(first, date) else None,
        last_train_day=last_train if isinstance(last_train, date) else None,
    )


def split_baskets(
    folder: Path,
    out_dir: Path,
    key: bytes,
    *,
    max_baskets: int = 1000,
    validation_baskets: int = 300,
    seed: int = 0,
) -> BasketSplit:
    """Hide one item of each sampled basket (test and validation sets are disjoint)."""
    path, tx = read_transactions(folder)
    baskets = (
        tx.group_by(CUSTOMER, DAY)
        .agg(pl.col(ARTICLE).unique().sort().alias("items"))
        .filter(pl.col("items").list.len() >= 2)
        .sort(CUSTOMER, DAY)
    )
    rng = np.random.default_rng(seed)
    order = rng.permutation(baskets.height)
    chosen = baskets[order[: max_baskets + validation_baskets].tolist()]
    hidden_rows = []
    for customer, day, items in chosen.iter_rows():
        hidden_rows.append((customer, day, items[int(rng.integers(len(items)))]))
    hidden = pl.DataFrame(
        hidden_rows, schema={CUSTOMER: pl.String, DAY: pl.Date, ARTICLE: pl.String}, orient="row"
    )
    train = tx.join(hidden, on=[CUSTOMER, DAY, ARTICLE], how="anti", maintain_order="left")
    write_training_folder(folder, out_dir, path, train)
    pseudonyms = dict(
        zip(
            chosen[CUSTOMER].to_list(),
            pseudonymise_series(chosen[CUSTOMER], key).to_list(),
            strict=True,
        )
    )
    cases = [
        (pseudonyms[c], d, [i for i in items if i != h], h)
        for (c, d, items), (_, _, h) in zip(chosen.iter_rows(), hidden_rows, strict=True)
    ]
    return BasketSplit(
        train_dir=out_dir,
        train_frame=_pairs(train, key),
        test=cases[:max_baskets],
        validation=cases[max_baskets:],
        baskets=baskets.height,
    )


def write_training_folder(folder: Path, out_dir: Path, tx_path: Path, train: pl.DataFrame) -> None:
    """articles + customers as they are, transactions = the training rows only."""
    out_dir.mkdir(parents=True, exist_ok=True)
    sources = find_sources(folder)
    for kind in ("articles", "customers"):
        src = sources[kind]
        shutil.copyfile(src, out_dir / src.name)
    if (folder / "images").is_dir() and not (out_dir / "images").exists():
        (out_dir / "images").symlink_to((folder / "images").resolve())
    raw = train.drop([c for c in train.columns if c.startswith("__")])
    target = out_dir / tx_path.name
    if tx_path.suffix == ".parquet":
        raw.write_parquet(target)
    else:
        raw.write_csv(target)


def _pairs(frame: pl.DataFrame, key: bytes) -> pl.DataFrame:
    if frame.is_empty():
        return pl.DataFrame(schema={"customer": pl.String, "article": pl.String, "day": pl.Date})
    columns = [
        pseudonymise_series(frame[CUSTOMER], key).alias("customer"),
        pl.col(ARTICLE).alias("article"),
        pl.col(DAY).alias("day"),
    ]
    if "price" in frame.columns:
        columns.append(pl.col("price").cast(pl.Float64, strict=False).alias("price"))
    return frame.select(columns)


def _grouped(pairs: pl.DataFrame) -> dict[str, set[str]]:
    if pairs.is_empty():
        return {}
    grouped = pairs.group_by("customer").agg(pl.col("article").unique())
    return {c: set(items) for c, items in grouped.iter_rows()}


def fraction_rows(n: int, fraction: float) -> int:
    return math.ceil(n * fraction)
