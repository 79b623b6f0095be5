"""`ragrec benchmark api`: load-test a running API server and compare its endpoints.

For each endpoint in turn (same server, same run) a separate load-generator *process*
keeps `concurrency` keep-alive connections busy for `seconds` (after a short warm-up
that is not measured) and records every request's latency. Reported per endpoint:
requests, errors (non-2xx or broken connections), throughput, p50 / p95 / p99 / max,
the share of responses served from the API's recommendation cache, and the ratio to
`health` (the floor asked for; it checks every service, so it is not cheap) and of
`product` (one Cypher lookup: the floor of routing, validation and serialisation).

The generator speaks plain HTTP/1.1 over asyncio streams: at a few hundred requests per
second an HTTP library's own CPU cost on a 2-core machine would be measured as server
latency. It only talks to loopback addresses, and every run is bounded by `seconds`.

Inputs: customer ids are the *shop's* ids of the customers in `customers_file` (the
sample's transactions by default; the server pseudonymises them), product ids and search
words come from the server (`/analytics/products/top-purchased`, `/products/{id}`).
"""

from __future__ import annotations

import asyncio
import base64
import json
import multiprocessing as mp
import random
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from ragrec.config import PROJECT_ROOT
from ragrec.services.sandbox import ApiProcess, ServeError, free_port, start_api

ENDPOINTS = ("health", "product", "recommend", "similar", "search")
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
DEFAULT_CUSTOMERS = PROJECT_ROOT / "data" / "sample" / "transactions_sample.parquet"
TARGET_P95_MS = 40.0
TARGET_RPS = 300.0
MAX_SECONDS = 600


class BenchmarkError(RuntimeError):
    pass


@dataclass
class EndpointResult:
    endpoint: str
    method: str
    path: str
    requests: int
    errors: int
    seconds: float
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    cached_share: float | None = None
    p95_vs_health: float | None = None
    rps_vs_health: float | None = None
    error_samples: list[str] = field(default_factory=list)


@dataclass
class ApiBenchmark:
    base_url: str
    concurrency: int
    seconds: float
    warmup_s: float
    results: list[EndpointResult]
    skipped: dict[str, str]
    target: dict[str, Any]
    started_at: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Request:
    method: str
    path: str
    body: bytes | None = None


def run(
    base_url: str,
    *,
    concurrency: int = 32,
    seconds: float = 30.0,
    warmup_s: float = 3.0,
    endpoints: Sequence[str] = ENDPOINTS,
    customers_file: Path = DEFAULT_CUSTOMERS,
    api_key: str | None = None,
    seed: int = 7,
) -> ApiBenchmark:
    """Benchmark the endpoints of the server at `base_url` (loopback only), one at a time."""
    parts = urlsplit(base_url)
    if parts.scheme != "http" or parts.hostname not in LOOPBACK:
        raise BenchmarkError(f"{base_url}: the load generator only targets http on loopback")
    if not 1 <= concurrency <= 1024:
        raise BenchmarkError("concurrency must be 1..1024")
    if not 0 < seconds <= MAX_SECONDS:
        raise BenchmarkError(f"seconds must be in (0, {MAX_SECONDS}]")
    unknown = set(endpoints) - set(ENDPOINTS)
    if unknown:
        raise BenchmarkError(f"unknown endpoints {sorted(unknown)}; choose from {ENDPOINTS}")
    plans, skipped = _plans(base_url, endpoints, customers_file, api_key, seed)
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    results: list[EndpointResult] = []
    ctx = mp.get_context("spawn")
    for name in (e for e in ENDPOINTS if e in plans):
        with ctx.Pool(1) as pool:
            raw = pool.apply(
                _generate_load,
                (
                    parts.hostname,
                    parts.port or 80,
                    plans[name],
                    concurrency,
                    seconds,
                    warmup_s,
                    api_key,
                    seed,
                ),
            )
        results.append(_summarise(name, plans[name][0], raw))
    health = next((r for r in results if r.endpoint == "health"), None)
    if health is not None:
        for r in results:
            r.p95_vs_health = round(r.p95_ms / health.p95_ms, 2) if health.p95_ms else None
            r.rps_vs_health = round(r.rps / health.rps, 2) if health.rps else None
    rec = next((r for r in results if r.endpoint == "recommend"), None)
    target: dict[str, Any] = {"recommend_p95_ms": TARGET_P95_MS, "recommend_rps": TARGET_RPS}
    if rec is not None:
        target["met"] = rec.p95_ms <= TARGET_P95_MS and rec.rps >= TARGET_RPS and not rec.errors
    return ApiBenchmark(
        base_url=base_url,
        concurrency=concurrency,
        seconds=seconds,
        warmup_s=warmup_s,
        results=results,
        skipped=skipped,
        target=target,
        started_at=started,
    )


