"""The learned fusion: a LightGBM LambdaRank model over candidate features.

Features per (request, candidate): every generator's min-max score and rank (missing =
NaN), how many generators proposed it, its RRF score, persona match (share of the
persona/cohort list in the product's category), price fit (|log price - log the
customer's mean price|), the customer's share of the product's category, recency (days
since the product's first sale), popularity (sales all time and in the recent window,
days since the last sale). Labels: bought in the period after `as_of`.

Models are versioned folders `<models>/ranker/v<N>/` (`model.txt`, `meta.json`); serving
loads the newest.
"""

from __future__ import annotations

import json
import math
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ragrec.recommender.errors import RankerNotTrained
from ragrec.recommender.fusion import GENERATOR_GROUPS, FusionStrategy, min_max, rrf
from ragrec.recommender.types import CandidatePool, Scored

GENERATORS = tuple(GENERATOR_GROUPS)
FEATURES = (
    *(f"{g}_score" for g in GENERATORS),
    *(f"{g}_rank" for g in GENERATORS),
    "n_generators",
    "rrf_score",
    "persona_match",
    "price_fit",
    "category_share",
    "days_since_created",
    "sales",
    "recent_sales",
    "days_since_last_sale",
)


def pool_features(pool: CandidatePool) -> tuple[list[str], np.ndarray]:
    """(product ids, feature matrix in FEATURES order) for every candidate of the pool."""
    fused = rrf(pool.lists)
    ids = [s.product_id for s in fused]
    row_of = {pid: i for i, pid in enumerate(ids)}
    n = len(FEATURES)
    x = np.full((len(ids), n), np.nan, dtype=np.float32)
    col = {name: j for j, name in enumerate(FEATURES)}
    for generator, items in pool.lists.items():
        if generator not in GENERATOR_GROUPS:
            continue
        for rank, (c, norm) in enumerate(
            zip(items, min_max([c.score for c in items]), strict=True), 1
        ):
            i = row_of[c.product_id]
            if np.isnan(x[i, col[f"{generator}_score"]]):
                x[i, col[f"{generator}_score"]] = norm
                x[i, col[f"{generator}_rank"]] = rank
    profile = pool.profile
    shares = profile.category_shares()
    mean_price = profile.mean_price
    persona_items = pool.lists.get("persona_favourites", [])
    persona_cats: dict[str, float] = {}
    for c in persona_items:
        cat = pool.products[c.product_id].category if c.product_id in pool.products else None
        if cat:
            persona_cats[cat] = persona_cats.get(cat, 0.0) + 1.0 / len(persona_items)
    ref = profile.ref_date
    stats = pool.stats or {}
    for i, s in enumerate(fused):
        info = pool.products.get(s.product_id)
        x[i, col["n_generators"]] = len(set(s.generators))
        x[i, col["rrf_score"]] = s.score
        if info is not None:
            x[i, col["persona_match"]] = persona_cats.get(info.category or "", 0.0)
            x[i, col["category_share"]] = shares.get(info.category or "", 0.0)
            if info.price and mean_price:
                x[i, col["price_fit"]] = abs(math.log(info.price) - math.log(mean_price))
            if info.created_at and ref:
                x[i, col["days_since_created"]] = (ref - info.created_at).days
        st = stats.get(s.product_id)
        if st:
            x[i, col["sales"]] = st["sales"]
            x[i, col["recent_sales"]] = st["recent_sales"]
            if st.get("last_sale") and ref:
                x[i, col["days_since_last_sale"]] = (ref - st["last_sale"]).days
    return ids, x


class LearnedFusion(FusionStrategy):
    name = "learned"

    def __init__(self, booster: Any, meta: dict[str, Any]) -> None:
        self.booster = booster
        self.meta = meta

    @classmethod
    def load(cls, root: Path, version: int | None = None) -> LearnedFusion:
        import lightgbm as lgb

        folder = model_folder(root, version)
        if folder is None:
            raise RankerNotTrained(str(root))
        meta = json.loads((folder / "meta.json").read_text())
        if tuple(meta["features"]) != FEATURES:
            raise RankerNotTrained(f"{folder} (trained on other features: retrain it)")
        return cls(lgb.Booster(model_file=str(folder / "model.txt")), meta)

    def fuse(self, pool: CandidatePool) -> list[Scored]:
        ids, x = pool_features(pool)
        if not ids:
            return []
        scores = self.booster.predict(x)
        sources: dict[str, list[str]] = {}
        for generator, items in pool.lists.items():
            for c in items:
                sources.setdefault(c.product_id, []).append(generator)
        ranked = sorted(zip(ids, scores, strict=True), key=lambda t: (-t[1], t[0]))
        return [Scored(pid, float(sc), tuple(sources[pid])) for pid, sc in ranked]


