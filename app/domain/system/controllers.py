from __future__ import annotations

from litestar import Controller, Response, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from app.domain.system.schemas import HealthReport, ServiceReport
from ragrec.config import get_settings
from ragrec.services import manager


class SystemController(Controller):
    tags = ["system"]

    @get(
        "/health",
        sync_to_thread=True,
        summary="Per-service health",
        description="The same report as `ragrec services status`; HTTP 503 naming the failing "
        "service(s) when a required one is down.",
        responses={
            503: ResponseSpec(data_container=HealthReport, description="a required service is down")
        },
    )
    def health(self) -> Response[HealthReport]:
        rows = manager.status(get_settings())
        services = [ServiceReport(**r.to_dict()) for r in rows]
        failing = [s.name for s in services if s.required and not s.reachable]
        report = HealthReport(
            status="degraded" if failing else "ok", services=services, failing=failing
        )
        return Response(
            report, status_code=HTTP_503_SERVICE_UNAVAILABLE if failing else HTTP_200_OK
        )
