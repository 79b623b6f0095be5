"""Run a named Cypher file (see `ragrec.cypher`) against the API's driver."""

from __future__ import annotations

from typing import Any

from neo4j import RoutingControl

from app.lib.resources import Resources
from ragrec.cypher import query


def read(resources: Resources, name: str, **params: Any) -> list[dict[str, Any]]:
    records, _, _ = resources.driver.execute_query(
        query(name), params, database_=resources.database, routing_=RoutingControl.READ
    )
    return [r.data() for r in records]


def write(resources: Resources, name: str, **params: Any) -> list[dict[str, Any]]:
    records, _, _ = resources.driver.execute_query(
        query(name), params, database_=resources.database, routing_=RoutingControl.WRITE
    )
    return [r.data() for r in records]


def jsonable(value: Any) -> Any:
    """Neo4j values (temporal types, nodes' property maps) as JSON-ready Python values."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if hasattr(value, "iso_format"):
        return value.iso_format()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)