def write_json(result: ApiBenchmark, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result.to_dict(), indent=2))


# -- request plans -----------------------------------------------------------------------------


def _plans(
    base_url: str,
    endpoints: Sequence[str],
    customers_file: Path,
    api_key: str | None,
    seed: int,
) -> tuple[dict[str, list[_Request]], dict[str, str]]:
    rng = random.Random(seed)
    headers = {"X-API-Key": api_key} if api_key else {}
    plans: dict[str, list[_Request]] = {}
    skipped: dict[str, str] = {}
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as http:
        paths = set(http.get("/schema/openapi.json").raise_for_status().json()["paths"])
        top = http.get("/api/v1/analytics/products/top-purchased", params={"limit": 100})
        products = [i["product_id"] for i in top.raise_for_status().json()["items"]]
        if not products:
            raise BenchmarkError("the server has no purchases: load data first")
        details = [http.get(f"/api/v1/products/{pid}").json() for pid in products]
        words = _search_words(details[:20])
        pictured = [d["id"] for d in details if d.get("has_image")]
    customers = _customers(customers_file, rng)

    def post(path: str, body: dict[str, Any]) -> _Request:
        return _Request("POST", path, json.dumps(body).encode())

    for name in endpoints:
        if name == "health":
            plans[name] = [_Request("GET", "/api/v1/health")]
        elif name == "product":
            plans[name] = [_Request("GET", f"/api/v1/products/{p}") for p in products]
        elif name == "recommend":
            plans[name] = [
                post("/api/v1/recommend", {"customer_id": c, "context": "homepage", "top_k": 10})
                for c in customers
            ]
        elif name == "search":
            plans[name] = [post("/api/v1/search", {"query": w, "top_k": 10}) for w in words]
        elif "/api/v1/similar" in paths:
            # products with a picture: the others have a vector only if text embeddings exist
            plans[name] = [
                post("/api/v1/similar", {"product_id": p, "top_k": 10})
                for p in (pictured or products)
            ]
        else:
            skipped[name] = "POST /api/v1/similar is not served (no retrieval library yet)"
    return plans, skipped


def _customers(path: Path, rng: random.Random, limit: int = 500) -> list[str]:
    import polars as pl

    if not path.is_file():
        raise BenchmarkError(f"no customers file {path}")
    frame = pl.read_parquet(path) if path.suffix == ".parquet" else pl.read_csv(path)
    ids = sorted(set(frame["customer_id"].cast(pl.String).drop_nulls().to_list()))
    rng.shuffle(ids)
    return ids[:limit]


def _search_words(details: list[dict[str, Any]]) -> list[str]:
    words: list[str] = []
    for product in details:
        name = product.get("name") or ""
        words += [w.lower() for w in name.split() if w.isalpha() and len(w) > 3]
    return sorted(set(words)) or ["dress", "shirt", "jeans"]


# -- the load generator (runs in its own process) --------------------------------------------


def _generate_load(
    host: str,
    port: int,
    plan: list[_Request],
    concurrency: int,
    seconds: float,
    warmup_s: float,
    api_key: str | None,
    seed: int,
) -> dict[str, Any]:
    return asyncio.run(_load(host, port, plan, concurrency, seconds, warmup_s, api_key, seed))


