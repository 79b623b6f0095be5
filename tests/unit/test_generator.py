"""The synthetic data generator: deterministic, right sizes, planted structure, lean."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import date
from math import comb
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from ragrec.etl import prepare
from ragrec.etl.generator import GROUND_TRUTH_FILE, PRODUCTS_TRUTH_FILE, generate

KEY = b"unit-test-pseudonym-key-0123456789"
SMALL = {"products": 800, "customers": 2000, "transactions": 24_000, "progress": False}


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("gen") / "small"
    return out, generate(out, seed=7, **SMALL)  # type: ignore[arg-type]


def digests(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.suffix in (".csv", ".parquet")
    }


def test_sizes_and_files(small: tuple[Path, dict]) -> None:
    out, summary = small
    assert {p.name for p in out.iterdir()} == {
        "articles.csv",
        "customers.csv",
        "transactions_train.csv",
        GROUND_TRUTH_FILE,
        PRODUCTS_TRUTH_FILE,
        "generation_summary.json",
    }
    articles = pl.read_csv(out / "articles.csv", infer_schema=False)
    customers = pl.read_csv(out / "customers.csv", infer_schema=False)
    tx = pl.read_csv(out / "transactions_train.csv", infer_schema=False)
    truth = pl.read_csv(out / GROUND_TRUTH_FILE, infer_schema=False)
    assert (articles.height, customers.height, tx.height) == (800, 2000, 24_000)
    assert articles["article_id"].n_unique() == 800
    assert customers["customer_id"].n_unique() == 2000
    assert tx.columns == ["t_dat", "customer_id", "article_id", "price", "sales_channel_id"]
    assert truth.columns == ["customer_id", "segment", "segment_name"]
    assert truth["customer_id"].to_list() == customers["customer_id"].to_list()
    assert truth["segment"].n_unique() == 8
    assert summary["transactions"] == 24_000
    assert json.loads((out / "generation_summary.json").read_text()) == summary
    assert 8 <= summary["mean_items_per_buyer"] <= 15
    # H&M-like values
    assert (articles["article_id"].str.len_chars() <= 10).all()  # ints, no leading zero
    dates = tx["t_dat"].unique().sort().to_list()
    assert dates[0] >= "2019-09-23"
    assert dates[-1] <= "2020-09-21"
    assert set(tx["sales_channel_id"]) == {"1", "2"}
    in_stock = articles["in_stock"].value_counts().sort("in_stock")
    assert 0.01 < in_stock["count"][0] / 800 < 0.06  # ~3% false
    names = articles["prod_name"].to_list()
    assert all(len(n.split()) >= 3 for n in names)  # "Dark blue slim jeans"


def test_deterministic(small: tuple[Path, dict], tmp_path: Path) -> None:
    out, _ = small
    again = tmp_path / "again"
    generate(again, seed=7, **SMALL)  # type: ignore[arg-type]
    assert digests(again) == digests(out)
    other = tmp_path / "other"
    generate(other, seed=8, **SMALL)  # type: ignore[arg-type]
    assert digests(other)["transactions_train.csv"] != digests(out)["transactions_train.csv"]


def test_chunked_output_is_complete(tmp_path: Path) -> None:
    summary = generate(tmp_path, seed=1, chunk_rows=5_000, **SMALL)  # type: ignore[arg-type]
    tx = pl.read_csv(tmp_path / "transactions_train.csv", infer_schema=False)
    assert tx.height == summary["transactions"] == 24_000
    assert tx["t_dat"].is_sorted()


def test_planted_structure(small: tuple[Path, dict]) -> None:
    out, _ = small
    tx = pl.read_csv(out / "transactions_train.csv", schema_overrides={"customer_id": pl.String})
    truth = pl.read_csv(out / GROUND_TRUTH_FILE)
    products = pl.read_csv(out / PRODUCTS_TRUTH_FILE, try_parse_dates=True).with_columns(
        pl.col("article_id").cast(pl.Int64)
    )
    rows = tx.join(truth, on="customer_id").join(
        products.rename({"segment": "product_segment"}), on="article_id"
    )
    assert rows.height == tx.height
    share = float((rows["segment"] == rows["product_segment"]).sum()) / rows.height
    assert share > 0.85  # 85% planted + a share of the 15% random
    # nobody buys a product before it arrives, or after it sold out
    dates = rows.with_columns(pl.col("t_dat").str.to_date())
    assert (dates["t_dat"] >= dates["available_from"]).all()
    assert (dates["t_dat"] < dates["sold_out_from"]).all()
    assert products.filter(pl.col("available_from") > date(2019, 9, 23)).height > 0
    # repeat customers, baskets and identical (qty > 1) rows
    per_customer = tx.group_by("customer_id").agg(pl.col("t_dat").n_unique().alias("days"))
    assert (per_customer["days"] > 1).mean() > 0.5  # type: ignore[operator]
    baskets = tx.group_by("customer_id", "t_dat").len()
    assert 2.0 < baskets["len"].mean() < 3.0  # type: ignore[operator]
    assert tx.is_duplicated().sum() > 0
    # long tail: the top 10% of products sell far more than the bottom half
    sales = tx.group_by("article_id").len().sort("len", descending=True)["len"].to_numpy()
    assert sales[: len(sales) // 10].sum() > 2 * sales[len(sales) // 2 :].sum()


def test_segments_recoverable_by_clustering(small: tuple[Path, dict]) -> None:
    """A plain SVD + k-means on customer x product purchases recovers the segments."""
    out, _ = small
    tx = pl.read_csv(out / "transactions_train.csv", schema_overrides={"customer_id": pl.String})
    truth = pl.read_csv(out / GROUND_TRUTH_FILE)
    cust = truth.with_row_index("c").select("customer_id", "c")
    arts = tx.select("article_id").unique().sort("article_id").with_row_index("a")
    idx = tx.join(cust, on="customer_id").join(arts, on="article_id")
    matrix = np.zeros((truth.height, arts.height))
    matrix[idx["c"].to_numpy(), idx["a"].to_numpy()] = 1.0
    matrix /= np.sqrt(matrix.sum(0, keepdims=True) + 1)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True) + 1e-9
    u, s, _ = np.linalg.svd(matrix, full_matrices=False)
    x = u[:, :8] * s[:8]
    x /= np.linalg.norm(x, axis=1, keepdims=True) + 1e-9
    labels = _kmeans(x, 8)
    assert _ari(labels, truth["segment"].to_numpy()) >= 0.7


def test_prepare_reads_generated_data(small: tuple[Path, dict]) -> None:
    out, _ = small
    prepared = prepare(out, KEY)
    assert prepared.rejects.height == 0
    assert prepared.products.height == 800
    assert prepared.customers.height == 2000
    assert prepared.purchases["qty"].sum() == 24_000
    assert prepared.products["in_stock"].null_count() == 0
    assert set(prepared.purchases["channel"].unique()) == {1, 2}


def test_parquet_format(tmp_path: Path) -> None:
    summary = generate(tmp_path, seed=2, fmt="parquet", **SMALL)  # type: ignore[arg-type]
    assert (tmp_path / "transactions_train.parquet").exists()
    tx = pl.read_parquet(tmp_path / "transactions_train.parquet")
    assert tx.height == summary["transactions"] == 24_000
    prepared = prepare(tmp_path, KEY)
    assert prepared.rejects.height == 0
    assert prepared.purchases["qty"].sum() == 24_000


def test_memory_for_200k_transactions(tmp_path: Path) -> None:
    # VmHWM: this process's own peak RSS (ru_maxrss would include the pytest parent's
    # size at fork time, which Linux carries across exec)
    code = (
        "import re, sys\n"
        "from ragrec.etl.generator import generate\n"
        "generate(sys.argv[1], products=5000, customers=16000, transactions=200_000,"
        " seed=3, progress=False, chunk_rows=50_000)\n"
        "status = open('/proc/self/status').read()\n"
        "print(re.search(r'VmHWM:\\s+(\\d+) kB', status).group(1))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=True
    )
    peak_mib = int(done.stdout.split()[-1]) / 1024
    assert peak_mib < 600, f"peak RSS {peak_mib:.0f} MiB"
    lines = sum(1 for _ in (tmp_path / "transactions_train.csv").open())
    assert lines == 200_001


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="n_segments"):
        generate(tmp_path, n_segments=9, progress=False)
    with pytest.raises(ValueError, match="segment_share"):
        generate(tmp_path, segment_share=1.5, progress=False)


def _kmeans(x: np.ndarray, k: int, restarts: int = 5) -> np.ndarray:
    rng = np.random.default_rng(0)
    best: tuple[float, np.ndarray] | None = None
    for _ in range(restarts):
        centres = x[rng.choice(len(x), k, replace=False)]
        for _ in range(60):
            labels = np.argmin(((x[:, None] - centres[None]) ** 2).sum(-1), axis=1)
            centres = np.array(
                [x[labels == j].mean(0) if (labels == j).any() else centres[j] for j in range(k)]
            )
        inertia = float(((x - centres[labels]) ** 2).sum())
        if best is None or inertia < best[0]:
            best = (inertia, labels)
    assert best is not None
    return best[1]


def _ari(a: np.ndarray, b: np.ndarray) -> float:
    table = np.zeros((a.max() + 1, b.max() + 1), dtype=np.int64)
    np.add.at(table, (a, b), 1)
    pairs = sum(comb(int(v), 2) for v in table.ravel())
    rows = sum(comb(int(v), 2) for v in table.sum(1))
    cols = sum(comb(int(v), 2) for v in table.sum(0))
    expected = rows * cols / comb(len(a), 2)
    return (pairs - expected) / ((rows + cols) / 2 - expected)
