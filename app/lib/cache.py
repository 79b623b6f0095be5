"""One recommendation cache for every API worker, in PostgreSQL.

Entries live in an UNLOGGED table (`api_cache`), keyed by a hash of the request and
tagged with a hash of the customer's pseudonym (never the pseudonym itself). Erasure, a
new interaction or a persona refresh deletes the entries there, so no worker can serve
them afterwards. A request that was already computing when the invalidation came cannot
write its (stale) answer back: every invalidation is stamped in `api_cache_invalidations`
and a write is refused when an invalidation of its customer (or of everything) is newer
than the moment its lookup missed. Times are PostgreSQL's clock, the same for everyone.

If PostgreSQL does not answer, the cache is bypassed (a miss, no write) for a few
seconds: it never fails a request and never serves what it cannot check.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import threading
import time
from collections.abc import Hashable
from datetime import datetime
from typing import Any

import msgspec
from psycopg import sql
from psycopg_pool import ConnectionPool

log = logging.getLogger("ragrec.api")

TABLE = "api_cache"
INVALIDATIONS = "api_cache_invalidations"
ALL = "*"
#: seconds the cache is bypassed after PostgreSQL failed to answer
BACKOFF_S = 5.0
#: an invalidation stamp is kept this long (longer than any request takes)
STAMP_KEEP_S = 600
_SCHEMA = (
    f"CREATE UNLOGGED TABLE IF NOT EXISTS {TABLE} ("
    "key text PRIMARY KEY, customer text, expires_at timestamptz NOT NULL, "
    "type text NOT NULL, value bytea NOT NULL)",
    f"CREATE INDEX IF NOT EXISTS {TABLE}_customer ON {TABLE} (customer)",
    f"CREATE INDEX IF NOT EXISTS {TABLE}_expires ON {TABLE} (expires_at)",
    f"CREATE UNLOGGED TABLE IF NOT EXISTS {INVALIDATIONS} ("
    "customer text PRIMARY KEY, at timestamptz NOT NULL)",
)
_GET = (
    "SELECT clock_timestamp(), c.type, c.value FROM (SELECT 1) AS one "
    f"LEFT JOIN {TABLE} AS c ON c.key = %s AND c.expires_at > clock_timestamp()"
)
_PUT = (
    f"INSERT INTO {TABLE} (key, customer, expires_at, type, value) "
    "SELECT %(key)s, %(customer)s, clock_timestamp() + make_interval(secs => %(ttl)s), "
    "%(type)s, %(value)s "
    f"WHERE NOT EXISTS (SELECT 1 FROM {INVALIDATIONS} AS i "
    "WHERE i.customer IN (%(customer)s, '*') AND i.at >= %(started)s) "
    "ON CONFLICT (key) DO UPDATE SET customer = excluded.customer, "
    "expires_at = excluded.expires_at, type = excluded.type, value = excluded.value"
)
_STAMP = (
    f"INSERT INTO {INVALIDATIONS} (customer, at) VALUES (%s, clock_timestamp()) "
    "ON CONFLICT (customer) DO UPDATE SET at = excluded.at"
)


def customer_tag(pseudonym: str) -> str:
    """What the cache stores instead of the pseudonym."""
    return hashlib.sha256(b"ragrec-cache|" + pseudonym.encode()).hexdigest()[:32]


def _entry_key(key: Hashable) -> str:
    return hashlib.sha256(repr(key).encode()).hexdigest()


def _type_name(value: Any) -> str:
    cls = type(value)
    return f"{cls.__module__}:{cls.__qualname__}"


def _type_of(name: str) -> type[msgspec.Struct] | None:
    module, _, qualname = name.partition(":")
    if not module.startswith(("app.", "ragrec.")):
        return None
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    if isinstance(obj, type) and issubclass(obj, msgspec.Struct):
        return obj
    return None


class SharedCache:
    """`get`/`put`/`evict_customer`/`clear` over PostgreSQL (the interface of the old
    per-process cache: keys are tuples whose item 1 is the customer's pseudonym or None;
    values are msgspec Structs)."""

    def __init__(self, dsn: str, ttl_s: float, max_size: int, pool_size: int = 4) -> None:
        self.ttl_s = ttl_s
        self.max_size = max_size
        self._dsn = dsn
        self._pool: ConnectionPool | None = None
        self._pool_size = pool_size
        self._down_until = 0.0
        self._ready = False
        self._lock = threading.Lock()
        self._misses = threading.local()
        self._writes = 0

    @property
    def enabled(self) -> bool:
        return self.ttl_s > 0

    # -- plumbing ---------------------------------------------------------------------------

    def _connection(self) -> Any:
        if time.monotonic() < self._down_until:
            return None
        with self._lock:
            if self._pool is None:
                self._pool = ConnectionPool(
                    self._dsn,
                    min_size=1,
                    max_size=self._pool_size,
                    open=True,
                    timeout=1.0,
                    name="ragrec-api-cache",
                    kwargs={"autocommit": True},
                    check=ConnectionPool.check_connection,
                )
        return self._pool.connection(timeout=1.0)

    def _run(self, action: Any) -> Any:
        """Run `action(conn)`; None (and a short bypass) if PostgreSQL does not answer."""
        try:
            ctx = self._connection()
            if ctx is None:
                return None
            with ctx as conn:
                if not self._ready:
                    for stmt in _SCHEMA:
                        conn.execute(stmt)
                    self._ready = True
                return action(conn)
        except Exception as exc:  # the cache must never fail a request
            self._down_until = time.monotonic() + BACKOFF_S
            log.warning("shared cache bypassed for %.0fs: %s", BACKOFF_S, type(exc).__name__)
            return None

    # -- the cache ----------------------------------------------------------------------------

    def get(self, key: Hashable) -> Any | None:
        if not self.enabled:
            return None
        entry = _entry_key(key)
        row = self._run(lambda conn: conn.execute(_GET, (entry,)).fetchone())
        if row is None:
            return None
        now, type_name, value = row
        if value is None:
            self._pending()[entry] = now
            return None
        cls = _type_of(type_name)
        if cls is None:
            return None
        try:
            return msgspec.msgpack.decode(value, type=cls)
        except msgspec.DecodeError:  # written by another version: recompute
            return None

    def put(self, key: Hashable, value: Any) -> None:
        if not self.enabled:
            return
        entry = _entry_key(key)
        started: datetime | None = self._pending().pop(entry, None)
        if started is None:
            return  # no lookup before: cannot prove the answer is newer than an erasure
        customer = key[1] if isinstance(key, tuple) and len(key) > 1 else None
        params = {
            "key": entry,
            "customer": customer_tag(customer) if isinstance(customer, str) else None,
            "ttl": self.ttl_s,
            "type": _type_name(value),
            "value": msgspec.msgpack.encode(value),
            "started": started,
        }
        self._run(lambda conn: conn.execute(_PUT, params))
        self._writes += 1
        if self._writes % 200 == 0:
            self._trim()

    def evict_customer(self, pseudonym: str) -> int:
        """Drop the customer's cached answers in every worker; returns how many."""
        tag = customer_tag(pseudonym)

        def run(conn: Any) -> int:
            conn.execute(_STAMP, (tag,))
            cur = conn.execute(
                sql.SQL("DELETE FROM {} WHERE customer = %s").format(sql.Identifier(TABLE)), (tag,)
            )
            return int(cur.rowcount)

        return int(self._run(run) or 0)

    def clear(self) -> int:
        """Drop every cached answer (persona refresh, reindex); returns how many."""

        def run(conn: Any) -> int:
            conn.execute(_STAMP, (ALL,))
            return int(
                conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(TABLE))).rowcount
            )

        return int(self._run(run) or 0)

    def evict(self, predicate: Any) -> int:
        """Compatibility with the per-process cache: only `evict(lambda _: True)` (all)."""
        if predicate(None):
            return self.clear()
        raise NotImplementedError("use evict_customer(pseudonym) or clear()")

    def _trim(self) -> None:
        def run(conn: Any) -> None:
            conn.execute(f"DELETE FROM {TABLE} WHERE expires_at < clock_timestamp()")
            conn.execute(
                f"DELETE FROM {INVALIDATIONS} WHERE at < clock_timestamp() - "
                f"make_interval(secs => {STAMP_KEEP_S})"
            )
            conn.execute(
                f"DELETE FROM {TABLE} WHERE key IN (SELECT key FROM {TABLE} "
                "ORDER BY expires_at DESC OFFSET %s)",
                (self.max_size,),
            )

        self._run(run)

    def _pending(self) -> dict[str, datetime]:
        pending: dict[str, datetime] | None = getattr(self._misses, "pending", None)
        if pending is None or len(pending) > 1000:
            pending = self._misses.pending = {}
        return pending

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None
