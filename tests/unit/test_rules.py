"""Business rules: category cap, exclude bought (with repurchase categories), stock, new
arrivals boost, price band, order of application."""

from __future__ import annotations

from datetime import date

from ragrec.recommender.rules import BusinessRules, apply_rules, cap_per_category
from ragrec.recommender.types import ProductInfo, Scored

REF = date(2020, 9, 20)
PRODUCTS = {
    "d1": ProductInfo("d1", "Dress 1", "Dress", 40.0, True, date(2020, 1, 1)),
    "d2": ProductInfo("d2", "Dress 2", "Dress", 45.0, True, date(2020, 1, 1)),
    "d3": ProductInfo("d3", "Dress 3", "Dress", 50.0, True, date(2020, 1, 1)),
    "d4": ProductInfo("d4", "Dress 4", "Dress", 55.0, True, date(2020, 1, 1)),
    "s1": ProductInfo("s1", "Socks", "Socks", 5.0, True, date(2020, 1, 1)),
    "oos": ProductInfo("oos", "Gone", "Shoes", 30.0, False, date(2020, 1, 1)),
    "new": ProductInfo("new", "Parka", "Jacket", 90.0, True, date(2020, 9, 15)),
    "unk": ProductInfo("unk", "No stock info", "Hat", 12.0, None, None),
}


def ranked(*ids: str) -> list[Scored]:
    return [Scored(pid, 1.0 - i * 0.01, ("g",)) for i, pid in enumerate(ids)]


def ids(items: list[Scored]) -> list[str]:
    return [s.product_id for s in items]


def test_at_most_n_per_category_keeps_order() -> None:
    out = cap_per_category(ranked("d1", "d2", "s1", "d3", "d4"), PRODUCTS, 3)
    assert ids(out) == ["d1", "d2", "s1", "d3"]
    assert ids(cap_per_category(ranked("d1", "d2", "d3"), PRODUCTS, 1)) == ["d1"]
    assert ids(cap_per_category(ranked("d1", "d2"), PRODUCTS, None)) == ["d1", "d2"]
    # `limit` stops early with the same head as cutting the whole result
    whole = cap_per_category(ranked("d1", "d2", "d3", "d4", "s1"), PRODUCTS, 3)
    for limit in (1, 3, 4, 10):
        head = cap_per_category(ranked("d1", "d2", "d3", "d4", "s1"), PRODUCTS, 3, limit=limit)
        assert head == whole[:limit]
    assert ids(cap_per_category(ranked("d1", "d2"), PRODUCTS, None, limit=1)) == ["d1"]


def test_default_cap_is_three() -> None:
    assert BusinessRules().max_per_category == 3


def test_exclude_bought_unless_repurchase_category() -> None:
    rules = BusinessRules(new_arrival_boost=0.0)
    out = apply_rules(ranked("d1", "s1", "d2"), PRODUCTS, rules, k=10, bought={"d1", "s1"})
    assert ids(out) == ["d2"]
    rules = BusinessRules(repurchase_categories=frozenset({"Socks"}), new_arrival_boost=0.0)
    out = apply_rules(ranked("d1", "s1", "d2"), PRODUCTS, rules, k=10, bought={"d1", "s1"})
    assert ids(out) == ["s1", "d2"]
    rules = BusinessRules(exclude_bought=False, new_arrival_boost=0.0)
    out = apply_rules(ranked("d1", "s1"), PRODUCTS, rules, k=10, bought={"d1", "s1"})
    assert ids(out) == ["d1", "s1"]


def test_drop_out_of_stock_but_keep_unknown_stock() -> None:
    out = apply_rules(ranked("oos", "unk", "s1"), PRODUCTS, BusinessRules(), k=10)
    assert ids(out) == ["unk", "s1"]
    keep = BusinessRules(drop_out_of_stock=False)
    assert "oos" in ids(apply_rules(ranked("oos"), PRODUCTS, keep, k=10))


def test_new_arrivals_are_boosted() -> None:
    items = [Scored("s1", 1.0, ("g",)), Scored("new", 0.95, ("g",))]
    rules = BusinessRules(new_arrival_days=30, new_arrival_boost=0.1)
    out = apply_rules(items, PRODUCTS, rules, k=10, ref_date=REF)
    assert ids(out) == ["new", "s1"]
    assert out[0].score == 0.95 * 1.1
    too_old = BusinessRules(new_arrival_days=2, new_arrival_boost=0.1)
    assert ids(apply_rules(items, PRODUCTS, too_old, k=10, ref_date=REF)) == ["s1", "new"]


def test_price_band_hidden_items_and_k() -> None:
    rules = BusinessRules(price_band=(10.0, 50.0), new_arrival_boost=0.0)
    out = apply_rules(ranked("d1", "s1", "d4", "new", "unk", "d3"), PRODUCTS, rules, k=10)
    assert ids(out) == ["d1", "unk", "d3"]
    out = apply_rules(ranked("d1", "d2", "d3"), PRODUCTS, BusinessRules(), k=2, hidden={"d1"})
    assert ids(out) == ["d2", "d3"]
