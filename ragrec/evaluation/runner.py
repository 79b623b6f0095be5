"""`ragrec evaluate`: split -> throwaway Neo4j staged window by window -> baselines and
our strategies chosen on validation -> the test period scored once -> one table, one JSON.

Honest selection, homepage mode (temporal or per-customer split):

    [ ranker windows ...  | validation | test ]
      each window's graph, model sources and features as of its first day

* The test period is cut off first; the validation part is carved from the training
  part only (same kind of split), the ranker's training windows from what precedes it.
* Every baseline's settings are chosen by Optuna on validation (fit on the purchases
  before it), with the same number of trials as our fusion weights.
* The throwaway graph is loaded and derived stage by stage (each window, validation,
  then the whole training part), so every derived structure a pool reads is as of that
  stage's first day. Model sources (EASE, RP3beta, ItemKNN, repurchase, trending) are
  fitted on the same purchases.
* Our variants (RRF over the graph sources, RRF over all sources, tuned weights, the
  LambdaRank ranker trained on the windows with early stopping on half A of the
  validation customers) are compared on half B; the best one is the chosen strategy and
  the only one of ours that sees the test period.
* Report: every baseline and the chosen strategy on the test period, a paired bootstrap
  over requests against the best baseline, candidate recall per source.

Basket mode hides one item of each sampled basket; the validation baskets play the part of
the windows (ranker training / early stopping + tuning / selection, disjoint thirds).
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ragrec.config import Settings
from ragrec.evaluation.baselines import SEARCH_SPACES, Baseline, Popularity, Random
from ragrec.evaluation.candidates import AsOf, read_catalogue
from ragrec.evaluation.instance import throwaway_neo4j
from ragrec.evaluation.interactions import Interactions
from ragrec.evaluation.metrics import ndcg_at_k, summarise
from ragrec.evaluation.selection import Significance, fit_model, paired_bootstrap, tune_baseline
from ragrec.evaluation.splits import Split, SplitKind, split_baskets, split_folder
from ragrec.graph.loader import load_data
from ragrec.recommender import ranker as ranker_mod
from ragrec.recommender.engine import FusionConfig, Recommender
from ragrec.recommender.fusion import FusionStrategy, RRFFusion, WeightedFusion
from ragrec.recommender.graph_prep import prepare_graph
from ragrec.recommender.rerank import CrossEncoderReranker, RerankerUnavailable, profile_query
from ragrec.recommender.rules import BusinessRules
from ragrec.recommender.tuning import pool_ndcg, tune_fusion
from ragrec.recommender.types import CandidatePool, Scored

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
    validation_baskets: int = 600
    ranker_windows: int = 2
    window_customers: int = 400
    graph_windows: bool = True  # False: ranker windows get model sources only (no graph)
    candidates: int = 50
    tune_trials: int = 40
    rerank: bool = True
    cross_encoder: str | None = None
    personas: bool = True
    seed: int = 0
    ease_max_items: int = 3000
    block_items: int = 1024


@dataclass
class SystemResult:
    name: str
    kind: str  # baseline | ours
    metrics: dict[str, float]
    note: str = ""
    chosen: bool = False
    per_request: list[float] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "metrics": self.metrics,
            "note": self.note,
            "chosen": self.chosen,
        }


@dataclass
class EvalReport:
    options: dict[str, Any]
    split: dict[str, Any]
    graph: dict[str, Any]
    systems: list[SystemResult] = field(default_factory=list)
    validation: list[dict[str, Any]] = field(default_factory=list)  # our variants
    candidate_recall: dict[str, float] = field(default_factory=dict)
    significance: Significance | None = None
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def best(self, kind: str, metric: str) -> SystemResult | None:
        rows = [s for s in self.systems if s.kind == kind]
        return max(rows, key=lambda s: s.metrics.get(metric, 0.0)) if rows else None

    def chosen(self) -> SystemResult | None:
        return next((s for s in self.systems if s.chosen), None)

    def to_dict(self) -> dict[str, Any]:
        metric = f"ndcg@{self.options['k']}"
        best_base, ours = self.best("baseline", metric), self.chosen()
        lift = None
        if best_base and ours and best_base.metrics[metric] > 0:
            lift = ours.metrics[metric] / best_base.metrics[metric] - 1.0
        return {
            "options": self.options,
            "split": self.split,
            "graph": self.graph,
            "systems": [s.to_dict() for s in self.systems],
            "validation_of_ours": self.validation,
            "chosen": ours.name if ours else None,
            "best_baseline": best_base.name if best_base else None,
            "lift_over_best_baseline": lift,
            "significance": self.significance.to_dict() if self.significance else None,
            "candidate_recall": self.candidate_recall,
            "notes": self.notes,
            "seconds": self.seconds,
        }


def sample_stage(name: str, s: Split, cap: int | None, rng: np.random.Generator) -> Stage:
    """The requests of split `s`: its customers with a history and a held-out purchase, at
    most `cap` of them drawn by `rng` in the order of their pseudonyms (so which ones are
    drawn depends on the key: `evaluation_key`)."""
    as_of = s.cutoff or ((s.last_train_day or date.min) + timedelta(days=1))
    customers = sorted(c for c in s.test if s.train.get(c))
    if cap and len(customers) > cap:
        customers = sorted(rng.choice(customers, cap, replace=False).tolist())
    return Stage(name, s, as_of, customers, [s.test[c] for c in customers])


def evaluation_key(seed: int) -> str:
    """The staged graph's pseudonymisation key, a function of the seed: the customers
    sampled for test, validation and the windows follow the sorted pseudonyms, so a random
    key per run drew other customers each run and two runs with one seed disagreed (EASE
    0.1745 vs 0.1580 nDCG@10 on one planted set). The staged graph is deleted at the end
    and never serves, so a reproducible key costs no privacy."""
    return hashlib.sha256(f"ragrec-evaluate:{seed}".encode()).hexdigest()[:32]


def evaluate(opts: EvalOptions, base: Settings, console: Console) -> EvalReport:
    began = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="ragrec-split-") as tmp,
        throwaway_neo4j(base, pseudonym_key=evaluation_key(opts.seed)) as (settings, driver),
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


@dataclass
class Stage:
    """One staged graph: the purchases before `as_of`, the requests labelled after it."""

    name: str
    split: Split
    as_of: date
    customers: list[str]
    labels: list[set[str]]
    pools: list[CandidatePool] = field(default_factory=list)


def _homepage_eval(
    opts: EvalOptions, settings: Settings, driver: Any, tmp: Path, console: Console
) -> EvalReport:
    key = settings.effective_pseudonym_key()
    console.print(f"splitting {opts.data} ({opts.split})")
    carve = partial(
        split_folder,
        key=key,
        kind=opts.split,
        test_days=opts.validation_days,
        test_fraction=opts.test_fraction,
        min_purchases=2,
    )
    split = split_folder(
        opts.data,
        tmp / "train",
        key,
        kind=opts.split,
        test_days=opts.test_days,
        test_fraction=opts.test_fraction,
    )
    val = carve(split.train_dir, tmp / "validation")
    chain = [val]
    for i in range(opts.ranker_windows):
        chain.append(carve(chain[-1].train_dir, tmp / f"window{i}"))
    windows = list(reversed(chain[1:]))  # oldest first
    catalogue_info = read_catalogue(opts.data)
    rng = np.random.default_rng(opts.seed)

    def stage(name: str, s: Split, cap: int | None) -> Stage:
        return sample_stage(name, s, cap, rng)

    stages = [stage(f"window {i + 1}", w, opts.window_customers) for i, w in enumerate(windows)]
    val_stage = stage("validation", val, opts.validation_customers)
    test_stage = stage("test", split, opts.max_customers)
    report = EvalReport(
        options=_jsonable(opts.__dict__),
        split={
            "kind": split.kind,
            "cutoff": str(split.cutoff) if split.cutoff else None,
            "train_rows": split.train_rows,
            "test_rows": split.test_rows,
            "first_day": str(split.first_day),
            "last_train_day": str(split.last_train_day),
            "validation_from": str(val_stage.as_of),
            "validation_customers": len(val_stage.customers),
            "windows": [{"from": str(s.as_of), "customers": len(s.customers)} for s in stages],
        },
        graph={},
    )
    if not val_stage.customers:
        report.notes.append("the validation part is empty: settings are the defaults")
    rules = BusinessRules(
        exclude_bought=not opts.repurchase,
        max_per_category=settings.rec_max_per_category or None,
        new_arrival_days=settings.rec_new_arrival_days,
        new_arrival_boost=settings.rec_new_arrival_boost,
    )
    reranker, rerank_note = _reranker(opts, settings)
    if rerank_note:
        report.notes.append(rerank_note)

    # baselines: settings chosen on validation (fit on what precedes it) --------------------
    catalogue = sorted(catalogue_info)
    fit_data = Interactions.from_pairs(val.train_frame, catalogue)
    val_rows = [fit_data.user_index[c] for c in val_stage.customers]

    def val_score(model: Baseline) -> float:
        top = model.recommend(val_rows, fit_data.matrix, opts.k, exclude_seen=not opts.repurchase)
        return _mean_ndcg(fit_data.ids(top), val_stage.labels, opts.k)

    tuned_models = _tune_baselines(fit_data, val_score, opts, report, console)
    params = {m.name: m.params() for m in tuned_models}

    # our pools, stage by stage, each graph and model as of the stage's first day ---------
    _stage_pools([*stages, val_stage], opts, settings, driver, catalogue_info, params, rules,
                 reranker, report, console)  # fmt: skip
    half_a, half_b = _halves(len(val_stage.pools), opts.seed)
    pools_a = [val_stage.pools[i] for i in half_a]
    labels_a = [val_stage.labels[i] for i in half_a]
    pools_b = [val_stage.pools[i] for i in half_b]
    labels_b = [val_stage.labels[i] for i in half_b]
    train_pools = [p for st in stages for p in st.pools]
    train_labels = [lab for st in stages for lab in st.labels]
    strategies = _our_strategies(
        train_pools, train_labels, pools_a, labels_a, rules, settings, opts, report, console
    )
    chosen_name, chosen = _choose(strategies, pools_b, labels_b, rules, opts, report, console)
    rerank = False
    if reranker is not None and pools_b:  # the cross-encoder on top, chosen the same way
        with Recommender(driver, settings, rules=rules, reranker=reranker) as rec:
            lists = [
                [i.product_id for i in rec.finish(
                    p, k=opts.k, fusion=chosen, rerank_query=profile_query(p.profile)
                ).items]
                for p in pools_b
            ]  # fmt: skip
        score = _mean_ndcg(lists, labels_b, opts.k)
        best = max(v[f"ndcg@{opts.k}"] for v in report.validation)
        report.validation.append(
            {"name": f"{chosen_name} + cross-encoder", f"ndcg@{opts.k}": score,
             "requests": len(pools_b)}
        )  # fmt: skip
        if score > best:
            rerank = True
            for v in report.validation:
                v.pop("chosen", None)
            report.validation[-1]["chosen"] = True
            chosen_name = f"{chosen_name} + cross-encoder"
    for st in stages:
        st.pools = []
    val_stage.pools = []

    # the test period: whole training part, scored once ----------------------------------
    report.graph["load test"] = _load(split.train_dir, settings, driver, console)
    report.graph["prepare test"] = prepare_graph(
        driver,
        settings,
        personas=opts.personas,
        rederive=True,
        progress=lambda m: console.print(f"  {m}"),
    )
    customers, relevant = test_stage.customers, test_stage.labels
    report.split["customers_scored"] = len(customers)
    report.split["catalogue"] = len(catalogue)
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
        _add_system(report, model.label(), "baseline", lists, relevant, len(catalogue), lat, opts)
        _say_last(report, console, opts)
    asof = _as_of(test_stage, opts, catalogue_info, params)
    with Recommender(driver, settings, rules=rules, reranker=reranker) as rec:
        lists, lat, recall = [], [], _RecallCounter()
        with _progress(console) as bar:
            task = bar.add_task(f"test: {chosen_name}", total=len(customers))
            for c, rel in zip(customers, relevant, strict=True):
                t = time.perf_counter()
                pool = _homepage_pool(rec, asof, c, opts)
                query = profile_query(pool.profile) if rerank else None
                res = rec.finish(pool, k=LIST_LENGTH, fusion=chosen, rerank_query=query)
                lat.append((time.perf_counter() - t) * 1000)
                lists.append([i.product_id for i in res.items])
                recall.add(pool, rel)
                bar.advance(task)
    _add_system(report, chosen_name, "ours", lists, relevant, len(catalogue), lat, opts)
    report.systems[-1].chosen = True
    report.candidate_recall = recall.result()
    if recall.degraded:
        report.notes.append(f"requests with a failed graph source: {recall.degraded}")
    _significance(report, opts)
    return report


def _stage_pools(
    chain: Sequence[Stage],
    opts: EvalOptions,
    settings: Settings,
    driver: Any,
    catalogue_info: dict[str, Any],
    params: dict[str, Any],
    rules: BusinessRules,
    reranker: CrossEncoderReranker | None,
    report: EvalReport,
    console: Console,
) -> None:
    """Load and derive the throwaway graph stage by stage (oldest first) and build each
    stage's pools as of its first day."""
    first = True
    for st in chain:
        asof = _as_of(st, opts, catalogue_info, params)
        if not opts.graph_windows and st.name.startswith("window"):
            st.pools = _homepage_pools(None, asof, st, opts, console)
            continue
        report.graph[f"load {st.name}"] = _load(st.split.train_dir, settings, driver, console)
        report.graph[f"prepare {st.name}"] = prepare_graph(
            driver,
            settings,
            personas=opts.personas,
            rederive=not first,
            progress=lambda m: console.print(f"  {m}"),
        )
        first = False
        with Recommender(driver, settings, rules=rules, reranker=reranker) as rec:
            st.pools = _homepage_pools(rec, asof, st, opts, console)


