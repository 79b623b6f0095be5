"""The learned fusion: a LightGBM LambdaRank model over candidate features.

One feature function, `pool_features(pool)`, serves training and serving: the engine
calls it on the pool it gathered from the graph, the evaluation on pools staged as of
each training window's start. Features per (request, candidate), in FEATURES order:

* every source's raw score and rank (missing = NaN): the graph generators and the
  model sources (`MODEL_SOURCES`: EASE, RP3beta, ItemKNN neighbours, repurchase,
  trending), how many sources proposed it, its RRF score;
* item trend: sales in the 1, 7 and 28 days before the pool's `as_of` and their ratios,
  all-time sales, days since the last sale, days since the product appeared;
* customer: days since their last purchase, number of purchases and distinct items;
* repurchase: times this customer bought this item, days since they last did;
* affinity: the customer's share of purchases in the item's category and colour, price
  fit (|log price - log the customer's mean price|), persona match.

What the pool must carry: `lists` (sources), `profile.history` ([{id, ts, category,
colour?, price, n?}], `n` = times bought), `profile.ref_date`, `as_of`, `products`
(ProductInfo with category, colour, price, created_at) and `stats` ({product id:
{sales, sales_1d, sales_7d, sales_28d, last_sale}}; `recent_sales` is read as the 7-day
count when the 1/7/28-day counts are absent).

Models are versioned folders `<models>/ranker/v<N>/` (`model.txt`, `meta.json`); serving
loads the newest.
"""

from __future__ import annotations

import json
import math
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from ragrec.recommender.errors import RankerNotTrained
from ragrec.recommender.fusion import GENERATOR_GROUPS, FusionStrategy, rrf
from ragrec.recommender.types import CandidatePool, Scored

GENERATORS = tuple(GENERATOR_GROUPS)
#: candidate sources built from the strong item-item models and purchase history
MODEL_SOURCES = (
    "ease",
    "rp3beta",
    "itemknn",
    "repurchase",
    "trending",
    "recent_neighbours",
    "siblings",
)
SOURCES = (*GENERATORS, *MODEL_SOURCES)
FEATURES = (
    *(f"{g}_score" for g in SOURCES),
    *(f"{g}_rank" for g in SOURCES),
    "n_generators",
    "rrf_score",
    "sales",
    "sales_1d",
    "sales_7d",
    "sales_28d",
    "trend_1_7",
    "trend_7_28",
    "days_since_last_sale",
    "days_since_created",
    "customer_days_since_last",
    "customer_purchases",
    "customer_items",
    "times_bought",
    "days_since_bought",
    "category_share",
    "colour_share",
    "price_fit",
    "persona_match",
)


#: a better rank or a higher score of a source never lowers a candidate: with a few
#: thousand labelled requests, unconstrained trees fit noise in the source scores
MONOTONE = tuple(
    -1 if f.endswith("_rank") else 1 if f.endswith("_score") or f == "n_generators" else 0
    for f in FEATURES
)


