from __future__ import annotations

from litestar import Controller, post
from litestar.params import JSONBody

from app.domain.interactions.schemas import InteractionBatch, InteractionIn, InteractionsAccepted
from app.domain.interactions.services import record
from app.lib.errors import error_specs
from app.lib.resources import ResourcesDep


class InteractionController(Controller):
    path = "/interactions"
    tags = ["interactions"]

    @post(
        "/",
        sync_to_thread=True,
        status_code=201,
        summary="Record one interaction",
        description="view, cart_add, wishlist_add, cart_remove, recommendation_click, "
        "recommendation_impression or search, with optional recommendation attribution "
        "(request_id, position, context). Idempotent on event_id. Weights: see settings.",
        responses=error_specs(404, 422),
    )
    def one(self, resources: ResourcesDep, data: JSONBody[InteractionIn]) -> InteractionsAccepted:
        return record(resources, [data], batch=False)

    @post(
        "/batch",
        sync_to_thread=True,
        status_code=201,
        summary="Record up to 1,000 interactions",
        description="All or nothing: the first invalid event is named (`events[i].field`) and "
        "nothing is stored.",
        responses=error_specs(404, 422),
    )
    def batch(
        self, resources: ResourcesDep, data: JSONBody[InteractionBatch]
    ) -> InteractionsAccepted:
        return record(resources, data.events, batch=True)
