"""Interactions beyond purchases: typed, weighted, time-decayed events on the graph.

Stored as `(:Customer)-[:INTERACTED {event_id, type, ts, weight, context, request_id,
position, query}]->(:Product)`. `weight` is the base weight of the type (settings);
recency decay `exp(-days / interaction_decay_days)` is applied when the weight is used
(GDS projections, recommender), relative to a reference date, so stored events never
need rewriting.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from neo4j import Driver

from ragrec.config import Settings
from ragrec.cypher import query

INTERACTION_TYPES = (
    "view",
    "cart_add",
    "wishlist_add",
    "cart_remove",
    "recommendation_click",
    "recommendation_impression",
    "search",
)


class InteractionError(ValueError):
    """An event that cannot be stored; `field` names the offending field."""

    def __init__(self, field: str, message: str, index: int | None = None) -> None:
        where = f"events[{index}].{field}" if index is not None else field
        super().__init__(f"{where}: {message}")
        self.field = where
        self.message = message


@dataclass(frozen=True)
class Interaction:
    customer_id: str  # pseudonymous id (pseudonymise at the boundary)
    product_id: str
    type: str
    ts: datetime
    context: str | None = None
    request_id: str | None = None
    position: int | None = None
    query: str | None = None
    event_id: str | None = None

    def key(self) -> str:
        """The client's event id, or a hash of what makes the event unique."""
        if self.event_id:
            return self.event_id
        raw = "|".join(
            str(v)
            for v in (
                self.customer_id,
                self.product_id,
                self.type,
                self.ts.isoformat(),
                self.request_id,
                self.position,
            )
        )
        return hashlib.sha256(raw.encode()).hexdigest()[:32]


def decayed_weight(
    weight: float, ts: date | datetime, reference: date | datetime, days: float
) -> float:
    """`weight * exp(-age_days / days)`; events after the reference date are not boosted."""
    ts_day = ts.date() if isinstance(ts, datetime) else ts
    ref_day = reference.date() if isinstance(reference, datetime) else reference
    age = max((ref_day - ts_day).days, 0)
    return weight * math.exp(-age / days)


def record_interactions(driver: Driver, settings: Settings, events: list[Interaction]) -> int:
    """Validate and store events (idempotent on event id); returns how many were new.

    Raises InteractionError naming the field of the first invalid event; nothing is
    stored then (all events go in one transaction).
    """
    rows: list[dict[str, Any]] = []
    for index, event in enumerate(events):
        if event.type not in INTERACTION_TYPES:
            raise InteractionError(
                "type",
                f"unknown interaction type {event.type!r}; one of {', '.join(INTERACTION_TYPES)}",
                index,
            )
        if not event.customer_id:
            raise InteractionError("customer_id", "missing", index)
        if event.position is not None and event.position < 0:
            raise InteractionError("position", "must be >= 0", index)
        ts = event.ts if event.ts.tzinfo else event.ts.replace(tzinfo=UTC)
        rows.append(
            {
                "event_id": event.key(),
                "customer_id": event.customer_id,
                "product_id": event.product_id,
                "type": event.type,
                "ts": ts,
                "weight": settings.interaction_weights.get(event.type, 0.0),
                "context": event.context,
                "request_id": event.request_id,
                "position": event.position,
                "query": event.query,
            }
        )
    if not rows:
        return 0
    wanted = sorted({str(r["product_id"]) for r in rows})
    found, _, _ = driver.execute_query(
        query("etl/existing_products"), ids=wanted, database_=settings.neo4j_database
    )
    missing = set(wanted) - {r["id"] for r in found}
    if missing:
        index = next(i for i, r in enumerate(rows) if r["product_id"] in missing)
        raise InteractionError(
            "product_id", f"unknown product {rows[index]['product_id']!r}", index
        )
    records, _, _ = driver.execute_query(
        query("etl/interactions"), rows=rows, database_=settings.neo4j_database
    )
    return int(records[0]["created"]) if records else 0
