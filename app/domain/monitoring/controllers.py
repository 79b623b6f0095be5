from __future__ import annotations

import os

from litestar import Controller, MediaType, Response, get
from litestar.openapi.datastructures import ResponseSpec
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)

from app.lib.security import OPTIONAL_SECURITY, metrics_guard


class MetricsController(Controller):
    tags = ["system"]
    guards = [metrics_guard]  # an admin or metrics key when api_metrics_protected is set

    @get(
        "/metrics",
        media_type=MediaType.TEXT,
        summary="Prometheus metrics",
        description="Request counts and latency histograms per route (`ragrec_requests_total`, "
        "`ragrec_request_duration_seconds`), errors by code (`ragrec_api_errors_total`) and "
        "candidates per generator (`ragrec_candidates_per_request`), in the Prometheus text "
        "format. Per worker unless PROMETHEUS_MULTIPROC_DIR is set. With "
        "RAGREC_API_METRICS_PROTECTED an admin or metrics key is needed.",
        security=OPTIONAL_SECURITY,
        include_in_schema=True,
        responses={200: ResponseSpec(data_container=str, media_type=MediaType.TEXT)},
    )
    async def metrics(self) -> Response[bytes]:
        registry = REGISTRY
        if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST, status_code=200)
