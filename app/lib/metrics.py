"""Prometheus metrics of the API beyond Litestar's request counts and latency histograms.

Request counts, latency histograms and in-flight requests per route come from Litestar's
Prometheus middleware (`PROMETHEUS` below, prefix ``ragrec``); this module adds errors
by code, candidate counts per generator and fallbacks (degraded modes) by component. All
live in prometheus_client's default registry, which `GET /api/v1/metrics` exposes.
Values are per worker process.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from litestar.plugins.prometheus import PrometheusConfig
from prometheus_client import Counter, Histogram

PROMETHEUS = PrometheusConfig(
    app_name="ragrec",
    prefix="ragrec",
    group_path=True,
    exclude=["/api/v1/metrics"],
    buckets=[0.002, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12],
)

ERRORS = Counter(
    "ragrec_api_errors_total", "Error responses by HTTP status and error code", ["status", "code"]
)
CANDIDATES = Histogram(
    "ragrec_candidates_per_request",
    "Candidates produced per recommendation request, by generator",
    ["generator"],
    buckets=[0, 1, 5, 10, 25, 50, 100, 200, 400, 800],
)
FALLBACKS = Counter(
    "ragrec_fallbacks_total",
    "Requests served by a fallback (degraded mode), by component and what stood in",
    ["component", "fallback"],
)
RECOMMENDATIONS = Counter(
    "ragrec_recommendations_total", "Recommendation responses by context", ["context", "cached"]
)


def record_degraded(degraded: Iterable[str]) -> None:
    """Count the fallbacks named in a response's ``degraded`` list. Each entry is
    ``component`` or ``component:fallback`` (e.g. ``vector:pgvector`` = the vector search
    was served by pgvector, ``ranker:rrf`` = the learned ranker could not load and RRF fused,
    ``cross_encoder`` = the cross-encoder could not load and the fused order stands)."""
    for entry in degraded:
        component, _, fallback = str(entry).partition(":")
        FALLBACKS.labels(component=component, fallback=fallback or "skipped").inc()


def observe_candidates(counts: Mapping[str, int]) -> None:
    for generator, count in counts.items():
        CANDIDATES.labels(generator=generator).observe(count)
