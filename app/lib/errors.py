"""One error shape for every failed request, and the exception handlers that produce it.

Every error response is ``{"error": {"status", "code", "message", "field"}}``: validation
failures name the offending field, unknown ids carry the id in the message, and a crash
becomes a 500 that is logged here with its traceback but never shows one to the client.
"""

from __future__ import annotations

import logging
from typing import Any, overload

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.types import ExceptionHandlersMap
from neo4j.exceptions import DatabaseUnavailable as Neo4jDatabaseUnavailable
from neo4j.exceptions import ServiceUnavailable as Neo4jServiceUnavailable
from neo4j.exceptions import SessionExpired as Neo4jSessionExpired
from PIL.Image import DecompressionBombError, DecompressionBombWarning
from psycopg import OperationalError as PgOperationalError
from psycopg_pool import PoolTimeout as PgPoolTimeout

from app.lib import metrics

log = logging.getLogger("ragrec.api")


class ErrorDetail(msgspec.Struct, kw_only=True):
    status: int
    code: str
    message: str
    field: str | None = None


class ErrorResponse(msgspec.Struct):
    error: ErrorDetail


class ApiError(Exception):
    """An error with a status, a stable code and (where it applies) the offending field."""

    status: int = 400
    code: str = "validation_error"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        status: int | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code


class NotFound(ApiError):
    status = 404
    code = "not_found"


class Unprocessable(ApiError):
    status = 422
    code = "unprocessable"


class PayloadTooLarge(ApiError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(ApiError):
    status = 415
    code = "unsupported_media_type"


class Unavailable(ApiError):
    status = 503
    code = "service_unavailable"


STATUS_CODES: dict[int, str] = {
    400: "validation_error",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}

_DESCRIPTIONS: dict[int, str] = {
    400: "invalid request: `field` names the offending parameter or body field",
    401: "missing or unknown X-API-Key",
    403: "the key's scope does not allow this operation",
    404: "unknown id (named in `message`) or path",
    413: "upload larger than the configured limit",
    415: "body not in the expected type (JSON: Content-Type application/json)",
    422: "well-formed but unprocessable request",
    429: "rate limit exceeded for this client",
    500: "internal error (logged on the server; no details returned)",
    503: "a required service is unavailable",
}


def error_specs(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI responses in the error shape: 400, 401, 403, 415, 429 and 500 plus the
    given ones."""
    wanted = sorted({400, 401, 403, 415, 429, 500, *statuses})
    return {
        s: ResponseSpec(data_container=ErrorResponse, description=_DESCRIPTIONS[s]) for s in wanted
    }


#: api (issue 14): an error never echoes more than a short, escaped excerpt of the input
MAX_MESSAGE = 300
MAX_FIELD = 120


@overload
def safe_text(text: str, limit: int) -> str: ...
@overload
def safe_text(text: None, limit: int) -> None: ...
def safe_text(text: str | None, limit: int) -> str | None:
    """Control characters and angle brackets escaped, cut to `limit` characters."""
    if text is None:
        return None
    out = "".join(
        c if c.isprintable() and c not in "<>" else f"\\u{ord(c):04x}" for c in text[: limit * 2]
    )
    return out if len(out) <= limit else out[: limit - 1] + "\u2026"


def error_response(
    status: int,
    message: str,
    *,
    code: str | None = None,
    field: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response[ErrorResponse]:
    code = code or STATUS_CODES.get(status, "error")
    metrics.ERRORS.labels(status=str(status), code=code).inc()
    message, field = safe_text(message, MAX_MESSAGE), safe_text(field, MAX_FIELD)
    return Response(
        ErrorResponse(ErrorDetail(status=status, code=code, message=message, field=field)),
        status_code=status,
        headers=headers,
        media_type="application/json",
    )


def _validation_handler(_: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    field: str | None = None
    message = exc.detail
    extra = exc.extra
    if isinstance(extra, list) and extra and isinstance(extra[0], dict):
        first = extra[0]
        field = first.get("key") or None
        reason = str(first.get("message") or exc.detail)
        message = f"invalid {field!r}: {reason}" if field else reason
    return error_response(400, message, code="validation_error", field=field)


def _api_error_handler(_: Request[Any, Any, Any], exc: ApiError) -> Response[Any]:
    return error_response(exc.status, exc.message, code=exc.code, field=exc.field)


def _http_handler(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if status >= 500:
        log.error("HTTP %s: %s", status, exc.detail)
        return error_response(status, "internal error" if status == 500 else exc.detail)
    return error_response(status, exc.detail, headers=exc.headers)


def _neo4j_down_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Neo4j unreachable (ops): 503 + Retry-After, and the breaker opens (`app.lib.graph`)."""
    from app.lib.graph import BREAKER

    settings = request.app.state.resources.settings
    BREAKER.trip(settings)
    log.warning("Neo4j unavailable on %s %s: %s", request.method, request.url.path, exc)
    return error_response(
        503,
        f"the graph database is unavailable; retry in {settings.api_retry_after_s}s",
        code="neo4j_unavailable",
        headers={"Retry-After": str(settings.api_retry_after_s)},
    )


def _pg_down_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """PostgreSQL unreachable for an endpoint that needs it (ops): 503 + Retry-After."""
    settings = request.app.state.resources.settings
    log.warning("PostgreSQL unavailable on %s %s: %s", request.method, request.url.path, exc)
    return error_response(
        503,
        f"the vector/privacy database is unavailable; retry in {settings.api_retry_after_s}s",
        code="postgres_unavailable",
        headers={"Retry-After": str(settings.api_retry_after_s)},
    )


def _image_bomb_handler(_: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """api (issue 14): Pillow refused an image from its header (too many pixels)."""
    return error_response(
        413, "the image has too many pixels (decompression bomb refused)", field="image"
    )


def _crash_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal error; the server logged the details")


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    # ops: a service that is down is a 503 with Retry-After, never a 500
    Neo4jServiceUnavailable: _neo4j_down_handler,
    Neo4jSessionExpired: _neo4j_down_handler,
    Neo4jDatabaseUnavailable: _neo4j_down_handler,
    PgOperationalError: _pg_down_handler,
    PgPoolTimeout: _pg_down_handler,
    # api (issue 14): huge-pixel images are refused before decoding
    DecompressionBombError: _image_bomb_handler,
    DecompressionBombWarning: _image_bomb_handler,
    ValidationException: _validation_handler,
    ApiError: _api_error_handler,
    HTTPException: _http_handler,
    Exception: _crash_handler,
}
