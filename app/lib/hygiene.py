"""Input hygiene before a handler sees a JSON body, and log redaction.

- a body sent to an endpoint that takes JSON must say so (`application/json` or
  `+json`): anything else is 415 naming the `Content-Type`;
- JSON nested deeper than `api_max_json_depth` is 400 before it is decoded (no
  RecursionError), measured on the raw bytes with strings taken out;
- images above `api_max_image_pixels` are refused from their header, before decoding
  (Pillow's decompression-bomb check, turned into an error: `configure_pillow`);
- the access log never shows the shop's customer ids (`RedactIds`).
"""

from __future__ import annotations

import logging
import re
import warnings
from typing import Any

import msgspec
import numpy as np
from litestar import Litestar, Request
from litestar.enums import RequestEncodingType
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.types import ASGIApp, Receive, Scope, Send

from app.lib.errors import ApiError, UnsupportedMediaType

_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_OPEN = np.zeros(256, dtype=np.int8)
_OPEN[[ord("["), ord("{")]] = 1
_OPEN[[ord("]"), ord("}")]] = -1


def json_depth(body: bytes) -> int:
    """The deepest nesting of arrays/objects in `body` (strings do not count)."""
    stripped = _STRINGS.sub(b'""', body)
    steps = _OPEN[np.frombuffer(stripped, dtype=np.uint8)]
    if not steps.any():
        return 0
    return int(np.cumsum(steps, dtype=np.int64).max())


def _takes_json(scope: Scope) -> bool:
    handler = scope.get("route_handler")
    signature = getattr(handler, "parsed_fn_signature", None)
    data = signature.parameters.get("data") if signature is not None else None
    if data is None:
        return False
    media = getattr(data.kwarg_definition, "media_type", RequestEncodingType.JSON)
    return bool(media == RequestEncodingType.JSON)


def _is_json(content_type: str) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind == "application/json" or (
        kind.startswith("application/") and kind.endswith("+json")
    )


def json_guard(app: ASGIApp) -> ASGIApp:
    """ASGI middleware: 415 for a non-JSON body, 400 for JSON nested too deep."""

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await app(scope, receive, send)
            return
        if not _takes_json(scope):
            await app(scope, receive, send)
            return
        request: Request[Any, Any, Any] = Request(scope, receive)
        body = await request.body()
        if body.strip():
            content_type = request.headers.get("content-type", "")
            if not _is_json(content_type):
                shown = content_type[:40] or "none"
                raise UnsupportedMediaType(
                    f"the body must be JSON (Content-Type: application/json), got {shown!r}",
                    field="Content-Type",
                )
            limit = scope["app"].state.resources.settings.api_max_json_depth
            depth = json_depth(body)
            if depth > limit:
                raise ApiError(
                    f"JSON nested {depth} levels deep; at most {limit} are accepted",
                    field="body",
                )
        await app(scope, receive, send)

    return guarded


def configure_pillow(max_pixels: int) -> None:
    """Images above `max_pixels` raise (from their header, before any decoding)."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = max_pixels
    warnings.simplefilter("error", Image.DecompressionBombWarning)


# -- logs ---------------------------------------------------------------------------------------

_PATH_IDS = re.compile(r"(/(?:persona|privacy/customers)/)[^/?\s]+")
_QUERY_IDS = re.compile(r"((?:^|[?&])customer(?:_id)?=)[^&\s]*")  # API and pages
REDACTED = "<redacted>"


def redact(text: str) -> str:
    """A path or URL with the shop's customer ids taken out."""
    return _QUERY_IDS.sub(rf"\g<1>{REDACTED}", _PATH_IDS.sub(rf"\g<1>{REDACTED}", text))


class RedactIds(logging.Filter):
    """On uvicorn's access log: customer ids in paths and queries become `<redacted>`."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in args)
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install_log_redaction() -> None:
    for name in ("uvicorn.access", "uvicorn.error", "ragrec.api"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactIds) for f in logger.filters):
            logger.addFilter(RedactIds())


# -- OpenAPI ------------------------------------------------------------------------------------


def _struct_classes() -> dict[str, type[msgspec.Struct]]:
    found: dict[str, type[msgspec.Struct]] = {}
    todo: list[type[msgspec.Struct]] = [msgspec.Struct]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            todo.append(sub)
            found.setdefault(sub.__name__, sub)
    return found


def close_openapi_objects(app: Litestar) -> None:
    """Declare `additionalProperties: false` on the bodies that refuse unknown fields
    (msgspec's `forbid_unknown_fields`), so the schema says what the server does."""
    schema = app.openapi_schema
    components = schema.components.schemas if schema.components else None
    if not components:
        return
    classes = _struct_classes()
    for name, component in components.items():
        cls = classes.get(name) or classes.get(name.rsplit("_", 1)[-1])
        if cls is None or not isinstance(component, Schema):
            continue
        if cls.__struct_config__.forbid_unknown_fields:
            component.additional_properties = False
        _list_item_constraints(component, cls)
        _numeric_constraints(component, cls)
        extra = getattr(cls, "__openapi_extra__", None)
        if callable(extra):
            extra(component)


def _numeric_constraints(component: Schema, cls: type[msgspec.Struct]) -> None:
    """Litestar drops a bound of 0 (`Meta(ge=0)` is falsy): copy numeric bounds from
    msgspec's type information onto the property."""
    info = msgspec.inspect.type_info(cls)
    if not isinstance(info, msgspec.inspect.StructType) or not component.properties:
        return
    for field in info.fields:
        prop = component.properties.get(field.encode_name)
        if not isinstance(prop, Schema):
            continue
        for kind in _members(field.type):
            if isinstance(kind, msgspec.inspect.IntType | msgspec.inspect.FloatType):
                if kind.ge is not None:
                    prop.minimum = kind.ge
                if kind.le is not None:
                    prop.maximum = kind.le
                if kind.gt is not None:
                    prop.exclusive_minimum = kind.gt
                if kind.lt is not None:
                    prop.exclusive_maximum = kind.lt


def _list_item_constraints(component: Schema, cls: type[msgspec.Struct]) -> None:
    """Litestar drops the constraints of list items (`list[Annotated[str, Meta(...)]]`):
    copy them from msgspec's own type information."""
    info = msgspec.inspect.type_info(cls)
    if not isinstance(info, msgspec.inspect.StructType) or not component.properties:
        return
    for field in info.fields:
        prop = component.properties.get(field.encode_name)
        if not isinstance(prop, Schema):
            continue
        for kind in _members(field.type):
            if not isinstance(kind, msgspec.inspect.ListType):
                continue
            item = kind.item_type
            item = item.type if isinstance(item, msgspec.inspect.Metadata) else item
            if not isinstance(item, msgspec.inspect.StrType):
                continue
            arrays = [s for s in (prop.one_of or []) if isinstance(s, Schema)] + [prop]
            for array in arrays:
                if array.type == OpenAPIType.ARRAY and isinstance(array.items, Schema):
                    array.items.min_length = item.min_length
                    array.items.max_length = item.max_length
                    array.items.pattern = item.pattern


def _members(kind: Any) -> list[Any]:
    kind = kind.type if isinstance(kind, msgspec.inspect.Metadata) else kind
    if isinstance(kind, msgspec.inspect.UnionType):
        return [t.type if isinstance(t, msgspec.inspect.Metadata) else t for t in kind.types]
    return [kind]
