from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

InteractionType = Literal[
    "view",
    "cart_add",
    "wishlist_add",
    "cart_remove",
    "recommendation_click",
    "recommendation_impression",
    "search",
]
RecContext = Literal[
    "homepage", "product", "cart", "search", "frequently_bought_together", "email", "other"
]


class InteractionIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One event. Recommendation events carry the `request_id` of the response that showed
    the item and its `position` there, so clicks and conversions can be attributed."""

    customer_id: Annotated[
        str,
        msgspec.Meta(
            min_length=1,
            max_length=128,
            description="the shop's own customer id (pseudonymised, never stored)",
        ),
    ]
    product_id: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    type: InteractionType
    ts: (
        Annotated[
            datetime,
            msgspec.Meta(
                description="when it happened (ISO 8601; no offset = UTC; offsets within "
                "+/-18:00); unset = now. At most api_event_max_future_s ahead and "
                "api_event_max_age_days back."
            ),
        ]
        | None
    ) = None
    event_id: (
        Annotated[
            str,
            msgspec.Meta(
                min_length=1,
                max_length=128,
                description="idempotence key; unset = a hash of the content (and of `ts`, "
                "or of the current api_event_dedup_window_s window when `ts` is unset)",
            ),
        ]
        | None
    ) = None
    request_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None
    position: Annotated[int, msgspec.Meta(ge=1, le=1000)] | None = None
    context: RecContext | None = None
    query: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class InteractionBatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """At most `api_max_batch` (default 1,000) events; more answers 413."""

    events: Annotated[
        list[InteractionIn],
        msgspec.Meta(min_length=1, description="1..api_max_batch (1,000) events; more: 413"),
    ]


class InteractionsAccepted(msgspec.Struct, kw_only=True):
    received: int
    created: int
    duplicates: int
    weights: dict[str, float]
