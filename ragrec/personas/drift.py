"""Persona drift: the persona distribution now against the previous persona version.

Personas of two versions are matched by what they buy: the cosine of their purchase
profiles (share of items per product type and index group) must reach
`match_threshold`; each previous persona is used once, greedily by similarity.
Profiles, unlike embedding centroids, stay comparable when FastRP is re-run with
another seed or on changed data (its random basis changes). Unmatched personas count
as appeared or vanished. The report gives per-persona shares, the total variation distance
(0.5 x sum |p - q|, 0..1) and the population stability index; `alert` is set when
the distance exceeds `threshold` (consumed later by the n8n drift alert).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np


@dataclass
class PersonaShare:
    id: str
    name: str
    size: int
    profile: dict[str, float]  # "type:Dress" / "group:Ladieswear" -> share of items


@dataclass
class DriftReport:
    previous_version: str | None
    current_version: str
    total_variation: float
    psi: float
    alert: bool
    threshold: float
    rows: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def drift_report(
    current: list[PersonaShare],
    previous: list[PersonaShare] | None,
    *,
    current_version: str,
    previous_version: str | None,
    threshold: float = 0.1,
    match_threshold: float = 0.8,
) -> DriftReport:
    rows: list[dict[str, Any]]
    if not previous:
        rows = [
            {"persona": p.name, "id": p.id, "previous": None, "share": _share(p, current),
             "previous_share": 0.0, "change": "new"}
            for p in current
        ]  # fmt: skip
        return DriftReport(None, current_version, 0.0, 0.0, False, threshold, rows)
    pairs = _match(current, previous, match_threshold)
    rows = []
    now_shares: list[float] = []
    before_shares: list[float] = []
    for i, p in enumerate(current):
        j = pairs.get(i)
        before = _share(previous[j], previous) if j is not None else 0.0
        now = _share(p, current)
        now_shares.append(now)
        before_shares.append(before)
        rows.append(
            {
                "persona": p.name,
                "id": p.id,
                "previous": previous[j].id if j is not None else None,
                "share": now,
                "previous_share": before,
                "change": "new" if j is None else f"{now - before:+.3f}",
            }
        )
    for j in sorted(set(range(len(previous))) - set(pairs.values())):
        before = _share(previous[j], previous)
        now_shares.append(0.0)
        before_shares.append(before)
        rows.append(
            {"persona": previous[j].name, "id": None, "previous": previous[j].id, "share": 0.0,
             "previous_share": before, "change": "vanished"}
        )  # fmt: skip
    tvd = 0.5 * float(np.abs(np.array(now_shares) - np.array(before_shares)).sum())
    eps = 1e-4
    psi = sum(
        (a - b) * math.log((a + eps) / (b + eps))
        for a, b in zip(now_shares, before_shares, strict=True)
    )
    return DriftReport(
        previous_version, current_version, round(tvd, 4), round(psi, 4), tvd > threshold,
        threshold, rows,
    )  # fmt: skip


def _share(p: PersonaShare, group: list[PersonaShare]) -> float:
    total = sum(x.size for x in group) or 1
    return round(p.size / total, 4)


def _match(
    current: list[PersonaShare], previous: list[PersonaShare], threshold: float
) -> dict[int, int]:
    keys = sorted({k for p in [*current, *previous] for k in p.profile})
    if not keys:
        return {}
    a = _unit(np.array([[p.profile.get(k, 0.0) for k in keys] for p in current]))
    b = _unit(np.array([[p.profile.get(k, 0.0) for k in keys] for p in previous]))
    sims = a @ b.T
    pairs: dict[int, int] = {}
    used: set[int] = set()
    for flat in np.argsort(-sims, axis=None, kind="stable"):
        i, j = divmod(int(flat), sims.shape[1])
        if sims[i, j] < threshold:
            break
        if i in pairs or j in used:
            continue
        pairs[i] = j
        used.add(j)
    return pairs


def _unit(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms == 0, 1.0, norms)
