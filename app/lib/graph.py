"""Run a named Cypher file (see `ragrec.cypher`) against the API's driver, and the
Neo4j circuit breaker that turns "Neo4j is down" into a fast 503.

When Neo4j is unreachable, the driver gives up after `api_neo4j_timeout_s` (see
`ragrec.services.neo4j.api_driver`) and the `ServiceUnavailable` reaches the exception
handler (`app.lib.errors`), which opens `BREAKER`. While it is open, `neo4j_guard` (an
ASGI middleware) answers every request that needs Neo4j with 503 + ``Retry-After`` at
once, without taking a worker thread, so a burst of requests cannot exhaust the thread
pool and endpoints that do not need Neo4j (health, metrics, schema) keep answering. A
background probe checks Neo4j every second and closes the breaker as soon as it answers
again: the API recovers by itself, without a restart.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Receive,
    Scope,
    Send,
)
from neo4j import RoutingControl

from app.lib.resources import Resources
from ragrec.config import Settings
from ragrec.cypher import query

log = logging.getLogger("ragrec.api")

#: paths answered without Neo4j (prefix match under the app root)
NEO4J_FREE_PATHS = ("/api/v1/health", "/api/v1/metrics", "/schema")
PROBE_INTERVAL_S = 1.0


def read(resources: Resources, name: str, **params: Any) -> list[dict[str, Any]]:
    records, _, _ = resources.driver.execute_query(
        query(name), params, database_=resources.database, routing_=RoutingControl.READ
    )
    return [r.data() for r in records]


def write(resources: Resources, name: str, **params: Any) -> list[dict[str, Any]]:
    records, _, _ = resources.driver.execute_query(
        query(name), params, database_=resources.database, routing_=RoutingControl.WRITE
    )
    return [r.data() for r in records]


class Neo4jBreaker:
    """Open while Neo4j is known to be down; a probe thread closes it when it is back."""

    def __init__(self) -> None:
        self._open = False
        self._since = 0.0
        self._lock = threading.Lock()
        self._probe: threading.Thread | None = None
        self.trips = 0

    @property
    def is_open(self) -> bool:
        return self._open

    def trip(self, settings: Settings) -> None:
        """Open the breaker (Neo4j just failed) and start the recovery probe."""
        from app.lib import metrics

        with self._lock:
            if self._open:
                return
            self._open = True
            self._since = time.monotonic()
            self.trips += 1
            metrics.FALLBACKS.labels(component="neo4j", fallback="unavailable_503").inc()
            log.warning("Neo4j unreachable: answering 503 until it is back")
            if self._probe is None or not self._probe.is_alive():
                self._probe = threading.Thread(
                    target=self._recover, args=(settings,), name="ragrec-neo4j-probe", daemon=True
                )
                self._probe.start()

    def reset(self) -> None:
        with self._lock:
            self._open = False

    def _recover(self, settings: Settings) -> None:
        from ragrec.services import neo4j as neo4j_service

        while self._open:
            time.sleep(PROBE_INTERVAL_S)
            if neo4j_service.reachable(settings):
                with self._lock:
                    self._open = False
                log.warning(
                    "Neo4j is back after %.1fs: serving again", time.monotonic() - self._since
                )
                return


BREAKER = Neo4jBreaker()


def neo4j_guard(app: ASGIApp) -> ASGIApp:
    """ASGI middleware: 503 + Retry-After at once while `BREAKER` is open."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or not BREAKER.is_open
            or scope["path"].startswith(NEO4J_FREE_PATHS)
        ):
            await app(scope, receive, send)
            return
        from app.lib import metrics

        settings: Settings = scope["app"].state.resources.settings
        retry_after = str(settings.api_retry_after_s)
        metrics.ERRORS.labels(status="503", code="neo4j_unavailable").inc()
        body = json.dumps(
            {
                "error": {
                    "status": 503,
                    "code": "neo4j_unavailable",
                    "message": f"the graph database is unavailable; retry in {retry_after}s",
                    "field": None,
                }
            }
        ).encode()
        start: HTTPResponseStartEvent = {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", retry_after.encode()),
            ],
        }
        await send(start)
        end: HTTPResponseBodyEvent = {
            "type": "http.response.body",
            "body": body,
            "more_body": False,
        }
        await send(end)

    return middleware


def jsonable(value: Any) -> Any:
    """Neo4j values (temporal types, nodes' property maps) as JSON-ready Python values."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if hasattr(value, "iso_format"):
        return value.iso_format()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)
