from __future__ import annotations

from litestar import Controller, get

from app.domain.benchmark.schemas import BenchmarkComparison
from app.domain.benchmark.services import latest_comparison
from app.lib.errors import error_specs
from app.lib.resources import ResourcesDep


class BenchmarkController(Controller):
    path = "/benchmark"
    tags = ["benchmark"]

    @get(
        "/compare",
        sync_to_thread=True,
        summary="Latest vector-store benchmark",
        description="The newest result of `ragrec benchmark vectorstores` (pgvector vs Qdrant vs "
        "Neo4j) from the configured results folder; 404 with the folder when there is none.",
        responses=error_specs(404, 422),
    )
    def compare(self, resources: ResourcesDep) -> BenchmarkComparison:
        return latest_comparison(resources)
