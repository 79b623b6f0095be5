"""HTML explorer pages, the shop widget and the offline API docs (issue 12).

`app.main` registers: `route_handlers()` (pages, sign-in, pictures), `static_routers()`
(the app's own CSS/JS, vendored docs UIs, and vis-network as shipped by pyvis),
`template_config()` (Jinja templates in `app/templates/`) and `openapi_render_plugins()`
(Swagger UI at `/schema`, from vendored files; ReDoc is left out: its
bundle loads a logo from a CDN).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Router
from litestar.openapi.plugins import (
    JsonRenderPlugin,
    OpenAPIRenderPlugin,
    SwaggerRenderPlugin,
    YamlRenderPlugin,
)
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

APP_DIR = Path(__file__).resolve().parent.parent
TEMPLATES = APP_DIR / "templates"
STATIC = APP_DIR / "static"
FAVICON = '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">'


def vis_network_dir() -> Path:
    """vis-network's JS and CSS as shipped inside the pyvis package."""
    import pyvis

    lib = Path(pyvis.__file__).resolve().parent / "lib"
    return max(lib.glob("vis-*"), key=lambda p: tuple(int(x) for x in p.name[4:].split(".")))


def route_handlers() -> list[Any]:
    from app.pages.controllers import route_handlers as handlers

    return handlers()


def static_routers() -> list[Router]:
    return [
        create_static_files_router(path="/static/vis", directories=[vis_network_dir()], name="vis"),
        create_static_files_router(path="/static", directories=[STATIC], name="static"),
    ]


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(directory=TEMPLATES, engine=JinjaTemplateEngine)


def openapi_render_plugins() -> list[OpenAPIRenderPlugin]:
    """Docs UIs whose scripts and styles the app serves itself (no CDN, no fonts)."""
    swagger = "/static/vendor/swagger-ui"
    return [
        SwaggerRenderPlugin(
            js_url=f"{swagger}/swagger-ui-bundle.js",
            css_url=f"{swagger}/swagger-ui.css",
            standalone_preset_js_url=f"{swagger}/swagger-ui-standalone-preset.js",
            path=["/", "/swagger"],
            favicon=FAVICON,
        ),
        JsonRenderPlugin(),
        YamlRenderPlugin(),
    ]
