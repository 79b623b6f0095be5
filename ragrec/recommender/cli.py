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
    ranker_windows: Annotated[
        int, typer.Option(min=0, help="past windows the ranker learns on (each staged)")
    ] = 2,
    window_customers: Annotated[int, typer.Option(min=1, help="requests per window")] = 400,
    graph_windows: Annotated[
        bool,
        typer.Option(help="stage the graph for each ranker window (off: model sources only)"),
    ] = True,
    validation_customers: Annotated[int, typer.Option(min=2)] = 600,
    validation_baskets: Annotated[int, typer.Option(min=3, help="basket mode")] = 600,
    candidates: Annotated[int, typer.Option(min=5, help="candidates per model source")] = 50,
    ease_max_items: Annotated[
        int, typer.Option(min=10, help="EASE's items (memory: items^2 x 8 bytes)")
    ] = 3000,
) -> None:
    """Offline evaluation in a throwaway Neo4j: every baseline and our strategy, each
    chosen on validation; the test period scored once; paired bootstrap vs the best
    baseline."""
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
        ranker_windows=ranker_windows,
        window_customers=window_customers,
        graph_windows=graph_windows,
        validation_customers=validation_customers,
        validation_baskets=validation_baskets,
        candidates=candidates,
        ease_max_items=ease_max_items,
    )
    report = run_evaluation(opts, get_settings(), err)
    print_report(report, Console())
    if json_file:
        write_json(report, json_file)
        Console().print(f"JSON written to {json_file}")


def train_ranker(
    data: Annotated[Path, typer.Option("--data", help="the shop's H&M-format export")],
    windows: Annotated[int, typer.Option(min=1, help="past windows to learn on")] = 3,
    label_days: Annotated[int, typer.Option(help="days per window")] = 7,
    max_customers: Annotated[int, typer.Option(help="requests per window")] = 500,
    trials: Annotated[int, typer.Option(help="Optuna trials for the model sources")] = 20,
    personas: Annotated[bool, typer.Option(help="run the GDS pipeline + personas")] = False,
    seed: Annotated[int, typer.Option()] = 0,
) -> None:
    """Train the LightGBM LambdaRank fusion on past windows staged in a throwaway Neo4j
    (each as of its first day; never the live graph); early stopping on the newest
    window; saved as a new version in the live models folder."""
    from ragrec.evaluation.training import train_offline

    try:
        result = train_offline(
            data, get_settings(), err, windows=windows, label_days=label_days,
            customers=max_customers, trials=trials, seed=seed, personas=personas,
        )  # fmt: skip
    except (ValueError, FileNotFoundError) as exc:
        err.print(f"[red]error[/red] {exc}")
        raise typer.Exit(2) from exc
    s = result.ranker or {}
    Console().print(
        f"ranker v{s.get('version')} saved to {s.get('folder')}: {s.get('groups')} requests "
        f"from {len(result.windows) - 1} windows, {s.get('rows'):,} rows, {s.get('positives')} "
        f"positives; early stopping on the newest window at iteration "
        f"{s.get('best_iteration')}, nDCG@10 {s.get('validation_ndcg10')}; {result.seconds}s"
    )


