"""Fusion strategies behind one interface: many ranked lists in, one ranked list out.

* `RRFFusion`: reciprocal rank fusion, score = sum over lists of weight / (k + rank), k=60.
* `WeightedFusion`: min-max normalise each list's scores to 0..1, then a weighted sum.
  The default weights start from the seed's tri-modal weights (0.34 lexical/content,
  0.44 vector/behaviour, 0.22 graph), spread evenly over the generators of each group.
* `LearnedFusion` (ragrec.recommender.ranker): a LightGBM LambdaRank model over features.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence

from ragrec.recommender.types import Candidate, CandidatePool, Scored

#: the seed's weights (w_bm25, w_vec, w_graph) and the generators that play each part
SEED_GROUP_WEIGHTS: dict[str, float] = {"content": 0.34, "vector": 0.44, "graph": 0.22}
GENERATOR_GROUPS: dict[str, str] = {
    "category_affinity": "content",
    "text_similar": "content",
    "search": "content",
    "behaviour_neighbours": "vector",
    "visual_similar": "vector",
    "similar_items": "vector",
    "co_purchase": "graph",
    "persona_favourites": "graph",
    "community_trending": "graph",
    "popularity": "graph",
    "new_arrivals": "graph",
}
RRF_K = 60


def seed_weights(groups: Mapping[str, str] = GENERATOR_GROUPS) -> dict[str, float]:
    """Per-generator weights: each seed group's weight split evenly over its generators."""
    sizes: dict[str, int] = {}
    for group in groups.values():
        sizes[group] = sizes.get(group, 0) + 1
    return {g: SEED_GROUP_WEIGHTS[group] / sizes[group] for g, group in groups.items()}


class FusionStrategy(ABC):
    name: str

    @abstractmethod
    def fuse(self, pool: CandidatePool) -> list[Scored]:
        """All candidates of the pool, best first (ties broken by product id)."""


class RRFFusion(FusionStrategy):
    name = "rrf"

    def __init__(self, k: int = RRF_K, weights: Mapping[str, float] | None = None) -> None:
        if k < 1:
            raise ValueError("RRF k must be >= 1")
        self.k = k
        self.weights = dict(weights or {})

    def fuse(self, pool: CandidatePool) -> list[Scored]:
        return rrf(pool.lists, self.k, self.weights)


class WeightedFusion(FusionStrategy):
    name = "weighted"

    def __init__(
        self, weights: Mapping[str, float] | None = None, limits: Mapping[str, int] | None = None
    ) -> None:
        self.weights = dict(weights) if weights is not None else seed_weights()
        self.limits = dict(limits or {})

    def fuse(self, pool: CandidatePool) -> list[Scored]:
        lists = {
            g: items[: self.limits[g]] if g in self.limits else items
            for g, items in pool.lists.items()
        }
        return weighted_merge(lists, self.weights)


def rrf(
    lists: Mapping[str, Sequence[Candidate]], k: int = RRF_K, weights: Mapping[str, float] = {}
) -> list[Scored]:
    """Reciprocal rank fusion; rank is 1-based; a missing weight counts 1."""
    scores: dict[str, float] = {}
    sources: dict[str, list[str]] = {}
    for generator, items in lists.items():
        w = weights.get(generator, 1.0)
        for rank, c in enumerate(items, start=1):
            scores[c.product_id] = scores.get(c.product_id, 0.0) + w / (k + rank)
            sources.setdefault(c.product_id, []).append(generator)
    return _ordered(scores, sources)


def min_max(values: Sequence[float]) -> list[float]:
    """Scale to 0..1; a constant list maps to all 1.0 (every item equally strong)."""
    if not values:
        return []
    lo, hi = min(values), max(values)
    if hi == lo:
        return [1.0] * len(values)
    return [(v - lo) / (hi - lo) for v in values]


def weighted_merge(
    lists: Mapping[str, Sequence[Candidate]], weights: Mapping[str, float]
) -> list[Scored]:
    """Min-max normalise each list, then sum weight * normalised score per product.
    A generator without a weight contributes nothing (but is still named as a source)."""
    scores: dict[str, float] = {}
    sources: dict[str, list[str]] = {}
    for generator, items in lists.items():
        w = weights.get(generator, 0.0)
        for c, norm in zip(items, min_max([c.score for c in items]), strict=True):
            scores[c.product_id] = scores.get(c.product_id, 0.0) + w * norm
            sources.setdefault(c.product_id, []).append(generator)
    return _ordered(scores, sources)


def _ordered(scores: Mapping[str, float], sources: Mapping[str, list[str]]) -> list[Scored]:
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
    return [Scored(pid, score, tuple(sources[pid])) for pid, score in ranked]