def pool_features(pool: CandidatePool) -> tuple[list[str], np.ndarray]:
    """(product ids, feature matrix in FEATURES order) for every candidate of the pool."""
    fused = rrf(pool.lists)
    ids = [s.product_id for s in fused]
    row_of = {pid: i for i, pid in enumerate(ids)}
    x = np.full((len(ids), len(FEATURES)), np.nan, dtype=np.float32)
    col = {name: j for j, name in enumerate(FEATURES)}
    for source, items in pool.lists.items():
        if f"{source}_score" not in col:
            continue
        cs, cr = col[f"{source}_score"], col[f"{source}_rank"]
        for rank, c in enumerate(items, 1):
            i = row_of[c.product_id]
            if np.isnan(x[i, cs]):
                x[i, cs] = c.score
                x[i, cr] = rank
    profile = pool.profile
    ref = _reference_day(pool)
    history = profile.history
    bought: dict[str, tuple[float, date | None]] = {}
    cat_counts: dict[str, float] = {}
    colour_counts: dict[str, float] = {}
    purchases = 0.0
    last_purchase: date | None = None
    for h in history:
        n = float(h.get("n") or 1)
        ts = _day(h.get("ts"))
        bought[str(h["id"])] = (n, ts)
        purchases += n
        if ts and (last_purchase is None or ts > last_purchase):
            last_purchase = ts
        if h.get("category"):
            cat_counts[h["category"]] = cat_counts.get(h["category"], 0.0) + n
        if h.get("colour"):
            colour_counts[h["colour"]] = colour_counts.get(h["colour"], 0.0) + n
    total = purchases or 1.0
    prices = [float(h["price"]) for h in history if h.get("price")]
    mean_price = sum(prices) / len(prices) if prices else None
    persona_items = pool.lists.get("persona_favourites", [])
    persona_cats: dict[str, float] = {}
    for c in persona_items:
        info = pool.products.get(c.product_id)
        if info is not None and info.category:
            persona_cats[info.category] = persona_cats.get(info.category, 0.0) + 1.0 / len(
                persona_items
            )
    x[:, col["customer_purchases"]] = purchases
    x[:, col["customer_items"]] = len(bought)
    if ref and last_purchase:
        x[:, col["customer_days_since_last"]] = (ref - last_purchase).days
    stats = pool.stats or {}
    for i, s in enumerate(fused):
        x[i, col["n_generators"]] = len(set(s.generators))
        x[i, col["rrf_score"]] = s.score
        info = pool.products.get(s.product_id)
        if info is not None:
            if info.category:
                x[i, col["category_share"]] = cat_counts.get(info.category, 0.0) / total
                x[i, col["persona_match"]] = persona_cats.get(info.category, 0.0)
            if info.colour:
                x[i, col["colour_share"]] = colour_counts.get(info.colour, 0.0) / total
            if info.price and mean_price:
                x[i, col["price_fit"]] = abs(math.log(info.price) - math.log(mean_price))
            created = _day(info.created_at)
            if created and ref:
                x[i, col["days_since_created"]] = (ref - created).days
        mine = bought.get(s.product_id)
        x[i, col["times_bought"]] = mine[0] if mine else 0.0
        if mine and mine[1] and ref:
            x[i, col["days_since_bought"]] = (ref - mine[1]).days
        st = stats.get(s.product_id)
        if st:
            s7 = st.get("sales_7d", st.get("recent_sales"))
            s1, s28 = st.get("sales_1d"), st.get("sales_28d")
            x[i, col["sales"]] = _num(st.get("sales"))
            x[i, col["sales_1d"]] = _num(s1)
            x[i, col["sales_7d"]] = _num(s7)
            x[i, col["sales_28d"]] = _num(s28)
            if s1 is not None and s7 is not None:
                x[i, col["trend_1_7"]] = (float(s1) + 1.0) / (float(s7) / 7.0 + 1.0)
            if s7 is not None and s28 is not None:
                x[i, col["trend_7_28"]] = (float(s7) + 1.0) / (float(s28) / 4.0 + 1.0)
            last = _day(st.get("last_sale"))
            if last and ref:
                x[i, col["days_since_last_sale"]] = (ref - last).days
    return ids, x


def _reference_day(pool: CandidatePool) -> date | None:
    """The day features are measured from: the day before `as_of`, else the profile's."""
    if pool.as_of is not None and pool.as_of.year < 9000:
        return pool.as_of - timedelta(days=1)
    return _day(pool.profile.ref_date)