def tune(
    data: Annotated[Path, typer.Option("--data", help="the shop's H&M-format export")],
    trials: Annotated[int, typer.Option(min=1)] = 50,
    label_days: Annotated[int, typer.Option(help="validation window: last N days")] = 7,
    max_customers: Annotated[int, typer.Option()] = 500,
    personas: Annotated[bool, typer.Option(help="run the GDS pipeline + personas")] = False,
    seed: Annotated[int, typer.Option()] = 0,
) -> None:
    """Optuna (TPE) over fusion weights and limits on the newest window, staged in a
    throwaway Neo4j as of its first day (never the live graph); saves the best."""
    from ragrec.evaluation.training import train_offline

    try:
        result = train_offline(
            data, get_settings(), err, windows=0, label_days=label_days,
            customers=max_customers, trials=trials, seed=seed, personas=personas,
            ranker=False, weights=True,
        )  # fmt: skip
    except (ValueError, FileNotFoundError) as exc:
        err.print(f"[red]error[/red] {exc}")
        raise typer.Exit(2) from exc
    t = result.tuned or {}
    Console().print(
        f"best nDCG@10 {t.get('score', 0):.4f} (seed weights {t.get('seed_score', 0):.4f}, "
        f"rrf {t.get('rrf_score', 0):.4f}); saved to {t.get('path')}"
    )
    Console().print(json.dumps(t.get("config"), indent=2))


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
    warmup: Annotated[int, typer.Option(help="unmeasured requests (other customers)")] = 20,
    seed: Annotated[int, typer.Option(help="which customers are drawn")] = 7,
    snapshot: Annotated[
        bool | None,
        typer.Option(
            "--snapshot/--no-snapshot",
            help="build the item snapshot first, as an API worker does (default: "
            "RAGREC_REC_ITEM_SNAPSHOT); --no-snapshot times the Cypher request path",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="print JSON instead of the table")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(help="write the JSON here [default: benchmarks/results/recommend.json]"),
    ] = None,
) -> None:
    """p50/p95/p99 latency of homepage requests in-process, one at a time, for customers
    drawn at random from the whole customer base (each asked once: no warm pages of a
    customer already asked). Target on the H&M-size graph: p95 <= 15 ms."""
    import time

    from ragrec.recommender.engine import FusionConfig, Recommender
    from ragrec.recommender.latency import draw_customers, time_homepage
    from ragrec.recommender.rerank import CrossEncoderReranker
    from ragrec.services import neo4j as neo4j_service

    settings = get_settings()
    if snapshot is not None:
        settings = settings.model_copy(update={"rec_item_snapshot": snapshot})
    reranker = CrossEncoderReranker(cross_encoder) if cross_encoder else None
    fusion = FusionConfig(rerank_top=candidates)
    rows: list[dict[str, Any]] = []
    with (
        neo4j_service.driver(settings) as driver,
        Recommender(driver, settings, reranker=reranker, fusion=fusion) as rec,
    ):
        variants = [("homepage", False)] + (
            [("homepage + cross-encoder", True)] if reranker else []
        )
        each = warmup + requests
        picks, total = draw_customers(driver, settings.neo4j_database, len(variants) * each, seed)
        if not total:
            err.print("[red]error[/red] no customer with purchases in the graph")
            raise typer.Exit(2)
        if len(variants) * each > total:
            err.print(f"[yellow]note[/yellow] {total:,} customers: some are asked twice")
        began = time.perf_counter()
        live = rec.precomputed()
        path = "cypher" if live else "cypher (no precomputed lists: run `ragrec refresh`)"
        if live and rec.load_snapshot():
            path = "item snapshot"
            err.print(f"item snapshot built in {time.perf_counter() - began:.1f}s")
        rec.warm_up()
        for i, (name, rerank) in enumerate(variants):
            timed = time_homepage(
                rec, picks[i * each : (i + 1) * each], warmup, strategy=strategy, rerank=rerank
            )
            rows.append(
                {
                    "variant": name,
                    "strategy": strategy,
                    "path": path,
                    "customers_in_graph": total,
                    **timed,
                    "cross_encoder": cross_encoder if rerank else None,
                    "rerank_candidates": candidates if rerank else 0,
                }
            )
    out = out or Path("benchmarks/results") / "recommend.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=2))
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table(title="homepage latency (one request at a time, end to end in-process)")
    cols = ("variant", "path", "strategy", "requests", "degraded", "p50 ms", "p95 ms", "p99 ms",
            "max ms")  # fmt: skip
    for col in cols:
        table.add_column(col, justify="left" if col in ("variant", "path", "strategy") else "right")
    for r in rows:
        table.add_row(
            r["variant"],
            r["path"],
            r["strategy"],
            str(r["requests"]),
            str(r["degraded"]),
            f"{r['p50_ms']:.1f}",
            f"{r['p95_ms']:.1f}",
            f"{r['p99_ms']:.1f}",
            f"{r['max_ms']:.1f}",
        )
    Console(width=140).print(table)
    Console(width=140).print(f"customers drawn at random from {total:,} with purchases")
    if cross_encoder:
        Console(width=140).print(
            f"cross-encoder: {cross_encoder} on the top {candidates} candidates"
        )
    Console(width=140).print(f"JSON written to {out}")


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
