"""`ragrec benchmark freshness`: how long until a new event counts.

Against a running API (and its data), two delays, over N events each:

* purchase -> changed recommendation: a purchase of two products that were never bought
  together is posted (`POST /internal/purchases`, a new shop customer each time); the delay
  ends when the "frequently bought together" answer of either product has changed;
* new product -> similar results: a copy of an embedded product (same picture and text,
  new id) is posted without embedding (`POST /internal/products`, `embed: false`); the delay
  ends when `/similar` for the original lists the copy.

Measured for the `worker` path (a `ragrec worker` this command starts, at the configured
interval, picks the events up) and, as the baseline in the same run, the `sync` path (what
n8n's realtime workflows do: the co-purchase script right after the purchase, the product
embedded in the request). Events are posted at random phases of the worker's interval.
Everything the benchmark created is removed from the graph at the end (`--keep` leaves it).
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from neo4j import Driver
from rich.console import Console
from rich.table import Table

from ragrec.config import PROJECT_ROOT, Settings, get_settings
from ragrec.cypher import query
from ragrec.worker.loop import wait_for_step

TARGET_S = 120.0
GOAL_S = 30.0
PATHS = ("worker", "sync")
KINDS = ("purchase", "new_product")
POLL_S = 0.25


class FreshnessError(RuntimeError):
    pass


@dataclass
class Series:
    kind: str
    path: str
    delays: list[float] = field(default_factory=list)
    timeouts: int = 0

    def row(self) -> dict[str, Any]:
        d = sorted(self.delays)
        return {
            "kind": self.kind,
            "path": self.path,
            "events": len(d) + self.timeouts,
            "ok": len(d),
            "timeouts": self.timeouts,
            "p50_s": round(statistics.median(d), 2) if d else None,
            "p95_s": round(_quantile(d, 0.95), 2) if d else None,
            "max_s": round(d[-1], 2) if d else None,
            "within_target": bool(d) and not self.timeouts and _quantile(d, 0.95) <= TARGET_S,
            "within_goal": bool(d) and not self.timeouts and _quantile(d, 0.95) <= GOAL_S,
        }


def register(bench: typer.Typer) -> None:
    bench.command("freshness")(freshness_cmd)


def freshness_cmd(
    events: Annotated[int, typer.Option(min=1, max=500, help="events per kind and path")] = 20,
    url: Annotated[str | None, typer.Option(help="API base URL (default: local port)")] = None,
    interval: Annotated[
        float | None, typer.Option(min=0.5, help="worker interval (default: the setting)")
    ] = None,
    path: Annotated[list[str] | None, typer.Option("--path", help="worker and/or sync")] = None,
    timeout: Annotated[float, typer.Option(min=5, help="give up on one event after")] = 300.0,
    keep: Annotated[bool, typer.Option(help="keep the products and purchases it made")] = False,
    json_file: Annotated[Path | None, typer.Option("--json", help="write results here")] = None,
    seed: Annotated[int, typer.Option()] = 1,
) -> None:
    """Delay from a new purchase to a changed recommendation, and from a new product to
    similar-product results: p50/p95 over N events, worker vs synchronous path."""
    settings = get_settings()
    paths = path or list(PATHS)
    unknown = [p for p in paths if p not in PATHS]
    if unknown:
        raise typer.BadParameter(f"unknown path {unknown[0]!r}; one of {', '.join(PATHS)}")
    console = Console(stderr=True)
    try:
        result = run(
            settings,
            url=url or f"http://127.0.0.1:{settings.api_port}",
            events=events,
            interval=interval or settings.worker_interval_s,
            paths=paths,
            timeout=timeout,
            keep=keep,
            seed=seed,
            say=lambda m: console.print(m),
        )
    except FreshnessError as exc:
        console.print(f"[red]error[/red] {exc}")
        raise typer.Exit(2) from exc
    table = Table(title=f"freshness, {events} events each (worker every {result['interval_s']:g}s)")
    for col in (
        "event",
        "path",
        "ok",
        "p50 s",
        "p95 s",
        "max s",
        f"<= {TARGET_S:g}s",
        f"<= {GOAL_S:g}s",
    ):
        table.add_column(col, justify="left" if col in ("event", "path") else "right")
    for r in result["results"]:
        table.add_row(
            r["kind"],
            r["path"],
            f"{r['ok']}/{r['events']}",
            _fmt(r["p50_s"]),
            _fmt(r["p95_s"]),
            _fmt(r["max_s"]),
            "yes" if r["within_target"] else "no",
            "yes" if r["within_goal"] else "no",
        )
    Console().print(table)
    target = json_file or PROJECT_ROOT / "benchmarks" / "results" / "freshness.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(result, indent=2) + "\n")
    Console().print(f"JSON written to {target}")


def run(
    settings: Settings,
    *,
    url: str,
    events: int,
    interval: float,
    paths: list[str],
    timeout: float,
    keep: bool,
    seed: int,
    say: Any,
) -> dict[str, Any]:
    from ragrec.n8n.importer import admin_api_key
    from ragrec.services import neo4j as neo4j_service

    rng = random.Random(seed)
    key = admin_api_key(settings)
    http = httpx.Client(
        base_url=url.rstrip("/") + "/api/v1", timeout=120, headers={"X-API-Key": key}
    )
    try:
        if http.get("/health").status_code not in (200, 503):
            raise FreshnessError(f"no RagRec API at {url}")
    except httpx.HTTPError as exc:
        raise FreshnessError(
            f"no RagRec API at {url}: {exc}; start it with `ragrec serve`"
        ) from exc
    driver = neo4j_service.driver(settings)
    tag = "fresh" + uuid.uuid4().hex[:6]
    made_products: list[str] = []
    made_customers: list[str] = []
    used_pairs: list[tuple[str, str]] = []
    series: list[Series] = []
    worker: subprocess.Popen[bytes] | None = None
    try:
        pairs = _lonely_pairs(driver, settings, events * len(paths))
        sources = _embedded_products(driver, settings, events * len(paths))
        for p in paths:
            if p == "worker":
                worker = _start_worker(url, key, interval)
                if not wait_for_step(driver, settings):
                    raise FreshnessError("`ragrec worker` finished no step within 180 s")
            say(f"{p}: {events} purchases")
            s = Series("purchase", p)
            for i in range(events):
                a, b = pairs.pop()
                used_pairs.append((a, b))
                if p == "worker":
                    time.sleep(rng.uniform(0, interval))
                customer = f"{tag}-{p}-{i}"
                made_customers.append(customer)
                delay = _purchase(
                    http, driver, settings, customer, a, b, sync=p == "sync", timeout=timeout
                )
                _record(s, delay)
            series.append(s)
            say(f"{p}: {events} new products")
            s = Series("new_product", p)
            for i in range(events):
                source = sources.pop()
                if p == "worker":
                    time.sleep(rng.uniform(0, interval))
                new_id = f"{tag}{p[0]}{i:03d}"
                made_products.append(new_id)
                delay = _new_product(http, source, new_id, sync=p == "sync", timeout=timeout)
                _record(s, delay)
            series.append(s)
            if worker is not None:
                _stop(worker)
                worker = None
    finally:
        if worker is not None:
            _stop(worker)
        if not keep:
            customers = [_pseudonym(settings, c) for c in made_customers]
            _cleanup(driver, settings, made_products, customers, used_pairs)
        driver.close()
        http.close()
    return {
        "benchmark": "freshness",
        "events": events,
        "interval_s": interval,
        "target_s": TARGET_S,
        "goal_s": GOAL_S,
        "url": url,
        "results": [s.row() for s in series],
        "delays": {f"{s.kind}/{s.path}": [round(d, 3) for d in s.delays] for s in series},
    }


# -- one event -----------------------------------------------------------------------------


def _purchase(
    http: httpx.Client,
    driver: Driver,
    settings: Settings,
    customer: str,
    a: str,
    b: str,
    *,
    sync: bool,
    timeout: float,
) -> float | None:
    """Ends when the bought-together answer of `a` changed (or of `b`: business rules such
    as the per-category cap may keep the new partner out of one of them)."""

    def fbt(x: str) -> list[str]:
        return _ids(
            http.get(f"/recommendations/frequently-bought-together/{x}", params={"top_k": 50})
        )

    before = {a: fbt(a), b: fbt(b)}
    began = time.monotonic()
    answer = http.post(
        "/internal/purchases",
        json={
            "purchases": [
                {"customer_id": customer, "product_id": a},
                {"customer_id": customer, "product_id": b},
            ]
        },
    )
    _ok(answer, 201)
    if sync:  # what n8n's purchase_event workflow runs right after recording it
        with driver.session(database=settings.neo4j_database) as session:
            session.run(
                query("n8n/refresh_co_purchase_changed"),
                product_ids=[a, b],
                since=None,
                max_basket=settings.worker_max_basket,
                top_n=settings.worker_co_purchase_top_n,
                batch_size=100,
            ).consume()
        http.post("/internal/cache/clear", json={})
    return _until(lambda: fbt(a) != before[a] or fbt(b) != before[b], began, timeout)


def _new_product(
    http: httpx.Client, source: dict[str, Any], new_id: str, *, sync: bool, timeout: float
) -> float | None:
    began = time.monotonic()
    answer = http.post(
        "/internal/products", json={"products": [{**source, "id": new_id}], "embed": sync}
    )
    _ok(answer, 200)
    return _until(
        lambda: (
            new_id in _ids(http.post("/similar/", json={"product_id": source["id"], "top_k": 10}))
        ),
        began,
        timeout,
    )


def _until(check: Any, began: float, timeout: float) -> float | None:
    while time.monotonic() - began < timeout:
        if check():
            return time.monotonic() - began
        time.sleep(POLL_S)
    return None


# -- helpers ---------------------------------------------------------------------------------


def _lonely_pairs(driver: Driver, settings: Settings, n: int) -> list[tuple[str, str]]:
    records, _, _ = driver.execute_query(
        query("worker/lonely_products"),
        limit=20 * n,
        max_links=40,
        database_=settings.neo4j_database,
    )
    pairs = [(r["a"], r["b"]) for r in records]
    if len(pairs) < n:
        raise FreshnessError(
            f"needs {n} pairs of products never bought together (each with under 40 links), "
            f"the graph has {len(pairs)}; use fewer --events"
        )
    return pairs[:n]


def _embedded_products(driver: Driver, settings: Settings, n: int) -> list[dict[str, Any]]:
    records, _, _ = driver.execute_query(
        query("worker/embedded_products"), limit=n, database_=settings.neo4j_database
    )
    rows = [r.data() for r in records]
    if len(rows) < n:
        raise FreshnessError(
            f"needs {n} embedded products with a picture, found {len(rows)}: run "
            "`ragrec generate-embeddings` first"
        )
    return rows


def _start_worker(url: str, key: str, interval: float) -> subprocess.Popen[bytes]:
    env = {**os.environ, "RAGREC_N8N_API_URL": url, "RAGREC_N8N_API_KEY": key}
    ragrec = str(Path(sys.executable).with_name("ragrec"))
    proc = subprocess.Popen(
        [ragrec, "worker", "--interval", str(interval)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=PROJECT_ROOT,
    )
    if proc.poll() is not None:
        raise FreshnessError(f"`ragrec worker` exited at once ({proc.returncode})")
    return proc


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _cleanup(
    driver: Driver,
    settings: Settings,
    products: list[str],
    customers: list[str],
    pairs: list[tuple[str, str]],
) -> None:
    driver.execute_query(
        query("worker/delete_benchmark_data"),
        products=products,
        customers=customers,
        pairs=[list(p) for p in pairs],
        database_=settings.neo4j_database,
    )


def _pseudonym(settings: Settings, shop_id: str) -> str:
    from ragrec.etl.pseudonymise import pseudonymise_customer_id

    return pseudonymise_customer_id(shop_id, settings.effective_pseudonym_key())


def _ok(response: httpx.Response, status: int) -> None:
    if response.status_code != status:
        raise FreshnessError(
            f"{response.request.url} answered {response.status_code}: {response.text[:300]}"
        )


def _ids(response: httpx.Response) -> list[str]:
    if response.status_code != 200:
        return []
    return [i["product_id"] for i in response.json().get("items", [])]


def _record(series: Series, delay: float | None) -> None:
    if delay is None:
        series.timeouts += 1
    else:
        series.delays.append(delay)


def _quantile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, round(q * (len(sorted_values) - 1))))
    return sorted_values[k]


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f}"
