from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from app.domain.interactions.schemas import InteractionIn

ParamValue = str | int | float | bool | None | list[str | int | float | bool]


class ScriptRun(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    params: dict[str, ParamValue] = msgspec.field(default_factory=dict)


class ScriptResult(msgspec.Struct, kw_only=True):
    script: str
    file: str
    count: int
    truncated: bool
    rows: list[dict[str, Any]]


class EventBatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """At most `api_max_internal_batch` (default 10,000) events; more answers 413 (api)."""

    events: Annotated[
        list[InteractionIn],
        msgspec.Meta(min_length=1, description="1..api_max_internal_batch events; more: 413"),
    ]


class PersonaRefresh(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """`assign` places new or changed customers on the current personas (fast);
    `discover` re-runs GDS and clustering (slow, replaces the personas)."""

    mode: Literal["assign", "discover"] = "assign"
    seed: Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1)] = 42


class PersonaRefreshResult(msgspec.Struct, kw_only=True):
    mode: str
    report: dict[str, Any]


class CacheCleared(msgspec.Struct, kw_only=True):
    cleared: int


class ReindexRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    image: bool = True
    text: bool = True


class ReindexResult(msgspec.Struct, kw_only=True):
    """`summary` is the embedding run's report per modality (embedded, store counts...)."""

    product_id: str
    summary: dict[str, Any]
