"""Personas from behaviour embeddings x Louvain communities (numpy in, numpy out).

1. Embeddings are L2-normalised (cosine geometry) and reduced by PCA to
   `reduce_dims` (HDBSCAN's density estimates degrade in 256 dimensions).
2. HDBSCAN clusters them; label -1 is noise. Above `max_fit_points` customers it is
   fitted on a seeded sample and the rest are labelled by `approximate_predict`.
3. A persona is a (community, cluster) intersection of at least `min_size` customers.
   Smaller intersections are merged, as a group, into the persona whose centroid is
   nearest to theirs; noise points are assigned one by one to the nearest persona
   centroid and flagged (`via = "noise"`), never dropped.
4. Centroids are the normalised mean of the members' normalised embeddings, in the
   full embedding space (so new customers can be assigned without re-clustering).

When no intersection is big enough (tiny or very sparse data), the fallbacks are:
HDBSCAN clusters alone, then Louvain communities alone, then one persona for all.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import hdbscan
import numpy as np
from sklearn.decomposition import PCA

VIA_CLUSTER = "cluster"
VIA_MERGED = "merged_small_intersection"
VIA_NOISE = "noise"


@dataclass(frozen=True)
class ClusteringConfig:
    reduce_dims: int = 16
    min_cluster_size: int | None = None  # default: max(15, n // 100)
    min_samples: int = 10
    min_persona_share: float = 0.01  # intersections below max(min_cluster_size, share*n) merge
    seed: int = 42
    max_fit_points: int = 50_000  # above: fit HDBSCAN on a seeded sample, predict the rest

    def cluster_size(self, n: int) -> int:
        return self.min_cluster_size or max(15, n // 100)

    def persona_size(self, n: int) -> int:
        return max(self.cluster_size(n), int(np.ceil(self.min_persona_share * n)))


@dataclass
class PersonaClustering:
    labels: np.ndarray  # persona index per customer (0..k-1)
    via: list[str]  # how each customer got its persona
    similarity: np.ndarray  # cosine similarity to its persona centroid
    centroids: np.ndarray  # k x dim, unit length
    cluster: np.ndarray  # HDBSCAN label per customer (-1 = noise)
    community: np.ndarray  # Louvain community per customer
    persona_keys: list[tuple[int, int]]  # (community, cluster) of each persona (-1 = any)
    method: str  # "community x cluster" | fallback name
    stats: dict[str, int] = field(default_factory=dict)

    @property
    def k(self) -> int:
        return int(self.centroids.shape[0])


def l2_normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.asarray(x / np.where(norms == 0, 1.0, norms), dtype=np.float64)


def reduce(x: np.ndarray, dims: int, seed: int) -> np.ndarray:
    """PCA to `dims` (deterministic); unchanged when already small enough."""
    if dims <= 0 or x.shape[1] <= dims or x.shape[0] <= dims:
        return x
    return np.asarray(PCA(dims, svd_solver="full", random_state=seed).fit_transform(x))


def find_personas(
    embeddings: np.ndarray, communities: np.ndarray, config: ClusteringConfig
) -> PersonaClustering:
    """Cluster customers into personas; see the module docstring."""
    n = embeddings.shape[0]
    if n == 0:
        raise ValueError("no customers with behaviour embeddings to cluster")
    x = l2_normalise(np.asarray(embeddings, dtype=np.float64))
    communities = np.asarray(communities, dtype=np.int64)
    cluster = _hdbscan(reduce(x, config.reduce_dims, config.seed), config)
    min_size = min(config.persona_size(n), n)

    attempts = (
        ("community x cluster", communities, cluster),
        ("cluster", np.full(n, -1, dtype=np.int64), cluster),
        ("community", communities, np.zeros(n, dtype=np.int64)),
    )
    method, comm, clus = "all", np.zeros(n, np.int64), np.zeros(n, np.int64)
    keys: list[tuple[int, int]] = [(0, 0)]
    for name, comm_try, clus_try in attempts:
        found = _big_groups(comm_try, clus_try, min_size)
        if found:
            method, comm, clus, keys = name, comm_try, clus_try, found
            break

    index = {key: i for i, key in enumerate(keys)}
    labels = np.full(n, -1, dtype=np.int64)
    via = [VIA_CLUSTER] * n
    for i in range(n):
        if clus[i] >= 0:
            labels[i] = index.get((int(comm[i]), int(clus[i])), -1)
    centroids = _centroids(x, labels, len(keys))

    # small intersections: the group moves to the persona nearest its centroid
    small: dict[tuple[int, int], list[int]] = {}
    for i in np.flatnonzero((labels < 0) & (clus >= 0)).tolist():
        small.setdefault((int(comm[i]), int(clus[i])), []).append(i)
    for members in small.values():
        centre = l2_normalise(x[members].mean(axis=0, keepdims=True))[0]
        labels[members] = int(np.argmax(centroids @ centre))
        for i in members:
            via[i] = VIA_MERGED
    # noise: each point to its nearest centroid, flagged
    noise = np.flatnonzero(labels < 0)
    if noise.size:
        labels[noise] = np.argmax(x[noise] @ centroids.T, axis=1)
        for i in noise.tolist():
            via[i] = VIA_NOISE

    centroids = _centroids(x, labels, len(keys))
    labels, centroids, keys = _order_by_size(labels, centroids, keys)
    similarity = np.einsum("ij,ij->i", x, centroids[labels])
    counts = Counter(via)
    return PersonaClustering(
        labels=labels,
        via=via,
        similarity=similarity,
        centroids=centroids,
        cluster=cluster,
        community=communities,
        persona_keys=keys,
        method=method,
        stats={
            "customers": n,
            "clusters": int(cluster.max() + 1) if cluster.size else 0,
            "communities": len(set(communities.tolist())),
            "personas": len(keys),
            "min_persona_size": min_size,
            "noise": counts[VIA_NOISE],
            "merged": counts[VIA_MERGED],
        },
    )


def nearest_centroid(
    embeddings: np.ndarray, centroids: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(index of the nearest centroid by cosine, its similarity) for each row."""
    sims = l2_normalise(np.asarray(embeddings, dtype=np.float64)) @ centroids.T
    best = np.argmax(sims, axis=1)
    return best, sims[np.arange(len(best)), best]


