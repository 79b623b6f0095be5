"""Persona clustering on synthetic embeddings: blobs found, settings chosen, oversized
personas split, structureless data reported, noise and small groups kept."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import adjusted_rand_score

from ragrec.personas.clustering import (
    CROSS_INTERSECT,
    VIA_MERGED,
    VIA_NOISE,
    ClusteringConfig,
    find_personas,
    l2_normalise,
    nearest_centroid,
)


def _blobs(
    n_per: int | list[int], k: int, dim: int = 64, spread: float = 0.15, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, dim))
    sizes = [n_per] * k if isinstance(n_per, int) else n_per
    labels = np.repeat(np.arange(k), sizes)
    scale = np.linalg.norm(centres, axis=1).mean() / np.sqrt(dim)
    points = centres[labels] + spread * rng.normal(size=(labels.size, dim)) * scale
    return points, labels


def test_finds_planted_blobs_and_labels_everyone() -> None:
    x, truth = _blobs(80, 5)
    config = ClusteringConfig(seed=1)
    result = find_personas(x, truth, config)
    assert not result.structureless and result.reason == ""
    assert result.labels.shape == truth.shape and (result.labels >= 0).all()
    assert result.k == 5
    assert adjusted_rand_score(truth, result.labels) > 0.95
    assert np.allclose(np.linalg.norm(result.centroids, axis=1), 1.0)
    assert result.silhouette is not None and result.silhouette > 0.5
    # personas are numbered by size, largest first
    sizes = np.bincount(result.labels)
    assert list(sizes) == sorted(sizes, reverse=True)
    # every candidate setting is reported, exactly one is chosen
    assert len(result.candidates) == len(config.cluster_sizes(400)) * 3
    assert sum(c.chosen for c in result.candidates) == 1


def test_structureless_data_is_reported_not_one_persona_for_all() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(600, 64))  # isotropic: no segments to find
    result = find_personas(x, np.zeros(600, dtype=np.int64), ClusteringConfig(seed=1))
    assert result.structureless
    assert result.reason


def test_too_few_customers_is_structureless() -> None:
    x, _ = _blobs(4, 2)
    result = find_personas(x, np.arange(8), ClusteringConfig(min_cluster_size=20))
    assert result.structureless and "no setting found two groups" in result.reason


def test_a_dominant_persona_is_split_below_the_max_share() -> None:
    # one department of 70% of the customers made of two close sub-segments, and a
    # third, far away segment: the 70% persona must not stay whole
    rng = np.random.default_rng(3)
    dim = 32
    far = rng.normal(size=dim) * 3
    base = rng.normal(size=dim) * 3
    offset = rng.normal(size=dim)
    parts = [
        base + offset + 0.25 * rng.normal(size=(350, dim)),
        base - offset + 0.25 * rng.normal(size=(350, dim)),
        far + 0.25 * rng.normal(size=(300, dim)),
    ]
    x = np.vstack(parts)
    truth = np.repeat([0, 1, 2], [350, 350, 300])
    result = find_personas(x, np.zeros(1000, dtype=np.int64), ClusteringConfig(seed=1))
    assert not result.structureless
    assert result.largest_share() <= 0.4
    assert adjusted_rand_score(truth, result.labels) > 0.9


def test_stability_between_two_embeddings_is_measured_and_used() -> None:
    x, truth = _blobs(80, 4)
    rng = np.random.default_rng(9)
    other = x + 0.01 * rng.normal(size=x.shape) * np.abs(x).mean()
    result = find_personas(x, truth, ClusteringConfig(seed=1), other=other)
    assert result.stability_ari is not None and result.stability_ari > 0.95
    assert all(c.stability_ari is not None for c in result.candidates)


def test_stability_on_a_sample_of_rows() -> None:
    x, truth = _blobs(80, 4)
    rows = np.arange(0, 320, 2)  # half of the customers embedded again
    rng = np.random.default_rng(9)
    other = x[rows] + 0.01 * rng.normal(size=(rows.size, x.shape[1])) * np.abs(x).mean()
    result = find_personas(x, truth, ClusteringConfig(seed=1), other=other, other_rows=rows)
    assert result.stability_ari is not None and result.stability_ari > 0.95
    assert result.labels.size == 320


def test_communities_split_a_cluster_into_two_personas() -> None:
    x, truth = _blobs(100, 3)
    communities = truth.copy()
    communities[truth == 0] = np.where(np.arange(100) < 50, 10, 11)
    result = find_personas(x, communities, ClusteringConfig(seed=1, crossing=CROSS_INTERSECT))
    assert result.k == 4
    assert result.method == CROSS_INTERSECT


def test_small_intersections_merge_into_nearest_persona() -> None:
    x, truth = _blobs(100, 3)
    communities = truth.copy()
    communities[:3] = 99  # three customers of blob 0 in their own community
    result = find_personas(x, communities, ClusteringConfig(seed=1, crossing=CROSS_INTERSECT))
    assert result.k == 3
    assert result.via[:3] == [VIA_MERGED] * 3 or VIA_NOISE in result.via[:3]
    assert len(set(result.labels[:10].tolist())) == 1


def test_noise_points_are_assigned_to_nearest_centroid_and_flagged() -> None:
    x, truth = _blobs(100, 3)
    rng = np.random.default_rng(7)
    outliers = rng.normal(size=(5, x.shape[1])) * 10
    x = np.vstack([x, outliers])
    communities = np.concatenate([truth, np.full(5, 0)])
    result = find_personas(x, communities, ClusteringConfig(seed=1))
    flagged = [i for i, via in enumerate(result.via) if via == VIA_NOISE]
    assert flagged, "outliers should be noise"
    assert (result.labels >= 0).all()
    best, _ = nearest_centroid(x[flagged], result.centroids)
    assert np.mean(best == result.labels[flagged]) > 0.8
    assert result.stats["noise"] == len(flagged)


def test_same_input_same_result() -> None:
    x, truth = _blobs(60, 4)
    a = find_personas(x, truth, ClusteringConfig(seed=3))
    b = find_personas(x, truth, ClusteringConfig(seed=3))
    assert (a.labels == b.labels).all() and np.allclose(a.centroids, b.centroids)


def test_large_inputs_fit_on_a_sample_and_predict_the_rest() -> None:
    x, truth = _blobs(150, 4)
    full = find_personas(x, truth, ClusteringConfig(seed=2))
    sampled = find_personas(x, truth, ClusteringConfig(seed=2, max_fit_points=300))
    assert sampled.k == 4 and (sampled.labels >= 0).all()
    assert adjusted_rand_score(full.labels, sampled.labels) > 0.95


def test_a_small_sample_of_many_customers_still_finds_the_personas() -> None:
    # 4,000 customers fitted on 200: the minimum cluster sizes (1-4% of 4,000 = 40-160)
    # must shrink with the sample, where each segment has ~25 points
    x, truth = _blobs(500, 8)
    one_community = np.zeros_like(truth)  # no help from the communities
    sampled = find_personas(x, one_community, ClusteringConfig(seed=2, max_fit_points=200))
    assert not sampled.structureless, sampled.reason
    assert sampled.k == 8
    assert adjusted_rand_score(truth, sampled.labels) > 0.9


def test_l2_normalise_keeps_zero_rows() -> None:
    out = l2_normalise(np.array([[3.0, 4.0], [0.0, 0.0]]))
    assert np.allclose(out, [[0.6, 0.8], [0.0, 0.0]])
