"""What the API holds for its lifetime: settings, the Neo4j driver, a PostgreSQL pool,
the pseudonymisation key and the recommendation cache. Created once at startup (the
app's lifespan), closed at shutdown, and handed to handlers as the `resources`
dependency, so a test can pass in its own.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Hashable
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import NamedDependency
from neo4j import Driver
from psycopg_pool import ConnectionPool

from ragrec.config import Settings
from ragrec.etl.pseudonymise import pseudonymise_customer_id
from ragrec.services import neo4j as neo4j_service

log = logging.getLogger("ragrec.api")


class TTLCache:
    """A small thread-safe LRU cache with a time-to-live, per process."""

    def __init__(self, ttl_s: float, max_size: int) -> None:
        self.ttl_s = ttl_s
        self.max_size = max_size
        self._items: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.ttl_s > 0

    def get(self, key: Hashable) -> Any | None:
        if not self.enabled:
            return None
        with self._lock:
            hit = self._items.get(key)
            if hit is None:
                return None
            expires, value = hit
            if expires < time.monotonic():
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return value

    def put(self, key: Hashable, value: Any) -> None:
        if not self.enabled:
            return
        with self._lock:
            self._items[key] = (time.monotonic() + self.ttl_s, value)
            self._items.move_to_end(key)
            while len(self._items) > self.max_size:
                self._items.popitem(last=False)

    def evict(self, predicate: Callable[[Hashable], bool]) -> int:
        """Drop every entry whose key matches; returns how many were dropped."""
        with self._lock:
            doomed = [k for k in self._items if predicate(k)]
            for k in doomed:
                del self._items[k]
            return len(doomed)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class Resources:
    """Long-lived clients of one API process (a plain class: Litestar injects it as is)."""

    def __init__(
        self,
        settings: Settings,
        driver: Driver,
        pg: ConnectionPool,
        pseudonym_key: bytes,
        cache: TTLCache,
    ) -> None:
        self.settings = settings
        self.driver = driver
        self.pg = pg
        self.pseudonym_key = pseudonym_key
        self.cache = cache
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
            cache=TTLCache(settings.api_cache_ttl_s, settings.api_cache_size),
        )

    @property
    def database(self) -> str:
        return self.settings.neo4j_database

    def pseudonym(self, customer_id: str) -> str:
        """The stored (pseudonymous) id of the shop's customer id."""
        return pseudonymise_customer_id(customer_id, self.pseudonym_key)

    def evict_customer(self, pseudonym: str) -> int:
        """Drop the cached responses of one customer (cache keys carry it at index 1)."""
        return self.cache.evict(
            lambda key: isinstance(key, tuple) and len(key) > 1 and key[1] == pseudonym
        )

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
