"""Bring all services up or down together and report on them.

Each service module (`neo4j`, `postgres`, `qdrant`) offers the same four functions:
`install`, `start`, `stop`, `status`. A service configured as external (its URI set in
settings) is never installed, started or stopped here, only reported on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from types import ModuleType

from ragrec.config import Settings
from ragrec.embeddings import encoder_status
from ragrec.services import n8n, neo4j, postgres, qdrant
from ragrec.services.base import ServiceStatus

SERVICES: dict[str, ModuleType] = {
    "neo4j": neo4j,
    "postgres": postgres,
    "qdrant": qdrant,
    "n8n": n8n,
}
#: installed by `setup` but started only when named (`ragrec services up n8n`)
ON_REQUEST = ("n8n",)

Progress = Callable[[str], None]


def _selected(names: Iterable[str] | None, *, on_request: bool = True) -> list[str]:
    default = [n for n in SERVICES if on_request or n not in ON_REQUEST]
    chosen = list(names) if names else default
    unknown = [n for n in chosen if n not in SERVICES]
    if unknown:
        raise ValueError(f"unknown service(s): {', '.join(unknown)}; known: {', '.join(SERVICES)}")
    return chosen


def install(
    settings: Settings, names: Iterable[str] | None = None, progress: Progress | None = None
) -> dict[str, float]:
    """Install what is missing; returns seconds spent per service."""
    timings: dict[str, float] = {}
    for name in _selected(names):
        if progress:
            progress(f"installing {name}")
        began = time.perf_counter()
        SERVICES[name].install(settings)
        timings[name] = time.perf_counter() - began
    return timings


def up(
    settings: Settings, names: Iterable[str] | None = None, progress: Progress | None = None
) -> list[ServiceStatus]:
    """Install if needed, start and wait for each service; returns their status."""
    for name in _selected(names, on_request=False):
        if progress:
            progress(f"starting {name}")
        SERVICES[name].install(settings)
        SERVICES[name].start(settings)
    return status(settings, names)


def down(settings: Settings, names: Iterable[str] | None = None) -> None:
    for name in reversed(_selected(names)):
        SERVICES[name].stop(settings)


def status(settings: Settings, names: Iterable[str] | None = None) -> list[ServiceStatus]:
    """Each service's report, checked concurrently (the slowest check bounds the wait).

    Without names, services started only on request (n8n) are left out, and a last
    `models` row (not required) says which image and text encoders are in use, naming
    the weights-free fallback when SigLIP is unavailable.
    """
    chosen = _selected(names, on_request=False)
    checks: list[Callable[[], ServiceStatus]] = [
        partial(SERVICES[name].status, settings) for name in chosen
    ]
    if not names:
        checks.append(partial(encoder_status, settings))
    with ThreadPoolExecutor(max_workers=len(checks)) as pool:
        return list(pool.map(lambda check: check(), checks))
