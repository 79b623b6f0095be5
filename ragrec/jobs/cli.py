"""`ragrec refresh`: rebuild the derived structure the recommender reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ragrec.config import get_settings

err = Console(stderr=True)


def register(app: typer.Typer) -> None:
    app.command("refresh")(refresh)


def refresh(
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only",
            help="run only this step (repeatable): bought_together, popular, "
            "persona_favourites, community_trending, category_best, new_arrivals, neighbours, "
            "product_stats",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
    out: Annotated[Path | None, typer.Option(help="also write the summary JSON here")] = None,
    if_missing: Annotated[
        bool,
        typer.Option(
            "--if-missing",
            help="do nothing when every step already has a live version (make demo)",
        ),
    ] = False,
) -> None:
    """Rebuild BOUGHT_TOGETHER, the ranked lists and the item neighbours (versioned, switched
    in when complete); prints progress, each step's seconds and a summary."""
    from ragrec.jobs.refresh import check_steps
    from ragrec.jobs.refresh import refresh as run
    from ragrec.services import neo4j as neo4j_service

    try:
        check_steps(only)
    except ValueError as exc:
        err.print(f"[red]error[/red] --only: {exc}")
        raise typer.Exit(2) from None
    settings = get_settings()
    with neo4j_service.driver(settings) as driver:
        if if_missing:
            from ragrec.jobs import versions
            from ragrec.jobs.refresh import check_steps as wanted

            live = versions.live_versions(driver, settings.neo4j_database)
            names = [
                f"neighbours:{m}" if s == "neighbours" else s
                for s in wanted(only)
                for m in (settings.neighbours_models if s == "neighbours" else [""])
            ]
            if all(live.get(n, {}).get("live") for n in names):
                err.print("refresh: every derived structure is live; nothing to do")
                return
        report = run(driver, settings, only=only, say=lambda m: err.print(m, highlight=False))
    data = report.to_dict()
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(data, indent=2, default=str))
    if as_json:
        print(json.dumps(data, indent=2, default=str))
    else:
        table = Table(title=f"ragrec refresh: {report.seconds:.1f}s")
        for col in ("step", "status", "seconds", "result"):
            table.add_column(col, justify="right" if col == "seconds" else "left")
        for s in report.steps:
            shown = {k: v for k, v in s.detail.items() if k not in ("previous",)}
            table.add_row(s.name, s.status, f"{s.seconds:.1f}", _short(shown))
        Console().print(table)
    if not report.ok:
        raise typer.Exit(1)


def _short(detail: dict[str, object]) -> str:
    text = ", ".join(f"{k}={v}" for k, v in detail.items())
    return text if len(text) <= 120 else text[:117] + "..."
