"""Typer commands of the recommender: recommend, evaluate, train-ranker, tune."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ragrec.config import get_settings
from ragrec.etl.pseudonymise import pseudonymise_customer_id
from ragrec.recommender.errors import RecommenderError, UnknownCustomer

err = Console(stderr=True)


def register(app: typer.Typer) -> None:
    app.command("recommend")(recommend)
    app.command("evaluate")(evaluate)
    app.command("train-ranker")(train_ranker)
    app.command("tune")(tune)
    app.command("prepare-recommender")(prepare_recommender)
    app.command("bench-recommend")(bench_recommend)


def recommend(
    customer_id: Annotated[
        str | None, typer.Argument(help="the shop's raw customer id (pseudonymised here)")
    ] = None,
    context: Annotated[str, typer.Option(help="homepage | product | cart | search")] = "homepage",
    product: Annotated[str | None, typer.Option(help="product id (product context)")] = None,
    items: Annotated[str | None, typer.Option(help="cart product ids, comma-separated")] = None,
    query: Annotated[str | None, typer.Option(help="search text (search context)")] = None,
    top_k: Annotated[int, typer.Option("--top-k", min=1, max=100)] = 10,
    strategy: Annotated[str | None, typer.Option(help="rrf | weighted | learned")] = None,
    new: Annotated[
        bool, typer.Option("--new", help="an id the shop has not sent yet: cold start")
    ] = False,
    age_bracket: Annotated[
        str | None, typer.Option(help="cold start by demographics, e.g. 25-34")
    ] = None,
    rerank: Annotated[
        bool, typer.Option(help="cross-encoder rerank when there is a query")
    ] = False,
    vectors: Annotated[
        bool, typer.Option(help="also use the #4 vector retrievers (visual, text search)")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Recommendations for one customer in one context, with reasons from the graph."""
    from ragrec.recommender.engine import Recommender
    from ragrec.recommender.rerank import CrossEncoderReranker
    from ragrec.recommender.retrievers import retrievers_from_settings
    from ragrec.services import neo4j as neo4j_service

    settings = get_settings()
    pseudonym = (
        pseudonymise_customer_id(customer_id.strip(), settings.effective_pseudonym_key())
        if customer_id
        else None
    )
    reranker = CrossEncoderReranker(settings.rec_cross_encoder) if rerank else None
    with neo4j_service.driver(settings) as driver:
        extra = retrievers_from_settings(settings, driver) if vectors else {}
        rec = Recommender(driver, settings, reranker=reranker, **extra)
        try:
            if new and pseudonym is not None:
                try:
                    rec.profile(pseudonym)
                except UnknownCustomer:
                    pseudonym = None
            if context == "homepage":
                result = rec.homepage(
                    pseudonym, k=top_k, strategy=strategy, age_bracket=age_bracket, rerank=rerank
                )
            elif context == "product":
                if not product:
                    raise typer.BadParameter("--product is required for the product context")
                result = rec.product(product, pseudonym, k=top_k, strategy=strategy)
            elif context == "cart":
                ids = [i.strip() for i in (items or "").split(",") if i.strip()]
                result = rec.cart(ids, pseudonym, k=top_k, strategy=strategy)
            elif context == "search":
                if not query:
                    raise typer.BadParameter("--query is required for the search context")
                result = rec.search(query, pseudonym, k=top_k, strategy=strategy, rerank=rerank)
            else:
                raise typer.BadParameter(f"unknown context {context!r}")
        except RecommenderError as exc:
            hint = (
                " (add --new for a customer the graph has not seen)"
                if isinstance(exc, UnknownCustomer)
                else ""
            )
            err.print(f"[red]error[/red] {exc}{hint}")
            raise typer.Exit(2) from exc
        finally:
            rec.close()
    if as_json:
        print(json.dumps(result.to_dict(), indent=2, default=str))
        return
    who = "new customer" if result.cold_start else f"customer {customer_id}"
    table = Table(
        title=f"{result.context} for {who} · {result.strategy}"
        + (f" · persona {result.persona}" if result.persona else "")
    )
    for col in ("#", "product", "name", "score", "generators", "why"):
        table.add_column(col, justify="right" if col in ("#", "score") else "left")
    for item in result.items:
        table.add_row(
            str(item.position),
            item.product_id,
            item.name or "",
            f"{item.score:.4f}",
            ", ".join(item.generators),
            "; ".join(item.reasons),
        )
    out = Console()
    out.print(table)
    out.print(
        f"request_id {result.request_id} · "
        + ", ".join(f"{k} {v:.1f}" for k, v in result.timings.items())
    )


