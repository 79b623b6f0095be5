"""What the API holds for its lifetime: settings, the Neo4j driver, a PostgreSQL pool,
the pseudonymisation key, the API keys and the recommendation cache (shared by every
worker, in PostgreSQL: `app.lib.cache`). Created once at startup (the
app's lifespan), closed at shutdown, and handed to handlers as the `resources`
dependency, so a test can pass in its own.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import NamedDependency
from neo4j import Driver
from psycopg_pool import ConnectionPool

from app.lib.cache import SharedCache
from ragrec.config import Settings
from ragrec.etl.pseudonymise import pseudonymise_customer_id
from ragrec.services import neo4j as neo4j_service

log = logging.getLogger("ragrec.api")


class Resources:
    """Long-lived clients of one API process (a plain class: Litestar injects it as is)."""

    def __init__(
        self,
        settings: Settings,
        driver: Driver,
        pg: ConnectionPool,
        pseudonym_key: bytes,
        cache: SharedCache,
        api_keys: dict[str, list[str]] | None = None,
    ) -> None:
        self.settings = settings
        self.driver = driver
        self.pg = pg
        self.pseudonym_key = pseudonym_key
        self.cache = cache
        #: keys per scope (`app.lib.security`)
        self.api_keys = api_keys if api_keys is not None else settings.effective_api_keys()
        self._lazy: dict[str, Any] = {}
        self._lazy_lock = threading.Lock()

    @classmethod
    def open(cls, settings: Settings) -> Resources:
        pg = ConnectionPool(
            settings.effective_pg_dsn(),
            min_size=1,
            max_size=4,
            open=True,
            timeout=10,
            name="ragrec-api",
            # ops: a connection left stale by a PostgreSQL restart is replaced, not used
            check=ConnectionPool.check_connection,
        )
        return cls(
            settings=settings,
            driver=neo4j_service.api_driver(settings),  # ops: bounded wait when down
            pg=pg,
            pseudonym_key=settings.effective_pseudonym_key(),
            cache=SharedCache(
                settings.effective_pg_dsn(), settings.api_cache_ttl_s, settings.api_cache_size
            ),
            api_keys=settings.effective_api_keys(),
        )

    @property
    def database(self) -> str:
        return self.settings.neo4j_database

    def pseudonym(self, customer_id: str) -> str:
        """The stored (pseudonymous) id of the shop's customer id."""
        return pseudonymise_customer_id(customer_id, self.pseudonym_key)

    def evict_customer(self, pseudonym: str) -> int:
        """Drop the cached responses of one customer in every worker (cache keys carry
        the pseudonym at index 1)."""
        return self.cache.evict_customer(pseudonym)

    def lazy(self, name: str, factory: Callable[[], Any]) -> Any:
        """A component built on first use and kept (a recommender, a retriever)."""
        value = self._lazy.get(name)
        if value is None:
            with self._lazy_lock:
                value = self._lazy.get(name)
                if value is None:
                    value = factory()
                    self._lazy[name] = value
        return value

    def close(self) -> None:
        for value in self._lazy.values():
            close = getattr(value, "close", None)
            if callable(close):
                try:
                    close()
                except Exception:  # closing must not stop the other closes
                    log.exception("closing %r failed", value)
        self._lazy.clear()
        if self.settings.local_qdrant:  # release the embedded shards for other processes
            from ragrec.vectorstores.qdrant import close_edge_handles

            close_edge_handles()
        self.cache.close()
        self.pg.close()
        self.driver.close()


def lifespan(settings: Settings, given: Resources | None) -> Callable[[Litestar], Any]:
    """The app's lifespan: open the resources (unless given) and close them at shutdown."""

    @asynccontextmanager
    async def _lifespan(app: Litestar) -> AsyncIterator[None]:
        from app.lib.engines import warm_up

        resources = given or Resources.open(settings)
        app.state.resources = resources
        warm_up(resources)
        try:
            yield
        finally:
            if given is None:
                resources.close()

    return _lifespan


def provide_resources(state: State) -> Resources:
    resources: Resources = state.resources
    return resources


#: how handlers declare the dependency (`resources: ResourcesDep`)
ResourcesDep = NamedDependency[Resources]
