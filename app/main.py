"""Application factory: `uvicorn app.main:create_app --factory`."""

from __future__ import annotations

from litestar import Litestar, Router
from litestar.openapi import OpenAPIConfig

from app.domain.system.controllers import SystemController
from ragrec import __version__


def create_app() -> Litestar:
    api = Router(path="/api/v1", route_handlers=[SystemController])
    return Litestar(
        route_handlers=[api],
        openapi_config=OpenAPIConfig(title="RagRec API", version=__version__, path="/schema"),
    )
