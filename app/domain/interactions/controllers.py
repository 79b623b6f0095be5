from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post
from litestar.params import JSONBody

from app.domain.interactions.schemas import InteractionBatch, InteractionIn, InteractionsAccepted
from app.domain.interactions.services import record
from app.lib.errors import error_specs
from app.lib.resources import ResourcesDep
from app.lib.security import SECURITY, caller_of, requires

_WHO = (
    " Needs an `events` key (which may create cold-start customers), or the `widget` key "
    "for `recommendation_impression` / `recommendation_click` of known customers."
)
_TS = (
    " `ts` must be within api_event_max_future_s (300 s) ahead and api_event_max_age_days "
    "(3,650) back, with an offset within +/-18:00."
)


class InteractionController(Controller):
    path = "/interactions"
    tags = ["interactions"]
    guards = [requires("events", "widget")]
    security = SECURITY

    @post(
        "/",
        sync_to_thread=True,
        status_code=201,
        summary="Record one interaction",
        description="view, cart_add, wishlist_add, cart_remove, recommendation_click, "
        "recommendation_impression or search, with optional recommendation attribution "
        "(request_id, position, context). Idempotent on event_id; without one, on a hash of "
        "the content. Weights: see settings." + _WHO + _TS,
        responses=error_specs(404, 422),
    )
    def one(
        self,
        request: Request[Any, Any, Any],
        resources: ResourcesDep,
        data: JSONBody[InteractionIn],
    ) -> InteractionsAccepted:
        return record(resources, [data], batch=False, caller=caller_of(request))

    @post(
        "/batch",
        sync_to_thread=True,
        status_code=201,
        summary="Record up to 1,000 interactions",
        description="All or nothing: the first invalid event is named (`events[i].field`) and "
        "nothing is stored. More than api_max_batch (1,000) events: 413." + _WHO + _TS,
        responses=error_specs(404, 413, 422),
    )
    def batch(
        self,
        request: Request[Any, Any, Any],
        resources: ResourcesDep,
        data: JSONBody[InteractionBatch],
    ) -> InteractionsAccepted:
        return record(resources, data.events, batch=True, caller=caller_of(request))
