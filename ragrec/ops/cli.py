"""Typer commands of operations: `ragrec backup`, `ragrec restore`, `ragrec benchmark soak`.

Wired into the main CLI with `register(app, benchmark_app)`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from ragrec.config import get_settings


def _counts_table(title: str, expected: dict[str, Any], actual: dict[str, Any] | None) -> Table:
    table = Table(title=title)
    for col in ("store", "what", "count" if actual is None else "backup", "now"):
        if col == "now" and actual is None:
            continue
        table.add_column(col, justify="left" if col in ("store", "what") else "right")
    rows: list[tuple[str, str, Any, Any]] = []
    for kind in ("nodes", "relationships"):
        for name, n in expected.get("graph", {}).get(kind, {}).items():
            now = (actual or {}).get("graph", {}).get(kind, {}).get(name)
            rows.append(("neo4j", f"{kind[:-1]} {name}", n, now))
    for store in ("postgres", "qdrant"):
        for name, n in expected.get(store, {}).items():
            rows.append((store, name, n, (actual or {}).get(store, {}).get(name)))
    for store, what, n, now in rows:
        cells = [store, what, f"{n:,}"]
        if actual is not None:
            ok = now == n
            cells.append(f"[{'green' if ok else 'red'}]{'-' if now is None else f'{now:,}'}[/]")
        table.add_row(*cells)
    return table


def register(app: typer.Typer, bench: typer.Typer) -> None:
    @app.command("backup")
    def backup_cmd(
        folder: Annotated[Path, typer.Argument(help="new folder for the backup")],
        with_secrets: Annotated[
            bool,
            typer.Option(
                "--with-secrets", help="also copy .ragrec/secrets (pseudonymisation key, keys)"
            ),
        ] = False,
        as_json: Annotated[bool, typer.Option("--json", help="print the manifest")] = False,
    ) -> None:
        """Back up the graph (neo4j-admin dump: the local Neo4j is stopped and started
        again), the PostgreSQL tables (pg_dump), the Qdrant collections, the settings and,
        only with --with-secrets, the secrets; with a manifest of versions and counts."""
        from ragrec.ops.backup import backup

        err = Console(stderr=True)
        manifest = backup(
            get_settings(),
            folder,
            with_secrets=with_secrets,
            progress=lambda m: err.print(f"[dim]{m}[/dim]"),
        )
        if as_json:
            print(json.dumps(manifest, indent=2))
            return
        Console().print(_counts_table(f"backup in {folder}", manifest["counts"], None))
        err.print(
            f"backup written to {folder} in {manifest['seconds']}s"
            + (" (with secrets: keep it safe)" if manifest["secrets_included"] else "")
        )

    @app.command("restore")
    def restore_cmd(
        folder: Annotated[Path, typer.Argument(help="a folder written by `ragrec backup`")],
        with_secrets: Annotated[
            bool,
            typer.Option("--with-secrets", help="restore the backup's secrets too"),
        ] = False,
        yes: Annotated[
            bool, typer.Option("--yes", help="do not ask: replace the current data")
        ] = False,
    ) -> None:
        """Replace the graph, PostgreSQL tables and Qdrant collections with a backup
        (refused, with the reason, for an incompatible one), then compare the counts."""
        from ragrec.ops.backup import check_compatible, read_manifest, restore

        settings = get_settings()
        err = Console(stderr=True)
        problems = check_compatible(read_manifest(folder), settings)
        if problems:
            err.print("[red]error[/red] cannot restore: " + "; ".join(problems))
            raise typer.Exit(2)
        if not yes and not typer.confirm(
            f"Replace the current graph, tables and collections with {folder}?"
        ):
            raise typer.Exit(1)
        report = restore(
            settings,
            folder,
            with_secrets=with_secrets,
            progress=lambda m: err.print(f"[dim]{m}[/dim]"),
        )
        Console().print(
            _counts_table(f"restored from {folder}", report["expected"], report["restored"])
        )
        if not report["matches"]:
            err.print("[red]counts differ from the backup's[/red]")
            raise typer.Exit(1)
        err.print(
            "[green]restored; counts match the backup[/green]. Restart running API servers "
            "and workers: their Neo4j connections remember transactions of the old database"
        )

    @bench.command("soak")
    def soak_cmd(
        minutes: Annotated[float, typer.Option(min=0.5, max=240, help="measured minutes")] = 10,
        rate: Annotated[
            float, typer.Option(min=0.1, max=2000, help="recommendation requests per second")
        ] = 20.0,
        events_rate: Annotated[
            float, typer.Option(min=0, max=2000, help="POST /interactions per second")
        ] = 5.0,
        url: Annotated[
            str | None, typer.Option(help="a running server (loopback); default: start one")
        ] = None,
        api_key: Annotated[
            str | None,
            typer.Option(envvar="RAGREC_BENCH_API_KEY", help="events key (with --url)"),
        ] = None,
        workers: Annotated[int, typer.Option(min=1, max=16, help="server workers")] = 1,
        refresh: Annotated[
            bool, typer.Option(help="run `ragrec discover-personas` during the load")
        ] = True,
        json_file: Annotated[Path | None, typer.Option("--json", help="JSON here")] = None,
    ) -> None:
        """Steady open-loop load on the recommendation endpoints while interactions
        stream in and a persona refresh runs: throughput, p95 and errors per minute, and
        the RSS of the API, Neo4j and PostgreSQL at the start and the end."""
        from ragrec.benchmarks import soak

        err = Console(stderr=True)
        err.print(f"soak: {minutes:g} min, {rate:g} req/s, {events_rate:g} events/s")
        try:
            result = soak.run(
                get_settings(),
                minutes=minutes,
                rate=rate,
                events_rate=events_rate,
                url=url,
                api_key=api_key,
                workers=workers,
                refresh_command=("discover-personas",) if refresh else None,
            )
        except soak.SoakError as exc:
            err.print(f"[red]error[/red] {exc}")
            raise typer.Exit(2) from exc
        out = Console()
        table = Table(title=f"soak {minutes:g} min: {result.base_url}, open loop {rate:g} req/s")
        for col in ("window", "requests", "errors", "req/s", "p50 ms", "p95 ms", "events"):
            table.add_column(col, justify="left" if col == "window" else "right")
        for m in result.per_minute:
            table.add_row(
                m["name"],
                f"{m['requests']:,}",
                str(m["errors"]),
                f"{m['rps']:.1f}",
                f"{m['p50_ms']:.1f}",
                f"{m['p95_ms']:.1f}",
                f"{m['events']} ({m['event_errors']} err)",
            )
        for w in [*result.endpoints, result.events]:
            table.add_row(
                f"[bold]{w.name}[/bold]",
                f"{w.requests:,}",
                str(w.errors),
                f"{w.rps:.1f}",
                f"{w.p50_ms:.1f}",
                f"{w.p95_ms:.1f}",
                "",
            )
        out.print(table)
        mem = Table(title="RSS (MiB): start, end, growth")
        for col in ("process", "start", "end", "growth", "per minute"):
            mem.add_column(col, justify="left" if col in ("process", "per minute") else "right")
        for name, r in result.rss_mb.items():
            mem.add_row(
                name,
                f"{r['start']:.0f}",
                f"{r['end']:.0f}",
                f"{r['growth']:+.0f}",
                " ".join(f"{v:.0f}" for v in r["samples"]),
            )
        out.print(mem)
        out.print(f"persona refresh: {result.refresh}")
        for reason, count in result.errors_by_reason.items():
            out.print(f"[red]errors[/red] {count:,} x {reason}")
        for sample in result.error_samples[:5]:
            out.print(f"[red]error sample[/red] {sample}")
        target = json_file or Path("benchmarks/results") / "soak.json"
        soak.write_json(result, target)
        out.print(f"JSON written to {target}")
