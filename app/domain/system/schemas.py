from __future__ import annotations

from dataclasses import dataclass, field


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
    status: str  # "ok" | "degraded"
    services: list[ServiceReport]
    failing: list[str] = field(default_factory=list)
