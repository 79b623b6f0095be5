"""`ragrec train-ranker` and `ragrec tune` without leakage: the shop's export is staged
window by window in a throwaway Neo4j (never the live graph), each window's graph, model
sources and features as of its first day; the ranker learns on the older windows and
stops early on the newest; fusion weights are tuned on the newest. What is saved goes to
the live models folder (`<models>/ranker/v<N>/`, `<models>/fusion/best.json`)."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console

from ragrec.config import Settings
from ragrec.evaluation.baselines import Baseline
from ragrec.evaluation.candidates import read_catalogue
from ragrec.evaluation.instance import throwaway_neo4j
from ragrec.evaluation.interactions import Interactions
from ragrec.evaluation.runner import (
    EvalOptions,
    EvalReport,
    _mean_ndcg,
    _stage_pools,
    _tune_baselines,
    evaluation_key,
    sample_stage,
)
from ragrec.evaluation.splits import Split, split_folder
from ragrec.recommender import ranker as ranker_mod
from ragrec.recommender.engine import models_dir
from ragrec.recommender.rules import BusinessRules
from ragrec.recommender.tuning import save_tuned, tune_fusion

MODEL_SOURCE_BASELINES = ("recent popularity", "ItemKNN", "EASE", "RP3beta")


@dataclass
class OfflineResult:
    ranker: dict[str, Any] | None = None
    tuned: dict[str, Any] | None = None
    windows: list[dict[str, Any]] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


def train_offline(
    data: Path,
    base: Settings,
    console: Console,
    *,
    windows: int = 3,
    label_days: int = 7,
    customers: int = 500,
    trials: int = 20,
    seed: int = 0,
    personas: bool = False,
    ranker: bool = True,
    weights: bool = False,
) -> OfflineResult:
    """Stage `windows` training windows and one early-stopping window (the newest
    `label_days`) of the folder `data`; train the ranker and/or tune fusion weights."""
    began = time.perf_counter()
    opts = EvalOptions(
        data=data,
        validation_days=label_days,
        ranker_windows=windows,
        window_customers=customers,
        validation_customers=customers,
        tune_trials=trials,
        personas=personas,
        seed=seed,
        rerank=False,
    )
    out = OfflineResult()
    report = EvalReport(options={}, split={}, graph={})
    with (
        tempfile.TemporaryDirectory(prefix="ragrec-train-") as tmp,
        throwaway_neo4j(base, pseudonym_key=evaluation_key(seed)) as (settings, driver),
    ):
        key = settings.effective_pseudonym_key()
        chain: list[Split] = []
        folder = data
        for i in range(windows + 1):
            out_dir = Path(tmp) / f"w{i}"
            chain.append(split_folder(folder, out_dir, key, test_days=label_days, min_purchases=2))
            folder = chain[-1].train_dir
        rng = np.random.default_rng(seed)
        stages = [
            sample_stage(f"window {i + 1}", s, customers, rng)
            for i, s in enumerate(reversed(chain))
        ]
        out.windows = [{"from": str(s.as_of), "customers": len(s.customers)} for s in stages]
        newest = stages[-1]
        catalogue_info = read_catalogue(data)
        fit = Interactions.from_pairs(newest.split.train_frame, sorted(catalogue_info))
        rows = [fit.user_index[c] for c in newest.customers]

        def score(model: Baseline) -> float:
            return _mean_ndcg(fit.ids(model.recommend(rows, fit.matrix, 10)), newest.labels, 10)

        tuned = _tune_baselines(fit, score, opts, report, console, names=MODEL_SOURCE_BASELINES)
        out.params = {m.name: m.params() for m in tuned}
        rules = BusinessRules(
            exclude_bought=base.rec_exclude_bought,
            max_per_category=base.rec_max_per_category or None,
        )
        _stage_pools(stages, opts, settings, driver, catalogue_info, out.params, rules, None,
                     report, console)  # fmt: skip
    train_pools = [p for st in stages[:-1] for p in st.pools]
    train_labels = [lab for st in stages[:-1] for lab in st.labels]
    root = models_dir(base)
    if ranker:
        summary = ranker_mod.train(
            train_pools or newest.pools,
            train_labels or newest.labels,
            root / "ranker",
            valid_pools=newest.pools if train_pools else None,
            valid_labels=newest.labels if train_pools else None,
            seed=seed,
            extra_meta={"windows": out.windows, "source_params": out.params, "data": str(data)},
        )
        out.ranker = summary.__dict__
    if weights:
        result = tune_fusion(newest.pools, newest.labels, rules, trials=trials, seed=seed)
        save_tuned(result, root, {"windows": out.windows, "data": str(data)})
        out.tuned = result.to_dict()
    out.seconds = round(time.perf_counter() - began, 1)
    return out