def _as_of(st: Stage, opts: EvalOptions, catalogue: dict[str, Any], params: dict[str, Any]) -> AsOf:
    return AsOf(
        st.split.train_frame,
        st.as_of,
        catalogue,
        params=params,
        n_candidates=opts.candidates,
        ease_max_items=opts.ease_max_items,
        block_items=opts.block_items,
    )


def _homepage_pool(rec: Recommender, asof: AsOf, customer: str, opts: EvalOptions) -> CandidatePool:
    base = rec.homepage_pool(customer)
    info = asof.customers.get(customer)
    history = [h["id"] for h in info.history] if info else []
    exclude = set() if opts.repurchase else set(history)
    sources = asof.sources([history], [exclude], [customer])[0]
    return asof.pool(customer, sources, base=base, exclude=exclude, repurchase=opts.repurchase)


def _homepage_pools(
    rec: Recommender | None, asof: AsOf, st: Stage, opts: EvalOptions, console: Console
) -> list[CandidatePool]:
    histories = []
    excludes = []
    for c in st.customers:
        info = asof.customers.get(c)
        items = [h["id"] for h in info.history] if info else []
        histories.append(items)
        excludes.append(set() if opts.repurchase else set(items))
    sources = asof.sources(histories, excludes, st.customers)
    pools = []
    with _progress(console) as bar:
        task = bar.add_task(f"{st.name} pools (as of {st.as_of})", total=len(st.customers))
        for c, src, ex in zip(st.customers, sources, excludes, strict=True):
            base = rec.homepage_pool(c) if rec is not None else None
            pools.append(asof.pool(c, src, base=base, exclude=ex, repurchase=opts.repurchase))
            bar.advance(task)
    return pools