def evaluate(
    data: Annotated[Path, typer.Option("--data", help="H&M-format folder")],
    split: Annotated[str, typer.Option(help="temporal | per-customer")] = "temporal",
    test_days: Annotated[int, typer.Option(min=1)] = 7,
    test_fraction: Annotated[float, typer.Option(min=0.01, max=0.9)] = 0.1,
    k: Annotated[int, typer.Option("--k", min=1, max=100)] = 10,
    mode: Annotated[str, typer.Option(help="homepage | basket (cart completion)")] = "homepage",
    max_customers: Annotated[int | None, typer.Option(help="sample of customers")] = None,
    max_baskets: Annotated[int, typer.Option(help="baskets (basket mode)")] = 1000,
    trials: Annotated[int, typer.Option(help="Optuna trials on the validation slice")] = 40,
    repurchase: Annotated[bool, typer.Option(help="keep training items rankable")] = False,
    rerank: Annotated[bool, typer.Option(help="also run each strategy + cross-encoder")] = True,
    cross_encoder: Annotated[
        str | None, typer.Option(help="cross-encoder model id or path")
    ] = None,
    personas: Annotated[bool, typer.Option(help="run the GDS pipeline + personas")] = True,
    seed: Annotated[int, typer.Option()] = 0,
    json_file: Annotated[Path | None, typer.Option("--json", help="write the report here")] = None,
) -> None:
    """Offline evaluation in a throwaway Neo4j: baselines vs our strategies, one table."""
    from ragrec.evaluation.report import print_report, write_json
    from ragrec.evaluation.runner import EvalOptions
    from ragrec.evaluation.runner import evaluate as run_evaluation

    if split not in ("temporal", "per-customer"):
        raise typer.BadParameter("--split is temporal or per-customer")
    if mode not in ("homepage", "basket"):
        raise typer.BadParameter("--mode is homepage or basket")
    opts = EvalOptions(  # split checked above
        data=data,
        mode=mode,
        split="per-customer" if split == "per-customer" else "temporal",
        test_days=test_days,
        test_fraction=test_fraction,
        k=k,
        repurchase=repurchase,
        max_customers=max_customers,
        max_baskets=max_baskets,
        tune_trials=trials,
        rerank=rerank,
        cross_encoder=cross_encoder,
        personas=personas,
        seed=seed,
    )
    report = run_evaluation(opts, get_settings(), err)
    print_report(report, Console())
    if json_file:
        write_json(report, json_file)
        Console().print(f"JSON written to {json_file}")


def train_ranker(
    label_days: Annotated[int, typer.Option(help="labels: purchases in the last N days")] = 7,
    max_customers: Annotated[int, typer.Option()] = 1000,
    seed: Annotated[int, typer.Option()] = 0,
) -> None:
    """Train the LightGBM LambdaRank fusion on the current graph; saved as a new version."""
    from ragrec.recommender import ranker as ranker_mod
    from ragrec.recommender.engine import Recommender, models_dir
    from ragrec.recommender.tuning import validation_slice
    from ragrec.services import neo4j as neo4j_service

    settings = get_settings()
    with neo4j_service.driver(settings) as driver, Recommender(driver, settings) as rec:
        vs = _slice(rec, label_days, max_customers, validation_slice)
        try:
            summary = ranker_mod.train(
                vs.pools,
                vs.labels,
                models_dir(settings) / "ranker",
                seed=seed,
                extra_meta={"label_days": label_days, "labels_since": str(vs.since)},
            )
        except ValueError as exc:
            err.print(f"[red]error[/red] {exc}")
            raise typer.Exit(2) from exc
    Console().print(
        f"ranker v{summary.version} saved to {summary.folder}: {summary.groups} requests, "
        f"{summary.rows:,} rows, {summary.positives} positives, validation nDCG@10 "
        f"{summary.validation_ndcg10 if summary.validation_ndcg10 is not None else 'n/a'}, "
        f"{summary.seconds}s"
    )


