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
from ragrec.evaluation.baselines import SEARCH_SPACES, Baseline, Popularity, Random
from ragrec.evaluation.instance import throwaway_neo4j
from ragrec.evaluation.interactions import Interactions
from ragrec.evaluation.metrics import ndcg_at_k, summarise
from ragrec.evaluation.selection import fit_model, tune_baseline
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

    val_rows = [fit_data.user_index[c] for c in val_users]
    val_labels = [val.test[c] for c in val_users]

    def val_score(model: Baseline) -> float:
        top = model.recommend(val_rows, fit_data.matrix, opts.k, exclude_seen=not opts.repurchase)
        lists = fit_data.ids(top)
        return (
            float(
                np.mean(
                    [ndcg_at_k(r, rel, opts.k) for r, rel in zip(lists, val_labels, strict=True)]
                )
            )
            if lists
            else 0.0
        )

    tuned_models = _tune_baselines(fit_data, val_score, opts, report, console)
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
    rows = [data.user_index[c] for c in customers]
    for model in [Random(opts.seed), Popularity(), *tuned_models]:
        fit_model(model, data.matrix, data.days)
        lists, lat = [], []
        for r in rows:
            t = time.perf_counter()
            top = model.recommend([r], data.matrix, LIST_LENGTH, exclude_seen=not opts.repurchase)
            lists.append(data.ids(top)[0])
            lat.append((time.perf_counter() - t) * 1000)
        metrics = summarise(lists, relevant, len(catalogue), opts.k, lat)
        report.systems.append(SystemResult(model.label(), "baseline", metrics))
        console.print(f"  {model.label()}: nDCG@{opts.k} {metrics[f'ndcg@{opts.k}']:.4f}")
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

    val_carts = data.rows_of([cart for _, _, cart, _ in split.validation])
    val_hidden = [{hidden} for _, _, _, hidden in split.validation]

    def val_score(model: Baseline) -> float:
        lists = data.ids(model.recommend(np.arange(len(val_hidden)), val_carts, opts.k))
        return (
            float(
                np.mean(
                    [ndcg_at_k(r, rel, opts.k) for r, rel in zip(lists, val_hidden, strict=True)]
                )
            )
            if lists
            else 0.0
        )

    tuned_models = _tune_baselines(data, val_score, opts, report, console)
    test_carts = data.rows_of([cart for _, _, cart, _ in split.test])
    for model in [Random(opts.seed), Popularity(), *tuned_models]:
        fit_model(model, data.matrix, data.days)
        lists, lat = [], []
        for i in range(len(split.test)):
            t = time.perf_counter()
            lists.append(data.ids(model.recommend([i], test_carts, LIST_LENGTH))[0])
            lat.append((time.perf_counter() - t) * 1000)
        metrics = summarise(lists, relevant, len(catalogue), opts.k, lat)
        report.systems.append(SystemResult(model.label(), "baseline", metrics))
        console.print(f"  {model.label()}: nDCG@{opts.k} {metrics[f'ndcg@{opts.k}']:.4f}")

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


def _tune_baselines(
    data: Interactions,
    score: Callable[[Baseline], float],
    opts: EvalOptions,
    report: EvalReport,
    console: Console,
) -> list[Baseline]:
    """Every tunable baseline, tuned on validation with our trial budget (not fitted)."""
    models = []
    for name in SEARCH_SPACES:
        with _progress(console) as bar:
            task = bar.add_task(f"tune {name} (Optuna TPE)", total=opts.tune_trials)
            model, tuned = tune_baseline(
                name,
                data.matrix,
                score,
                trials=max(1, opts.tune_trials),
                days=data.days,
                seed=opts.seed,
                progress=partial(_advance, bar, task),
            )
        report.graph.setdefault("baselines_tuned", []).append(tuned.to_dict())
        console.print(f"  {model.label()}: validation nDCG@{opts.k} {tuned.score:.4f}")
        models.append(model)
    return models


def _advance(bar: Progress, task: Any, done: int, total: int) -> None:
    bar.update(task, completed=done)


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
