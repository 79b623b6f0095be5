"""Shared fixtures. Integration tests talk to real services, never the user's own.

Before any test module is imported, this file points every ``RAGREC_*`` setting at a
private stack (Neo4j + GDS, PostgreSQL + pgvector, Qdrant) under ``$RAGREC_TEST_HOME``
(default ``.ragrec/test``) with its own ports, so ``get_settings()`` in the tests, and any
``ragrec`` subprocess they start, use it. ``make test`` therefore never touches the graph,
tables or collections that ``make demo`` loaded; the ``user_data_unchanged`` fixture checks
that by comparing the user's graph counts before and after the run (when it is running).

The stack is started on first use (integration tests) and left running, like
``ragrec services up``, so the next run starts fast; ``RAGREC_HOME=.ragrec/test ragrec services
down`` stops it. Two runs on one test home at once are refused (a lock), so parallel
runs use different ``RAGREC_TEST_HOME`` values. A service that cannot start fails the test
with a message naming it (never a skip).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from neo4j import Driver, GraphDatabase

from ragrec.config import PROJECT_ROOT, Settings, get_settings
from ragrec.services import sandbox

# -- the user's settings, read once before the environment is pointed at the test stack
for _var in sandbox.EXTERNAL_VARS:
    os.environ.pop(_var, None)
USER_SETTINGS = Settings()
TEST_HOME = Path(os.environ.get("RAGREC_TEST_HOME") or PROJECT_ROOT / ".ragrec" / "test")
os.environ.update(
    sandbox.sandbox_env(
        USER_SETTINGS,
        TEST_HOME,
        heap=os.environ.get("RAGREC_TEST_NEO4J_HEAP", "2g"),
        pagecache=os.environ.get("RAGREC_TEST_NEO4J_PAGECACHE", "512m"),
    )
)
get_settings.cache_clear()

_lock_handle: Any = None


def pytest_configure(config: pytest.Config) -> None:
    global _lock_handle
    TEST_HOME.mkdir(parents=True, exist_ok=True)
    _lock_handle = (TEST_HOME / ".lock").open("w")
    try:
        fcntl.flock(_lock_handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise pytest.UsageError(
            f"another test run is using the test stack in {TEST_HOME}; wait for it, or give "
            "this run its own with RAGREC_TEST_HOME=<folder>"
        ) from None


@pytest.fixture(scope="session", autouse=True)
def _stack_when_needed(request: pytest.FixtureRequest) -> None:
    """Integration and end-to-end tests get the running test stack, even those that read
    ``get_settings()`` directly; a run of unit tests alone starts nothing."""
    for item in request.session.items:
        parts = Path(str(item.fspath)).parts
        if "integration" in parts or "e2e" in parts:
            request.getfixturevalue("test_stack")
            return


def _user_graph_counts() -> dict[str, Any] | None:
    """Node and relationship counts of the user's own graph, or None when it is not running."""
    if not USER_SETTINGS.local_neo4j:
        return None
    try:
        password = USER_SETTINGS.effective_neo4j_password()
        drv = GraphDatabase.driver(
            USER_SETTINGS.effective_neo4j_uri(),
            auth=(USER_SETTINGS.neo4j_user, password),
            connection_timeout=3,
            max_transaction_retry_time=0,
        )
        try:
            records, _, _ = drv.execute_query(
                "MATCH (n) WITH count(n) AS nodes "
                "OPTIONAL MATCH ()-[r]->() RETURN nodes, count(r) AS rels",
                database_=USER_SETTINGS.neo4j_database,
            )
            return {"nodes": records[0]["nodes"], "relationships": records[0]["rels"]}
        finally:
            drv.close()
    except Exception:
        return None


@pytest.fixture(scope="session", autouse=True)
def user_data_unchanged() -> Iterator[None]:
    """The user's graph (``make demo``'s) has the same counts after the run as before."""
    before = _user_graph_counts()
    yield
    if before is None:
        return
    after = _user_graph_counts()
    assert after is None or after == before, (
        f"the test run changed the user's graph: {before} before, {after} after"
    )


@pytest.fixture(scope="session")
def test_stack() -> Settings:
    """Start (or reuse) the private stack; the settings that point at it."""
    settings = get_settings()
    assert settings.home.resolve() == TEST_HOME.resolve() and settings.local_neo4j, (
        "tests must run against the private test stack; check RAGREC_* variables and .env"
    )
    try:
        sandbox.ensure_up(USER_SETTINGS, settings)
    except Exception as exc:
        pytest.fail(f"could not start the test stack in {TEST_HOME}: {exc}", pytrace=False)
    return settings


@pytest.fixture(scope="session")
def settings(test_stack: Settings) -> Settings:
    return test_stack


@pytest.fixture(scope="session")
def neo4j_driver(settings: Settings) -> Iterator[Driver]:
    from ragrec.services import neo4j as neo4j_service

    state = neo4j_service.status(settings)
    if not state.reachable:
        pytest.fail(
            f"Neo4j + GDS of the test stack ({state.mode}, {state.listen}) is not reachable: "
            f"{state.detail}.",
            pytrace=False,
        )
    drv = neo4j_service.driver(settings)
    yield drv
    drv.close()


class AppClients:
    """`make(settings)`: an in-process API client (`create_app`, lifespan entered), as many
    as a test needs; `close()` ends them all (the `app_clients` fixture does at teardown)."""

    def __init__(self) -> None:
        self.clients: list[Any] = []

    def __call__(self, settings: Settings) -> Any:
        from litestar.testing import TestClient

        from app.main import create_app

        client = TestClient(app=create_app(settings))
        client.__enter__()
        self.clients.append(client)
        return client

    def close(self) -> None:
        while self.clients:
            self.clients.pop().__exit__(None, None, None)


@pytest.fixture
def app_clients() -> Iterator[AppClients]:
    clients = AppClients()
    yield clients
    clients.close()
