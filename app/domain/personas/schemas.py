from __future__ import annotations

from typing import Any

import msgspec


class PersonaSummary(msgspec.Struct, kw_only=True):
    id: str
    name: str | None = None
    description: str | None = None
    size: int | None = None
    version: int | None = None
    top_categories: list[str] = msgspec.field(default_factory=list)
    top_index_groups: list[str] = msgspec.field(default_factory=list)
    age_mix: dict[str, float] = msgspec.field(default_factory=dict)
    price_level: float | None = None
    price_label: str | None = None
    community_id: int | None = None


class PersonaList(msgspec.Struct, kw_only=True):
    personas: list[PersonaSummary]


class Membership(msgspec.Struct, kw_only=True):
    via: str | None = None
    similarity: float | None = None
    version: int | None = None


class CategoryCount(msgspec.Struct, kw_only=True):
    product_type: str | None = None
    index_group: str | None = None
    product_group: str | None = None
    items: int | None = None
    products: int | None = None


class CustomerPersona(msgspec.Struct, kw_only=True):
    """The customer's persona (or `reason` why there is none), community and what they
    bought. Neither the shop's id nor the pseudonym is returned."""

    age_bracket: str | None = None
    community_id: int | None = None
    community_version: Any = None
    purchases: int = 0
    interactions: int = 0
    persona: PersonaSummary | None = None
    membership: Membership | None = None
    reason: str | None = None
    categories: list[CategoryCount] = msgspec.field(default_factory=list)
    community_categories: list[CategoryCount] = msgspec.field(default_factory=list)