async def _load(
    host: str,
    port: int,
    plan: list[_Request],
    concurrency: int,
    seconds: float,
    warmup_s: float,
    api_key: str | None,
    seed: int,
) -> dict[str, Any]:
    latencies: list[float] = []
    errors: list[str] = []
    cached = 0
    now = time.perf_counter()
    measure_from = now + warmup_s
    stop_at = measure_from + seconds
    extra = f"X-API-Key: {api_key}\r\n" if api_key else ""

    async def worker(index: int) -> None:
        nonlocal cached
        rng = random.Random(seed * 1000 + index)
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while True:
                req = plan[rng.randrange(len(plan))]
                t0 = time.perf_counter()
                if t0 >= stop_at:
                    return
                try:
                    status, body = await _exchange(reader, writer, req, host, extra)
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    if t0 >= measure_from:
                        errors.append(f"{type(exc).__name__}: {exc}")
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
                    continue
                t1 = time.perf_counter()
                if t0 < measure_from:
                    continue
                latencies.append(t1 - t0)
                if not 200 <= status < 300:
                    errors.append(f"HTTP {status}: {body[:160]!r}")
                elif b'"cached":true' in body:
                    cached += 1
        finally:
            writer.close()

    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return {
        "latencies": latencies,
        "errors": len(errors),
        "error_samples": errors[:5],
        "cached": cached,
        "seconds": seconds,
    }


