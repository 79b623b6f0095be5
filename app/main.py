"""Application factory: `uvicorn app.main:create_app --factory`.

Everything lives under `/api/v1`; OpenAPI at `/schema` (`/schema/openapi.json`). The
Neo4j driver, the PostgreSQL pool and the other long-lived clients are opened once in
the lifespan (`app.lib.resources`) and injected as the `resources` dependency.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Router
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig

from app import pages
from app.domain import registry
from app.domain.system.controllers import SystemController
from app.lib import metrics
from app.lib.errors import EXCEPTION_HANDLERS
from app.lib.graph import neo4j_guard
from app.lib.hygiene import (
    close_openapi_objects,
    configure_pillow,
    install_log_redaction,
    json_guard,
)
from app.lib.ratelimit import RateLimiter
from app.lib.resources import Resources, lifespan, provide_resources
from app.lib.security import (
    OPTIONAL_SECURITY,
    SECURITY,
    SECURITY_COMPONENTS,
    public_api_key,
    require_admin,
)
from ragrec import __version__
from ragrec.config import Settings, get_settings

#: multipart framing on top of the largest accepted image
_UPLOAD_OVERHEAD_BYTES = 64 * 1024


def create_app(settings: Settings | None = None, resources: Resources | None = None) -> Litestar:
    settings = settings or (resources.settings if resources else get_settings())
    public = Router(
        path="/",
        guards=[public_api_key],
        security=OPTIONAL_SECURITY,
        route_handlers=registry.public_handlers(),
    )
    # api (issue 14): private data and operations need a key with the right scope; each
    # private controller carries its own guard (app.lib.security)
    private = Router(path="/", route_handlers=registry.private_handlers())
    internal = Router(
        path="/internal",
        guards=[require_admin],
        security=SECURITY,
        route_handlers=registry.internal_handlers(),
    )
    api = Router(
        path="/api/v1",
        route_handlers=[SystemController, *registry.open_handlers(), public, private, internal],
    )
    configure_pillow(settings.api_max_image_pixels)
    install_log_redaction()
    # ops: while Neo4j is down, requests that need it get 503 + Retry-After at once
    middleware: list[Any] = [metrics.PROMETHEUS.middleware, neo4j_guard]
    # api (issue 14): limits shared by every worker, keyed by API key; JSON hygiene
    limiter = RateLimiter(settings)
    if settings.api_rate_limit > 0:
        middleware.append(limiter.middleware)
    middleware.append(json_guard)
    app = Litestar(
        # pages (issue 12): explorer pages, shop widget, pictures, static files
        route_handlers=[api, *pages.route_handlers(), *pages.static_routers()],
        template_config=pages.template_config(),
        dependencies={"resources": Provide(provide_resources, sync_to_thread=False)},
        lifespan=[lifespan(settings, resources)],
        on_shutdown=[limiter.close],
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=middleware,
        request_max_body_size=settings.api_max_upload_bytes + _UPLOAD_OVERHEAD_BYTES,
        openapi_config=OpenAPIConfig(
            title="RagRec API",
            version=__version__,
            path="/schema",
            render_plugins=pages.openapi_render_plugins(),  # served offline (issue 12)
            components=SECURITY_COMPONENTS,
            description="Graph-native recommendations. Customer ids are the shop's own; the "
            "API pseudonymises them at the boundary and never stores or returns them. Every "
            'error is `{"error": {"status", "code", "message", "field"}}`.',
        ),
        debug=False,
    )
    close_openapi_objects(app)  # api (issue 14): the schema declares closed bodies
    return app
