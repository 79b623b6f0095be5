"""Choosing settings on validation only, and testing the choice once.

* `tune_baseline`: Optuna TPE over a baseline's search space (the same number of trials
  our strategies get), each trial fitted on the validation fit part and scored on the
  validation labels.
* `paired_bootstrap`: is system A's mean per-request metric above B's, resampling
  requests (customers or baskets) with replacement?
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from ragrec.evaluation.baselines import EASE, SEARCH_SPACES, Baseline, RecentPopularity

Score = Callable[[Baseline], float]
Progress = Callable[[int, int], None]


@dataclass
class Tuned:
    name: str
    params: dict[str, Any]
    score: float
    trials: int
    seconds: float
    tried: list[tuple[dict[str, Any], float]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "params": self.params,
            "validation_score": self.score,
            "trials": self.trials,
            "seconds": self.seconds,
        }


def fit_model(model: Baseline, X: sp.csr_matrix, days: sp.csr_matrix | None) -> Baseline:
    if isinstance(model, RecentPopularity):
        return model.fit(X, days)
    return model.fit(X)


def tune_baseline(
    name: str,
    X: sp.csr_matrix,
    score: Score,
    *,
    trials: int,
    days: sp.csr_matrix | None = None,
    seed: int = 0,
    time_budget_s: float | None = None,
    progress: Progress | None = None,
    ease_max_items: int | None = None,
) -> tuple[Baseline, Tuned]:
    """Best settings of baseline `name` (a key of SEARCH_SPACES) by validation `score`;
    returns the model built with them (not fitted) and the search record."""
    import optuna

    began = time.perf_counter()
    suggest = SEARCH_SPACES[name]

    def space(trial: Any) -> Baseline:
        model = suggest(trial)
        if ease_max_items is not None and isinstance(model, EASE):
            model.max_items = int(ease_max_items)  # the same memory bound as the EASE source
        return model

    tried: list[tuple[dict[str, Any], float]] = []

    def objective(trial: optuna.Trial) -> float:
        model = space(trial)
        fit_model(model, X, days)
        value = score(model)
        tried.append((dict(trial.params), value))
        return value

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=min(10, max(1, trials // 3)))
    study = optuna.create_study(direction="maximize", sampler=sampler)
    callbacks = [lambda s, t: progress(t.number + 1, trials)] if progress else []
    study.optimize(objective, n_trials=trials, timeout=time_budget_s, callbacks=callbacks)
    best = study.best_trial
    model = space(optuna.trial.FixedTrial(best.params))
    return model, Tuned(
        name=name,
        params=dict(best.params),
        score=float(best.value or 0.0),
        trials=len(study.trials),
        seconds=round(time.perf_counter() - began, 1),
        tried=tried,
    )


@dataclass
class Significance:
    a: str
    b: str
    metric: str
    mean_a: float
    mean_b: float
    diff: float
    ci_low: float
    ci_high: float
    p_value: float  # one-sided: share of resamples where A <= B
    resamples: int
    requests: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def verdict(self, alpha: float = 0.05) -> str:
        if self.p_value < alpha:
            return f"{self.a} > {self.b} (p={self.p_value:.3g})"
        if 1.0 - self.p_value < alpha:
            return f"{self.a} < {self.b} (p={1.0 - self.p_value:.3g})"
        return f"no significant difference (p={self.p_value:.3g})"


def paired_bootstrap(
    a: np.ndarray,
    b: np.ndarray,
    *,
    names: tuple[str, str] = ("a", "b"),
    metric: str = "ndcg@10",
    resamples: int = 2000,
    seed: int = 0,
) -> Significance:
    """Paired bootstrap over requests of mean(a) - mean(b), with a 95% interval."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError("paired samples need the same requests")
    n = len(a)
    diff = a - b
    if n == 0:
        return Significance(*names, metric, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0, 0)
    rng = np.random.default_rng(seed)
    means = np.empty(resamples)
    for start in range(0, resamples, 200):  # 200 resamples at a time: bounded memory
        stop = min(resamples, start + 200)
        idx = rng.integers(0, n, size=(stop - start, n))
        means[start:stop] = diff[idx].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return Significance(
        a=names[0],
        b=names[1],
        metric=metric,
        mean_a=float(a.mean()),
        mean_b=float(b.mean()),
        diff=float(diff.mean()),
        ci_low=float(low),
        ci_high=float(high),
        p_value=float((means <= 0).mean()),
        resamples=resamples,
        requests=n,
    )
