"""The evaluation tables (rich) and JSON."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ragrec.evaluation.runner import EvalReport


def print_report(report: EvalReport, console: Console) -> None:
    k = report.options["k"]
    metric = f"ndcg@{k}"
    if report.validation:
        val = Table(title="our strategies on validation (none of them fitted on these requests)")
        val.add_column("strategy")
        val.add_column(metric, justify="right")
        val.add_column("requests", justify="right")
        for row in report.validation:
            val.add_row(
                ("* " if row.get("chosen") else "  ") + row["name"],
                f"{row[metric]:.4f}",
                str(row["requests"]),
                style="bold" if row.get("chosen") else "",
            )
        console.print(val)
    best_base = report.best("baseline", metric)
    chosen = report.chosen()
    title = (
        f"evaluate {report.options['data']} ({report.options['mode']}, {report.split['kind']}): "
        "test period, scored once"
    )
    table = Table(title=title)
    cols = (
        "system",
        metric,
        "P@5",
        f"R@{k}",
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
        name = f"* {s.name} (chosen on validation)" if s.chosen else f"  {s.name}"
        if not m.get("requests"):  # nothing scored: no figure rather than a zero
            table.add_row(name, *(["n/a"] * (len(cols) - 1)))
            continue
        table.add_row(
            name,
            f"{m[metric]:.4f}",
            f"{m['precision@5']:.4f}",
            f"{m[f'recall@{k}']:.4f}",
            f"{m[f'hr@{k}']:.4f}",
            f"{m['map@12']:.4f}",
            f"{m['coverage']:.3f}",
            f"{m.get('p50_ms', 0):.1f}",
            f"{m.get('p95_ms', 0):.1f}",
            style="bold" if s in (best_base, chosen) else "",
        )
    console.print(table)
    split = ", ".join(f"{k_}: {v}" for k_, v in report.split.items())
    console.print(f"split: {split}")
    scored = report.significance.requests if report.significance else 0
    if not scored:
        console.print(
            "[bold]nothing scored[/bold]: no request has both a history before the test "
            "period and a purchase in it, so no system can be compared on this data"
        )
    elif best_base and chosen:
        b, o = best_base.metrics[metric], chosen.metrics[metric]
        ratio = o / b if b else float("inf")
        verdict = "beats" if o > b else "does NOT beat"
        console.print(
            f"best baseline: [bold]{best_base.name}[/bold] ({metric} {b:.4f}); chosen: "
            f"[bold]{chosen.name}[/bold] ({o:.4f}) {verdict} it: {ratio:.3f}x "
            f"({(ratio - 1) * 100:+.1f}%; target 1.10x)"
        )
    sig = report.significance
    if sig is not None and sig.requests:
        console.print(
            f"paired bootstrap over {sig.requests} requests ({sig.resamples} resamples): "
            f"{sig.metric} difference {sig.diff:+.4f}, 95% CI [{sig.ci_low:+.4f}, "
            f"{sig.ci_high:+.4f}]: {sig.verdict()}"
        )
    if report.candidate_recall:
        recall = ", ".join(f"{s} {v:.3f}" for s, v in report.candidate_recall.items())
        console.print(f"candidate recall per source (test): {recall}")
    for note in report.notes:
        console.print(f"note: {note}")
    console.print(f"done in {report.seconds:.0f}s")


def write_json(report: EvalReport, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.to_dict(), indent=2, default=str))
    return path
