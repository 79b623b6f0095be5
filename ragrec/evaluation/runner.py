"""`ragrec evaluate`: split -> throwaway Neo4j with the training part only -> GDS/personas
-> baselines and our strategies on the same held-out purchases -> one table, one JSON.

Homepage mode scores every customer with held-out purchases and at least one training
purchase (training items excluded unless repurchase is on). Basket mode hides one item
of each basket and asks `cart(rest)` for it.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ragrec.config import Settings
from ragrec.evaluation.baselines import (
    Baseline,
    ImplicitBaseline,
    Interactions,
    ItemCooccurrenceBaseline,
    PopularityBaseline,
    RandomBaseline,
    tune_implicit,
)
from ragrec.evaluation.instance import throwaway_neo4j
from ragrec.evaluation.metrics import ndcg_at_k, summarise
from ragrec.evaluation.splits import SplitKind, split_baskets, split_folder
from ragrec.graph.loader import load_data
from ragrec.recommender import ranker as ranker_mod
from ragrec.recommender.engine import FusionConfig, Recommender
from ragrec.recommender.fusion import FusionStrategy, RRFFusion, WeightedFusion
from ragrec.recommender.graph_prep import prepare_graph
from ragrec.recommender.rerank import CrossEncoderReranker, RerankerUnavailable, profile_query
from ragrec.recommender.rules import BusinessRules
from ragrec.recommender.tuning import tune_fusion
from ragrec.recommender.types import CandidatePool

LIST_LENGTH = 12  # MAP@12 needs twelve


@dataclass
class EvalOptions:
    data: Path
    mode: str = "homepage"  # homepage | basket
    split: SplitKind = "temporal"
    test_days: int = 7
    test_fraction: float = 0.1
    k: int = 10
    repurchase: bool = False
    max_customers: int | None = None
    max_baskets: int = 1000
    validation_days: int = 7
    validation_customers: int = 600
    tune_trials: int = 40
    rerank: bool = True
    cross_encoder: str | None = None
    personas: bool = True
    seed: int = 0


@dataclass
class SystemResult:
    name: str
    kind: str  # baseline | ours
    metrics: dict[str, float]
    note: str = ""


@dataclass
class EvalReport:
    options: dict[str, Any]
    split: dict[str, Any]
    graph: dict[str, Any]
    systems: list[SystemResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def best(self, kind: str, metric: str) -> SystemResult | None:
        rows = [s for s in self.systems if s.kind == kind]
        return max(rows, key=lambda s: s.metrics.get(metric, 0.0)) if rows else None

    def to_dict(self) -> dict[str, Any]:
        metric = f"ndcg@{self.options['k']}"
        best_base, best_ours = self.best("baseline", metric), self.best("ours", metric)
        lift = None
        if best_base and best_ours and best_base.metrics[metric] > 0:
            lift = best_ours.metrics[metric] / best_base.metrics[metric] - 1.0
        return {
            "options": self.options,
            "split": self.split,
            "graph": self.graph,
            "systems": [s.__dict__ for s in self.systems],
            "best_baseline": best_base.name if best_base else None,
            "best_ours": best_ours.name if best_ours else None,
            "lift_over_best_baseline": lift,
            "notes": self.notes,
            "seconds": self.seconds,
        }


def evaluate(opts: EvalOptions, base: Settings, console: Console) -> EvalReport:
    began = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="ragrec-split-") as tmp,
        throwaway_neo4j(base) as (settings, driver),
    ):
        console.print(
            f"throwaway Neo4j on bolt port {settings.neo4j_bolt_port} "
            f"(home {settings.home}); the serving graph is not touched"
        )
        if opts.mode == "basket":
            report = _basket_eval(opts, settings, driver, Path(tmp), console)
        else:
            report = _homepage_eval(opts, settings, driver, Path(tmp), console)
    report.seconds = round(time.perf_counter() - began, 1)
    return report


# -- homepage ------------------------------------------------------------------------------


def _homepage_eval(
    opts: EvalOptions, settings: Settings, driver: Any, tmp: Path, console: Console
) -> EvalReport:
    """Staged so that nothing leaks, not even into tuning: the graph first holds the
    training part less its last `validation_days` (GDS, personas, BOUGHT_TOGETHER computed
    on that alone); tuning, the ranker and the baselines' grids are fitted against the
    validation window; then the rest of the training part is loaded, the derived graph is
    recomputed, and the held-out test period is scored."""
    key = settings.effective_pseudonym_key()
    console.print(f"splitting {opts.data} ({opts.split})")
    split = split_folder(
        opts.data,
        tmp / "train",
        key,
        kind=opts.split,
        test_days=opts.test_days,
        test_fraction=opts.test_fraction,
    )
    val = split_folder(split.train_dir, tmp / "fit", key, test_days=opts.validation_days)
    report = EvalReport(
        options=_jsonable(opts.__dict__),
        split={
            "kind": split.kind,
            "cutoff": str(split.cutoff) if split.cutoff else None,
            "train_rows": split.train_rows,
            "test_rows": split.test_rows,
            "first_day": str(split.first_day),
            "last_train_day": str(split.last_train_day),
            "validation_from": str(val.cutoff),
        },
        graph={},
    )
    rules = BusinessRules(
        exclude_bought=not opts.repurchase,
        max_per_category=settings.rec_max_per_category or None,
        new_arrival_days=settings.rec_new_arrival_days,
        new_arrival_boost=settings.rec_new_arrival_boost,
    )
    reranker, rerank_note = _reranker(opts, settings)
    if rerank_note:
        report.notes.append(rerank_note)

    # stage 1: the graph before the validation window -----------------------------------
    report.graph["load_fit"] = _load(val.train_dir, settings, driver, console)
    report.graph["prepare_fit"] = prepare_graph(
        driver, settings, personas=opts.personas, progress=lambda m: console.print(f"  {m}")
    )
    catalogue = _catalogue(driver, settings)
    fit_hist = _group(val.train_frame)
    val_users = sorted(c for c in val.test if fit_hist.get(c))
    if len(val_users) > opts.validation_customers:
        rng = np.random.default_rng(opts.seed)
        val_users = sorted(rng.choice(val_users, opts.validation_customers, replace=False).tolist())
    fit_data = Interactions.from_pairs(val.train_frame, catalogue)

    def val_score(model: Baseline) -> float:
        scores = []
        for c in val_users:
            exclude = set() if opts.repurchase else set(fit_hist[c])
            ranked = _baseline_list(model, c, fit_hist[c], opts.k, exclude)
            scores.append(ndcg_at_k(ranked, val.test[c], opts.k))
        return float(np.mean(scores)) if scores else 0.0

    best_params = {}
    for kind in ("als", "bpr"):
        console.print(
            f"tuning {kind.upper()} on the validation window ({len(val_users)} customers)"
        )
        best, tried = tune_implicit(kind, fit_data, val_score)
        best_params[kind] = best
        report.notes.append(
            f"{kind.upper()} grid on the validation window: "
            + "; ".join(f"{p} -> nDCG {s:.4f}" for p, s in tried)
        )
    with Recommender(driver, settings, rules=rules, reranker=reranker) as rec:
        with _progress(console) as bar:
            task = bar.add_task("validation pools", total=len(val_users))
            pools, labels = [], []
            for c in val_users:
                pool = rec.homepage_pool(c)
                pool.stats = rec.product_stats(pool)
                pools.append(pool)
                labels.append(val.test[c])
                bar.advance(task)
        strategies = _our_strategies(pools, labels, rules, settings, opts, report, console)
    del pools

    # stage 2: the whole training part ----------------------------------------------------
    report.graph["load"] = _load(split.train_dir, settings, driver, console)
    report.graph["prepare"] = prepare_graph(
        driver,
        settings,
        personas=opts.personas,
        rederive=True,
        progress=lambda m: console.print(f"  {m}"),
    )
    customers = sorted(c for c in split.test if split.train.get(c))
    if opts.max_customers and len(customers) > opts.max_customers:
        rng = np.random.default_rng(opts.seed)
        customers = sorted(rng.choice(customers, opts.max_customers, replace=False).tolist())
    report.split["customers_scored"] = len(customers)
    catalogue = _catalogue(driver, settings)
    report.split["catalogue"] = len(catalogue)
    relevant = [split.test[c] for c in customers]
    console.print(
        f"{len(customers):,} customers with held-out and training purchases; "
        f"catalogue {len(catalogue):,}"
    )
    data = Interactions.from_pairs(split.train_frame, catalogue)
    history = _group(split.train_frame)
    baselines: list[Baseline] = [
        RandomBaseline(opts.seed),
        PopularityBaseline(7),
        ItemCooccurrenceBaseline(),
        ImplicitBaseline("als", **best_params["als"]),
        ImplicitBaseline("bpr", **best_params["bpr"]),
    ]
    for model in baselines:
        model.fit(data)
        lists, lat = [], []
        for c in customers:
            t = time.perf_counter()
            exclude = set() if opts.repurchase else set(history[c])
            lists.append(_baseline_list(model, c, history[c], LIST_LENGTH, exclude))
            lat.append((time.perf_counter() - t) * 1000)
        metrics = summarise(lists, relevant, len(catalogue), opts.k, lat)
        report.systems.append(SystemResult(model.name, "baseline", metrics))
        console.print(f"  {model.name}: nDCG@{opts.k} {metrics[f'ndcg@{opts.k}']:.4f}")
    with Recommender(driver, settings, rules=rules, reranker=reranker) as rec:
        _score_ours(
            rec,
            strategies,
            [partial(rec.homepage_pool, c) for c in customers],
            relevant,
            len(catalogue),
            opts,
            report,
            console,
            reranker is not None,
        )
    return report


# -- basket completion -----------------------------------------------------------------------


def _basket_eval(
    opts: EvalOptions, settings: Settings, driver: Any, tmp: Path, console: Console
) -> EvalReport:
    key = settings.effective_pseudonym_key()
    split = split_baskets(
        opts.data, tmp / "train", key, max_baskets=opts.max_baskets, seed=opts.seed
    )
    report = EvalReport(
        options=_jsonable(opts.__dict__),
        split={
            "kind": "basket completion (one hidden item per basket)",
            "baskets": split.baskets,
            "test_baskets": len(split.test),
            "validation_baskets": len(split.validation),
        },
        graph={},
    )
    report.graph["load"] = _load(split.train_dir, settings, driver, console)
    report.graph["prepare"] = prepare_graph(
        driver, settings, personas=opts.personas, progress=lambda m: console.print(f"  {m}")
    )
    catalogue = _catalogue(driver, settings)
    report.split["catalogue"] = len(catalogue)
    relevant = [{hidden} for _, _, _, hidden in split.test]
    data = Interactions.from_pairs(split.train_frame, catalogue)

    def val_score(model: Baseline) -> float:
        return float(
            np.mean(
                [
                    ndcg_at_k(model.recommend(cart, opts.k, set(cart)), {hidden}, opts.k)
                    for _, _, cart, hidden in split.validation
                ]
            )
        )

    baselines: list[Baseline] = [
        RandomBaseline(opts.seed),
        PopularityBaseline(7),
        ItemCooccurrenceBaseline(),
    ]
    for kind in ("als", "bpr"):
        best, tried = tune_implicit(kind, data, val_score)
        report.notes.append(
            f"{kind.upper()} grid on validation baskets: "
            + "; ".join(f"{p} -> nDCG {s:.4f}" for p, s in tried)
        )
        baselines.append(ImplicitBaseline(kind, **best))
    for model in baselines:
        model.fit(data)
        lists, lat = [], []
        for _, _, cart, _ in split.test:
            t = time.perf_counter()
            lists.append(model.recommend(cart, LIST_LENGTH, set(cart)))
            lat.append((time.perf_counter() - t) * 1000)
        report.systems.append(
            SystemResult(
                model.name, "baseline", summarise(lists, relevant, len(catalogue), opts.k, lat)
            )
        )
        console.print(
            f"  {model.name}: nDCG@{opts.k} {report.systems[-1].metrics[f'ndcg@{opts.k}']:.4f}"
        )

    rules = BusinessRules(exclude_bought=False, max_per_category=settings.rec_max_per_category)
    with Recommender(driver, settings, rules=rules) as rec:
        val_pools = [
            rec.items_pool("cart", cart, customer) for customer, _, cart, _ in split.validation
        ]
        for pool in val_pools:
            pool.stats = rec.product_stats(pool)
        val_labels = [{hidden} for _, _, _, hidden in split.validation]
        strategies = _our_strategies(val_pools, val_labels, rules, settings, opts, report, console)
        _score_ours(
            rec,
            strategies,
            [partial(rec.items_pool, "cart", cart, c) for c, _, cart, _ in split.test],
            relevant,
            len(catalogue),
            opts,
            report,
            console,
            False,
        )
    report.notes.append("basket mode: no text query, so no cross-encoder rows")
    return report


# -- shared -----------------------------------------------------------------------------------


def _our_strategies(
    pools: Sequence[CandidatePool],
    labels: Sequence[set[str]],
    rules: BusinessRules,
    settings: Settings,
    opts: EvalOptions,
    report: EvalReport,
    console: Console,
) -> list[tuple[str, FusionStrategy]]:
    base = FusionConfig()
    strategies: list[tuple[str, FusionStrategy]] = [
        ("ours: rrf (k=60)", RRFFusion(base.rrf_k)),
        ("ours: weighted (seed weights)", WeightedFusion(base.weights)),
    ]
    report.split["validation_requests"] = len(pools)
    if opts.tune_trials > 0 and pools:
        with _progress(console) as bar:
            task = bar.add_task("tune (Optuna TPE)", total=opts.tune_trials)
            tuned = tune_fusion(
                pools,
                labels,
                rules,
                trials=opts.tune_trials,
                k=opts.k,
                seed=opts.seed,
                progress=lambda i, n: bar.update(task, completed=i),
            )
        report.notes.append(
            f"tuned weighted fusion on {len(pools)} validation requests: nDCG@{opts.k} "
            f"{tuned.score:.4f} (seed weights {tuned.seed_score:.4f}, rrf {tuned.rrf_score:.4f})"
        )
        report.graph["tuned"] = tuned.to_dict()
        strategies.append(
            ("ours: weighted (tuned)", WeightedFusion(tuned.config.weights, tuned.config.limits))
        )
    try:
        summary = ranker_mod.train(
            pools, labels, (settings.rec_models_dir or settings.home / "models") / "ranker",
            seed=opts.seed,
        )  # fmt: skip
        report.graph["ranker"] = summary.__dict__
        strategies.append(
            (
                "ours: learned (LambdaRank)",
                ranker_mod.LearnedFusion.load(Path(summary.folder).parent),
            )
        )
    except ValueError as exc:
        report.notes.append(f"learned ranker not trained: {exc}")
    return strategies


def _score_ours(
    rec: Recommender,
    strategies: list[tuple[str, FusionStrategy]],
    pool_fns: Sequence[Callable[[], CandidatePool]],
    relevant: Sequence[set[str]],
    catalogue_size: int,
    opts: EvalOptions,
    report: EvalReport,
    console: Console,
    with_rerank: bool,
) -> None:
    variants = [(n, s, False) for n, s in strategies]
    if with_rerank:
        variants += [(f"{n} + cross-encoder", s, True) for n, s in strategies]
    lists: dict[str, list[list[str]]] = {n: [] for n, _, _ in variants}
    lat: dict[str, list[float]] = {n: [] for n, _, _ in variants}
    with _progress(console) as bar:
        task = bar.add_task("our strategies", total=len(pool_fns))
        for fn in pool_fns:
            t0 = time.perf_counter()
            pool = fn()
            t_pool = time.perf_counter() - t0
            for name, strategy, rerank in variants:
                t1 = time.perf_counter()
                query = profile_query(pool.profile) if rerank else None
                res = rec.finish(pool, k=LIST_LENGTH, fusion=strategy, rerank_query=query)
                lists[name].append([i.product_id for i in res.items])
                lat[name].append((t_pool + time.perf_counter() - t1) * 1000)
            bar.advance(task)
    for name, _, _ in variants:
        metrics = summarise(lists[name], relevant, catalogue_size, opts.k, lat[name])
        report.systems.append(SystemResult(name, "ours", metrics))
        console.print(f"  {name}: nDCG@{opts.k} {metrics[f'ndcg@{opts.k}']:.4f}")


def _baseline_list(
    model: Baseline, customer: str, history: Sequence[str], k: int, exclude: set[str]
) -> list[str]:
    if isinstance(model, ImplicitBaseline):
        return model.recommend_user(customer, k, exclude)
    return model.recommend(history, k, exclude)


def _reranker(opts: EvalOptions, settings: Settings) -> tuple[CrossEncoderReranker | None, str]:
    if not opts.rerank:
        return None, "cross-encoder rows off (--no-rerank)"
    model = opts.cross_encoder or settings.rec_cross_encoder
    reranker = CrossEncoderReranker(model)
    try:
        reranker.load()
    except RerankerUnavailable as exc:
        return None, f"cross-encoder rows missing: {exc}"
    return reranker, f"cross-encoder: {model}"


def _load(folder: Path, settings: Settings, driver: Any, console: Console) -> dict[str, Any]:
    console.print(f"loading the training part into the throwaway graph ({folder})")
    summary = load_data(folder, settings, driver, show_progress=True)
    return {"written": summary.written, "seconds": summary.seconds, "rejected": summary.rejected}


def _catalogue(driver: Any, settings: Settings) -> list[str]:
    from ragrec.cypher import query

    records, _, _ = driver.execute_query(
        query("graph/product_ids"), database_=settings.neo4j_database
    )
    key = records[0].keys()[0] if records else "id"
    return sorted(str(r[key]) for r in records)


def _group(frame: pl.DataFrame) -> dict[str, list[str]]:
    if frame.is_empty():
        return {}
    grouped = frame.sort("day").group_by("customer", maintain_order=True).agg(pl.col("article"))
    return {c: list(dict.fromkeys(items)) for c, items in grouped.iter_rows()}


@contextmanager
def _progress(console: Console) -> Iterator[Progress]:
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        yield bar


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, Path) else v for k, v in values.items()}
