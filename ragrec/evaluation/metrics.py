"""Ranking metrics over one ranked list and the set of relevant (later bought) items.
Binary relevance; every function returns 0.0 when nothing is relevant."""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Sequence

import numpy as np


def dcg_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    return sum(1.0 / math.log2(i + 2) for i, item in enumerate(ranked[:k]) if item in relevant)


def ndcg_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    if not relevant:
        return 0.0
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(relevant), k)))
    return dcg_at_k(ranked, relevant, k) / ideal


def precision_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Hits in the top k over k (a list shorter than k is not rewarded)."""
    return sum(1 for item in ranked[:k] if item in relevant) / k


def recall_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    if not relevant:
        return 0.0
    return sum(1 for item in ranked[:k] if item in relevant) / len(relevant)


def hit_rate_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    return 1.0 if any(item in relevant for item in ranked[:k]) else 0.0


def average_precision_at_k(ranked: Sequence[str], relevant: Collection[str], k: int = 12) -> float:
    """The H&M competition's AP@12: sum of precision@i at each hit, over min(|relevant|, k)."""
    if not relevant:
        return 0.0
    hits, total = 0, 0.0
    seen: set[str] = set()
    for i, item in enumerate(ranked[:k], start=1):
        if item in relevant and item not in seen:
            hits += 1
            total += hits / i
        seen.add(item)
    return total / min(len(relevant), k)


def coverage(lists: Iterable[Sequence[str]], catalogue_size: int, k: int) -> float:
    """Share of the catalogue that appears in at least one top-k list."""
    if catalogue_size <= 0:
        return 0.0
    return len({item for ranked in lists for item in ranked[:k]}) / catalogue_size


def summarise(
    ranked_lists: Sequence[Sequence[str]],
    relevant: Sequence[Collection[str]],
    catalogue_size: int,
    k: int = 10,
    latencies_ms: Sequence[float] = (),
) -> dict[str, float]:
    """Mean metrics over requests: nDCG@k, P@5, recall@k, HR@k, MAP@12, coverage, latency."""
    n = len(ranked_lists)
    if n != len(relevant):
        raise ValueError("one relevant set per ranked list")

    def mean(values: Iterable[float]) -> float:
        vals = list(values)
        return float(sum(vals) / len(vals)) if vals else 0.0

    pairs = list(zip(ranked_lists, relevant, strict=True))
    out = {
        f"ndcg@{k}": mean(ndcg_at_k(r, rel, k) for r, rel in pairs),
        "precision@5": mean(precision_at_k(r, rel, 5) for r, rel in pairs),
        f"recall@{k}": mean(recall_at_k(r, rel, k) for r, rel in pairs),
        f"hr@{k}": mean(hit_rate_at_k(r, rel, k) for r, rel in pairs),
        "map@12": mean(average_precision_at_k(r, rel, 12) for r, rel in pairs),
        "coverage": coverage(ranked_lists, catalogue_size, k),
        "requests": float(n),
    }
    if latencies_ms:
        arr = np.asarray(latencies_ms, dtype=float)
        out["p50_ms"] = float(np.percentile(arr, 50))
        out["p95_ms"] = float(np.percentile(arr, 95))
    return out
