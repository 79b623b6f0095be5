"""The `ragrec` command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from neo4j.exceptions import AuthError, ServiceUnavailable
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ragrec.config import get_settings
from ragrec.etl.errors import EtlError
from ragrec.services import manager
from ragrec.services import neo4j as neo4j_service
from ragrec.services.base import ServiceError, ServiceStatus

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="RagRec: graph-native recommendations."
)
services_app = typer.Typer(
    no_args_is_help=True, help="Install, start, stop and inspect the local services."
)
app.add_typer(services_app, name="services")
benchmark_app = typer.Typer(
    no_args_is_help=True,
    help="Benchmarks: print a table and write JSON; baselines in the same run.",
)
app.add_typer(benchmark_app, name="benchmark")

console = Console(stderr=True)
ServiceNames = Annotated[
    list[str] | None,
    typer.Argument(
        help="neo4j, postgres, qdrant, n8n (default: all but n8n; setup: all)", show_default=False
    ),
]


def main() -> None:
    try:
        app()
    except (ServiceError, EtlError) as exc:
        console.print(Text.assemble(("error ", "bold red"), str(exc)), soft_wrap=True)
        sys.exit(2)
    except Exception as exc:
        cause = _neo4j_refusal(exc)
        if cause is None:
            raise
        settings = get_settings()
        reason = "refused the credentials" if isinstance(cause, AuthError) else "is not reachable"
        message = (
            f"Neo4j at {settings.effective_neo4j_uri()} {reason}: start it with "
            "`ragrec services up` (`ragrec services status` says what runs)"
        )
        console.print(Text.assemble(("error ", "bold red"), message), soft_wrap=True)
        sys.exit(2)


def _neo4j_refusal(exc: BaseException) -> ServiceUnavailable | AuthError | None:
    """The driver's "unreachable" or "bad credentials" error behind `exc`, if any: libraries
    on top of the driver (graphdatascience's UnableToConnectError) wrap it."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ServiceUnavailable | AuthError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


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


@app.command("load-data")
def load_data_cmd(
    path: Annotated[Path, typer.Argument(help="folder in the H&M schema (CSV or Parquet)")],
    rejects: Annotated[Path | None, typer.Option(help="rejects file (.csv or .parquet)")] = None,
    bulk: Annotated[
        bool | None,
        typer.Option("--bulk/--batched", help="force neo4j-admin import or batched MERGE"),
    ] = None,
    batch_size: Annotated[int, typer.Option(min=100, max=100_000)] = 5_000,
    strict_customers: Annotated[
        bool,
        typer.Option(
            "--strict-customers",
            help="reject transactions of customers missing from the customers file "
            "(default: create them with unknown age)",
        ),
    ] = False,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="do nothing when the graph already has products")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Validate, pseudonymise and load a folder into Neo4j (idempotent, resumable)."""
    from ragrec.graph.loader import graph_stats, load_data

    settings = get_settings()
    with neo4j_service.driver(settings) as driver:
        if if_empty and graph_stats(driver, settings.neo4j_database)["nodes"].get("Product"):
            console.print("the graph already has products: nothing to load (--if-empty)")
            return
        summary = load_data(
            path,
            settings,
            driver,
            rejects_file=rejects,
            bulk=bulk,
            batch_size=batch_size,
            show_progress=not as_json,
            unknown_customers="reject" if strict_customers else "create",
        )
    if as_json:
        print(json.dumps(summary.to_dict(), indent=2, default=str))
        return
    table = Table(title=f"load-data {path} ({summary.mode})")
    table.add_column("stage")
    table.add_column("rows", justify="right")
    for name, count in summary.written.items():
        table.add_row(name, f"{count:,}")
    out = Console()
    out.print(table)
    out.print(
        f"read {sum(summary.rows_read.values()):,} rows "
        f"({', '.join(f'{k}: {v:,}' for k, v in summary.rows_read.items())}); "
        f"rejected {summary.rejected:,}; {summary.seconds:.1f}s, "
        f"{summary.rows_per_second:,.0f} rows/s"
        + (f"; resumed ({summary.resumed_from})" if summary.resumed_from else "")
    )
    for reason, count in summary.rejects_by_reason.items():
        out.print(f"  rejected {count:,}: {reason}")
    if summary.rejects_file:
        out.print(f"rejects written to {summary.rejects_file}")


@app.command("generate-data")
def generate_data_cmd(
    out: Annotated[Path, typer.Option(help="output folder")],
    products: Annotated[int, typer.Option(min=1)] = 2_000,
    customers: Annotated[int, typer.Option(min=1)] = 5_000,
    transactions: Annotated[int, typer.Option(min=0)] = 60_000,
    seed: Annotated[int, typer.Option()] = 0,
    days: Annotated[int, typer.Option(min=1)] = 365,
    segments: Annotated[int, typer.Option(min=1, help="planted customer segments")] = 8,
    parquet: Annotated[bool, typer.Option("--parquet/--csv")] = False,
    max_basket: Annotated[int, typer.Option(min=1, help="largest basket (items)")] = 40,
    bulk_share: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="share of visits that are bulk orders")
    ] = 0.0,
) -> None:
    """Synthetic data in the H&M schema with planted segments (ground truth beside it).
    H&M cardinality: --products 105542 --customers 1371980 --transactions 31788324 --parquet;
    dense: few customers, many transactions, --max-basket 300 --bulk-share 0.02."""
    from ragrec.etl.generator import generate

    summary = generate(
        out,
        products,
        customers,
        transactions,
        seed,
        days=days,
        n_segments=segments,
        fmt="parquet" if parquet else "csv",
        max_basket=max_basket,
        bulk_share=bulk_share,
    )
    Console().print_json(json.dumps(summary, default=str))


@app.command()
def stats(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Counts of every node label and relationship type in the graph."""
    from ragrec.graph.loader import graph_stats

    settings = get_settings()
    with neo4j_service.driver(settings) as driver:
        counts = graph_stats(driver, settings.neo4j_database)
    if as_json:
        print(json.dumps(counts, indent=2))
        return
    table = Table(title="graph")
    for col in ("kind", "name", "count"):
        table.add_column(col, justify="right" if col == "count" else "left")
    for kind, values in counts.items():
        for name, count in values.items():
            table.add_row(kind, name, f"{count:,}")
    Console().print(table)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address")] = None,
    port: Annotated[int | None, typer.Option(help="port")] = None,
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
) -> None:
    """Serve the REST API and pages with uvicorn (graceful shutdown on SIGTERM/SIGINT)."""
    import uvicorn

    settings = get_settings()
    # api (issue 14): private endpoints need a key; say where the generated ones are
    keys = settings.effective_api_keys()
    where = "RAGREC_API_KEYS" if settings.api_keys is not None else str(settings.api_keys_path)
    scopes = ", ".join(f"{scope} ({len(k)})" for scope, k in keys.items() if k) or "none"
    typer.echo(f"API keys (X-API-Key) from {where}: {scopes}")
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host or settings.api_host,
        port=port or settings.api_port,
        workers=workers,
        timeout_graceful_shutdown=10,
        timeout_worker_healthcheck=30,
        log_level="info",
        # api (issue 14): X-Forwarded-For is honoured only from RAGREC_API_TRUSTED_PROXIES,
        # by the API's rate limiter (uvicorn would trust any local peer's header)
        proxy_headers=False,
    )


