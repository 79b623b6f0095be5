"""CLI: `discover-personas`, `assign-personas`, `persona`, and `gds run|estimate|runs`."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from ragrec.config import get_settings
from ragrec.services.neo4j import driver as neo4j_driver

console = Console(stderr=True)
out = Console()

#: (label, customers, products, purchases) of the default `gds estimate` scenarios
SCENARIOS = (
    ("100K customers", 100_000, 30_000, 2_320_000),
    ("H&M full", 1_371_980, 105_542, 31_788_324),
)


def register(app: typer.Typer, benchmark_app: typer.Typer | None = None) -> None:
    """Add the persona and GDS commands to the `ragrec` app (and `benchmark personas`)."""
    gds_app = typer.Typer(no_args_is_help=True, help="Run and inspect the GDS specs.")
    app.add_typer(gds_app, name="gds")
    if benchmark_app is not None:
        from ragrec.personas.benchmark import benchmark_personas

        benchmark_app.command("personas")(benchmark_personas)
    app.command("discover-personas")(discover_personas)
    app.command("assign-personas")(assign_personas)
    app.command("persona")(persona)
    gds_app.command("run")(gds_run)
    gds_app.command("estimate")(gds_estimate)
    gds_app.command("runs")(gds_runs)


def discover_personas(
    as_json: Annotated[bool, typer.Option("--json")] = False,
    seed: Annotated[int, typer.Option(help="seed of FastRP and PCA")] = 42,
    skip_gds: Annotated[
        bool, typer.Option("--skip-gds", help="reuse embeddings and communities on the graph")
    ] = False,
    stability: Annotated[
        bool, typer.Option("--stability/--no-stability", help="second FastRP run, seed+1")
    ] = True,
    min_cluster_size: Annotated[
        int | None,
        typer.Option(help="fixed HDBSCAN min_cluster_size (default: chosen from 1/2/4% of n)"),
    ] = None,
    crossing: Annotated[
        str,
        typer.Option(help="auto | cluster | 'community x cluster' | 'cluster split by community'"),
    ] = "auto",
    reduce_dims: Annotated[int, typer.Option(help="PCA dimensions before HDBSCAN")] = 8,
    truth: Annotated[
        Path | None,
        typer.Option(help="segments_ground_truth.csv of the generator: print planted ARI"),
    ] = None,
    if_missing: Annotated[
        bool, typer.Option("--if-missing", help="do nothing when personas already exist")
    ] = False,
) -> None:
    """Run GDS (FastRP, Louvain, node similarity), cluster personas, write and report them."""
    from ragrec.graph.loader import graph_stats
    from ragrec.personas.clustering import ClusteringConfig
    from ragrec.personas.service import discover, load_planted_segments, planted_ari

    settings = get_settings()
    if if_missing:
        with neo4j_driver(settings) as driver:
            if graph_stats(driver, settings.neo4j_database)["nodes"].get("Persona"):
                Console(stderr=True).print("personas exist: nothing to do (--if-missing)")
                return
    with _clean_errors():
        config = ClusteringConfig.from_settings(
            settings,
            reduce_dims=reduce_dims,
            min_cluster_size=min_cluster_size,
            crossing=crossing,
            seed=seed,
        )
        config.crossings()  # a bad --crossing fails here, naming the option's values
    with _gds() as (gds, driver), _progress(as_json) as say:
        report = discover(
            gds,
            driver,
            settings.neo4j_database,
            seed=seed,
            config=config,
            stability=stability,
            run_gds=not skip_gds,
            progress=say,
        )
        _refresh_persona_lists(driver, settings, say)
        if truth is not None:
            segments = load_planted_segments(truth, settings.effective_pseudonym_key())
            report.planted_ari, _ = planted_ari(driver, settings.neo4j_database, segments)
            report.planted_ari = round(report.planted_ari, 4)
    if as_json:
        print(json.dumps(report.to_dict(), indent=2, default=str))
        return
    print_report(report.to_dict())


def _refresh_persona_lists(driver: Any, settings: Any, say: Any) -> None:
    """New personas and communities have new ids: when `ragrec refresh` has built the
    ranked lists, rebuild the two keyed by them, so requests never look up stale keys."""
    from ragrec.jobs import versions
    from ragrec.jobs.refresh import refresh

    live = versions.live_versions(driver, settings.neo4j_database)
    steps = [s for s in ("persona_favourites", "community_trending") if live.get(s, {}).get("live")]
    if not steps:
        return
    report = refresh(driver, settings, only=steps, say=say)
    if not report.ok:
        Console(stderr=True).print(f"refresh of {', '.join(steps)} failed: {report.to_dict()}")


def print_report(report: dict[str, Any]) -> None:
    """The discovery report as tables: personas, candidates tried, steps, summary."""
    if report["structureless"]:
        out.print(
            f"[bold]structureless[/bold]: no persona written for {report['customers']:,} "
            f"customers. {report['reason']}"
        )
    table = Table(title=f"personas v{report['version']} ({report['customers']:,} customers)")
    for col in ("persona", "size", "top categories", "age mix", "price level"):
        table.add_column(col, justify="right" if col == "size" else "left")
    for row in report["personas"]:
        ages = sorted(row["age_mix"].items(), key=lambda kv: -kv[1])[:3]
        table.add_row(
            row["name"],
            f"{row['size']:,} ({row['share']:.0%})",
            ", ".join(row["top_categories"][:3]),
            ", ".join(f"{a} {s:.0%}" for a, s in ages),
            row["price_level"],
        )
    if report["personas"]:
        out.print(table)
    tried = Table(title="settings tried (HDBSCAN min size x crossing with Louvain)")
    for col in ("min size", "crossing", "personas", "largest", "noise", "silhouette", "ARI"):
        tried.add_column(col)
    for c in report["candidates"]:
        tried.add_row(
            f"{c['min_cluster_size']}" + (" *" if c["chosen"] else ""),
            c["crossing"],
            str(c["personas"]),
            f"{c['largest_share']:.0%}",
            f"{c['noise_share']:.0%}",
            "n/a" if c["silhouette"] is None else f"{c['silhouette']:.3f}",
            "n/a" if c["stability_ari"] is None else f"{c['stability_ari']:.3f}",
        )
    out.print(tried)
    steps = Table(title="steps")
    for col in ("step", "seconds", "GDS memory estimate", "nodes", "relationships"):
        steps.add_column(col)
    for step in report["gds_steps"]:
        steps.add_row(
            step["run_id"],
            f"{step['seconds']:.2f}",
            step["estimate"] or "-",
            f"{step['node_count']:,}",
            f"{step['relationship_count']:,}",
        )
    for name in ("read", "cluster", "write"):
        steps.add_row(f"personas:{name}", f"{report['timings'].get(name, 0.0):.2f}", "-", "", "")
    out.print(steps)
    out.print(_summary(report))


def assign_personas(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Assign new or changed customers to the nearest persona (no full rerun)."""
    from ragrec.personas.service import assign
    from ragrec.services import neo4j as neo4j_service

    settings = get_settings()
    with (
        neo4j_service.driver(settings) as driver,
        _clean_errors(),
        _progress(as_json) as say,
    ):
        report = assign(driver, settings.neo4j_database, progress=say)
    if as_json:
        print(json.dumps(report.to_dict(), indent=2))
        return
    out.print(
        f"{report.candidates:,} new or changed customers: {report.assigned:,} assigned "
        f"({report.changed:,} changed persona), {report.without_embedding:,} without a "
        f"product known to the personas yet; {report.seconds:.1f}s"
    )
    for persona_id, count in report.by_persona.items():
        out.print(f"  {persona_id}: +{count:,}")


