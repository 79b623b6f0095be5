"""`ragrec benchmark soak --minutes N`: a steady open-loop load on the recommendation
endpoints for N minutes while interactions stream in and a persona refresh runs.

* **Open loop**: requests start on a fixed schedule (`rate` per second, a mix of
  homepage, product and cart recommendations for the sample's customers and products),
  whether or not earlier ones have answered, so a slow server shows up as latency and
  errors instead of quietly lowering the offered load. In-flight requests are capped
  (`max_in_flight`) so the generator's memory is bounded; a request that finds the cap
  reached counts as an error ("overload").
* **Interactions**: `events_rate` POST /interactions per second (views, cart adds,
  wishlist adds) with an `events` key.
* **Persona refresh**: `ragrec discover-personas` (GDS + clustering) runs once, starting
  at a third of the run; its exit code and duration are reported.
* **Memory**: RSS of the API server (with its worker processes), Neo4j and PostgreSQL
  (every backend summed) at the start, every minute, and at the end; the growth from the
  first to the last sample is reported per process.

Reported: per minute (requests, errors, throughput, p50/p95) and per endpoint for the
whole run; the first minute is the baseline the last one is compared with. Without
`--url` the benchmark starts its own `ragrec serve` (keys generated for the run) and
stops it at the end. It only talks to loopback addresses.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import polars as pl
import psutil

from ragrec.config import PROJECT_ROOT, Settings
from ragrec.services.sandbox import ApiProcess, ServeError, start_api

DEFAULT_DATA = PROJECT_ROOT / "data" / "sample" / "transactions_sample.parquet"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
MIX = (("homepage", 0.6), ("product", 0.25), ("cart", 0.15))
EVENT_TYPES = (("view", 0.7), ("cart_add", 0.2), ("wishlist_add", 0.1))


class SoakError(RuntimeError):
    pass


@dataclass
class Window:
    """One minute (or the whole run) of one kind of request."""

    name: str
    requests: int
    errors: int
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float


@dataclass
class SoakResult:
    base_url: str
    minutes: float
    rate: float
    events_rate: float
    started_at: str
    per_minute: list[dict[str, Any]]
    endpoints: list[Window]
    events: Window
    refresh: dict[str, Any]
    rss_mb: dict[str, dict[str, Any]]
    error_samples: list[str] = field(default_factory=list)
    errors_by_reason: dict[str, int] = field(default_factory=dict)
    verdict: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Sample:
    at: float  # seconds since the start
    kind: str
    ms: float
    ok: bool
    reason: str = ""  # why it failed: HTTP status, exception type, or "dropped"


# -- processes and memory ----------------------------------------------------------------


def _rss_mb(pids: Sequence[int], *, children: bool) -> float:
    total = 0
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            procs = [proc, *(proc.children(recursive=True) if children else [])]
            for p in procs:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    continue
        except psutil.Error:
            continue
    return round(total / 2**20, 1)


def _service_pids(settings: Settings) -> dict[str, list[int]]:
    pids: dict[str, list[int]] = {}
    neo = settings.home / "neo4j" / "run" / "neo4j.pid"
    if neo.is_file():
        pids["neo4j"] = [int(neo.read_text().strip())]
    pg = settings.pg_data_dir / "postmaster.pid"
    if pg.is_file():
        pids["postgres"] = [int(pg.read_text().splitlines()[0])]
    return pids


def _memory(server_pid: int | None, settings: Settings) -> dict[str, float]:
    out: dict[str, float] = {}
    if server_pid is not None:
        out["api"] = _rss_mb([server_pid], children=True)
    for name, pids in _service_pids(settings).items():
        out[name] = _rss_mb(pids, children=True)
    out["load generator"] = _rss_mb([os.getpid()], children=False)
    return out


def _start_server(workers: int, keys: dict[str, list[str]], settings: Settings) -> ApiProcess:
    env = {"RAGREC_API_KEYS": json.dumps(keys), "RAGREC_API_RATE_LIMIT": "0"}
    log = settings.home / "logs" / "soak-serve.log"
    api = start_api("--workers", str(workers), env=env, log=log, new_session=True)
    try:
        api.wait_ready(180, statuses=(200, 503), request_timeout_s=2)
    except ServeError as exc:
        raise SoakError(f"`ragrec serve`: {exc}") from exc
    return api


# -- load ----------------------------------------------------------------------------------


def _pick(rng: random.Random, weighted: Sequence[tuple[str, float]]) -> str:
    return rng.choices([w[0] for w in weighted], weights=[w[1] for w in weighted])[0]


def _request_for(kind: str, rng: random.Random, customers: list[str], products: list[str]) -> str:
    customer = rng.choice(customers)
    if kind == "homepage":
        return f"/api/v1/recommendations/homepage?customer_id={customer}&top_k=10"
    if kind == "product":
        return f"/api/v1/recommendations/product/{rng.choice(products)}?customer_id={customer}"
    items = "&".join(f"items={p}" for p in rng.sample(products, 2))
    return f"/api/v1/recommendations/cart?{items}&customer_id={customer}"


async def _load(
    base: str,
    seconds: float,
    rate: float,
    events_rate: float,
    customers: list[str],
    products: list[str],
    events_key: str | None,
    max_in_flight: int,
    seed: int,
) -> tuple[list[_Sample], list[str]]:
    samples: list[_Sample] = []
    errors: list[str] = []
    rng = random.Random(seed)
    in_flight = 0
    limits = httpx.Limits(max_connections=max_in_flight, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=base, timeout=30.0, limits=limits) as client:
        began = time.monotonic()

        async def one(kind: str, method: str, path: str, body: Any = None) -> None:
            nonlocal in_flight
            at = time.monotonic() - began
            start = time.perf_counter()
            ok, reason = False, ""
            try:
                headers = {"X-API-Key": events_key} if body is not None and events_key else None
                response = await client.request(method, path, json=body, headers=headers)
                ok = response.status_code < 400
                reason = "" if ok else f"HTTP {response.status_code}"
                if not ok and len(errors) < 20:
                    errors.append(f"{kind} {response.status_code}: {response.text[:200]}")
            except httpx.HTTPError as exc:
                reason = type(exc).__name__
                if len(errors) < 20:
                    errors.append(f"{kind} {type(exc).__name__}: {exc}")
            finally:
                in_flight -= 1
            samples.append(_Sample(at, kind, (time.perf_counter() - start) * 1000, ok, reason))

        tasks: set[asyncio.Task[None]] = set()
        schedule: list[tuple[float, str]] = []
        step = 1.0 / rate if rate > 0 else seconds + 1
        estep = 1.0 / events_rate if events_rate > 0 else seconds + 1
        t = 0.0
        while t < seconds:
            schedule.append((t, "rec"))
            t += step
        t = estep / 2
        while t < seconds:
            schedule.append((t, "event"))
            t += estep
        schedule.sort()
        for at, what in schedule:
            delay = began + at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if in_flight >= max_in_flight:
                kind = "interaction" if what == "event" else "overload"
                samples.append(_Sample(at, kind, 0.0, False, "dropped (in-flight cap)"))
                if len(errors) < 20:
                    errors.append(f"{max_in_flight} requests in flight: request dropped")
                continue
            in_flight += 1
            if what == "event":
                event = {
                    "customer_id": rng.choice(customers),
                    "product_id": rng.choice(products),
                    "type": _pick(rng, EVENT_TYPES),
                }
                coro = one("interaction", "POST", "/api/v1/interactions/", event)
            else:
                kind = _pick(rng, MIX)
                coro = one(kind, "GET", _request_for(kind, rng, customers, products))
            task = asyncio.create_task(coro)
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.wait(tasks, timeout=60)
    return samples, errors


def _window(name: str, samples: list[_Sample], seconds: float) -> Window:
    ms = sorted(s.ms for s in samples if s.ok)

    def pct(p: float) -> float:
        if not ms:
            return 0.0
        return round(ms[min(len(ms) - 1, round(p * (len(ms) - 1)))], 1)

    return Window(
        name=name,
        requests=len(samples),
        errors=sum(1 for s in samples if not s.ok),
        rps=round(len(samples) / seconds, 1) if seconds else 0.0,
        p50_ms=round(statistics.median(ms), 1) if ms else 0.0,
        p95_ms=pct(0.95),
        p99_ms=pct(0.99),
    )


# -- the run -------------------------------------------------------------------------------


def run(
    settings: Settings,
    *,
    minutes: float,
    rate: float = 20.0,
    events_rate: float = 5.0,
    url: str | None = None,
    api_key: str | None = None,
    workers: int = 1,
    refresh_command: Sequence[str] | None = ("discover-personas",),
    max_in_flight: int = 256,
    data_file: Path = DEFAULT_DATA,
    seed: int = 7,
) -> SoakResult:
    if not 0 < minutes <= 240:
        raise SoakError("minutes must be in (0, 240]")
    if rate <= 0 or events_rate < 0:
        raise SoakError("rate must be > 0 and events-rate >= 0")
    tx = pl.read_parquet(data_file, columns=["customer_id", "article_id"])
    customers = [str(c) for c in tx["customer_id"].unique().sort().to_list()]
    products = [f"{int(a):010d}" for a in tx["article_id"].unique().sort().to_list()]
    server: ApiProcess | None = None
    keys: dict[str, list[str]] = {}
    if url is None:
        keys = {"admin": [secrets.token_hex(16)], "events": [secrets.token_hex(16)]}
        server = _start_server(workers, keys, settings)
        base = server.base
        events_key: str | None = keys["events"][0]
    else:
        parts = urlsplit(url)
        if parts.scheme != "http" or parts.hostname not in LOOPBACK:
            raise SoakError(f"{url}: the soak only targets http on loopback")
        base, events_key = url.rstrip("/"), api_key
    seconds = minutes * 60
    started_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    refresh: dict[str, Any] = {"command": list(refresh_command or [])}
    memory: list[tuple[float, dict[str, float]]] = []
    try:
        # warm-up (not measured): the engines, encoders and caches of every worker
        asyncio.run(
            _load(base, 5, rate, 0, customers, products, events_key, max_in_flight, seed + 1)
        )
        server_pid = server.proc.pid if server else None
        began = time.monotonic()
        memory.append((0.0, _memory(server_pid, settings)))
        refresher: subprocess.Popen[str] | None = None
        refresh_started = 0.0

        async def watch() -> None:
            nonlocal refresher, refresh_started
            next_sample = 60.0
            refresh_at = seconds / 3
            while (now := time.monotonic() - began) < seconds:
                if refresh_command and refresher is None and now >= refresh_at:
                    refresher = subprocess.Popen(
                        [sys.executable, "-m", "ragrec.cli", *refresh_command],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.PIPE,
                        text=True,
                    )
                    refresh_started = now
                if refresher is not None and "exit" not in refresh and refresher.poll() is not None:
                    refresh["exit"] = refresher.returncode
                    refresh["seconds"] = round(now - refresh_started, 1)
                    refresh["started_at_s"] = round(refresh_started, 1)
                    if refresher.returncode and refresher.stderr:
                        refresh["stderr_tail"] = refresher.stderr.read()[-500:]
                if now >= next_sample:
                    memory.append((now, _memory(server_pid, settings)))
                    next_sample += 60.0
                await asyncio.sleep(0.5)

        async def both() -> tuple[list[_Sample], list[str]]:
            load = asyncio.create_task(
                _load(
                    base,
                    seconds,
                    rate,
                    events_rate,
                    customers,
                    products,
                    events_key,
                    max_in_flight,
                    seed,
                )
            )
            await watch()
            return await load

        samples, errors = asyncio.run(both())
        if refresher is not None and "exit" not in refresh:
            refresher.wait(timeout=900)
            refresh["exit"] = refresher.returncode
            refresh["seconds"] = round(time.monotonic() - began - refresh_started, 1)
            refresh["started_at_s"] = round(refresh_started, 1)
            refresh["finished_after_the_load"] = True
        memory.append((time.monotonic() - began, _memory(server_pid, settings)))
    finally:
        if server is not None:
            server.stop()

    recs = [s for s in samples if s.kind != "interaction"]
    per_minute: list[dict[str, Any]] = []
    for m in range(int(max(1, round(minutes)))):
        window = [s for s in recs if m * 60 <= s.at < (m + 1) * 60]
        ev = [s for s in samples if s.kind == "interaction" and m * 60 <= s.at < (m + 1) * 60]
        w = _window(f"minute {m + 1}", window, min(60.0, seconds - m * 60))
        per_minute.append(
            {**asdict(w), "events": len(ev), "event_errors": sum(not s.ok for s in ev)}
        )
    endpoints = [_window("all recommendations", recs, seconds)]
    for kind, _ in MIX:
        endpoints.append(_window(kind, [s for s in recs if s.kind == kind], seconds))
    overload = [s for s in recs if s.kind == "overload"]
    if overload:
        endpoints.append(_window("dropped (in-flight cap)", overload, seconds))
    events = _window("interactions", [s for s in samples if s.kind == "interaction"], seconds)
    first, last = memory[0][1], memory[-1][1]
    rss: dict[str, dict[str, Any]] = {
        name: {
            "start": first[name],
            "end": last.get(name, 0.0),
            "growth": round(last.get(name, 0.0) - first[name], 1),
            "samples": [round(m[1].get(name, 0.0), 1) for m in memory],
        }
        for name in first
    }
    total_errors = endpoints[0].errors + events.errors
    verdict = {
        "errors": total_errors,
        "zero_errors": total_errors == 0,
        "p95_first_minute_ms": per_minute[0]["p95_ms"],
        "p95_last_minute_ms": per_minute[-1]["p95_ms"],
        "api_rss_growth_mb": rss.get("api", {}).get("growth"),
    }
    reasons: dict[str, int] = {}
    for s in samples:
        if not s.ok:
            key = f"{s.kind}: {s.reason}"
            reasons[key] = reasons.get(key, 0) + 1
    return SoakResult(
        errors_by_reason=dict(sorted(reasons.items(), key=lambda kv: -kv[1])),
        base_url=base,
        minutes=minutes,
        rate=rate,
        events_rate=events_rate,
        started_at=started_at,
        per_minute=per_minute,
        endpoints=endpoints,
        events=events,
        refresh=refresh,
        rss_mb=rss,
        error_samples=errors,
        verdict=verdict,
    )


def write_json(result: SoakResult, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result.to_dict(), indent=2) + "\n")