def _day(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    to_native = getattr(value, "to_native", None)
    return _day(to_native()) if to_native else None


def _num(value: Any) -> float:
    return float(value) if value is not None else math.nan


class LearnedFusion(FusionStrategy):
    name = "learned"

    def __init__(self, booster: Any, meta: dict[str, Any]) -> None:
        self.booster = booster
        self.meta = meta

    def narrow(self, pool: CandidatePool) -> CandidatePool:
        """The pool as the ranker learnt it: only the sources its training requests had
        (a ranker trained without the graph's sources never saw their scores, nor their
        share of `n_generators` and `rrf_score`). Unchanged when it saw them all, when the
        model does not record them, or when none of them is in the pool."""
        seen = self.meta.get("sources")
        if not seen or set(pool.lists) <= set(seen):
            return pool
        lists = {g: items for g, items in pool.lists.items() if g in seen}
        return replace(pool, lists=lists) if lists else pool

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
        ids, x = pool_features(self.narrow(pool))
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
    best_iteration: int | None = None
    validation_groups: int = 0


def groups_of(
    pools: Sequence[CandidatePool], labels: Sequence[set[str]]
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(features, 0/1 labels) per request; requests without a positive candidate are
    dropped (they teach a ranker nothing)."""
    groups = []
    for pool, relevant in zip(pools, labels, strict=True):
        ids, x = pool_features(pool)
        y = np.array([1 if pid in relevant else 0 for pid in ids], dtype=np.int32)
        if len(ids) and y.any():
            groups.append((x, y))
    return groups


def train(
    pools: Sequence[CandidatePool],
    labels: Sequence[set[str]],
    root: Path,
    *,
    valid_pools: Sequence[CandidatePool] | None = None,
    valid_labels: Sequence[set[str]] | None = None,
    n_estimators: int = 300,
    learning_rate: float = 0.05,
    num_leaves: int = 15,
    early_stopping_rounds: int = 30,
    seed: int = 0,
    extra_meta: dict[str, Any] | None = None,
) -> TrainingSummary:
    """Fit LambdaRank on the pools (one group each) and save v<N+1>.

    With `valid_pools` (a later window than the training pools) training stops early
    on their nDCG@10; without, 20% of the training groups are held out for it."""
    import lightgbm as lgb

    began = time.perf_counter()
    groups = groups_of(pools, labels)
    if len(groups) < 5:
        raise ValueError(
            f"only {len(groups)} requests with a later purchase among their candidates: "
            "not enough to train a ranker (load more data or widen the label window)"
        )
    if valid_pools is not None and valid_labels is not None:
        fit, val = groups, groups_of(valid_pools, valid_labels)
    else:
        rng = np.random.default_rng(seed)
        order = rng.permutation(len(groups))
        n_val = max(1, len(groups) // 5)
        val, fit = [groups[i] for i in order[:n_val]], [groups[i] for i in order[n_val:]]
    model = lgb.LGBMRanker(
        objective="lambdarank",
        n_estimators=n_estimators,
        learning_rate=learning_rate,
        num_leaves=num_leaves,
        min_child_samples=20,
        monotone_constraints=list(MONOTONE),
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.8,
        random_state=seed,
        n_jobs=2,
        verbose=-1,
    )
    fit_kwargs: dict[str, Any] = {}
    if val:
        fit_kwargs = {
            "eval_set": [(np.vstack([x for x, _ in val]), np.concatenate([y for _, y in val]))],
            "eval_group": [[len(y) for _, y in val]],
            "eval_at": [10],
            "callbacks": [lgb.early_stopping(early_stopping_rounds, verbose=False)],
        }
    with warnings.catch_warnings():  # eval_set: renamed in lightgbm 4.7, kept for older 4.x
        warnings.simplefilter("ignore")
        model.fit(
            np.vstack([x for x, _ in fit]),
            np.concatenate([y for _, y in fit]),
            group=[len(y) for _, y in fit],
            **fit_kwargs,
        )
    val_ndcg = None
    results = model.evals_result_.get("valid_0", {}).get("ndcg@10")
    best_iteration = int(model.best_iteration_) if model.best_iteration_ else None
    if results:
        val_ndcg = float(results[(best_iteration or len(results)) - 1])
    version = (latest_version(root) or 0) + 1
    folder = root / f"v{version}"
    folder.mkdir(parents=True, exist_ok=True)
    model.booster_.save_model(str(folder / "model.txt"), num_iteration=best_iteration)
    summary = TrainingSummary(
        version=version,
        folder=str(folder),
        groups=len(fit),
        rows=sum(len(y) for _, y in fit),
        positives=int(sum(int(y.sum()) for _, y in fit)),
        validation_ndcg10=val_ndcg,
        seconds=round(time.perf_counter() - began, 2),
        best_iteration=best_iteration,
        validation_groups=len(val),
    )
    gains = model.booster_.feature_importance(importance_type="gain")
    importance = sorted(zip(FEATURES, (float(g) for g in gains), strict=True), key=lambda t: -t[1])
    meta = {
        "version": version,
        "features": list(FEATURES),
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "objective": "lambdarank",
        "params": {
            "n_estimators": n_estimators,
            "learning_rate": learning_rate,
            "num_leaves": num_leaves,
            "early_stopping_rounds": early_stopping_rounds,
            "monotone_constraints": "source ranks -1, source scores +1",
        },
        "summary": summary.__dict__,
        "importance_gain": dict(importance[:20]),
        "sources": sorted({g for pool in pools for g, items in pool.lists.items() if items}),
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
