"""Fusion maths: RRF (k=60), min-max normalisation, weighted merge, seed weights, the
learned ranker's round trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ragrec.recommender import ranker
from ragrec.recommender.fusion import (
    GENERATOR_GROUPS,
    SEED_GROUP_WEIGHTS,
    RRFFusion,
    WeightedFusion,
    min_max,
    rrf,
    seed_weights,
    weighted_merge,
)
from ragrec.recommender.types import Candidate, CandidatePool, ProductInfo, Profile


def cands(generator: str, *items: tuple[str, float]) -> list[Candidate]:
    return [Candidate(pid, score, generator, f"{generator} says {pid}") for pid, score in items]


LISTS = {
    "co_purchase": cands("co_purchase", ("a", 14.0), ("b", 3.0)),
    "popularity": cands("popularity", ("b", 100.0), ("c", 50.0), ("a", 10.0)),
}


def pool(lists: dict[str, list[Candidate]]) -> CandidatePool:
    products = {c.product_id: ProductInfo(c.product_id) for items in lists.values() for c in items}
    return CandidatePool("homepage", Profile("x"), lists, products, set(), None)


def test_rrf_sums_reciprocal_ranks_with_k_60() -> None:
    fused = {s.product_id: s.score for s in rrf(LISTS)}
    assert fused["a"] == pytest.approx(1 / 61 + 1 / 63)
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert fused["c"] == pytest.approx(1 / 62)
    assert [s.product_id for s in rrf(LISTS)] == ["b", "a", "c"]


def test_rrf_weights_and_k() -> None:
    fused = {s.product_id: s.score for s in rrf(LISTS, k=1, weights={"popularity": 0.5})}
    assert fused["a"] == pytest.approx(1 / 2 + 0.5 / 4)
    with pytest.raises(ValueError):
        RRFFusion(k=0)


def test_rrf_names_every_source_and_breaks_ties_by_id() -> None:
    fused = rrf({"x": cands("x", ("b", 1.0)), "y": cands("y", ("a", 1.0))})
    assert [s.product_id for s in fused] == ["a", "b"]  # equal scores: by id
    both = rrf(LISTS)
    assert set(next(s for s in both if s.product_id == "a").generators) == {
        "co_purchase",
        "popularity",
    }


def test_min_max() -> None:
    assert min_max([2.0, 4.0, 3.0]) == [0.0, 1.0, 0.5]
    assert min_max([5.0, 5.0]) == [1.0, 1.0]
    assert min_max([]) == []


def test_weighted_merge_normalises_each_list() -> None:
    fused = {
        s.product_id: s.score
        for s in weighted_merge(LISTS, {"co_purchase": 0.6, "popularity": 0.4})
    }
    # co_purchase: a 1.0, b 0.0; popularity: b 1.0, c (50-10)/90, a 0.0
    assert fused["a"] == pytest.approx(0.6)
    assert fused["b"] == pytest.approx(0.4)
    assert fused["c"] == pytest.approx(0.4 * 40 / 90)


def test_weighted_fusion_limits_and_missing_weights() -> None:
    fusion = WeightedFusion({"co_purchase": 1.0}, limits={"popularity": 1})
    fused = fusion.fuse(pool(LISTS))
    scores = {s.product_id: s.score for s in fused}
    assert scores == {"a": 1.0, "b": 0.0}  # popularity has no weight and is cut to 1 item


def test_seed_weights_split_the_seed_groups() -> None:
    weights = seed_weights()
    assert set(weights) == set(GENERATOR_GROUPS)
    assert sum(weights.values()) == pytest.approx(sum(SEED_GROUP_WEIGHTS.values()))
    for group, total in SEED_GROUP_WEIGHTS.items():
        members = [g for g, grp in GENERATOR_GROUPS.items() if grp == group]
        assert sum(weights[g] for g in members) == pytest.approx(total)
    assert SEED_GROUP_WEIGHTS == {"content": 0.34, "vector": 0.44, "graph": 0.22}


def test_learned_ranker_trains_saves_versions_and_loads(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    pools, labels = [], []
    for i in range(40):
        items = [f"p{j}" for j in rng.permutation(30)[:20]]
        lists = {
            "co_purchase": cands("co_purchase", *[(p, float(20 - n)) for n, p in enumerate(items)]),
            "popularity": cands("popularity", *[(p, float(n)) for n, p in enumerate(items[:10])]),
        }
        pools.append(pool(lists))
        labels.append({items[0], items[1]} if i % 4 else {items[-1]})
    root = tmp_path / "ranker"
    first = ranker.train(pools, labels, root, n_estimators=20)
    second = ranker.train(pools, labels, root, n_estimators=20)
    assert (first.version, second.version) == (1, 2)
    learned = ranker.LearnedFusion.load(root)
    assert learned.meta["version"] == 2
    fused = learned.fuse(pools[1])
    assert len(fused) == 20
    assert fused[0].product_id in labels[1]  # the top co-purchase items are the labels
    _ids, x = ranker.pool_features(pools[1])
    assert x.shape == (20, len(ranker.FEATURES))


def test_learned_ranker_missing_is_a_named_error(tmp_path: Path) -> None:
    from ragrec.recommender.errors import RankerNotTrained

    with pytest.raises(RankerNotTrained):
        ranker.LearnedFusion.load(tmp_path / "nothing")