# -- basket completion -----------------------------------------------------------------------


def _basket_eval(
    opts: EvalOptions, settings: Settings, driver: Any, tmp: Path, console: Console
) -> EvalReport:
    key = settings.effective_pseudonym_key()
    split = split_baskets(
        opts.data,
        tmp / "train",
        key,
        max_baskets=opts.max_baskets,
        validation_baskets=opts.validation_baskets,
        seed=opts.seed,
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
    catalogue_info = read_catalogue(opts.data)
    catalogue = sorted(catalogue_info)
    report.split["catalogue"] = len(catalogue)
    data = Interactions.from_pairs(split.train_frame, catalogue)
    relevant = [{hidden} for _, _, _, hidden in split.test]
    val_carts = data.rows_of([cart for _, _, cart, _ in split.validation])
    val_hidden = [{hidden} for _, _, _, hidden in split.validation]

    def val_score(model: Baseline) -> float:
        top = model.recommend(np.arange(len(val_hidden)), val_carts, opts.k)
        return _mean_ndcg(data.ids(top), val_hidden, opts.k)

    tuned_models = _tune_baselines(data, val_score, opts, report, console)
    params = {m.name: m.params() for m in tuned_models}
    test_carts = data.rows_of([cart for _, _, cart, _ in split.test])
    for model in [Random(opts.seed), Popularity(), *tuned_models]:
        fit_model(model, data.matrix, data.days)
        lists, lat = [], []
        for i in range(len(split.test)):
            t = time.perf_counter()
            lists.append(data.ids(model.recommend([i], test_carts, LIST_LENGTH))[0])
            lat.append((time.perf_counter() - t) * 1000)
        _add_system(report, model.label(), "baseline", lists, relevant, len(catalogue), lat, opts)
        _say_last(report, console, opts)

    report.graph["load"] = _load(split.train_dir, settings, driver, console)
    report.graph["prepare"] = prepare_graph(
        driver, settings, personas=opts.personas, progress=lambda m: console.print(f"  {m}")
    )
    last = split.train_frame["day"].max()
    as_of = (last if isinstance(last, date) else date.today()) + timedelta(days=1)
    asof = AsOf(
        split.train_frame,
        as_of,
        catalogue_info,
        params=params,
        n_candidates=opts.candidates,
        ease_max_items=opts.ease_max_items,
        block_items=opts.block_items,
    )
    rules = BusinessRules(exclude_bought=False, max_per_category=settings.rec_max_per_category)
    with Recommender(driver, settings, rules=rules) as rec:
        cases = split.validation
        sources = asof.sources(
            [cart for _, _, cart, _ in cases],
            [set(cart) for _, _, cart, _ in cases],
            [customer for customer, _, _, _ in cases],
        )
        pools = []
        with _progress(console) as bar:
            task = bar.add_task("validation cart pools", total=len(cases))
            for (customer, _, cart, _), src in zip(cases, sources, strict=True):
                base = rec.items_pool("cart", cart, customer)
                pools.append(asof.pool(customer, src, base=base, exclude=set(cart), context="cart"))
                bar.advance(task)
        thirds = np.array_split(np.random.default_rng(opts.seed).permutation(len(pools)), 3)
        part = [([pools[i] for i in idx], [val_hidden[i] for i in idx]) for idx in thirds]
        report.split["validation_thirds"] = [len(idx) for idx in thirds]
        strategies = _our_strategies(
            part[0][0], part[0][1], part[1][0], part[1][1], rules, settings, opts, report, console
        )
        chosen_name, chosen = _choose(
            strategies, part[2][0], part[2][1], rules, opts, report, console
        )
        lists, lat, recall = [], [], _RecallCounter()
        with _progress(console) as bar:
            task = bar.add_task(f"test: {chosen_name}", total=len(split.test))
            for (customer, _, cart, _), rel in zip(split.test, relevant, strict=True):
                t = time.perf_counter()
                src = asof.sources([cart], [set(cart)], [customer])[0]
                base = rec.items_pool("cart", cart, customer)
                pool = asof.pool(customer, src, base=base, exclude=set(cart), context="cart")
                res = rec.finish(pool, k=LIST_LENGTH, fusion=chosen)
                lat.append((time.perf_counter() - t) * 1000)
                lists.append([i.product_id for i in res.items])
                recall.add(pool, rel)
                bar.advance(task)
    _add_system(report, chosen_name, "ours", lists, relevant, len(catalogue), lat, opts)
    report.systems[-1].chosen = True
    report.candidate_recall = recall.result()
    if recall.degraded:
        report.notes.append(f"requests with a failed graph source: {recall.degraded}")
    _significance(report, opts)
    report.notes.append("basket mode: no text query, so no cross-encoder rows")
    return report


# -- our strategies --------------------------------------------------------------------------


class SourcesOnly(FusionStrategy):
    """A fusion strategy restricted to some sources of the pool (e.g. the graph's own)."""

    def __init__(self, inner: FusionStrategy, sources: Sequence[str], name: str) -> None:
        self.inner = inner
        self.sources = set(sources)
        self.name = name

    def fuse(self, pool: CandidatePool) -> list[Scored]:
        lists = {g: items for g, items in pool.lists.items() if g in self.sources}
        narrowed = CandidatePool(
            pool.context, pool.profile, lists, pool.products, pool.exclude, pool.as_of,
            pool.query, pool.seconds, pool.stats,
        )  # fmt: skip
        return self.inner.fuse(narrowed)


def _our_strategies(
    train_pools: Sequence[CandidatePool],
    train_labels: Sequence[set[str]],
    tune_pools: Sequence[CandidatePool],
    tune_labels: Sequence[set[str]],
    rules: BusinessRules,
    settings: Settings,
    opts: EvalOptions,
    report: EvalReport,
    console: Console,
) -> list[tuple[str, FusionStrategy]]:
    """Our candidate strategies; weights tuned and the ranker early-stopped on the tune
    pools, the ranker trained on the train pools (earlier windows)."""
    base = FusionConfig()
    strategies: list[tuple[str, FusionStrategy]] = [
        (
            "ours: rrf, graph sources",
            SourcesOnly(RRFFusion(base.rrf_k), ranker_mod.GENERATORS, "rrf"),
        ),
        ("ours: rrf, all sources", RRFFusion(base.rrf_k)),
    ]
    report.split["ranker_training_requests"] = len(train_pools)
    report.split["tuning_requests"] = len(tune_pools)
    if opts.tune_trials > 0 and tune_pools:
        with _progress(console) as bar:
            task = bar.add_task("tune fusion weights (Optuna TPE)", total=opts.tune_trials)
            tuned = tune_fusion(
                tune_pools,
                tune_labels,
                rules,
                trials=opts.tune_trials,
                k=opts.k,
                seed=opts.seed,
                progress=partial(_advance, bar, task),
            )
        report.graph["tuned"] = tuned.to_dict()
        strategies.append(
            ("ours: weighted (tuned)", WeightedFusion(tuned.config.weights, tuned.config.limits))
        )
    root = (settings.rec_models_dir or settings.home / "models") / "ranker"
    try:
        summary = ranker_mod.train(
            train_pools or tune_pools,
            train_labels or tune_labels,
            root,
            valid_pools=tune_pools if train_pools else None,
            valid_labels=tune_labels if train_pools else None,
            seed=opts.seed,
        )
        report.graph["ranker"] = summary.__dict__
        learned = ranker_mod.LearnedFusion.load(root, summary.version)
        report.graph["ranker_importance"] = learned.meta.get("importance_gain")
        strategies.append(("ours: learned (LambdaRank)", learned))
    except ValueError as exc:
        report.notes.append(f"learned ranker not trained: {exc}")
    return strategies


def _choose(
    strategies: list[tuple[str, FusionStrategy]],
    pools: Sequence[CandidatePool],
    labels: Sequence[set[str]],
    rules: BusinessRules,
    opts: EvalOptions,
    report: EvalReport,
    console: Console,
) -> tuple[str, FusionStrategy]:
    """The strategy with the best validation nDCG on requests none of them was fitted on."""
    scores = []
    for name, strategy in strategies:
        score = pool_ndcg(pools, labels, strategy, rules, opts.k)
        scores.append(score)
        report.validation.append({"name": name, f"ndcg@{opts.k}": score, "requests": len(pools)})
        console.print(f"  validation {name}: nDCG@{opts.k} {score:.4f}")
    best = int(np.argmax(scores)) if scores else 0
    report.validation[best]["chosen"] = True
    console.print(f"chosen on validation: [bold]{strategies[best][0]}[/bold]")
    return strategies[best]


# -- shared -----------------------------------------------------------------------------------


class _RecallCounter:
    """Share of the held-out items that each source (and all of them) proposed."""

    def __init__(self) -> None:
        self.hits: dict[str, int] = {}
        self.degraded: dict[str, int] = {}
        self.total = 0

    def add(self, pool: CandidatePool, relevant: set[str]) -> None:
        self.total += len(relevant)
        for source in getattr(pool, "degraded", []) or []:
            self.degraded[source] = self.degraded.get(source, 0) + 1
        union: set[str] = set()
        for source, items in pool.lists.items():
            ids = {c.product_id for c in items}
            union |= ids
            self.hits[source] = self.hits.get(source, 0) + len(ids & relevant)
        self.hits["(all sources)"] = self.hits.get("(all sources)", 0) + len(union & relevant)

    def result(self) -> dict[str, float]:
        if not self.total:
            return {}
        return dict(
            sorted(((k, v / self.total) for k, v in self.hits.items()), key=lambda t: -t[1])
        )


def _add_system(
    report: EvalReport,
    name: str,
    kind: str,
    lists: list[list[str]],
    relevant: Sequence[set[str]],
    catalogue_size: int,
    latencies: list[float],
    opts: EvalOptions,
) -> None:
    metrics = summarise(lists, relevant, catalogue_size, opts.k, latencies)
    per = [ndcg_at_k(r, rel, opts.k) for r, rel in zip(lists, relevant, strict=True)]
    report.systems.append(SystemResult(name, kind, metrics, per_request=per))


def _say_last(report: EvalReport, console: Console, opts: EvalOptions) -> None:
    s = report.systems[-1]
    console.print(f"  {s.name}: nDCG@{opts.k} {s.metrics[f'ndcg@{opts.k}']:.4f}")


def _significance(report: EvalReport, opts: EvalOptions) -> None:
    metric = f"ndcg@{opts.k}"
    ours, best = report.chosen(), report.best("baseline", metric)
    if ours is None or best is None:
        return
    report.significance = paired_bootstrap(
        np.array(ours.per_request),
        np.array(best.per_request),
        names=(ours.name, best.name),
        metric=metric,
        seed=opts.seed,
    )


def _tune_baselines(
    data: Interactions,
    score: Callable[[Baseline], float],
    opts: EvalOptions,
    report: EvalReport,
    console: Console,
    names: Sequence[str] = tuple(SEARCH_SPACES),
) -> list[Baseline]:
    """Every tunable baseline, tuned on validation with our trial budget (not fitted)."""
    models = []
    for name in names:
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
                ease_max_items=opts.ease_max_items,
            )
        report.graph.setdefault("baselines_tuned", []).append(tuned.to_dict())
        console.print(f"  {model.label()}: validation nDCG@{opts.k} {tuned.score:.4f}")
        models.append(model)
    return models


