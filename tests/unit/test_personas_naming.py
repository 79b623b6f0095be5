"""Persona names and descriptions, and the drift report."""

from __future__ import annotations

from collections import Counter

import pytest

from ragrec.personas.drift import PersonaShare, drift_report
from ragrec.personas.naming import (
    PersonaProfile,
    name_persona,
    plural,
    price_label,
    unique_names,
)


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("Dress", "dresses"),
        ("Blouse", "blouses"),
        ("T-shirt", "t-shirts"),
        ("Trousers", "trousers"),
        ("Hat/beanie", "hat/beanie"),
        ("Sweater", "sweaters"),
    ],
)
def test_plural(word: str, expected: str) -> None:
    assert plural(word) == expected


def test_price_label() -> None:
    assert price_label(0.2) == "budget"
    assert price_label(1.0) == "mid-price"
    assert price_label(1.8) == "premium"
    assert price_label(None) == "price n/a"


def test_name_from_dominant_group_types_age_and_price() -> None:
    profile = PersonaProfile(
        index_groups=Counter({"Ladieswear": 80, "Divided": 20}),
        product_types=Counter({"Dress": 40, "Blouse": 30, "Unknown": 50, "Top": 5}),
        ages=Counter({"25-34": 60, "unknown": 90, "35-44": 30}),
        price_level_sum=100.0,
        price_level_items=100,
    )
    name, description = name_persona(profile)
    assert name == "Ladieswear · dresses & blouses · 25-34 · mid-price"
    assert "Ladieswear 80%" in description and "mean price level 1.00" in description


def test_unique_names() -> None:
    assert unique_names(["a", "b", "a", "a"]) == ["a", "b", "a (2)", "a (3)"]


def _share(pid: str, size: int, **profile: float) -> PersonaShare:
    return PersonaShare(pid, pid.upper(), size, {f"type:{k}": v for k, v in profile.items()})


def test_drift_matches_personas_by_purchase_profile() -> None:
    before = [_share("old-1", 50, Dress=0.8, Top=0.2), _share("old-2", 50, Boxers=0.9, Socks=0.1)]
    now = [_share("new-1", 70, Boxers=0.85, Socks=0.15), _share("new-2", 30, Dress=0.7, Top=0.3)]
    report = drift_report(now, before, current_version="v2", previous_version="v1")
    by_id = {r["id"]: r for r in report.rows}
    assert by_id["new-1"]["previous"] == "old-2" and by_id["new-2"]["previous"] == "old-1"
    assert report.total_variation == pytest.approx(0.2)
    assert report.alert  # 0.2 > default threshold 0.1


def test_drift_new_and_vanished_personas() -> None:
    before = [_share("old", 10, Dress=1.0)]
    now = [_share("new", 10, Boxers=1.0)]
    report = drift_report(now, before, current_version="v2", previous_version="v1")
    assert {r["change"] for r in report.rows} == {"new", "vanished"}
    assert report.total_variation == pytest.approx(1.0)


def test_first_discovery_has_no_drift() -> None:
    report = drift_report(
        [_share("p", 5, Dress=1.0)], None, current_version="v1", previous_version=None
    )
    assert report.total_variation == 0.0 and not report.alert
