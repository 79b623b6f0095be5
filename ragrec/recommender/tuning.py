"""Validation slices of the training period, the learned ranker's training, and Optuna
(TPE) search over fusion weights and per-generator candidate limits.

A validation slice travels back in time on the same graph: candidates are generated
`as_of` the slice's first day (generators see no purchase on or after it) and the
labels are what each customer bought from then on.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from ragrec.evaluation.metrics import ndcg_at_k
from ragrec.recommender.engine import TUNED_FILE, FusionConfig, Recommender, models_dir
from ragrec.recommender.fusion import RRFFusion, WeightedFusion
from ragrec.recommender.generators import FAR_FUTURE
from ragrec.recommender.rules import BusinessRules, apply_rules
from ragrec.recommender.types import CandidatePool

Progress = Callable[[int, int], None]


@dataclass
class ValidationSlice:
    since: date
    pools: list[CandidatePool]
    labels: list[set[str]]


def validation_slice(
    rec: Recommender,
    *,
    label_days: int = 7,
    max_customers: int = 500,
    until: date | None = None,
    progress: Progress | None = None,
) -> ValidationSlice:
    """Pools `as_of` (last day - label_days + 1) and labels = purchases from then on."""
    ref = rec.profile(None, until).ref_date
    if ref is None:
        raise ValueError("the graph has no purchases")
    since = ref - timedelta(days=label_days - 1)
    rows = rec.graph.rows(
        "label_window", since=since, until=until or FAR_FUTURE, max_customers=max_customers
    )
    pools, labels = [], []
    for i, row in enumerate(rows, start=1):
        pools.append(rec.homepage_pool(row["customer_id"], as_of=since))
        labels.append(set(row["items"]))
        if progress:
            progress(i, len(rows))
    return ValidationSlice(since, pools, labels)


def pool_ndcg(
    pools: Sequence[CandidatePool],
    labels: Sequence[set[str]],
    fusion: Any,
    rules: BusinessRules,
    k: int = 10,
) -> float:
    """Mean nDCG@k of a fusion strategy (after the business rules) over the pools."""
    if not pools:
        return 0.0
    total = 0.0
    for pool, relevant in zip(pools, labels, strict=True):
        ranked = apply_rules(
            fusion.fuse(pool),
            pool.products,
            rules,
            k=k,
            bought=pool.profile.bought,
            hidden=pool.exclude,
            ref_date=pool.profile.ref_date,
        )
        total += ndcg_at_k([s.product_id for s in ranked], relevant, k)
    return total / len(pools)


@dataclass
class TuneResult:
    config: FusionConfig
    score: float
    seed_score: float
    rrf_score: float
    trials: int
    metric: str
    seconds: float
    path: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "config": asdict(self.config)}


def tune_fusion(
    pools: Sequence[CandidatePool],
    labels: Sequence[set[str]],
    rules: BusinessRules,
    *,
    trials: int = 40,
    k: int = 10,
    seed: int = 0,
    base: FusionConfig | None = None,
    progress: Progress | None = None,
) -> TuneResult:
    """Optuna TPE over per-generator weights (0..1) and candidate limits (10..50)."""
    import optuna

    began = time.perf_counter()
    base = base or FusionConfig()
    generators = sorted({g for pool in pools for g in pool.lists})
    seed_score = pool_ndcg(pools, labels, WeightedFusion(base.weights), rules, k)
    rrf_score = pool_ndcg(pools, labels, RRFFusion(base.rrf_k), rules, k)

    def objective(trial: optuna.Trial) -> float:
        weights = {g: trial.suggest_float(f"w_{g}", 0.0, 1.0) for g in generators}
        limits = {g: trial.suggest_int(f"n_{g}", 10, 50, step=10) for g in generators}
        return pool_ndcg(pools, labels, WeightedFusion(weights, limits), rules, k)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    study.enqueue_trial(
        {f"w_{g}": min(1.0, base.weights.get(g, 0.0)) for g in generators}
        | {f"n_{g}": 50 for g in generators}
    )
    callbacks = [lambda s, t: progress(t.number + 1, trials)] if progress else []
    study.optimize(objective, n_trials=trials, callbacks=callbacks)
    best = study.best_params
    config = FusionConfig(
        weights={g: best[f"w_{g}"] for g in generators},
        rrf_k=base.rrf_k,
        limits={g: best[f"n_{g}"] for g in generators},
        rerank_alpha=base.rerank_alpha,
        rerank_top=base.rerank_top,
    )
    return TuneResult(
        config=config,
        score=float(study.best_value),
        seed_score=seed_score,
        rrf_score=rrf_score,
        trials=trials,
        metric=f"ndcg@{k}",
        seconds=round(time.perf_counter() - began, 2),
    )


def save_tuned(result: TuneResult, root: Path, extra: dict[str, Any] | None = None) -> Path:
    """Write `<models>/fusion/best.json` (and a timestamped copy beside it)."""
    path = root / TUNED_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    payload = {**result.to_dict(), "saved_at": stamp, **(extra or {})}
    text = json.dumps(payload, indent=2, default=str)
    (path.parent / f"tuned-{stamp}.json").write_text(text)
    path.write_text(text)
    result.path = str(path)
    return path


def default_models_dir(rec: Recommender) -> Path:
    return models_dir(rec.settings)