def persona(
    customer_id: Annotated[str, typer.Argument(help="the shop's customer id (raw)")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """A customer's persona, community and the categories behind them."""
    from ragrec.etl.pseudonymise import pseudonymise_customer_id
    from ragrec.personas.service import customer_persona
    from ragrec.services import neo4j as neo4j_service

    settings = get_settings()
    graph_id = pseudonymise_customer_id(customer_id.strip(), settings.effective_pseudonym_key())
    with neo4j_service.driver(settings) as driver:
        info = customer_persona(driver, settings.neo4j_database, graph_id)
    if info is None:
        message = f"unknown customer {customer_id!r} (no Customer with its pseudonym)"
        if as_json:
            print(json.dumps({"customer_id": customer_id, "error": message}))
        else:
            console.print(f"[red]error[/red] {message}")
        raise typer.Exit(1)
    if as_json:
        print(json.dumps(info, indent=2, default=str))
        return
    out.print(f"customer {graph_id[:16]}… (age {info['age_bracket']})")
    out.print(f"history: {info['purchases']:,} purchases, {info['interactions']:,} interactions")
    if info["persona"]:
        p, m = info["persona"], info["membership"] or {}
        out.print(f"persona: [bold]{p['name']}[/bold] ({p['id']}, {p['size']:,} customers)")
        out.print(f"  {p['description']}")
        out.print(
            f"  assigned via {m.get('via')}, similarity {m.get('similarity') or 0:.3f}; "
            f"persona categories: {', '.join(p['top_categories'] or [])}"
        )
    else:
        out.print(f"persona: none. {info['reason']}")
    if info["community_id"] is not None:
        cats = ", ".join(c["product_type"] for c in info["community_categories"])
        out.print(f"community: {info['community_id']} ({info['community_version']}): {cats}")
    else:
        out.print("community: none (not in the last Louvain run)")
    if info["categories"]:
        out.print(
            "bought: "
            + ", ".join(f"{c['product_type']} ({c['index_group']}) x{c['items']}"
                        for c in info["categories"])
        )  # fmt: skip


def gds_run(
    specs: Annotated[list[str] | None, typer.Argument(help="spec names (default: all)")] = None,
    seed: Annotated[int | None, typer.Option(help="override random_seed")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Run GDS specs from gds_projections/ (estimate, project, run, drop, record)."""
    from ragrec.gds.pipeline import run_specs
    from ragrec.gds.specs import load_specs

    settings = get_settings()
    with _clean_errors():
        chosen = load_specs(specs)
    with _gds() as (gds, driver), _progress(as_json) as say:
        steps = run_specs(gds, driver, settings.neo4j_database, chosen, seed=seed, progress=say)
    if as_json:
        print(json.dumps([s.to_dict() for s in steps], indent=2, default=str))
        return
    table = Table(title="GDS runs")
    for col in ("run", "algorithm", "nodes", "rels", "estimate", "seconds", "result"):
        table.add_column(col)
    for s in steps:
        table.add_row(
            s.run_id,
            s.algorithm,
            f"{s.node_count:,}",
            f"{s.relationship_count:,}",
            s.estimate or "-",
            f"{s.seconds:.2f}",
            _short_result(s.result),
        )
    out.print(table)


def gds_estimate(
    customers: Annotated[int | None, typer.Option(help="fictive customer count")] = None,
    products: Annotated[int | None, typer.Option(help="fictive product count")] = None,
    purchases: Annotated[int | None, typer.Option(help="fictive purchase count")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """GDS memory estimates of every spec at 100K customers and H&M full size (or given)."""
    from ragrec.gds.pipeline import estimate_at_scale
    from ragrec.gds.specs import load_specs

    scenarios: tuple[tuple[str, int, int, int], ...] = SCENARIOS
    if customers and products and purchases:
        scenarios = (("custom", customers, products, purchases),)
    rows: list[dict[str, Any]] = []
    with _gds() as (gds, _driver):
        for label, c, p, t in scenarios:
            for row in estimate_at_scale(gds, load_specs(), customers=c, products=p, purchases=t):
                rows.append({"scenario": label, "customers": c, "products": p, **row})
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table(title="GDS memory estimates (fictive graphs)")
    for col in ("scenario", "spec", "nodes", "relationships", "required memory"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["scenario"],
            r["spec"],
            f"{r['node_count']:,}",
            f"{r['relationship_count']:,}",
            r["required_memory"],
        )
    out.print(table)


def gds_runs(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The GdsRun records: which spec version wrote which properties, when."""
    from ragrec.gds.pipeline import recorded_runs
    from ragrec.services import neo4j as neo4j_service

    settings = get_settings()
    with neo4j_service.driver(settings) as driver:
        runs = recorded_runs(driver, settings.neo4j_database)
    if as_json:
        print(json.dumps(runs, indent=2, default=str))
        return
    table = Table(title="GDS runs recorded on the graph")
    for col in ("run", "properties", "ran at", "seconds", "nodes", "rels"):
        table.add_column(col)
    for r in runs:
        table.add_row(
            r["id"],
            ", ".join(r["properties"] or []),
            r["ran_at"],
            f"{r['seconds'] or 0:.2f}",
            f"{r['node_count'] or 0:,}",
            f"{r['relationship_count'] or 0:,}",
        )
    out.print(table)


# -- helpers ---------------------------------------------------------------------------


@contextmanager
def _gds() -> Iterator[tuple[Any, Any]]:
    from ragrec.gds import gds_client
    from ragrec.services import neo4j as neo4j_service

    settings = get_settings()
    driver = neo4j_service.driver(settings)
    try:
        with _clean_errors():
            yield gds_client(driver, settings), driver
    finally:
        driver.close()


@contextmanager
def _clean_errors() -> Iterator[None]:
    """Known failures (no data, bad spec, not enough memory) end with a message, exit 2;
    Neo4j unreachable is `ragrec.cli.main`'s, as for every command."""
    from neo4j.exceptions import Neo4jError

    from ragrec.gds.pipeline import GdsPipelineError
    from ragrec.gds.specs import SpecError

    try:
        yield
    except (GdsPipelineError, SpecError, ValueError) as exc:
        console.print(f"[red]error[/red] {exc}")
        raise typer.Exit(2) from exc
    except Neo4jError as exc:
        console.print(f"[red]error[/red] Neo4j/GDS: {exc.message or exc}")
        raise typer.Exit(2) from exc


@contextmanager
def _progress(quiet: bool) -> Iterator[Any]:
    """A spinner with the current step; each finished step is printed with its time."""
    if quiet:
        yield lambda _msg: None
        return
    started = time.perf_counter()
    with console.status("starting") as status:

        def say(message: str) -> None:
            console.print(f"[dim]{time.perf_counter() - started:7.1f}s[/dim] {message}")
            status.update(message)

        yield say


def _summary(report: dict[str, Any]) -> str:
    def fmt(value: Any) -> str:
        return "n/a" if value is None else f"{value:.3f}"

    drift = report["drift"]
    sizes = report.get("size_distribution") or {}
    chosen = report.get("settings") or {}
    lines = [
        f"size distribution: {sizes.get('personas', 0)} personas, largest "
        f"{sizes.get('largest_share', 0):.1%}, median {sizes.get('median_share', 0):.1%}, "
        f"smallest {sizes.get('smallest_share', 0):.1%}",
        f"chosen: HDBSCAN min size {chosen.get('min_cluster_size')}, crossing "
        f"{chosen.get('crossing')!r}, PCA {chosen.get('reduce_dims')} dims, FastRP "
        f"{chosen.get('fastrp_dimension')} dims",
        f"method: {report['method']}; noise assigned to nearest persona: {report['noise']:,}; "
        f"small intersections merged: {report['merged']:,}",
        f"modularity {fmt(report['modularity'])} | silhouette (cosine) "
        f"{fmt(report['silhouette'])} | stability ARI (seed {report['seed']} vs "
        f"{report['stability_seed']}) {fmt(report['stability_ari'])}"
        + (
            f" | planted-segment ARI {fmt(report['planted_ari'])}"
            if report.get("planted_ari") is not None
            else ""
        ),
        f"drift vs {drift['previous_version'] or 'nothing (first discovery)'}: total "
        f"variation {drift['total_variation']:.3f}, PSI {drift['psi']:.3f}"
        + (" [red]ALERT[/red]" if drift["alert"] else ""),
        "time: " + ", ".join(f"{k} {v:.1f}s" for k, v in report["timings"].items()),
    ]
    return "\n".join(lines)


def _short_result(result: dict[str, Any]) -> str:
    keys = (
        "modularity",
        "community_count",
        "relationships_written",
        "nodes_compared",
        "properties_written",
        "pairs",
    )
    parts = []
    for key in keys:
        if key in result:
            value = result[key]
            parts.append(f"{key} {value:.4f}" if isinstance(value, float) else f"{key} {value}")
    return ", ".join(parts)
