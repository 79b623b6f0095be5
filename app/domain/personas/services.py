from __future__ import annotations

import json
from typing import Any

import msgspec

from app.domain.personas.schemas import (
    CategoryCount,
    CustomerPersona,
    Membership,
    PersonaList,
    PersonaSummary,
)
from app.lib.errors import NotFound
from app.lib.resources import Resources
from ragrec.personas.service import current_personas, customer_persona


def list_personas(resources: Resources) -> PersonaList:
    rows = current_personas(resources.driver, resources.database)
    return PersonaList(personas=[_persona(r) for r in rows])


def persona_of(resources: Resources, customer_id: str) -> CustomerPersona:
    pseudonym = resources.pseudonym(customer_id)
    info = customer_persona(resources.driver, resources.database, pseudonym)
    if info is None:
        raise NotFound("unknown customer: no such customer is known", field="customer_id")
    persona, membership = info.get("persona"), info.get("membership")
    return CustomerPersona(
        age_bracket=info.get("age_bracket"),
        community_id=info.get("community_id"),
        community_version=info.get("community_version"),
        purchases=int(info.get("purchases") or 0),
        interactions=int(info.get("interactions") or 0),
        persona=_persona(persona) if persona else None,
        membership=msgspec.convert(membership, Membership, strict=False) if membership else None,
        reason=info.get("reason"),
        categories=_categories(info.get("categories")),
        community_categories=_categories(info.get("community_categories")),
    )


def _persona(row: dict[str, Any]) -> PersonaSummary:
    data = {k: v for k, v in row.items() if k != "centroid" and v is not None}
    mix = data.get("age_mix")
    if isinstance(mix, str):
        try:
            data["age_mix"] = json.loads(mix)
        except ValueError:
            data.pop("age_mix")
    return msgspec.convert(data, PersonaSummary, strict=False)


def _categories(rows: Any) -> list[CategoryCount]:
    return msgspec.convert(rows or [], list[CategoryCount], strict=False)
