"""Shared fixtures. Integration tests talk to the real services that `make test` starts;
when one is unreachable the test fails with a message naming it (never a skip)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from neo4j import Driver

from ragrec.config import Settings, get_settings
from ragrec.services import neo4j as neo4j_service


@pytest.fixture(scope="session")
def settings() -> Settings:
    return get_settings()


@pytest.fixture(scope="session")
def neo4j_driver(settings: Settings) -> Iterator[Driver]:
    state = neo4j_service.status(settings)
    if not state.reachable:
        pytest.fail(
            f"Neo4j + GDS ({state.mode}, {state.listen}) is not reachable: {state.detail}. "
            "Start it with `ragrec services up` or point RAGREC_NEO4J_URI at a Neo4j with GDS.",
            pytrace=False,
        )
    drv = neo4j_service.driver(settings)
    yield drv
    drv.close()
