from __future__ import annotations

from typing import Any

import msgspec


class GraphExport(msgspec.Struct, kw_only=True):
    customer: dict[str, Any]
    purchases: list[dict[str, Any]]
    interactions: list[dict[str, Any]]
    personas: list[dict[str, Any]]
    relationships: list[dict[str, Any]]


class CustomerExport(msgspec.Struct, kw_only=True):
    """Everything held about the customer. The pseudonym the stores use and the shop's
    own id are never returned: where a store holds the pseudonym, `"(this customer)"`
    stands in its place."""

    exported_at: str
    graph: GraphExport | None
    pgvector: dict[str, list[dict[str, Any]]]
    qdrant: list[dict[str, Any]]
    training_data: list[dict[str, Any]]


class ErasureResult(msgspec.Struct, kw_only=True):
    """What was erased, per store. The audit record (`audit_id`) holds these counts and
    no personal data."""

    audit_id: str
    at: str
    neo4j_nodes: int
    neo4j_relationships: int
    persona_memberships: int
    pgvector_rows: int
    qdrant_points: int
    training_rows: int
    cache_entries: int
    stores: dict[str, int]
