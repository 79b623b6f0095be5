from __future__ import annotations

from litestar import Controller, get

from app.domain.personas.schemas import CustomerPersona, PersonaList
from app.domain.personas.services import list_personas, persona_of
from app.lib.errors import error_specs
from app.lib.params import CustomerId
from app.lib.resources import ResourcesDep
from app.lib.security import OPTIONAL_SECURITY, SECURITY, requires, requires_when_public


class PersonaController(Controller):
    tags = ["personas"]

    @get(
        "/personas",
        sync_to_thread=True,
        summary="The current personas",
        description="Biggest first, with name, description, size, top categories, age mix and "
        "price level. Empty until `ragrec discover-personas` has run.",
        responses=error_specs(403),
        guards=[requires_when_public("read", "widget")],
        security=OPTIONAL_SECURITY,
    )
    def personas(self, resources: ResourcesDep) -> PersonaList:
        return list_personas(resources)

    @get(
        "/persona/{customer_id:str}",
        sync_to_thread=True,
        summary="One customer's persona",
        description="`customer_id` is the shop's own id (pseudonymised here). Without a "
        "persona, `reason` says why.",
        responses=error_specs(403, 404),
        guards=[requires("read")],
        security=SECURITY,
    )
    def persona(self, resources: ResourcesDep, customer_id: CustomerId) -> CustomerPersona:
        return persona_of(resources, customer_id)
