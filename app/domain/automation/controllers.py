from __future__ import annotations

from typing import Annotated

from litestar import Controller, post
from litestar.params import JSONBody, Parameter

from app.domain.automation.schemas import (
    JobResult,
    JobRun,
    ProductBatch,
    ProductsUpserted,
    PurchaseBatch,
    PurchasesRecorded,
)
from app.domain.automation.services import JOBS, products, purchases, run_job
from app.lib.errors import error_specs
from app.lib.resources import ResourcesDep

JobName = Annotated[str, Parameter(description=f"one of {', '.join(JOBS)}")]


class AutomationController(Controller):
    """What n8n's workflows call (behind the /internal admin key)."""

    tags = ["internal"]

    @post(
        "/products",
        sync_to_thread=True,
        status_code=200,
        summary="Create or update products, link them into the graph, embed them",
        description="New products are linked to their category path and colour like loaded "
        "ones; with `embed` (default) new or changed products are embedded into every vector "
        "store before the answer. A product coming back in stock is stamped for the "
        "back-in-stock campaign.",
        responses=error_specs(422, 503),
    )
    def products(self, resources: ResourcesDep, data: JSONBody[ProductBatch]) -> ProductsUpserted:
        return products(resources, data)

    @post(
        "/purchases",
        sync_to_thread=True,
        status_code=201,
        summary="Record purchase events (shop customer ids, pseudonymised here)",
        responses=error_specs(404, 422),
    )
    def purchases(
        self, resources: ResourcesDep, data: JSONBody[PurchaseBatch]
    ) -> PurchasesRecorded:
        return purchases(resources, data)

    @post(
        "/jobs/{name:str}",
        sync_to_thread=True,
        status_code=200,
        summary="Run a RagRec job to its end (full reindex, import, refresh, evaluation, "
        "vector-store benchmark)",
        description="Runs the `ragrec` command of the job and answers when it ends, with "
        "its output's tail and its JSON report where it writes one.",
        responses=error_specs(404, 422, 503),
    )
    def job(self, resources: ResourcesDep, name: JobName, data: JSONBody[JobRun]) -> JobResult:
        return run_job(resources, name, data)
