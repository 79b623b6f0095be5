"""ETL on the real H&M data in data/sample: exact counts in and out."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from ragrec.etl import Prepared, find_image, prepare
from ragrec.etl.pipeline import PRODUCTS_SCHEMA, PURCHASES_SCHEMA, REJECTS_SCHEMA

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
DAY_SLICE = SAMPLE.parent / "day_slice"
KEY = b"unit-test-pseudonym-key-0123456789"


@pytest.fixture(scope="module")
def sample() -> Prepared:
    return prepare(SAMPLE, KEY)


@pytest.fixture(scope="module")
def day_slice() -> Prepared:
    return prepare(DAY_SLICE, KEY)


@pytest.fixture(scope="module")
def day_slice_created() -> Prepared:
    return prepare(DAY_SLICE, KEY, unknown_customers="create")


def test_sample_counts(sample: Prepared) -> None:
    assert sample.counts == {
        "articles_sample.parquet": 1000,
        "customers_sample.parquet": 4946,
        "transactions_sample.parquet": 5000,
    }
    assert sample.rejects.height == 0
    assert sample.products.height == 1000
    assert sample.customers.height == 4946
    # 33 rows form 16 groups of identical rows: 5,000 rows -> 4,983 purchases with qty
    assert sample.purchases.height == 4983
    assert sample.purchases["qty"].sum() == 5000
    assert sample.purchases["qty"].value_counts().sort("qty").rows() == [(1, 4967), (2, 15), (3, 1)]
    assert sample.purchases["customer_id"].n_unique() == 4946
    assert sample.purchases["article_id"].n_unique() == 606
    assert sample.purchases["channel"].null_count() == 4983  # no sales_channel_id column


def test_sample_schemas(sample: Prepared) -> None:
    assert dict(sample.products.schema) == PRODUCTS_SCHEMA
    assert dict(sample.purchases.schema) == PURCHASES_SCHEMA
    assert dict(sample.rejects.schema) == REJECTS_SCHEMA
    assert sample.customers.columns == ["id", "age_bracket"]
    assert sample.categories.columns == ["id", "name", "level", "parent_id"]
    assert sample.product_categories.columns == ["product_id", "category_id"]


def test_sample_products(sample: Prepared) -> None:
    products = sample.products
    assert products["id"].str.len_chars().unique().to_list() == [10]
    assert products["id"].n_unique() == 1000
    assert products["image_path"].is_not_null().sum() == 100
    assert products["price"].is_not_null().sum() == 606  # articles with a sale
    assert products["created_at"].min() == date(2018, 9, 20)
    assert products["in_stock"].null_count() == 1000  # not an H&M column
    first = products.row(0, named=True)
    assert first["id"] == "0822115001"
    assert first["name"] == "Pola seamless leggings"
    for path in products["image_path"].drop_nulls():
        assert Path(path).is_file()


def test_sample_age_brackets(sample: Prepared) -> None:
    counts = dict(sample.customers.group_by("age_bracket").len().iter_rows())
    assert counts == {
        "16-24": 999,
        "25-34": 1794,
        "35-44": 664,
        "45-54": 973,
        "55-64": 404,
        "65+": 89,
        "unknown": 23,
    }


def test_sample_categories(sample: Prepared) -> None:
    cats = sample.categories
    levels = dict(cats.group_by("level").len().iter_rows())
    assert levels == {
        "index_group": 5,
        "index": 10,
        "section": 60,
        "product_group": 156,
        "product_type": 389,
    }
    assert cats["id"].n_unique() == cats.height
    # every parent exists, roots are index groups
    assert cats.filter(pl.col("parent_id").is_null())["level"].unique().to_list() == ["index_group"]
    assert set(cats["parent_id"].drop_nulls()) <= set(cats["id"])
    assert "index:Ladieswear|Lingeries/Tights" in set(cats["id"])
    # each product links to one existing leaf
    links = sample.product_categories
    assert links.height == 1000
    assert set(links["category_id"]) <= set(cats.filter(pl.col("level") == "product_type")["id"])
    leggings = links.filter(pl.col("product_id") == "0822115001")["category_id"].item()
    assert leggings.startswith("product_type:Ladieswear|")
    assert leggings.endswith("|Leggings/Tights")


def test_sample_colours_and_attributes(sample: Prepared) -> None:
    assert sample.product_colours.height == 1000
    names = set(sample.product_attributes["name"])
    assert names == {"garment_group", "graphical_appearance"}
    assert sample.product_attributes.height == 2000


def test_day_slice_default_rejects_unknown_customers(day_slice: Prepared) -> None:
    # customers.csv of the slice holds only 104 of its 2,954 buyers (see data/sample/README.md)
    assert day_slice.counts == {
        "articles.csv": 4903,
        "customers.csv": 10000,
        "transactions.csv": 10000,
    }
    assert day_slice.purchases["qty"].sum() == 334
    assert day_slice.purchases.height == 302
    reasons = dict(day_slice.rejects.group_by("reason").len().iter_rows())
    assert reasons == {"unknown customer_id": 9666}
    assert day_slice.rejects["source"].unique().to_list() == ["transactions.csv"]


def test_day_slice_created_customers_and_baskets(day_slice_created: Prepared) -> None:
    prepared = day_slice_created
    assert prepared.rejects.height == 0
    assert prepared.customers.height == 10000 + 2850
    purchases = prepared.purchases
    # identical rows are repeat purchases: 10,000 rows -> 9,090 rows with qty
    assert purchases.height == 9090
    assert purchases["qty"].sum() == 10000
    assert purchases["qty"].max() == 20
    assert purchases["t_dat"].unique().to_list() == [date(2018, 9, 20)]
    assert sorted(purchases["channel"].unique().to_list()) == [1, 2]
    baskets = purchases.group_by("customer_id").agg(pl.col("qty").sum())
    assert baskets.height == 2954
    assert baskets["qty"].max() == 39
    assert round(baskets["qty"].mean(), 2) == 3.39  # type: ignore[arg-type]
    created = set(purchases["customer_id"]) - set(prepare(DAY_SLICE, KEY).customers["id"])
    ages = prepared.customers.filter(pl.col("id").is_in(list(created)))["age_bracket"]
    assert ages.unique().to_list() == ["unknown"]


def test_day_slice_articles_csv_ids_normalised(day_slice_created: Prepared) -> None:
    ids = day_slice_created.products["id"]
    assert ids[0] == "0108775015"  # "108775015" in the CSV
    assert set(day_slice_created.purchases["article_id"]) <= set(ids)


def test_find_image_flat_and_nested(tmp_path: Path) -> None:
    assert find_image(SAMPLE / "images", 255396018) == SAMPLE / "images" / "0255396018.jpg"
    assert find_image(SAMPLE / "images", "0255396018") is not None
    assert find_image(SAMPLE / "images", "999") is None
    assert find_image(SAMPLE / "images", "not an id") is None
    nested = tmp_path / "images" / "025"
    nested.mkdir(parents=True)
    (nested / "0255396018.jpg").write_bytes(b"jpg")
    assert find_image(tmp_path / "images", "255396018") == nested / "0255396018.jpg"
