"""Who may open the explorer pages. They show private data (a customer's purchases and
persona, attributed analytics), so by default they need an `admin` or `read` API key,
given once on the sign-in page and kept in an HttpOnly, SameSite=Strict cookie (or sent
as `X-API-Key`). `RAGREC_PAGES_PUBLIC=true` opens them (a demo on a laptop). The home
page, the shop demo, the pictures and the static files are public."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from litestar.response import Redirect

from app.lib.resources import Resources

COOKIE = "ragrec_pages_key"
HEADER = "X-API-Key"
#: scopes whose keys open the explorer pages (admin implies every scope)
PAGE_SCOPES = ("admin", "read")


def api_keys(resources: Resources) -> Mapping[str, list[str]]:
    """The configured keys by scope (a plain list of keys means admin keys)."""
    keys = getattr(resources, "api_keys", None)
    if keys is None:
        effective = getattr(resources.settings, "effective_api_keys", None)
        raw: Any = effective() if callable(effective) else resources.settings.api_keys
        keys = raw if isinstance(raw, Mapping) else {"admin": list(raw or [])}
    return keys


def key_scopes(presented: str | None, keys: Mapping[str, list[str]]) -> set[str]:
    """The scopes of a presented key; every configured key is compared in constant time."""
    if not presented:
        return set()
    given = presented.encode()
    found = set()
    for scope, scope_keys in keys.items():
        for key in scope_keys:
            if key and hmac.compare_digest(given, key.encode()):
                found.add(scope)
    return found


def may_open_pages(resources: Resources, presented: str | None) -> bool:
    if resources.settings.pages_public:
        return True
    return bool(key_scopes(presented, api_keys(resources)) & set(PAGE_SCOPES))


def presented_key(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    return connection.headers.get(HEADER) or connection.cookies.get(COOKIE)


def pages_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    resources: Resources = connection.app.state.resources
    if not may_open_pages(resources, presented_key(connection)):
        raise NotAuthorizedException("sign in with an admin or read API key to open this page")


def sign_in_redirect(request: Request[Any, Any, Any]) -> Response[Any] | None:
    """`before_request` of the explorer pages: to the sign-in page without a good key."""
    resources: Resources = request.app.state.resources
    if may_open_pages(resources, presented_key(request)):
        return None
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return Redirect(f"/login?{urlencode({'next': target})}", status_code=303)


def signed_in(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    resources: Resources = connection.app.state.resources
    if resources.settings.pages_public:
        return False
    return may_open_pages(resources, presented_key(connection))


def widget_key(resources: Resources) -> str | None:
    """The publishable key the shop widget sends (None when no widget key is set)."""
    keys = api_keys(resources).get("widget") or []
    return keys[0] if keys else None


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of this site only."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
