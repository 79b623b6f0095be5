from __future__ import annotations

from typing import Any

import msgspec


class BenchmarkComparison(msgspec.Struct, kw_only=True):
    """The newest vector-store benchmark result file, as the benchmark wrote it."""

    file: str
    modified_at: str
    results: dict[str, Any]
