"""FastRP input features on products: one-hot category fields and a price level.

Each field in `PrepareSpec.fields` (index_group, index_name, product_group, section)
becomes a one-hot block over its most frequent `max_values_per_field` values plus an
"other" slot; the price level is the product's price tercile (with `price_levels`
levels) within its product group, one-hot too. Written as `Product.gds_features`
(list of floats) and `Product.gds_price_level` (0 = cheapest), so a FastRP projection
reads them as `featureProperties` and persona naming reads the price level.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import numpy as np
from neo4j import Driver

from ragrec.cypher import query
from ragrec.gds.specs import PrepareSpec

WRITE_BATCH = 5_000


def write_product_features(driver: Driver, database: str, prepare: PrepareSpec) -> int:
    """Compute and write the features of every product; return the feature dimension."""
    records, _, _ = driver.execute_query(query("gds/product_feature_source"), database_=database)
    products = [r.data() for r in records]
    if not products:
        return 0
    vocabularies = [
        _vocabulary([p.get(name) for p in products], prepare.max_values_per_field)
        for name in prepare.fields
    ]
    levels = price_levels(products, prepare.price_levels)
    dim = sum(len(v) + 1 for v in vocabularies) + prepare.price_levels
    rows: list[dict[str, Any]] = []
    for product, level in zip(products, levels, strict=True):
        vector = np.zeros(dim, dtype=np.float64)
        offset = 0
        for name, vocab in zip(prepare.fields, vocabularies, strict=True):
            vector[offset + vocab.get(product.get(name), len(vocab))] = prepare.feature_scale
            offset += len(vocab) + 1
        vector[offset + level] = prepare.feature_scale
        rows.append({"id": product["id"], "features": vector.tolist(), "price_level": level})
    for start in range(0, len(rows), WRITE_BATCH):
        driver.execute_query(
            query("gds/write_product_features"),
            rows=rows[start : start + WRITE_BATCH],
            database_=database,
        )
    return dim


def price_levels(products: list[dict[str, Any]], levels: int) -> list[int]:
    """Price quantile (0..levels-1) of each product within its product group."""
    by_group: dict[Any, list[int]] = defaultdict(list)
    for i, p in enumerate(products):
        by_group[p.get("product_group")].append(i)
    out = [levels // 2] * len(products)
    for members in by_group.values():
        prices = np.array(
            [products[i].get("price") for i in members], dtype=np.float64
        )  # None -> nan
        known = ~np.isnan(prices)
        if known.sum() < levels:
            continue
        cuts = np.quantile(prices[known], np.linspace(0, 1, levels + 1)[1:-1])
        for i, price, ok in zip(members, prices, known, strict=True):
            if ok:
                out[i] = int(np.searchsorted(cuts, price, side="right"))
    return out


def _vocabulary(values: list[Any], limit: int) -> dict[Any, int]:
    """Most frequent `limit` non-null values -> slot (ties by name, so it is stable)."""
    counts = Counter(v for v in values if v is not None)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))[:limit]
    return {value: slot for slot, (value, _) in enumerate(ranked)}
