from __future__ import annotations

import threading
import time

from litestar import Controller, Response, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from app.domain.system.schemas import HealthReport, ServiceReport
from ragrec.config import get_settings
from ragrec.services import manager

#: seconds a health report is reused: a load balancer polling every few hundred ms
#: must not turn into a stream of new connections to every store
HEALTH_TTL_S = 1.0
_cache: tuple[float, HealthReport] | None = None
_lock = threading.Lock()


def _health_report() -> HealthReport:
    global _cache
    with _lock:
        if _cache is not None and time.monotonic() - _cache[0] < HEALTH_TTL_S:
            return _cache[1]
        rows = manager.status(get_settings())
        services = [ServiceReport(**r.to_dict()) for r in rows]
        failing = [s.name for s in services if s.required and not s.reachable]
        report = HealthReport(
            status="degraded" if failing else "ok", services=services, failing=failing
        )
        _cache = (time.monotonic(), report)
        return report


class SystemController(Controller):
    tags = ["system"]

    @get(
        "/health",
        sync_to_thread=True,
        summary="Per-service health",
        description="The same report as `ragrec services status`; HTTP 503 naming the failing "
        f"service(s) when a required one is down. Reports are reused for {HEALTH_TTL_S:.0f}s.",
        responses={
            503: ResponseSpec(data_container=HealthReport, description="a required service is down")
        },
    )
    def health(self) -> Response[HealthReport]:
        report = _health_report()
        return Response(
            report, status_code=HTTP_503_SERVICE_UNAVAILABLE if report.failing else HTTP_200_OK
        )
