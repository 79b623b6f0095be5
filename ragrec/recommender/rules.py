"""Business rules, applied after fusion and reranking: pure functions on ranked lists.

Order: drop what must never be shown (out of stock, already bought, outside the price
band, in the cart), boost new arrivals (then re-sort), cap each category, cut to k.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from ragrec.recommender.types import ProductInfo, Scored


@dataclass(frozen=True)
class BusinessRules:
    max_per_category: int | None = 3
    exclude_bought: bool = True
    repurchase_categories: frozenset[str] = field(default_factory=frozenset)
    drop_out_of_stock: bool = True
    new_arrival_days: int = 30
    new_arrival_boost: float = 0.1  # relative: score * (1 + boost)
    price_band: tuple[float | None, float | None] | None = None


def apply_rules(
    ranked: Sequence[Scored],
    products: Mapping[str, ProductInfo],
    rules: BusinessRules,
    *,
    k: int,
    bought: Collection[str] = (),
    hidden: Collection[str] = (),
    ref_date: date | None = None,
) -> list[Scored]:
    """The top `k` of `ranked` that pass the rules (see the module docstring)."""
    blocked = set(hidden)
    if rules.exclude_bought:
        blocked |= excluded_purchases(bought, products, rules.repurchase_categories)
    kept = [
        s
        for s in ranked
        if s.product_id not in blocked
        and (not rules.drop_out_of_stock or in_stock(products.get(s.product_id)))
        and within_price_band(products.get(s.product_id), rules.price_band)
    ]
    kept = boost_new_arrivals(kept, products, rules, ref_date)
    return cap_per_category(kept, products, rules.max_per_category, limit=k)


def excluded_purchases(
    bought: Collection[str], products: Mapping[str, ProductInfo], repurchase: Collection[str]
) -> set[str]:
    """Bought products, less those of categories where buying again is normal."""
    return {
        pid
        for pid in bought
        if (info := products.get(pid)) is None or info.category not in repurchase
    }


def in_stock(info: ProductInfo | None) -> bool:
    """Unknown stock (no property, as in H&M's files) counts as in stock."""
    return info is None or info.in_stock is not False


def within_price_band(
    info: ProductInfo | None, band: tuple[float | None, float | None] | None
) -> bool:
    if band is None or info is None or info.price is None:
        return True
    low, high = band
    return (low is None or info.price >= low) and (high is None or info.price <= high)


def is_new_arrival(info: ProductInfo | None, since: date | None) -> bool:
    """Created on or after `since` (`ref_date - new_arrival_days`; None: nothing is new)."""
    if info is None or info.created_at is None or since is None:
        return False
    return info.created_at >= since


def boost_new_arrivals(
    ranked: Sequence[Scored],
    products: Mapping[str, ProductInfo],
    rules: BusinessRules,
    ref_date: date | None,
) -> list[Scored]:
    if not rules.new_arrival_boost:
        return list(ranked)
    since = None if ref_date is None else ref_date - timedelta(days=rules.new_arrival_days)
    factor = 1.0 + rules.new_arrival_boost
    out = []
    for s in ranked:
        if is_new_arrival(products.get(s.product_id), since):
            s = replace(s, score=s.score * factor)
        out.append(s)
    out.sort(key=lambda s: (-s.score, s.product_id))
    return out


def cap_per_category(
    ranked: Sequence[Scored],
    products: Mapping[str, ProductInfo],
    cap: int | None,
    *,
    limit: int | None = None,
) -> list[Scored]:
    """Keep at most `cap` items of each category, in order (None: no cap); stop at
    `limit` items."""
    if cap is None:
        return list(ranked[:limit])
    seen: dict[str | None, int] = {}
    out: list[Scored] = []
    for s in ranked:
        if limit is not None and len(out) >= limit:
            break
        info = products.get(s.product_id)
        category = info.category if info else None
        if category is not None and seen.get(category, 0) >= cap:
            continue
        seen[category] = seen.get(category, 0) + 1
        out.append(s)
    return out