async def _exchange(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    req: _Request,
    host: str,
    extra_headers: str,
) -> tuple[int, bytes]:
    body = req.body or b""
    head = (
        f"{req.method} {req.path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\n"
        f"{extra_headers}"
        + (f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n" if body else "")
        + "\r\n"
    )
    writer.write(head.encode() + body)
    await writer.drain()
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionResetError("server closed the connection")
    status = int(status_line.split(b" ", 2)[1])
    length: int | None = None
    chunked = False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.partition(b":")
        key = name.strip().lower()
        if key == b"content-length":
            length = int(value.strip())
        elif key == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        parts = []
        while True:
            size = int((await reader.readline()).strip().split(b";")[0], 16)
            if size == 0:
                await reader.readline()
                break
            parts.append(await reader.readexactly(size))
            await reader.readline()
        return status, b"".join(parts)
    if length is None:
        raise ValueError("response without Content-Length")
    return status, await reader.readexactly(length)


def _summarise(name: str, sample: _Request, raw: dict[str, Any]) -> EndpointResult:
    lat = sorted(raw["latencies"])
    n = len(lat)

    def pct(q: float) -> float:
        if not lat:
            return 0.0
        return round(lat[min(n - 1, int(q * n))] * 1000, 2)

    ok = n - raw["errors"]
    return EndpointResult(
        endpoint=name,
        method=sample.method,
        path=sample.path,
        requests=n,
        errors=raw["errors"],
        seconds=raw["seconds"],
        rps=round(n / raw["seconds"], 1),
        p50_ms=pct(0.50),
        p95_ms=pct(0.95),
        p99_ms=pct(0.99),
        max_ms=round(lat[-1] * 1000, 2) if lat else 0.0,
        mean_ms=round(statistics.fmean(lat) * 1000, 2) if lat else 0.0,
        cached_share=round(raw["cached"] / ok, 3) if name == "recommend" and ok else None,
        error_samples=raw["error_samples"],
    )


# -- open loop (vegeta): constant arrival rate, server started here per cache mode -----------

OPEN_LOOP_TARGETS = ("health", "homepage", "product", "cart")


def vegeta_binary(home: Path) -> Path:
    """vegeta from the project home (`make setup` installs it there) or the PATH."""
    for local in (home / "bin" / "vegeta", PROJECT_ROOT / ".ragrec" / "bin" / "vegeta"):
        if local.is_file():
            return local
    found = shutil.which("vegeta")
    if found:
        return Path(found)
    raise BenchmarkError(
        "vegeta is not installed: GOBIN=$PWD/.ragrec/bin go install "
        "github.com/tsenart/vegeta/v12@v12.12.0 (or make setup)"
    )


def run_open_loop(
    *,
    rate: int,
    seconds: float,
    workers: int,
    customers_file: Path,
    cache_modes: Sequence[str] = ("off", "on"),
    targets: Sequence[str] = OPEN_LOOP_TARGETS,
    seed: int = 7,
) -> dict[str, Any]:
    """For each cache mode: start `ragrec serve --workers N` (cache TTL 0 = off, 60 s = on;
    rate limit off), then attack each target at `rate` req/s for `seconds` with vegeta
    (open loop: requests leave on schedule whether or not earlier ones have answered).
    Customers are drawn uniformly from the whole customers file (the shop's ids)."""
    from ragrec.config import get_settings
    from ragrec.services import neo4j as neo4j_service

    settings = get_settings()
    vegeta = vegeta_binary(settings.home)
    rng = random.Random(seed)
    everyone = _customers(customers_file, rng, limit=10**9)
    if not everyone:
        raise BenchmarkError(f"no customer ids in {customers_file}")
    with neo4j_service.driver(settings) as driver:
        records, _, _ = driver.execute_query(
            "MATCH (p:Product) WHERE EXISTS { ()-[:PURCHASED]->(p) } RETURN p.id AS id",
            database_=settings.neo4j_database,
        )
    products = [r["id"] for r in records]
    if not products:
        raise BenchmarkError("the graph has no purchases: load data first")
    n = max(1, int(rate * seconds))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    bodies: dict[str, list[dict[str, Any]]] = {
        "homepage": [
            {"customer_id": rng.choice(everyone), "context": "homepage", "top_k": 10}
            for _ in range(n)
        ],
        "product": [
            {
                "customer_id": rng.choice(everyone),
                "context": "product",
                "product_id": rng.choice(products),
                "top_k": 10,
            }
            for _ in range(n)
        ],
        "cart": [
            {
                "customer_id": rng.choice(everyone),
                "context": "cart",
                "cart": rng.sample(products, min(3, len(products))),
                "top_k": 10,
            }
            for _ in range(n)
        ],
    }
    results: list[dict[str, Any]] = []
    workers_ready: dict[str, dict[str, dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="ragrec-vegeta-") as tmp:
        files: dict[str, Path] = {}
        for name in targets:
            path = Path(tmp) / f"{name}.jsonl"
            with path.open("w") as fh:
                if name == "health":
                    fh.write(json.dumps({"method": "GET", "url": f"{base}/api/v1/health"}) + "\n")
                else:
                    for body in bodies[name]:
                        line = {
                            "method": "POST",
                            "url": f"{base}/api/v1/recommend",
                            "body": base64.b64encode(json.dumps(body).encode()).decode(),
                            "header": {"Content-Type": ["application/json"]},
                        }
                        fh.write(json.dumps(line) + "\n")
            files[name] = path
        for mode in cache_modes:
            with _server(port, workers, cache=(mode == "on")) as snapshots:
                workers_ready[mode] = snapshots
                for name in targets:  # warm-up, not measured
                    _attack(vegeta, files[name], min(rate, 50), 2.0)
                for name in targets:
                    report = _attack(vegeta, files[name], rate, seconds)
                    # vegeta stops sending when all its workers wait on the server: the
                    # requests it never sent are failures of the rate, not missing data
                    planned = int(rate * seconds)
                    report["unsent"] = max(0, planned - report["requests"])
                    results.append({"cache": mode, "target": name, "planned": planned, **report})
    for mode in cache_modes:
        health = next((r for r in results if r["cache"] == mode and r["target"] == "health"), None)
        for r in results:
            if r["cache"] == mode and health and health["p95_ms"]:
                r["p95_vs_health"] = round(r["p95_ms"] / health["p95_ms"], 2)
    recommend = [r for r in results if r["cache"] == "off" and r["target"] != "health"]
    return {
        "rate": rate,
        "seconds": seconds,
        "workers": workers,
        "customers_in_base": len(everyone),
        "products": len(products),
        "item_snapshots": workers_ready,
        "results": results,
        "target": {
            "p95_ms": TARGET_P95_MS,
            "rps": TARGET_RPS,
            "met": bool(recommend)
            and rate >= TARGET_RPS
            and all(
                r["p95_ms"] <= TARGET_P95_MS and r["errors"] == 0 and r["unsent"] == 0
                for r in recommend
            ),
        },
    }


def _attack(vegeta: Path, targets: Path, rate: int, seconds: float) -> dict[str, Any]:
    attack = subprocess.Popen(
        [
            str(vegeta), "attack", "-format=json", f"-targets={targets}",
            f"-rate={rate}/1s", f"-duration={seconds}s", "-timeout=10s", "-max-workers=512",
        ],
        stdout=subprocess.PIPE,
    )  # fmt: skip
    report = subprocess.run(
        [str(vegeta), "report", "-type=json"],
        stdin=attack.stdout,
        capture_output=True,
        check=True,
        timeout=seconds + 120,
    )
    attack.wait(timeout=60)
    data = json.loads(report.stdout)
    lat = data["latencies"]
    codes = data.get("status_codes") or {}
    ok = sum(v for k, v in codes.items() if str(k).startswith("2"))
    return {
        "requests": int(data["requests"]),
        "errors": int(data["requests"]) - ok,
        "throughput_rps": round(float(data["throughput"]), 1),
        "rate_rps": round(float(data["rate"]), 1),
        "p50_ms": round(lat["50th"] / 1e6, 2),
        "p95_ms": round(lat["95th"] / 1e6, 2),
        "p99_ms": round(lat["99th"] / 1e6, 2),
        "max_ms": round(lat["max"] / 1e6, 2),
        "status_codes": codes,
        "error_samples": (data.get("errors") or [])[:3],
    }


@contextmanager
def _server(port: int, workers: int, *, cache: bool) -> Iterator[dict[str, dict[str, Any]]]:
    env = {"RAGREC_API_CACHE_TTL_S": "60" if cache else "0", "RAGREC_API_RATE_LIMIT": "0"}
    api = start_api("--workers", str(workers), env=env, port=port, new_session=True)
    try:
        try:
            api.wait_ready(180, statuses=range(100, 600), request_timeout_s=2)
        except ServeError as exc:
            raise BenchmarkError(str(exc)) from exc
        snapshots = _wait_every_worker_ready(api, workers)
        yield snapshots
    finally:
        api.stop()


def _wait_every_worker_ready(
    api: ApiProcess, workers: int, timeout_s: float = 3600.0
) -> dict[str, dict[str, Any]]:
    """Poll `/api/v1/ready` (admin key: each answer names its worker) on new connections
    until every worker has said ready: each builds its item snapshot in the background at
    start and serves by the slower Cypher path until then, which is not what is measured.
    Returns each worker's snapshot (build seconds, entries)."""
    from ragrec.config import get_settings

    key = (get_settings().effective_api_keys().get("admin") or [""])[0]
    ready: dict[str, dict[str, Any]] = {}
    began = time.monotonic()
    last_said = began
    while len(ready) < workers:
        if api.proc.poll() is not None:
            raise BenchmarkError(f"ragrec serve exited {api.proc.returncode}")
        try:
            answer = httpx.get(f"{api.base}/api/v1/ready", headers={"X-API-Key": key},
                               timeout=10.0)  # fmt: skip
            body = answer.json()
            if body.get("ready") and body.get("worker") is not None:
                ready[str(body["worker"])] = body.get("item_snapshot") or {}
        except (httpx.HTTPError, ValueError):
            pass
        now = time.monotonic()
        if now - began > timeout_s:
            raise BenchmarkError(f"the workers' item snapshots were not ready in {timeout_s:.0f}s")
        if now - last_said > 15:
            print(f"  waiting for the workers' item snapshots: {len(ready)}/{workers} ready "
                  f"after {now - began:.0f}s", flush=True)  # fmt: skip
            last_said = now
        time.sleep(0.2)
    return ready