def _hdbscan(x: np.ndarray, config: ClusteringConfig) -> np.ndarray:
    """HDBSCAN labels; on more than `max_fit_points` rows the model is fitted on a seeded
    sample and the other rows get `approximate_predict` labels (noise stays noise)."""
    n = x.shape[0]
    fit_rows = np.arange(n)
    if n > config.max_fit_points:
        rng = np.random.default_rng(config.seed)
        fit_rows = np.sort(rng.choice(n, size=config.max_fit_points, replace=False))
    size = min(config.cluster_size(fit_rows.size), max(2, fit_rows.size))
    if fit_rows.size < max(size, 3):
        return np.full(n, -1, dtype=np.int64)
    model = hdbscan.HDBSCAN(
        min_cluster_size=size,
        min_samples=min(config.min_samples, size),
        core_dist_n_jobs=1,
        prediction_data=fit_rows.size < n,
    )
    fitted = np.asarray(model.fit_predict(x[fit_rows]), dtype=np.int64)
    if fit_rows.size == n:
        return fitted
    labels, _ = hdbscan.approximate_predict(model, x)
    labels = np.asarray(labels, dtype=np.int64)
    labels[fit_rows] = fitted
    return labels


def _big_groups(comm: np.ndarray, clus: np.ndarray, min_size: int) -> list[tuple[int, int]]:
    """(community, cluster) groups of >= min_size non-noise members, biggest first."""
    counts = Counter((int(a), int(b)) for a, b in zip(comm, clus, strict=True) if b >= 0)
    big = [(key, c) for key, c in counts.items() if c >= min_size]
    return [key for key, _ in sorted(big, key=lambda kc: (-kc[1], kc[0]))]


def _centroids(x: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    out = np.zeros((k, x.shape[1]))
    for j in range(k):
        members = labels == j
        if members.any():
            out[j] = x[members].mean(axis=0)
    return l2_normalise(out)


def _order_by_size(
    labels: np.ndarray, centroids: np.ndarray, keys: list[tuple[int, int]]
) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]:
    """Renumber personas by size (largest = 0), dropping any left empty."""
    sizes = np.bincount(labels, minlength=len(keys))
    order = [j for j in sorted(range(len(keys)), key=lambda j: (-sizes[j], keys[j])) if sizes[j]]
    remap = np.full(len(keys), -1, dtype=np.int64)
    remap[order] = np.arange(len(order))
    return remap[labels], centroids[order], [keys[j] for j in order]
