from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from app.domain.benchmark.schemas import BenchmarkComparison
from app.lib.errors import NotFound, Unprocessable
from app.lib.resources import Resources
from ragrec.config import PROJECT_ROOT

#: what `ragrec benchmark vectorstores` names its result files
RESULT_GLOB = "*vector*.json"


def results_dir(resources: Resources) -> Path:
    return resources.settings.vector_benchmark_dir or PROJECT_ROOT / "benchmarks" / "results"


def latest_comparison(resources: Resources) -> BenchmarkComparison:
    folder = results_dir(resources)
    files = sorted(
        (p for p in folder.glob(RESULT_GLOB) if p.is_file()),
        key=lambda p: (p.stat().st_mtime, p.name),
    )
    if not files:
        raise NotFound(
            f"no vector-store benchmark results ({RESULT_GLOB}) in {folder}: run "
            "`ragrec benchmark vectorstores` first"
        )
    newest = files[-1]
    try:
        data = json.loads(newest.read_text())
    except (OSError, ValueError) as exc:
        raise Unprocessable(f"benchmark file {newest.name} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        data = {"results": data}
    return BenchmarkComparison(
        file=newest.name,
        modified_at=datetime.fromtimestamp(newest.stat().st_mtime, UTC).isoformat(),
        results=data,
    )
