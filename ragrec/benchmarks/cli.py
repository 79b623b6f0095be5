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

#: benchmark tables are read in logs and notes: never folded to a narrow terminal's width
WIDE = 140


def register_api(bench: typer.Typer) -> None:
    register_pipeline(bench)

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
        rate: Annotated[
            int | None,
            typer.Option(
                min=1,
                help="open loop: constant arrival rate (req/s) with vegeta; starts `ragrec "
                "serve` itself, cache off then on",
            ),
        ] = None,
        workers: Annotated[int, typer.Option(min=1, help="open loop: server workers")] = 2,
        cache: Annotated[
            str, typer.Option(help="open loop: the response cache off, on, or both in turn")
        ] = "both",
    ) -> None:
        """Load-test the API: throughput, p50/p95/p99 and errors per endpoint, with health as
        the floor. Closed loop against a running server by default; `--rate N` measures open
        loop (constant arrival rate, vegeta) with the cache off and on."""
        from ragrec.benchmarks import api

        settings = get_settings()
        if rate is not None:
            modes = {"both": ("off", "on"), "off": ("off",), "on": ("on",)}.get(cache)
            if modes is None:
                Console(stderr=True).print(f"[red]error[/red] --cache: {cache!r} is not off, on "
                                           "or both")  # fmt: skip
                raise typer.Exit(2)
            _open_loop(rate, seconds, workers, customers or api.DEFAULT_CUSTOMERS, json_file, modes)
            return
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


def register_pipeline(bench: typer.Typer) -> None:
    @bench.command("pipeline")
    def benchmark_pipeline(
        scale: Annotated[str, typer.Option(help="sample | 1m | hm (H&M full size)")] = "sample",
        force: Annotated[
            bool, typer.Option(help="replace the data in the configured Neo4j")
        ] = False,
        gds: Annotated[bool, typer.Option(help="also run GDS + personas")] = False,
        requests: Annotated[int, typer.Option(min=10, help="in-process homepage requests")] = 200,
        json_file: Annotated[Path | None, typer.Option("--json", help="write JSON here")] = None,
        work_dir: Annotated[
            Path | None, typer.Option(help="keep the generated data here (API benchmark ids)")
        ] = None,
    ) -> None:
        """Generate, load, refresh (each step) and serve at a scale: seconds, peak Neo4j
        heap used and Python RSS per step."""
        import json

        from ragrec.benchmarks import pipeline

        err = Console(stderr=True)
        try:
            result = pipeline.run(scale, force=force, gds=gds, requests=requests, work_dir=work_dir)
        except (ValueError, RuntimeError) as exc:
            err.print(f"[red]error[/red] {exc}")
            raise typer.Exit(2) from exc
        table = Table(
            title=f"pipeline at scale {scale}: {result['seconds']:.0f}s in all, refresh "
            f"{result['refresh_seconds']:.0f}s, Neo4j heap setting {result['neo4j_heap_setting']}"
        )
        for col in ("step", "seconds", "peak heap MiB", "heap max MiB", "peak RSS MiB", "detail"):
            table.add_column(col, justify="left" if col in ("step", "detail") else "right")
        for st in result["steps"]:
            table.add_row(
                st["name"],
                f"{st['seconds']:.1f}",
                "" if st["peak_heap_mib"] is None else f"{st['peak_heap_mib']:.0f}",
                "" if st["heap_max_mib"] is None else f"{st['heap_max_mib']:.0f}",
                f"{st['peak_rss_mib']:.0f}",
                st["detail"],
            )
        Console(width=WIDE).print(table)
        from ragrec.config import PROJECT_ROOT

        path = json_file or PROJECT_ROOT / "benchmarks" / "results" / f"pipeline-{scale}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=2))
        Console().print(f"JSON written to {path}")


def _open_loop(
    rate: int,
    seconds: float,
    workers: int,
    customers: Path,
    json_file: Path | None,
    modes: tuple[str, ...],
) -> None:
    import json

    from ragrec.benchmarks import api
    from ragrec.config import PROJECT_ROOT

    try:
        result = api.run_open_loop(
            rate=rate, seconds=seconds, workers=workers, customers_file=customers,
            cache_modes=modes,
        )  # fmt: skip
    except api.BenchmarkError as exc:
        Console(stderr=True).print(f"[red]error[/red] {exc}")
        raise typer.Exit(2) from exc
    table = Table(
        title=f"API open loop (vegeta): {rate} req/s for {seconds:g}s per target, "
        f"{workers} workers, customers drawn from {result['customers_in_base']:,}"
    )
    for col in ("cache", "target", "sent", "unsent", "errors", "req/s", "p50 ms", "p95 ms",
                "p99 ms", "max ms", "p95 / health"):  # fmt: skip
        table.add_column(col, justify="left" if col in ("cache", "target") else "right")
    for r in result["results"]:
        table.add_row(
            r["cache"],
            r["target"],
            f"{r['requests']:,}",
            f"{r['unsent']:,}",
            str(r["errors"]),
            f"{r['throughput_rps']:.1f}",
            f"{r['p50_ms']:.1f}",
            f"{r['p95_ms']:.1f}",
            f"{r['p99_ms']:.1f}",
            f"{r['max_ms']:.1f}",
            "" if r.get("p95_vs_health") is None else f"{r['p95_vs_health']:.2f}x",
        )
    out = Console(width=WIDE)
    out.print(table)
    for mode, snapshots in result["item_snapshots"].items():
        for worker, snap in snapshots.items():
            size = f", {snap['entries']:,} entries" if "entries" in snap else ""
            built = f" built in {snap['built_s']}s" if "built_s" in snap else ""
            out.print(f"cache {mode}, worker {worker}: item snapshot {snap.get('state')}{built}"
                      f"{size}")  # fmt: skip
    for r in result["results"]:
        for sample in r["error_samples"]:
            out.print(f"[red]{r['cache']} {r['target']} error[/red] {sample}")
    verdict = "[green]met[/green]" if result["target"]["met"] else "[red]missed[/red]"
    out.print(f"target (cache off: p95 <= 40 ms at >= 300 req/s, every request sent, no "
              f"errors): {verdict}")  # fmt: skip
    path = json_file or PROJECT_ROOT / "benchmarks" / "results" / f"api-open-{rate}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2))
    out.print(f"JSON written to {path}")
