"""The `ragrec` command line."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ragrec.config import get_settings
from ragrec.services import manager
from ragrec.services.base import ServiceError, ServiceStatus

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="RagRec: graph-native recommendations."
)
services_app = typer.Typer(
    no_args_is_help=True, help="Install, start, stop and inspect the local services."
)
app.add_typer(services_app, name="services")

console = Console(stderr=True)
ServiceNames = Annotated[
    list[str] | None,
    typer.Argument(help="neo4j, postgres, qdrant (default: all)", show_default=False),
]


def main() -> None:
    try:
        app()
    except ServiceError as exc:
        console.print(f"[red]error[/red] {exc}")
        sys.exit(2)


def _print_status(rows: list[ServiceStatus], as_json: bool) -> None:
    if as_json:
        print(json.dumps([r.to_dict() for r in rows], indent=2))
        return
    table = Table(title="RagRec services")
    for col in ("service", "reachable", "mode", "listens on", "versions", "detail"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r.name,
            "[green]yes[/green]" if r.reachable else "[red]no[/red]",
            r.mode,
            r.listen,
            ", ".join(f"{k} {v}" for k, v in r.version.items()),
            r.detail,
        )
    Console().print(table)


@app.command()
def setup(names: ServiceNames = None) -> None:
    """Install what the services need (idempotent; a second run is fast)."""
    with console.status("setting up") as spinner:
        timings = manager.install(get_settings(), names, progress=lambda m: spinner.update(m))
    for name, seconds in timings.items():
        console.print(f"{name}: ready ({seconds:.1f}s)")


@services_app.command("up")
def services_up(
    names: ServiceNames = None, as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """Install if needed, start, and wait until each service answers."""
    with console.status("starting services") as spinner:
        rows = manager.up(get_settings(), names, progress=lambda m: spinner.update(m))
    _print_status(rows, as_json)
    if not all(r.reachable for r in rows):
        raise typer.Exit(1)


@services_app.command("down")
def services_down(names: ServiceNames = None) -> None:
    """Stop the local services (external ones are left alone)."""
    manager.down(get_settings(), names)
    console.print("services stopped")


@services_app.command("status")
def services_status(
    names: ServiceNames = None, as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """Reachability, versions and addresses of each service."""
    rows = manager.status(get_settings(), names)
    _print_status(rows, as_json)
    if not all(r.reachable for r in rows):
        raise typer.Exit(1)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address")] = None,
    port: Annotated[int | None, typer.Option(help="port")] = None,
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
) -> None:
    """Serve the REST API and pages with uvicorn (graceful shutdown on SIGTERM/SIGINT)."""
    import uvicorn

    settings = get_settings()
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host or settings.api_host,
        port=port or settings.api_port,
        workers=workers,
        timeout_graceful_shutdown=10,
        log_level="info",
    )


if __name__ == "__main__":
    main()
