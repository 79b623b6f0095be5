"""Persona names and descriptions derived from what their members buy and who they are.

`name_persona(profile)` -> ("Ladieswear · dresses & blouses · 25-34 · mid-price",
a one-sentence description with the shares behind each part).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

SEPARATOR = " · "
UNKNOWN = {"unknown", "", "n/a"}


@dataclass
class PersonaProfile:
    """Purchase and customer mix of one persona (counts weighted by quantity)."""

    index_groups: Counter[str] = field(default_factory=Counter)
    product_types: Counter[str] = field(default_factory=Counter)
    ages: Counter[str] = field(default_factory=Counter)
    price_level_sum: float = 0.0
    price_level_items: int = 0
    price_levels: int = 3

    @property
    def price_level(self) -> float | None:
        """Mean price level of the items bought (0 = cheapest level), None if unknown."""
        return self.price_level_sum / self.price_level_items if self.price_level_items else None

    def top(self, counter: Counter[str], k: int) -> list[tuple[str, float]]:
        total = sum(counter.values()) or 1
        ranked = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
        return [(name, count / total) for name, count in ranked]


def price_label(level: float | None, levels: int = 3) -> str:
    if level is None or levels < 2:
        return "price n/a"
    relative = level / (levels - 1)
    if relative < 0.375:
        return "budget"
    if relative > 0.625:
        return "premium"
    return "mid-price"


def plural(product_type: str) -> str:
    """`Dress` -> `dresses`, `T-shirt` -> `t-shirts`, `Trousers` stays (lower case)."""
    word = product_type.strip().lower()
    if not word or (word.endswith("s") and not word.endswith("ss")) or "/" in word:
        return word
    if word.endswith(("ss", "sh", "ch", "x")):
        return word + "es"
    if word.endswith("y") and len(word) > 1 and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def name_persona(profile: PersonaProfile) -> tuple[str, str]:
    """(name, description) of a persona from its profile."""
    groups = profile.top(_known(profile.index_groups), 2)
    types = profile.top(_known(profile.product_types), 3)
    ages = profile.top(_known(profile.ages), 2)
    price = price_label(profile.price_level, profile.price_levels)
    parts = [
        groups[0][0] if groups else "mixed",
        " & ".join(plural(t) for t, _ in types[:2]) or "mixed items",
        ages[0][0] if ages else "age n/a",
        price,
    ]
    name = SEPARATOR.join(parts)
    description = (
        f"Buys mostly {_shares(groups)}; top product types {_shares(types)}; "
        f"ages {_shares(ages)}; {price} within each product group"
        + (
            f" (mean price level {profile.price_level:.2f} of 0..{profile.price_levels - 1})."
            if profile.price_level is not None
            else "."
        )
    )
    return name, description


def unique_names(names: list[str]) -> list[str]:
    """Disambiguate repeated names with " (2)", " (3)", ... in order."""
    seen: Counter[str] = Counter()
    out = []
    for name in names:
        seen[name] += 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


def _known(counter: Counter[str]) -> Counter[str]:
    """Without "Unknown"-like values (H&M has product type "Unknown"), unless that is all."""
    known = Counter({k: v for k, v in counter.items() if k.strip().lower() not in UNKNOWN})
    return known or counter


def _shares(items: list[tuple[str, float]]) -> str:
    return ", ".join(f"{name} {share:.0%}" for name, share in items) or "n/a"
