"""Pseudonymisation: no raw customer id, age or postal code leaves `prepare()`."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from pathlib import Path

import polars as pl
import pytest

from ragrec.etl import Prepared, prepare, pseudonymise_customer_id
from ragrec.etl.pseudonymise import age_bracket, pseudonymise_series

KEY = b"unit-test-pseudonym-key-0123456789"
SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
HEX64 = re.compile(r"[0-9a-f]{64}")
PERSONAL_COLUMNS = {"age", "postal_code", "FN", "Active", "club_member_status"}


def frames(prepared: Prepared) -> dict[str, pl.DataFrame]:
    return {
        "products": prepared.products,
        "categories": prepared.categories,
        "product_categories": prepared.product_categories,
        "product_colours": prepared.product_colours,
        "product_attributes": prepared.product_attributes,
        "customers": prepared.customers,
        "purchases": prepared.purchases,
        "rejects": prepared.rejects,
    }


def string_values(prepared: Prepared) -> set[str]:
    values: set[str] = set()
    for df in frames(prepared).values():
        for name, dtype in df.schema.items():
            if dtype == pl.String:
                values.update(df[name].drop_nulls().unique().to_list())
    return values


def assert_nothing_personal(prepared: Prepared, customers: pl.DataFrame) -> None:
    raw_ids = set(customers["customer_id"].cast(pl.String).drop_nulls())
    postal = set(customers["postal_code"].cast(pl.String).drop_nulls())
    for name, df in frames(prepared).items():
        assert not PERSONAL_COLUMNS & set(df.columns), name
    assert prepared.customers.columns == ["id", "age_bracket"]
    values = string_values(prepared)
    # whole values, and every 64-hex token inside any value (keys, raw JSON)
    assert not values & (raw_ids | postal)
    tokens = {t for v in values for t in HEX64.findall(v)}
    assert not tokens & (raw_ids | postal)
    for raw_id in raw_ids:  # non-hex raw ids (e.g. hostile ones) as substrings
        if not HEX64.fullmatch(raw_id):
            assert not any(raw_id in v for v in values), raw_id
    # ages: no numeric column anywhere holds them, brackets only
    for df in frames(prepared).values():
        assert not any(dtype.is_integer() for n, dtype in df.schema.items() if "age" in n)
    assert set(prepared.customers["age_bracket"]) <= {
        "16-24",
        "25-34",
        "35-44",
        "45-54",
        "55-64",
        "65+",
        "unknown",
    }


def test_hmac_definition() -> None:
    expected = hmac.new(KEY, b"abc", hashlib.sha256).hexdigest()
    assert pseudonymise_customer_id("abc", KEY) == expected
    assert len(expected) == 64
    assert pseudonymise_customer_id("abc", b"other key") != expected
    series = pseudonymise_series(pl.Series(["abc", None, "abc", "d"]), KEY)
    assert series.to_list() == [expected, None, expected, pseudonymise_customer_id("d", KEY)]


def test_age_brackets() -> None:
    ages = pl.Series("age", [None, 10, 15, 16, 24, 25, 34, 35, 44, 45, 54, 55, 64, 65, 99, 121])
    out = pl.select(age_bracket(pl.lit(ages)))["literal"].to_list()
    assert out == [
        "unknown",
        "unknown",
        "unknown",
        "16-24",
        "16-24",
        "25-34",
        "25-34",
        "35-44",
        "35-44",
        "45-54",
        "45-54",
        "55-64",
        "55-64",
        "65+",
        "65+",
        "unknown",
    ]


def test_sample_has_nothing_personal() -> None:
    prepared = prepare(SAMPLE, KEY)
    customers = pl.read_parquet(SAMPLE / "customers_sample.parquet")
    assert_nothing_personal(prepared, customers)
    expected = {pseudonymise_customer_id(c, KEY) for c in customers["customer_id"]}
    assert set(prepared.customers["id"]) == expected
    assert set(prepared.purchases["customer_id"]) <= expected


@pytest.mark.parametrize("mode", ["reject", "create"])
def test_day_slice_has_nothing_personal(mode: str) -> None:
    prepared = prepare(SAMPLE.parent / "day_slice", KEY, unknown_customers=mode)  # type: ignore[arg-type]
    customers = pl.read_csv(SAMPLE.parent / "day_slice" / "customers.csv", infer_schema=False)
    tx_ids = pl.read_csv(SAMPLE.parent / "day_slice" / "transactions.csv", infer_schema=False)
    everyone = pl.concat(
        [
            customers.select("customer_id", "postal_code"),
            tx_ids.select("customer_id", pl.lit(None, dtype=pl.String).alias("postal_code")),
        ]
    )
    assert_nothing_personal(prepared, everyone)
    if mode == "reject":
        assert prepared.rejects.height == 9666  # raw JSON of rejects checked above


def test_customer_rejects_are_redacted(tmp_path: Path) -> None:
    (tmp_path / "articles.csv").write_text(
        "article_id,prod_name,product_type_name,product_group_name\n1,a,b,c\n"
    )
    (tmp_path / "customers.csv").write_text(
        "customer_id,age,postal_code,club_member_status\n"
        "secret-1,abc,postal-1,ACTIVE\n"
        "secret-2,33,postal-2,ACTIVE\n"
        "secret-2,34,postal-2,ACTIVE\n"
    )
    (tmp_path / "transactions.csv").write_text(
        "t_dat,customer_id,article_id,price\n2020-01-01,secret-1,1,0.1\n2020-01-01,secret-3,1,x\n"
    )
    prepared = prepare(tmp_path, KEY)
    assert prepared.rejects["reason"].to_list() == [
        "non-numeric age",
        "conflicting duplicate customer_id",
        "unknown customer_id",
        "non-numeric price",
    ]
    raw = json.loads(prepared.rejects["raw"][0])
    assert raw == {
        "customer_id": pseudonymise_customer_id("secret-1", KEY),
        "FN": None,
        "Active": None,
        "club_member_status": "<redacted>",
        "fashion_news_frequency": None,
        "age": "<redacted>",
        "postal_code": "<redacted>",
    }
    everything = " ".join(string_values(prepared))
    for secret in ("secret-1", "secret-2", "secret-3", "postal-1", "postal-2"):
        assert secret not in everything
    for age in ('"abc"', '"33"', '"34"', ":33", ":34"):  # as JSON values
        assert age not in everything
