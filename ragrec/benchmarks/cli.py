"""Typer commands of the benchmarks owned by the API (`ragrec benchmark api`).

The lead wires them into the `benchmark` group: `register_api(benchmark_app)`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ragrec.config import get_settings


def register_api(bench: typer.Typer) -> None:
    @bench.command("api")
    def benchmark_api(
        url: Annotated[
            str | None, typer.Option(help="server to load (loopback only); default: settings")
        ] = None,
        concurrency: Annotated[int, typer.Option(min=1, max=1024)] = 32,
        seconds: Annotated[float, typer.Option(min=1, max=600)] = 30.0,
        warmup: Annotated[float, typer.Option(min=0, max=60, help="unmeasured seconds")] = 3.0,
        endpoint: Annotated[
            list[str] | None,
            typer.Option(
                help="health, product, recommend, similar, search (repeatable; default all)"
            ),
        ] = None,
        customers: Annotated[
            Path | None, typer.Option(help="file with the shop's customer_id column")
        ] = None,
        api_key: Annotated[str | None, typer.Option(envvar="RAGREC_BENCH_API_KEY")] = None,
        json_file: Annotated[Path | None, typer.Option("--json", help="write JSON here")] = None,
    ) -> None:
        """Load-test a running API (start it with `ragrec serve`): throughput, p50/p95/p99
        and errors per endpoint, with health (and one product lookup) as the floor."""
        from ragrec.benchmarks import api

        settings = get_settings()
        base = url or f"http://127.0.0.1:{settings.api_port}"
        out = Console()
        try:
            result = api.run(
                base,
                concurrency=concurrency,
                seconds=seconds,
                warmup_s=warmup,
                endpoints=tuple(endpoint or api.ENDPOINTS),
                customers_file=customers or api.DEFAULT_CUSTOMERS,
                api_key=api_key,
            )
        except api.BenchmarkError as exc:
            Console(stderr=True).print(f"[red]error[/red] {exc}")
            raise typer.Exit(2) from exc
        table = Table(
            title=f"API benchmark: {base}, {concurrency} concurrent clients, {seconds:g}s each"
        )
        for col in (
            "endpoint", "requests", "errors", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms",
            "cached", "p95 / health", "req/s / health",
        ):  # fmt: skip
            table.add_column(col, justify="left" if col == "endpoint" else "right")
        for r in result.results:
            table.add_row(
                f"{r.endpoint} ({r.method} {r.path})",
                f"{r.requests:,}",
                str(r.errors),
                f"{r.rps:,.1f}",
                f"{r.p50_ms:.1f}",
                f"{r.p95_ms:.1f}",
                f"{r.p99_ms:.1f}",
                f"{r.max_ms:.1f}",
                "" if r.cached_share is None else f"{r.cached_share:.0%}",
                "" if r.p95_vs_health is None else f"{r.p95_vs_health:.2f}x",
                "" if r.rps_vs_health is None else f"{r.rps_vs_health:.2f}x",
            )
        out.print(table)
        for name, why in result.skipped.items():
            out.print(f"skipped {name}: {why}")
        for r in result.results:
            for sample in r.error_samples:
                out.print(f"[red]{r.endpoint} error[/red] {sample}")
        if "met" in result.target:
            verdict = "[green]met[/green]" if result.target["met"] else "[red]missed[/red]"
            out.print(
                f"target (recommend p95 <= {api.TARGET_P95_MS:g} ms, >= {api.TARGET_RPS:g} "
                f"req/s, no errors): {verdict}"
            )
        if json_file:
            api.write_json(result, json_file)
            out.print(f"JSON written to {json_file}")
