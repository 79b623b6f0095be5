from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import msgspec


@dataclass
class ServiceReport:
    name: str
    reachable: bool
    mode: str
    listen: str
    version: dict[str, str] = field(default_factory=dict)
    detail: str = ""
    required: bool = True


@dataclass
class HealthReport:
    status: str  # "ok" | "degraded" (a store with a fallback is down) | "down" (Neo4j is)
    services: list[ServiceReport]
    failing: list[str] = field(default_factory=list)


class HealthStatus(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What an anonymous caller learns (api, issue 14): no versions, paths or names."""

    status: Literal["up", "degraded", "down"]


class Readiness(msgspec.Struct, kw_only=True, omit_defaults=True):
    """`/api/v1/ready`: whether this worker serves from its item snapshot yet; an admin
    also gets the worker's pid and the snapshot's size (a benchmark waits for every
    worker)."""

    ready: bool
    worker: int | None = None
    item_snapshot: dict[str, object] | None = None
