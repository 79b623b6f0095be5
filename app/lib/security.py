"""API keys: `X-API-Key`, checked against `settings.api_keys` in constant time.

`/internal/*` always needs a key (and is closed when no key is configured); the public
endpoints need one only when `settings.api_keys_public` is set.
"""

from __future__ import annotations

import hmac
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.spec import Components, SecurityScheme

from ragrec.config import Settings

HEADER = "X-API-Key"
SCHEME = "ApiKey"
SECURITY_COMPONENTS = Components(
    security_schemes={
        SCHEME: SecurityScheme(
            type="apiKey",
            name=HEADER,
            security_scheme_in="header",
            description="one of the keys in RAGREC_API_KEYS",
        )
    }
)


def key_is_valid(presented: str | None, keys: list[str]) -> bool:
    """Whether `presented` equals one of `keys`; every key is compared, in constant time."""
    if not presented or not keys:
        return False
    given = presented.encode()
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(given, key.encode())
    return matched


def _settings(connection: ASGIConnection[Any, Any, Any, Any]) -> Settings:
    settings: Settings = connection.app.state.resources.settings
    return settings


def require_api_key(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard of `/internal/*`."""
    keys = _settings(connection).api_keys
    if not keys:
        raise NotAuthorizedException("internal endpoints are disabled: no API key configured")
    if not key_is_valid(connection.headers.get(HEADER), keys):
        raise NotAuthorizedException(f"missing or invalid {HEADER} header")


def public_api_key(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard of the public endpoints: a key is needed only when api_keys_public is set."""
    settings = _settings(connection)
    if settings.api_keys_public and not key_is_valid(
        connection.headers.get(HEADER), settings.api_keys
    ):
        raise NotAuthorizedException(f"missing or invalid {HEADER} header")