@benchmark_app.command("ingest")
def benchmark_ingest(
    scale: Annotated[
        str, typer.Option(help="sample | 100k | 1m | 5m | hm (H&M full size)")
    ] = "sample",
    path: Annotated[
        list[str] | None, typer.Option("--path", help="batched and/or bulk (default both)")
    ] = None,
    json_file: Annotated[Path | None, typer.Option("--json", help="write results here")] = None,
    force: Annotated[bool, typer.Option(help="allow replacing a graph that holds data")] = False,
) -> None:
    """Generate data at a scale and load it batched and bulk: rows/s and peak RSS."""
    from ragrec.benchmarks import ingest

    if scale not in ingest.SCALES:
        raise typer.BadParameter(f"unknown scale {scale!r}; one of {', '.join(ingest.SCALES)}")
    result = ingest.run(scale, tuple(path or ("batched", "bulk")), force=force)
    table = Table(
        title=f"ingest benchmark, scale {scale} ({result['transactions']:,} transactions)"
    )
    for col in ("path", "rows read", "seconds", "rows/s", "peak RSS MiB", "nodes", "relationships"):
        table.add_column(col, justify="left" if col == "path" else "right")
    for r in result["results"]:
        table.add_row(
            r["path"],
            f"{r['rows']:,}",
            f"{r['seconds']:.1f}",
            f"{r['rows_per_second']:,.0f}",
            f"{r['peak_rss_mib']:,.0f}",
            f"{r['nodes']:,}",
            f"{r['relationships']:,}",
        )
    Console().print(table)
    Console().print(f"generation: {result['generate_seconds']}s")
    target = json_file or Path("benchmarks/results") / f"ingest-{scale}.json"
    ingest.write_json(result, target)
    Console().print(f"JSON written to {target}")


# -- commands of other areas register themselves here (one line each) ---------------------
from ragrec.personas.cli import register as _register_personas  # noqa: E402

_register_personas(app, benchmark_app)
from ragrec.privacy.cli import register as _register_privacy  # noqa: E402

_register_privacy(app)
from ragrec.recommender.cli import register as _register_recommender  # noqa: E402

_register_recommender(app)

from ragrec.embeddings.cli import register as _register_embeddings  # noqa: E402

_register_embeddings(app)
from ragrec.benchmarks.cli import register_api as _register_api_benchmark  # noqa: E402

_register_api_benchmark(benchmark_app)
from ragrec.jobs.cli import register as _register_jobs  # noqa: E402

_register_jobs(app)

from ragrec.n8n.cli import register as _register_n8n  # noqa: E402

_register_n8n(app)
from ragrec.worker.cli import register as _register_worker  # noqa: E402

_register_worker(app)
from ragrec.benchmarks.freshness import register as _register_freshness  # noqa: E402

_register_freshness(benchmark_app)
from ragrec.ops.cli import register as _register_ops  # noqa: E402

_register_ops(app, benchmark_app)

if __name__ == "__main__":
    main()
