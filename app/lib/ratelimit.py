"""Rate limits shared by every API worker: fixed windows counted in PostgreSQL.

The bucket is the API key where a valid one is given (the widget's publishable key:
the key *and* the client address, since every visitor's browser shares it), else the
client address. `X-Forwarded-For` names the client only when the request comes from one
of `api_trusted_proxies`. Limits: `api_rate_limit` for anonymous callers, and per scope
`api_rate_limit_scopes` (0 = no limit; an `events` key is not limited by default).

Each worker adds its hits to the shared row with `INSERT ... ON CONFLICT DO UPDATE ...
RETURNING`: for every hit when the limit is small (below FLUSH_SHARE), else in batches of
limit/FLUSH_SHARE hits or every FLUSH_S seconds, so a generous limit costs no round trip
per request and N workers overshoot it by at most about N/FLUSH_SHARE. If PostgreSQL does
not answer, counting falls back to this process for a few seconds (never fails a request).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import time
from collections.abc import Mapping

from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Receive,
    Scope,
    Send,
)
from psycopg_pool import AsyncConnectionPool

from app.lib.security import HEADER, Caller, identify
from ragrec.config import Settings

log = logging.getLogger("ragrec.api")

TABLE = "api_rate_limit"
UNIT_S = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
EXEMPT = ("/api/v1/health", "/api/v1/metrics", "/schema")
BACKOFF_S = 5.0
_SCHEMA = (
    f"CREATE UNLOGGED TABLE IF NOT EXISTS {TABLE} ("
    "bucket text NOT NULL, window_start bigint NOT NULL, hits integer NOT NULL, "
    "PRIMARY KEY (bucket, window_start))"
)
_HIT = (
    f"INSERT INTO {TABLE} (bucket, window_start, hits) VALUES (%s, %s, %s) "
    f"ON CONFLICT (bucket, window_start) DO UPDATE SET hits = {TABLE}.hits + %s RETURNING hits"
)
#: a worker flushes its hits after limit/FLUSH_SHARE of them, or FLUSH_S seconds
FLUSH_SHARE = 50
FLUSH_S = 0.25


def client_address(scope: Scope, trusted: list[str]) -> str:
    """The client's address; X-Forwarded-For only through a trusted proxy."""
    peer = (scope.get("client") or ("unknown", 0))[0]
    if not trusted or not _trusted(peer, trusted):
        return str(peer)
    forwarded = ""
    for name, value in scope.get("headers", []):
        if name == b"x-forwarded-for":
            forwarded = value.decode("latin-1")
    hops = [h.strip() for h in forwarded.split(",") if h.strip()]
    # right to left: the first hop that is not one of our proxies is the client
    for hop in reversed(hops):
        if not _trusted(hop, trusted):
            return hop[:64]
    return str(peer)


