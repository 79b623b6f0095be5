from __future__ import annotations

from datetime import date

import msgspec


class Window(msgspec.Struct, kw_only=True):
    since: date | None = msgspec.field(default=None)
    until: date | None = msgspec.field(default=None)


class TopProduct(msgspec.Struct, kw_only=True):
    position: int
    product_id: str
    name: str | None
    events: int
    customers: int


class TopProducts(msgspec.Struct, kw_only=True):
    metric: str
    window: Window
    items: list[TopProduct]


class Performance(msgspec.Struct, kw_only=True):
    context: str
    requests: int
    impressions: int
    clicks: int
    conversions: int
    ctr: float
    conversion_rate: float


class RecommendationPerformance(msgspec.Struct, kw_only=True):
    window: Window
    total: Performance
    by_context: list[Performance]