def _mean_ndcg(lists: Sequence[Sequence[str]], labels: Sequence[set[str]], k: int) -> float:
    if not lists:
        return 0.0
    return float(np.mean([ndcg_at_k(r, rel, k) for r, rel in zip(lists, labels, strict=True)]))


def _halves(n: int, seed: int) -> tuple[list[int], list[int]]:
    order = np.random.default_rng(seed).permutation(n).tolist()
    return sorted(order[: n // 2]), sorted(order[n // 2 :])


def _advance(bar: Progress, task: Any, done: int, total: int) -> None:
    bar.update(task, completed=done)


def _reranker(opts: EvalOptions, settings: Settings) -> tuple[CrossEncoderReranker | None, str]:
    """The cross-encoder when it loads from what is on disk; otherwise one note, no rows."""
    if not opts.rerank:
        return None, "cross-encoder rows off (--no-rerank)"
    model = opts.cross_encoder or settings.rec_cross_encoder
    reranker = CrossEncoderReranker(model)
    try:
        reranker.load()
    except RerankerUnavailable as exc:
        return None, f"cross-encoder rows skipped: {exc}"
    return reranker, f"cross-encoder: {model}"


def _load(folder: Path, settings: Settings, driver: Any, console: Console) -> dict[str, Any]:
    console.print(f"loading the training part into the throwaway graph ({folder})")
    summary = load_data(folder, settings, driver, show_progress=True)
    return {"written": summary.written, "seconds": summary.seconds, "rejected": summary.rejected}


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