def _trusted(address: str, trusted: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for net in trusted:
        try:
            if ip in ipaddress.ip_network(net, strict=False):
                return True
        except ValueError:
            continue
    return False


def bucket_and_limit(caller: Caller, address: str, settings: Settings) -> tuple[str, int]:
    """Which counter the request goes to and its limit per window (0 = none)."""
    if not caller.valid:
        return f"ip:{address}", settings.api_rate_limit
    limits = settings.api_rate_limit_scopes
    scoped = [limits.get(s, settings.api_rate_limit) for s in sorted(caller.scopes)]
    limit = 0 if any(v == 0 for v in scoped) else max(scoped)
    if caller.scopes == frozenset({"widget"}):
        return f"widget:{caller.key_id}:{address}", limit
    return f"key:{caller.key_id}", limit


class RateLimiter:
    """Counts hits per bucket and window in PostgreSQL (per process while it is down)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.unit_s = UNIT_S[settings.api_rate_limit_unit]
        self._pool: AsyncConnectionPool | None = None
        self._ready = False
        self._down_until = 0.0
        self._local: dict[tuple[str, int], int] = {}
        self._local_window = -1
        self._batched: dict[str, list[float]] = {}
        self._batched_window = -1
        self._hits = 0

    async def hit(self, bucket: str, window: int, limit: int) -> int:
        """The bucket's count in this window, this request included (an estimate between
        flushes: this worker's unflushed hits on top of the last shared total)."""
        if time.monotonic() >= self._down_until:
            try:
                return await self._hit_batched(bucket, window, limit)
            except Exception as exc:  # never fail a request for the limiter
                self._down_until = time.monotonic() + BACKOFF_S
                log.warning(
                    "rate limit counted per process for %.0fs: %s", BACKOFF_S, type(exc).__name__
                )
        if window != self._local_window:
            self._local.clear()
            self._local_window = window
        count = self._local.get((bucket, window), 0) + 1
        self._local[(bucket, window)] = count
        return count

    async def _hit_batched(self, bucket: str, window: int, limit: int) -> int:
        """Hits go to PostgreSQL in batches: every hit when the limit is small, else every
        limit/FLUSH_SHARE hits or FLUSH_S seconds, so a generous limit costs no round trip
        per request and workers together overshoot it by at most a few percent."""
        if window != self._batched_window:
            self._batched.clear()
            self._batched_window = window
        state = self._batched.setdefault(bucket, [0, 0, time.monotonic()])  # pending, shared, t
        state[0] += 1
        every = max(1, limit // FLUSH_SHARE)
        if state[0] >= every or time.monotonic() - state[2] >= FLUSH_S:
            pending, state[0], state[2] = int(state[0]), 0, time.monotonic()
            try:
                state[1] = await self._hit_shared(bucket, window, pending)
            except Exception:
                state[0] += pending  # counted locally meanwhile; flushed next time
                raise
        return int(state[1] + state[0])

    async def _hit_shared(self, bucket: str, window: int, hits: int = 1) -> int:
        if self._pool is None:
            self._pool = AsyncConnectionPool(
                self.settings.effective_pg_dsn(),
                min_size=1,
                max_size=4,
                open=False,
                timeout=0.5,
                name="ragrec-api-ratelimit",
                kwargs={"autocommit": True},
                check=AsyncConnectionPool.check_connection,
            )
            await self._pool.open(wait=False)
        async with self._pool.connection(timeout=0.5) as conn:
            if not self._ready:
                await conn.execute(_SCHEMA)
                self._ready = True
            row = await (await conn.execute(_HIT, (bucket, window, hits, hits))).fetchone()
            self._hits += 1
            if self._hits % 500 == 0:
                await conn.execute(f"DELETE FROM {TABLE} WHERE window_start < %s", (window - 1,))
        return int(row[0]) if row else 1

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    def middleware(self, app: ASGIApp) -> ASGIApp:
        """ASGI middleware: 429 with Retry-After above the caller's limit."""

        async def rate_limited(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or scope["path"].startswith(EXEMPT):
                await app(scope, receive, send)
                return
            keys: Mapping[str, list[str]] = scope["app"].state.resources.api_keys
            presented = _header(scope, HEADER.lower().encode())
            caller = identify(presented, keys)
            scope.setdefault("state", {})["ragrec_caller"] = caller
            address = client_address(scope, self.settings.api_trusted_proxies)
            bucket, limit = bucket_and_limit(caller, address, self.settings)
            if limit <= 0:
                await app(scope, receive, send)
                return
            now = time.time()
            window = int(now // self.unit_s)
            count = await self.hit(bucket, window, limit)
            if count <= limit:
                await app(scope, receive, send)
                return
            reset = int((window + 1) * self.unit_s - now) + 1
            await _too_many(send, limit, reset)

        return rate_limited


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def _too_many(send: Send, limit: int, reset: int) -> None:
    from app.lib import metrics

    metrics.ERRORS.labels(status="429", code="rate_limited").inc()
    body = json.dumps(
        {
            "error": {
                "status": 429,
                "code": "rate_limited",
                "message": f"rate limit of {limit} requests exceeded; retry in {reset}s",
                "field": None,
            }
        }
    ).encode()
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(reset).encode()),
        (b"ratelimit-limit", str(limit).encode()),
        (b"ratelimit-remaining", b"0"),
        (b"ratelimit-reset", str(reset).encode()),
    ]
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": 429,
        "headers": headers,
    }
    await send(start)
    end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
    await send(end)
