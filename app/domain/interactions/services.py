from __future__ import annotations

from datetime import UTC, datetime

from app.domain.interactions.schemas import InteractionIn, InteractionsAccepted
from app.lib.errors import NotFound, Unprocessable
from app.lib.resources import Resources
from ragrec.graph.interactions import Interaction, InteractionError, record_interactions


def record(
    resources: Resources, events: list[InteractionIn], *, batch: bool
) -> InteractionsAccepted:
    """Pseudonymise the customer ids and store the events (idempotent on event id)."""
    now = datetime.now(UTC)
    converted = [
        Interaction(
            customer_id=resources.pseudonym(e.customer_id),
            product_id=e.product_id,
            type=e.type,
            ts=e.ts or now,
            context=e.context,
            request_id=e.request_id,
            position=e.position,
            query=e.query,
            event_id=e.event_id,
        )
        for e in events
    ]
    try:
        created = record_interactions(resources.driver, resources.settings, converted)
    except InteractionError as exc:
        field = exc.field if batch else exc.field.split(".", 1)[-1]
        if field.endswith("product_id"):
            raise NotFound(exc.message, field=field) from exc
        raise Unprocessable(exc.message, field=field) from exc
    for customer in {i.customer_id for i in converted}:
        resources.evict_customer(customer)
    weights = resources.settings.interaction_weights
    return InteractionsAccepted(
        received=len(events),
        created=created,
        duplicates=len(events) - created,
        weights={t: weights.get(t, 0.0) for t in sorted({e.type for e in events})},
    )
