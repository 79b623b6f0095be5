"""API keys with scopes: `X-API-Key`, compared in constant time with every configured key.

Scopes (`settings.effective_api_keys()`; `admin` implies every other one):

- `admin`: GDPR export and erasure, a customer's persona, everything under `/internal`,
  the full `/health` report, `/metrics` when `api_metrics_protected` is set;
- `events`: interaction ingestion (may create cold-start customers);
- `read`: server-side reads: analytics, a customer's persona, and the recommendation
  reads when `api_keys_public` is set;
- `widget`: the publishable key of the browser widget: recommendation reads and
  `recommendation_impression` / `recommendation_click` events of known customers only;
- `metrics`: `/metrics` when it is protected.

Guards: `requires(*scopes)` (401 without a key or with an unknown one, 403 with a key of
another scope) and `requires_when_public(*scopes)` (only when `api_keys_public` is set).
No response carries the key or anything derived from it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.spec import Components, SecurityRequirement, SecurityScheme
from litestar.types import Guard

HEADER = "X-API-Key"
SCHEME = "ApiKey"
SCOPES = ("admin", "events", "read", "widget", "metrics")
#: the widget key may post only these interaction types
WIDGET_EVENT_TYPES = frozenset({"recommendation_impression", "recommendation_click"})
SECURITY_COMPONENTS = Components(
    security_schemes={
        SCHEME: SecurityScheme(
            type="apiKey",
            name=HEADER,
            security_scheme_in="header",
            description="a key of RAGREC_API_KEYS (or the keys file), scoped admin, events, "
            "read, widget or metrics",
        )
    }
)
#: OpenAPI `security` of an operation that always needs a key
SECURITY: list[SecurityRequirement] = [{SCHEME: []}]
#: ... and of one where a key is optional (needed only when `api_keys_public` is set)
OPTIONAL_SECURITY: list[SecurityRequirement] = [{}, {SCHEME: []}]

_STATE_KEY = "ragrec_caller"


class Caller:
    """Who is calling: the key's scopes (empty: anonymous) and an opaque key id."""

    __slots__ = ("key_id", "presented", "scopes")

    def __init__(self, scopes: frozenset[str], key_id: str | None, presented: bool) -> None:
        self.scopes = scopes
        self.key_id = key_id  # a short hash, for rate-limit buckets only; never returned
        self.presented = presented

    @property
    def anonymous(self) -> bool:
        return not self.presented

    @property
    def valid(self) -> bool:
        return bool(self.scopes)

    def allows(self, *scopes: str) -> bool:
        return "admin" in self.scopes or any(s in self.scopes for s in scopes)


def identify(presented: str | None, keys: Mapping[str, list[str]]) -> Caller:
    """The scopes of `presented`: every configured key is compared, in constant time."""
    if not presented:
        return Caller(frozenset(), None, presented=False)
    given = presented.encode()
    scopes: set[str] = set()
    for scope, scope_keys in keys.items():
        for key in scope_keys:
            if hmac.compare_digest(given, key.encode()) and key:
                scopes.add(scope)
    key_id = hashlib.sha256(given).hexdigest()[:16] if scopes else None
    return Caller(frozenset(scopes), key_id, presented=True)


def key_is_valid(presented: str | None, keys: list[str]) -> bool:
    """Whether `presented` equals one of `keys` (constant time)."""
    return identify(presented, {"any": keys}).valid


def caller_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Caller:
    """The caller of this request (identified once per request)."""
    state = connection.scope.setdefault("state", {})
    caller = state.get(_STATE_KEY)
    if caller is None:
        caller = identify(connection.headers.get(HEADER), _keys(connection))
        state[_STATE_KEY] = caller
    return caller


def scopes_of(connection: ASGIConnection[Any, Any, Any, Any]) -> frozenset[str]:
    return caller_of(connection).scopes


def _keys(connection: ASGIConnection[Any, Any, Any, Any]) -> Mapping[str, list[str]]:
    keys: Mapping[str, list[str]] = connection.app.state.resources.api_keys
    return keys


def _check(connection: ASGIConnection[Any, Any, Any, Any], scopes: tuple[str, ...]) -> None:
    keys = _keys(connection)
    if not any(keys.get(s) for s in (*scopes, "admin")):
        raise NotAuthorizedException(
            f"this endpoint is disabled: no API key configured for scope {' or '.join(scopes)}"
        )
    caller = caller_of(connection)
    if caller.anonymous:
        raise NotAuthorizedException(f"missing {HEADER} header")
    if not caller.valid:
        raise NotAuthorizedException(f"invalid {HEADER}")
    if not caller.allows(*scopes):
        raise PermissionDeniedException(
            f"this key's scope does not allow this operation (needs {' or '.join(scopes)})"
        )


def requires(*scopes: str) -> Guard:
    """A guard: the caller's key must have one of `scopes` (or `admin`)."""
    wanted = tuple(scopes) or ("admin",)

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        _check(connection, wanted)

    guard.__name__ = f"requires_{'_'.join(wanted)}"
    return guard


def requires_when_public(*scopes: str) -> Guard:
    """A guard that applies only when `api_keys_public` is set (recommendation reads)."""
    wanted = tuple(scopes) or ("read",)

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if connection.app.state.resources.settings.api_keys_public:
            _check(connection, wanted)

    guard.__name__ = f"requires_when_public_{'_'.join(wanted)}"
    return guard


def metrics_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """`/metrics`: open unless `api_metrics_protected` is set."""
    if connection.app.state.resources.settings.api_metrics_protected:
        _check(connection, ("metrics",))


#: the guards of the routers in `app.main` (kept as names for the other domains)
require_admin = requires("admin")
require_api_key = require_admin  # the /internal router (old name)
public_api_key = requires_when_public("read", "widget")
