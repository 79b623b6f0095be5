"""The evaluation table (rich) and JSON."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ragrec.evaluation.runner import EvalReport


def print_report(report: EvalReport, console: Console) -> None:
    k = report.options["k"]
    metric = f"ndcg@{k}"
    best_base = report.best("baseline", metric)
    best_ours = report.best("ours", metric)
    title = f"evaluate {report.options['data']} ({report.options['mode']}, {report.split['kind']})"
    table = Table(title=title)
    cols = (
        "system",
        metric,
        "P@5",
        f"recall@{k}",
        f"HR@{k}",
        "MAP@12",
        "coverage",
        "p50 ms",
        "p95 ms",
    )
    for col in cols:
        table.add_column(col, justify="left" if col == "system" else "right")
    for s in report.systems:
        m = s.metrics
        style = "bold" if s in (best_base, best_ours) else ""
        table.add_row(
            s.name,
            f"{m[metric]:.4f}",
            f"{m['precision@5']:.4f}",
            f"{m[f'recall@{k}']:.4f}",
            f"{m[f'hr@{k}']:.4f}",
            f"{m['map@12']:.4f}",
            f"{m['coverage']:.3f}",
            f"{m.get('p50_ms', 0):.1f}",
            f"{m.get('p95_ms', 0):.1f}",
            style=style,
        )
    console.print(table)
    split = ", ".join(f"{k_}: {v}" for k_, v in report.split.items())
    console.print(f"split: {split}")
    if best_base and best_ours:
        b, o = best_base.metrics[metric], best_ours.metrics[metric]
        lift = (o / b - 1.0) * 100 if b else float("inf")
        verdict = "beats" if o > b else "does NOT beat"
        console.print(
            f"best baseline: [bold]{best_base.name}[/bold] ({metric} {b:.4f}); "
            f"best of ours: [bold]{best_ours.name}[/bold] ({o:.4f}) {verdict} it by {lift:+.1f}%"
        )
    for note in report.notes:
        console.print(f"note: {note}")
    console.print(f"done in {report.seconds:.0f}s")


def write_json(report: EvalReport, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.to_dict(), indent=2, default=str))
    return path