def tune(
    trials: Annotated[int, typer.Option(min=1)] = 50,
    label_days: Annotated[int, typer.Option(help="validation slice: last N days")] = 7,
    max_customers: Annotated[int, typer.Option()] = 500,
    seed: Annotated[int, typer.Option()] = 0,
) -> None:
    """Optuna (TPE) over fusion weights and generator limits; saves the best with its score."""
    from ragrec.recommender.engine import Recommender, models_dir
    from ragrec.recommender.tuning import save_tuned, tune_fusion, validation_slice
    from ragrec.services import neo4j as neo4j_service

    settings = get_settings()
    with neo4j_service.driver(settings) as driver, Recommender(driver, settings) as rec:
        vs = _slice(rec, label_days, max_customers, validation_slice)
        if not vs.pools:
            err.print("[red]error[/red] no customer bought in the validation window and before it")
            raise typer.Exit(2)
        with _bar() as bar:
            task = bar.add_task("Optuna TPE", total=trials)
            result = tune_fusion(
                vs.pools,
                vs.labels,
                rec.rules,
                trials=trials,
                seed=seed,
                progress=lambda i, n: bar.update(task, completed=i),
            )
        path = save_tuned(
            result, models_dir(settings), {"label_days": label_days, "since": str(vs.since)}
        )
    Console().print(
        f"best nDCG@10 {result.score:.4f} (seed weights {result.seed_score:.4f}, rrf "
        f"{result.rrf_score:.4f}) on {len(vs.pools)} requests; saved to {path}"
    )
    Console().print(json.dumps(result.to_dict()["config"], indent=2))


def prepare_recommender(
    personas: Annotated[bool, typer.Option(help="run the GDS pipeline + personas first")] = False,
) -> None:
    """Derive what the generators read (BOUGHT_TOGETHER, the customer vector index)."""
    from ragrec.recommender.graph_prep import prepare_graph
    from ragrec.services import neo4j as neo4j_service

    settings = get_settings()
    with neo4j_service.driver(settings) as driver:
        summary = prepare_graph(driver, settings, personas=personas, progress=err.print)
    print(json.dumps(summary, indent=2, default=str))


def bench_recommend(
    requests: Annotated[int, typer.Option(min=10)] = 200,
    strategy: Annotated[str, typer.Option(help="rrf | weighted | learned")] = "rrf",
    cross_encoder: Annotated[
        str | None, typer.Option(help="also time reranking with this model (id or folder)")
    ] = None,
    candidates: Annotated[int, typer.Option(help="candidates the cross-encoder reads")] = 20,
    warmup: Annotated[int, typer.Option()] = 20,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """p50/p95 latency of homepage requests on the current graph, with and without rerank."""
    import time

    import numpy as np

    from ragrec.recommender.engine import FusionConfig, Recommender
    from ragrec.recommender.rerank import CrossEncoderReranker
    from ragrec.services import neo4j as neo4j_service

    settings = get_settings()
    reranker = CrossEncoderReranker(cross_encoder) if cross_encoder else None
    fusion = FusionConfig(rerank_top=candidates)
    rows: list[dict[str, Any]] = []
    with (
        neo4j_service.driver(settings) as driver,
        Recommender(driver, settings, reranker=reranker, fusion=fusion) as rec,
    ):
        ids = [r["customer_id"] for r in rec.graph.rows("customers_with_history", limit=requests)]
        if not ids:
            err.print("[red]error[/red] no customer with purchases in the graph")
            raise typer.Exit(2)
        variants = [("homepage", False)] + (
            [("homepage + cross-encoder", True)] if reranker else []
        )
        for name, rerank in variants:
            for cid in ids[:warmup]:
                rec.homepage(cid, strategy=strategy, rerank=rerank)
            times = []
            for cid in ids:
                t = time.perf_counter()
                rec.homepage(cid, strategy=strategy, rerank=rerank)
                times.append((time.perf_counter() - t) * 1000)
            arr = np.asarray(times)
            rows.append(
                {
                    "variant": name,
                    "strategy": strategy,
                    "requests": len(times),
                    "p50_ms": round(float(np.percentile(arr, 50)), 2),
                    "p95_ms": round(float(np.percentile(arr, 95)), 2),
                    "max_ms": round(float(arr.max()), 2),
                    "cross_encoder": cross_encoder if rerank else None,
                    "rerank_candidates": candidates if rerank else 0,
                }
            )
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table(title="homepage latency (one request at a time, end to end in-process)")
    for col in ("variant", "strategy", "requests", "p50 ms", "p95 ms", "max ms"):
        table.add_column(col, justify="left" if col in ("variant", "strategy") else "right")
    for r in rows:
        table.add_row(
            r["variant"],
            r["strategy"],
            str(r["requests"]),
            f"{r['p50_ms']:.1f}",
            f"{r['p95_ms']:.1f}",
            f"{r['max_ms']:.1f}",
        )
    Console().print(table)
    if cross_encoder:
        Console().print(f"cross-encoder: {cross_encoder} on the top {candidates} candidates")


def _slice(rec: Any, label_days: int, max_customers: int, validation_slice: Any) -> Any:
    with _bar() as bar:
        task = bar.add_task("validation pools", total=None)
        return validation_slice(
            rec,
            label_days=label_days,
            max_customers=max_customers,
            progress=lambda i, n: bar.update(task, completed=i, total=n),
        )


def _bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(0)
