"""Customer pseudonymisation: keyed hashes for ids, brackets for ages, the rest dropped.

* `customer_id` -> HMAC-SHA256(key, UTF-8 of the cleaned raw id), the **full 64 hex
  characters**. Truncating to 32 hex (128 bits) would also be collision-free in
  practice, but the full digest costs nothing at 1.4M customers and keeps the
  collision question closed. The key is `Settings.effective_pseudonym_key()`:
  the same key gives the same pseudonym on every run (idempotent loads); without
  the key a pseudonym cannot be linked back to the H&M id.
* `age` -> bracket "16-24", "25-34", "35-44", "45-54", "55-64", "65+"; null,
  non-finite or implausible ages (< 16 or > 120) -> "unknown".
* dropped: `postal_code`, `FN`, `Active`, `club_member_status`,
  `fashion_news_frequency` and any other customer column. Club status and the
  newsletter frequency are not identifying on their own, but nothing downstream
  uses them, and dropping them keeps the rule simple: a customer is
  (pseudonym, age bracket) and nothing else.
"""

from __future__ import annotations

import hmac

import polars as pl

AGE_BRACKETS = ("16-24", "25-34", "35-44", "45-54", "55-64", "65+")
UNKNOWN_AGE = "unknown"
_BRACKET_BOUNDS = ((16, 24), (25, 34), (35, 44), (45, 54), (55, 64), (65, 120))


def pseudonymise_customer_id(raw_id: str, key: bytes) -> str:
    """HMAC-SHA256 of the raw customer id under `key`, as 64 lowercase hex characters."""
    return hmac.digest(key, raw_id.encode("utf-8"), "sha256").hex()


def pseudonymise_series(raw_ids: pl.Series, key: bytes) -> pl.Series:
    """Vectorised `pseudonymise_customer_id` (hashes each distinct id once; nulls stay)."""
    unique = raw_ids.drop_nulls().unique()
    mapping = pl.DataFrame(
        {
            "raw": unique,
            "pseudonym": pl.Series(
                [pseudonymise_customer_id(v, key) for v in unique.to_list()], dtype=pl.String
            ),
        },
        schema={"raw": pl.String, "pseudonym": pl.String},
    )
    out = raw_ids.to_frame("raw").join(mapping, on="raw", how="left", maintain_order="left")
    return out["pseudonym"].alias(raw_ids.name)


def age_bracket(age: pl.Expr) -> pl.Expr:
    """Age (numeric) -> bracket label; null or outside 16..120 -> "unknown"."""
    expr = pl.lit(UNKNOWN_AGE)
    for label, (low, high) in reversed(list(zip(AGE_BRACKETS, _BRACKET_BOUNDS, strict=True))):
        expr = (
            pl.when(age.is_between(low, high).fill_null(False)).then(pl.lit(label)).otherwise(expr)
        )
    return expr


def pseudonymise_customers(customers: pl.DataFrame, key: bytes) -> pl.DataFrame:
    """Clean customers (`customer_id`, `age`) -> the output frame (`id`, `age_bracket`)."""
    return customers.select(
        pseudonymise_series(customers["customer_id"], key).alias("id"),
        age_bracket(pl.col("age")).alias("age_bracket"),
    )
