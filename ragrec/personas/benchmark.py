"""`ragrec benchmark personas`: persona quality on data sets, each in a throwaway Neo4j.

For every folder given (H&M schema; the generator's `segments_ground_truth.csv` beside
it gives the planted-segment ARI): load it into a fresh local Neo4j (never the serving
graph), run `discover()` (the two GDS specs personas read: FastRP and Louvain; settings
chosen on seeds s and s+1), then embed
once more with seed s+2 and cluster that embedding with the chosen settings fixed: the
ARI between the two is the stability reported (the seeds used to choose are not the
seeds used to judge). The baseline in the same run is the v1 fixed setting (HDBSCAN
min size max(15, n/100), PCA 16, community x cluster, no re-clustering) on the same
embeddings. One row per data set and method; JSON under `benchmarks/results/`.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table
from sklearn.metrics import adjusted_rand_score

from ragrec.config import Settings, get_settings
from ragrec.personas.clustering import (
    CROSS_INTERSECT,
    ClusteringConfig,
    PersonaClustering,
    find_personas,
    l2_normalise,
    silhouette,
)

console = Console(stderr=True)
out = Console(width=150)
RESULTS = Path("benchmarks/results")


def benchmark_personas(
    data: Annotated[list[Path], typer.Argument(help="data folders (H&M schema)")],
    seed: Annotated[int, typer.Option(help="first seed; s+1 chooses, s+2 judges")] = 42,
    heap: Annotated[str, typer.Option(help="heap of the throwaway Neo4j")] = "2g",
    json_file: Annotated[Path | None, typer.Option("--json", help="write JSON here")] = None,
) -> None:
    """Persona quality per data set: count, largest share, silhouette, stability, planted
    ARI, seconds; v1 fixed settings as the baseline in the same run."""
    missing = [str(d) for d in data if not d.is_dir()]
    if missing:
        console.print(f"[red]error[/red] data: not a folder: {', '.join(missing)}")
        raise typer.Exit(2)
    rows: list[dict[str, Any]] = []
    for folder in data:
        console.print(f"[dim]{folder}: loading into a throwaway Neo4j[/dim]")
        rows.extend(run_one(folder, get_settings(), seed=seed, heap=heap))
        print_table(rows)
    target = json_file or RESULTS / f"personas-{time.strftime('%Y%m%dT%H%M%S')}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps({"seed": seed, "rows": rows}, indent=2, default=str))
    out.print(f"JSON written to {target}")


def run_one(folder: Path, base: Settings, *, seed: int, heap: str) -> list[dict[str, Any]]:
    """Load `folder` in a throwaway Neo4j, discover personas, measure; two rows."""
    from ragrec.evaluation.instance import throwaway_neo4j
    from ragrec.gds import gds_client
    from ragrec.gds.specs import load_specs
    from ragrec.graph.loader import load_data
    from ragrec.personas.service import (
        _embeddings_for_seed,
        _read_customers,
        discover,
        load_planted_segments,
    )

    name = folder.name
    with throwaway_neo4j(base, heap=heap) as (settings, driver):
        database = settings.neo4j_database
        started = time.perf_counter()
        load_data(folder, settings, driver, show_progress=False)
        load_seconds = time.perf_counter() - started
        gds = gds_client(driver, settings)
        config = ClusteringConfig.from_settings(settings, seed=seed)
        started = time.perf_counter()
        report = discover(
            gds,
            driver,
            database,
            seed=seed,
            config=config,
            specs=load_specs(["behavior_embeddings", "louvain_communities"]),
            progress=lambda m: console.print(m),
        )
        seconds = time.perf_counter() - started
        ids, embeddings, communities = _read_customers(driver, database)
        judge = _embeddings_for_seed(
            gds, driver, database, ids, seed + 2, sample=config.max_fit_points
        )
        truth_file = folder / "segments_ground_truth.csv"
        truth = (
            load_planted_segments(truth_file, settings.effective_pseudonym_key())
            if truth_file.exists()
            else None
        )
    planted = None if truth is None else np.array([truth.get(c, -1) for c in ids])
    chosen = _rerun_chosen(report.to_dict(), embeddings, communities, config)
    baseline_config = replace(
        config,
        min_cluster_size=max(15, len(ids) // 100),
        reduce_dims=16,
        min_samples=10,
        crossing=CROSS_INTERSECT,
        max_split_depth=0,
    )
    rows = []
    for method, fixed, elapsed in (
        ("chosen (v2)", chosen, seconds),
        ("v1 fixed settings", baseline_config, None),
    ):
        started = time.perf_counter()
        found = find_personas(embeddings, communities, fixed)
        again = None
        if judge is not None:
            again = (judge[0], find_personas(judge[1], communities[judge[0]], fixed))
        rows.append(
            _row(
                name,
                method,
                found,
                again,
                planted,
                embeddings,
                fixed,
                elapsed if elapsed is not None else time.perf_counter() - started,
            )
        )
    rows[0].update(
        {
            "structureless": report.structureless,
            "reason": report.reason,
            "chosen_settings": report.settings,
            "choice_stability_ari": report.stability_ari,
            "load_seconds": round(load_seconds, 1),
            "gds_steps": [
                {k: s[k] for k in ("run_id", "estimate", "seconds")} for s in report.gds_steps
            ],
        }
    )
    return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    table = Table(title="persona benchmark (stability: seed s vs s+2, settings chosen on s, s+1)")
    cols = ("data", "method", "personas", "largest", "silhouette", "stability ARI")
    for col in (*cols, "planted ARI", "seconds", "structureless"):
        table.add_column(col)

    def fmt(v: Any) -> str:
        return "n/a" if v is None else f"{v:.3f}"

    for r in rows:
        table.add_row(
            r["data"],
            r["method"],
            str(r["personas"]),
            f"{r['largest_share']:.1%}",
            fmt(r["silhouette"]),
            fmt(r["stability_ari"]),
            fmt(r["planted_ari"]),
            f"{r['seconds']:.1f}",
            "yes" if r["structureless"] else "no",
        )
    out.print(table)


def _rerun_chosen(
    report: dict[str, Any],
    embeddings: np.ndarray,
    communities: np.ndarray,
    config: ClusteringConfig,
) -> ClusteringConfig:
    settings = report["settings"]
    crossing = settings["crossing"] if settings["crossing"] != "structureless" else "auto"
    return replace(config, min_cluster_size=settings["min_cluster_size"] or None, crossing=crossing)


def _row(
    name: str,
    method: str,
    found: PersonaClustering,
    again: tuple[np.ndarray, PersonaClustering] | None,
    planted: np.ndarray | None,
    embeddings: np.ndarray,
    config: ClusteringConfig,
    seconds: float,
) -> dict[str, Any]:
    known = None if planted is None else planted >= 0
    return {
        "data": name,
        "method": method,
        "customers": int(found.labels.size),
        "personas": 0 if found.structureless else found.k,
        "largest_share": 0.0 if found.structureless else round(found.largest_share(), 4),
        "silhouette": silhouette(l2_normalise(embeddings), found.labels, config)
        if found.k > 1
        else None,
        "stability_ari": None
        if again is None
        else round(float(adjusted_rand_score(found.labels[again[0]], again[1].labels)), 4),
        "planted_ari": None
        if planted is None or known is None or not known.any()
        else round(float(adjusted_rand_score(planted[known], found.labels[known])), 4),
        "seconds": round(seconds, 2),
        "structureless": found.structureless,
        "reason": found.reason,
    }
