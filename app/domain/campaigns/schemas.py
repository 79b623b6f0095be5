from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

Campaign = Literal["cart_abandonment", "new_arrivals", "weekly_digest", "back_in_stock"]
Limit = Annotated[int, msgspec.Meta(ge=1, le=10_000)]
Items = Annotated[int, msgspec.Meta(ge=1, le=24)]


class CartAbandonment(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Cart adds between `lookback_hours` and `idle_minutes` ago with nothing since."""

    idle_minutes: Annotated[int, msgspec.Meta(ge=1, le=10_080)] = 120
    lookback_hours: Annotated[int, msgspec.Meta(ge=1, le=720)] = 48
    limit: Limit = 500
    items: Items = 6
    now: datetime | None = None


class NewArrivals(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    days: Annotated[int, msgspec.Meta(ge=1, le=365)] = 14
    active_days: Annotated[int, msgspec.Meta(ge=1, le=3_650)] = 90
    quiet_days: Annotated[int, msgspec.Meta(ge=0, le=365)] = 6
    limit: Limit = 1_000
    items: Items = 6


class WeeklyDigest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    active_days: Annotated[int, msgspec.Meta(ge=1, le=3_650)] = 30
    quiet_days: Annotated[int, msgspec.Meta(ge=0, le=365)] = 6
    limit: Limit = 1_000
    items: Items = 8


class BackInStock(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    since_hours: Annotated[int, msgspec.Meta(ge=1, le=720)] = 24
    interest_days: Annotated[int, msgspec.Meta(ge=1, le=365)] = 60
    limit: Limit = 1_000
    items: Items = 6


class CampaignItem(msgspec.Struct, kw_only=True):
    product_id: str
    name: str | None
    category: str | None
    price: float | None
    why: str


class Recipient(msgspec.Struct, kw_only=True):
    """`customer_id` is pseudonymous: the shop's mail relay (or CRM) maps it to an address."""

    customer_id: str
    items: list[CampaignItem]


class CampaignRecipients(msgspec.Struct, kw_only=True):
    campaign: str
    generated_at: datetime
    recipients: list[Recipient]


class SentIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    customer_ids: Annotated[
        list[Annotated[str, msgspec.Meta(min_length=1, max_length=128)]],
        msgspec.Meta(max_length=10_000),
    ]


class SentOut(msgspec.Struct, kw_only=True):
    campaign: str
    marked: int
