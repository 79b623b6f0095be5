from __future__ import annotations

from litestar import Controller, delete, get

from app.domain.privacy.schemas import CustomerExport, ErasureResult
from app.domain.privacy.services import erase, export
from app.lib.errors import error_specs
from app.lib.params import CustomerId
from app.lib.resources import ResourcesDep
from app.lib.security import SECURITY, requires


class PrivacyController(Controller):
    path = "/privacy/customers"
    tags = ["privacy"]
    guards = [requires("admin")]
    security = SECURITY

    @get(
        "/{customer_id:str}/export",
        sync_to_thread=True,
        summary="GDPR export of one customer",
        description="Everything held about the customer in Neo4j, pgvector, Qdrant and ranker "
        "training data, as JSON. `customer_id` is the shop's own id (pseudonymised here).",
        responses=error_specs(403, 404, 503),
    )
    def export(self, resources: ResourcesDep, customer_id: CustomerId) -> CustomerExport:
        return export(resources, customer_id)

    @delete(
        "/{customer_id:str}",
        sync_to_thread=True,
        status_code=200,
        summary="GDPR erasure of one customer",
        description="Erases the customer from Neo4j (node, purchases, interactions, persona "
        "membership), pgvector, Qdrant, ranker training data and the API's caches, and writes "
        "an audit record without personal data. A second call answers 404.",
        responses=error_specs(403, 404, 503),
    )
    def erase(self, resources: ResourcesDep, customer_id: CustomerId) -> ErasureResult:
        return erase(resources, customer_id)
