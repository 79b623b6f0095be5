from __future__ import annotations

from typing import Annotated

from litestar import Controller, post
from litestar.params import JSONBody, Parameter

from app.domain.interactions.schemas import InteractionsAccepted
from app.domain.interactions.services import record
from app.domain.internal.schemas import (
    CacheCleared,
    EventBatch,
    PersonaRefresh,
    PersonaRefreshResult,
    ReindexRequest,
    ReindexResult,
    ScriptResult,
    ScriptRun,
)
from app.domain.internal.services import refresh_personas, reindex_product, run_script
from app.lib.errors import error_specs
from app.lib.params import ProductId
from app.lib.resources import ResourcesDep

ScriptName = Annotated[
    str,
    Parameter(description="a script in cypher/n8n/ (newest version)", pattern=r"^[a-z0-9_]{1,64}$"),
]


class InternalController(Controller):
    tags = ["internal"]

    @post(
        "/scripts/{name:str}",
        sync_to_thread=True,
        status_code=200,
        summary="Run a named Cypher script from cypher/n8n/",
        description="Parameters are bound, never interpolated. Up to 1,000 rows come back.",
        responses=error_specs(404, 422),
    )
    def script(
        self, resources: ResourcesDep, name: ScriptName, data: JSONBody[ScriptRun]
    ) -> ScriptResult:
        return run_script(resources, name, data)

    @post(
        "/events",
        sync_to_thread=True,
        status_code=201,
        summary="Ingest up to 10,000 interaction events",
        description="More than api_max_internal_batch (10,000) events: 413.",
        responses=error_specs(404, 413, 422),
    )
    def events(self, resources: ResourcesDep, data: JSONBody[EventBatch]) -> InteractionsAccepted:
        limit = resources.settings.api_max_internal_batch
        return record(resources, data.events, batch=True, max_events=limit)

    @post(
        "/personas/refresh",
        sync_to_thread=True,
        status_code=200,
        summary="Refresh personas (assign new customers, or re-discover)",
        responses=error_specs(422),
    )
    def personas(
        self, resources: ResourcesDep, data: JSONBody[PersonaRefresh]
    ) -> PersonaRefreshResult:
        return refresh_personas(resources, data)

    @post(
        "/products/{product_id:str}/reindex",
        sync_to_thread=True,
        status_code=200,
        summary="Re-embed one product into every vector store",
        description="After a product's picture or text changed: its embeddings are marked "
        "outdated and the (incremental) embedding run rewrites them in Neo4j, pgvector and "
        "Qdrant.",
        responses=error_specs(404, 503),
    )
    def reindex(
        self, resources: ResourcesDep, product_id: ProductId, data: JSONBody[ReindexRequest]
    ) -> ReindexResult:
        return reindex_product(resources, product_id, data)

    @post(
        "/cache/clear",
        status_code=200,
        summary="Drop every cached recommendation response (all workers)",
        responses=error_specs(),
    )
    async def clear_cache(self, resources: ResourcesDep) -> CacheCleared:
        count = resources.cache.clear()
        return CacheCleared(cleared=count)
