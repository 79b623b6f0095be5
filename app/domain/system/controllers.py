from __future__ import annotations

import os
import threading
import time
from typing import Literal

from litestar import Controller, Request, Response, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from app.domain.system.schemas import HealthReport, HealthStatus, Readiness, ServiceReport
from app.lib.engines import recommender
from app.lib.errors import error_specs
from app.lib.resources import ResourcesDep
from app.lib.security import OPTIONAL_SECURITY, caller_of
from ragrec.config import get_settings
from ragrec.services import manager

#: seconds a health report is reused: a load balancer polling every few hundred ms
#: must not turn into a stream of new connections to every store
HEALTH_TTL_S = 1.0
_cache: tuple[float, HealthReport] | None = None
_lock = threading.Lock()


#: services whose outage the API serves around (the vector search falls back to the next
#: store in RAGREC_VECTOR_STORE_ORDER): down = "degraded", not "down"
FALLBACK_SERVICES = frozenset({"postgres", "qdrant"})


def overall_status(failing: list[str]) -> str:
    """ok | degraded (a store with a fallback is down: still 200) | down (Neo4j: 503)."""
    if not failing:
        return "ok"
    return "degraded" if set(failing) <= FALLBACK_SERVICES else "down"


def _health_report() -> HealthReport:
    global _cache
    with _lock:
        if _cache is not None and time.monotonic() - _cache[0] < HEALTH_TTL_S:
            return _cache[1]
        rows = manager.status(get_settings())
        services = [ServiceReport(**r.to_dict()) for r in rows]
        failing = [s.name for s in services if s.required and not s.reachable]
        report = HealthReport(status=overall_status(failing), services=services, failing=failing)
        _cache = (time.monotonic(), report)
        return report


class SystemController(Controller):
    tags = ["system"]

    @get(
        "/health",
        sync_to_thread=True,
        summary="Per-service health",
        description="The same report as `ragrec services status`. `status` is `ok`; "
        "`degraded` (HTTP 200) when PostgreSQL or Qdrant is down and the vector search is "
        "served by the next store; `down` (HTTP 503) when Neo4j is. `failing` names the "
        f"services that are down. Reports are reused for {HEALTH_TTL_S:.0f}s. "
        'Anonymous callers get only `{"status": "up" | "degraded" | "down"}`; '
        "the full report (services, versions, addresses) needs an admin key.",
        responses={
            503: ResponseSpec(
                data_container=HealthReport | HealthStatus,  # type: ignore[arg-type]
                description="Neo4j is down",
            )
        },
        security=OPTIONAL_SECURITY,
    )
    def health(self, request: Request) -> Response[HealthReport | HealthStatus]:
        report = _health_report()
        down = report.status == "down"
        status = HTTP_503_SERVICE_UNAVAILABLE if down else HTTP_200_OK
        if caller_of(request).allows("admin"):
            return Response(report, status_code=status)
        # api (issue 14): no versions, paths or service names for anonymous callers
        word: Literal["up", "degraded", "down"] = (
            "up" if report.status == "ok" else "down" if down else "degraded"
        )
        return Response(HealthStatus(status=word), status_code=status)

    @get(
        "/ready",
        sync_to_thread=True,
        summary="Readiness of this worker",
        description="200 when this worker answers recommendations from its item snapshot "
        "(or has nothing to wait for: snapshot off, no live lists yet); 503 while the first "
        "build of the live version runs (requests are served meanwhile, by the slower "
        "Cypher path). An admin key adds the worker's pid and the snapshot's size.",
        responses={
            **error_specs(),
            503: ResponseSpec(data_container=Readiness, description="still building"),
        },
        security=OPTIONAL_SECURITY,
    )
    def ready(self, request: Request, resources: ResourcesDep) -> Response[Readiness]:
        state = recommender(resources).readiness()
        status = HTTP_200_OK if state["ready"] else HTTP_503_SERVICE_UNAVAILABLE
        if caller_of(request).allows("admin"):
            body = Readiness(ready=state["ready"], worker=os.getpid(),
                             item_snapshot=state["item_snapshot"])  # fmt: skip
        else:
            body = Readiness(ready=state["ready"])
        return Response(body, status_code=status)
