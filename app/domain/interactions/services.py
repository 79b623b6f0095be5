from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from app.domain.interactions.schemas import InteractionIn, InteractionsAccepted
from app.lib.errors import ApiError, NotFound, PayloadTooLarge, Unprocessable
from app.lib.graph import read
from app.lib.resources import Resources
from app.lib.security import WIDGET_EVENT_TYPES, Caller
from ragrec.graph.interactions import Interaction, InteractionError, record_interactions

#: the largest UTC offset a timestamp may carry (ISO 8601 / Neo4j)
MAX_OFFSET = timedelta(hours=18)


class Forbidden(ApiError):
    status = 403
    code = "forbidden"


def record(
    resources: Resources,
    events: list[InteractionIn],
    *,
    batch: bool,
    caller: Caller | None = None,
    max_events: int | None = None,
) -> InteractionsAccepted:
    """Check, pseudonymise and store the events (idempotent on event id, or on a hash of
    the content when there is none). `caller` restricts what a widget key may post."""
    settings = resources.settings
    limit = max_events or settings.api_max_batch
    if len(events) > limit:
        raise PayloadTooLarge(
            f"{len(events):,} events in one request; at most {limit:,}", field="events"
        )
    now = datetime.now(UTC)
    widget_only = caller is not None and not caller.allows("events")

    def where(index: int, name: str) -> str:
        return f"events[{index}].{name}" if batch else name

    converted: list[Interaction] = []
    for index, event in enumerate(events):
        if widget_only and event.type not in WIDGET_EVENT_TYPES:
            raise Forbidden(
                f"a widget key may post only {' and '.join(sorted(WIDGET_EVENT_TYPES))} events",
                field=where(index, "type"),
            )
        ts = _checked_ts(event.ts, now, resources, where(index, "ts"))
        pseudonym = resources.pseudonym(event.customer_id)
        converted.append(
            Interaction(
                customer_id=pseudonym,
                product_id=event.product_id,
                type=event.type,
                ts=ts or now,
                context=event.context,
                request_id=event.request_id,
                position=event.position,
                query=event.query,
                event_id=event.event_id or _content_id(pseudonym, event, ts, now, resources),
            )
        )
    if widget_only:
        wanted = sorted({i.customer_id for i in converted})
        known = {r["id"] for r in read(resources, "api/known_customers", ids=wanted)}
        for index, interaction in enumerate(converted):
            if interaction.customer_id not in known:
                raise NotFound(
                    "unknown customer: a widget key cannot create customers",
                    field=where(index, "customer_id"),
                )
    try:
        created = record_interactions(resources.driver, settings, converted)
    except InteractionError as exc:
        field = exc.field if batch else exc.field.split(".", 1)[-1]
        if field.endswith("product_id"):
            raise NotFound(exc.message, field=field) from exc
        raise Unprocessable(exc.message, field=field) from exc
    for customer in {i.customer_id for i in converted}:
        resources.evict_customer(customer)
    weights = settings.interaction_weights
    return InteractionsAccepted(
        received=len(events),
        created=created,
        duplicates=len(events) - created,
        weights={t: weights.get(t, 0.0) for t in sorted({e.type for e in events})},
    )


def _checked_ts(
    ts: datetime | None, now: datetime, resources: Resources, field: str
) -> datetime | None:
    """The event time in UTC; refused when its offset, future or age is out of bounds."""
    if ts is None:
        return None
    offset = ts.utcoffset()
    if offset is not None and abs(offset) > MAX_OFFSET:
        raise ApiError("the UTC offset must be within -18:00..+18:00", field=field)
    try:
        when = ts.astimezone(UTC) if offset is not None else ts.replace(tzinfo=UTC)
    except (OverflowError, ValueError):
        raise ApiError("the timestamp is out of range", field=field) from None
    settings = resources.settings
    skew = timedelta(seconds=settings.api_event_max_future_s)
    if when > now + skew:
        raise ApiError(
            f"the timestamp is in the future (more than {skew.total_seconds():.0f}s ahead)",
            field=field,
        )
    if when < now - timedelta(days=settings.api_event_max_age_days):
        raise ApiError(
            f"the timestamp is more than {settings.api_event_max_age_days} days in the past",
            field=field,
        )
    return when


def _content_id(
    pseudonym: str,
    event: InteractionIn,
    ts: datetime | None,
    now: datetime,
    resources: Resources,
) -> str:
    """An event without `event_id` is identified by its content: the same event posted
    twice is stored once. Without `ts`, the time part is the dedup window it arrived in."""
    window = resources.settings.api_event_dedup_window_s
    when = ts.isoformat() if ts is not None else f"w{int(now.timestamp()) // window}"
    raw = "|".join(
        str(v)
        for v in (
            pseudonym,
            event.product_id,
            event.type,
            when,
            event.context,
            event.request_id,
            event.position,
            event.query,
        )
    )
    return "h" + hashlib.sha256(raw.encode()).hexdigest()[:31]