@dataclass
class TrainingSummary:
    version: int
    folder: str
    groups: int
    rows: int
    positives: int
    validation_ndcg10: float | None
    seconds: float


def train(
    pools: Sequence[CandidatePool],
    labels: Sequence[set[str]],
    root: Path,
    *,
    n_estimators: int = 300,
    learning_rate: float = 0.05,
    num_leaves: int = 31,
    seed: int = 0,
    extra_meta: dict[str, Any] | None = None,
) -> TrainingSummary:
    """Fit LambdaRank on the pools (one group each), 20% of groups held out; save v<N+1>."""
    import lightgbm as lgb

    began = time.perf_counter()
    groups = []
    for pool, relevant in zip(pools, labels, strict=True):
        ids, x = pool_features(pool)
        y = np.array([1 if pid in relevant else 0 for pid in ids], dtype=np.int32)
        if len(ids) and y.any():
            groups.append((x, y))
    if len(groups) < 5:
        raise ValueError(
            f"only {len(groups)} requests with a later purchase among their candidates: "
            "not enough to train a ranker (load more data or widen the label window)"
        )
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(groups))
    n_val = max(1, len(groups) // 5)
    val, fit = [groups[i] for i in order[:n_val]], [groups[i] for i in order[n_val:]]
    model = lgb.LGBMRanker(
        objective="lambdarank",
        n_estimators=n_estimators,
        learning_rate=learning_rate,
        num_leaves=num_leaves,
        min_child_samples=10,
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.8,
        random_state=seed,
        n_jobs=2,
        verbose=-1,
    )
    with warnings.catch_warnings():  # eval_set: renamed in lightgbm 4.7, kept for older 4.x
        warnings.simplefilter("ignore")
        model.fit(
            np.vstack([x for x, _ in fit]),
            np.concatenate([y for _, y in fit]),
            group=[len(y) for _, y in fit],
            eval_set=[(np.vstack([x for x, _ in val]), np.concatenate([y for _, y in val]))],
            eval_group=[[len(y) for _, y in val]],
            eval_at=[10],
        )
    val_ndcg = None
    results = model.evals_result_.get("valid_0", {}).get("ndcg@10")
    if results:
        val_ndcg = float(results[-1])
    version = (latest_version(root) or 0) + 1
    folder = root / f"v{version}"
    folder.mkdir(parents=True, exist_ok=True)
    model.booster_.save_model(str(folder / "model.txt"))
    summary = TrainingSummary(
        version=version,
        folder=str(folder),
        groups=len(groups),
        rows=sum(len(y) for _, y in groups),
        positives=int(sum(int(y.sum()) for _, y in groups)),
        validation_ndcg10=val_ndcg,
        seconds=round(time.perf_counter() - began, 2),
    )
    meta = {
        "version": version,
        "features": list(FEATURES),
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "objective": "lambdarank",
        "params": {
            "n_estimators": n_estimators,
            "learning_rate": learning_rate,
            "num_leaves": num_leaves,
        },
        "summary": summary.__dict__,
        **(extra_meta or {}),
    }
    (folder / "meta.json").write_text(json.dumps(meta, indent=2, default=str))
    return summary


def latest_version(root: Path) -> int | None:
    versions = [
        int(p.name[1:])
        for p in root.glob("v*")
        if p.name[1:].isdigit() and (p / "model.txt").exists()
    ]
    return max(versions) if versions else None


def model_folder(root: Path, version: int | None = None) -> Path | None:
    chosen = version if version is not None else latest_version(root)
    if chosen is None or not (root / f"v{chosen}" / "model.txt").exists():
        return None
    return root / f"v{chosen}"
