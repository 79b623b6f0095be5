"""`ragrec worker`: a micro-batch loop that makes new purchases, events and products count.

Every `worker_interval_s` (30 s) one step reads what arrived since its watermarks (kept
in Neo4j, `(:WorkerState)`), at most `worker_batch_size` rows of each kind (memory is
bounded by that; a backlog is worked off over the next steps, without waiting), and
updates what changed only:

* bought-together links of the products just bought (`cypher/n8n/
  refresh_co_purchase_changed`, the script n8n's purchase workflow runs too), written
  into the live version of the engine's `bought_together` structure;
* embeddings and vector indexes of new products: through the API's reindex endpoint when
  an API answers (it holds the embedded Qdrant shards and its encoders are warm), else
  in this process into the stores it can open;
* persona assignment of the customers with new purchases or events (fold-in to the
  current personas, no re-clustering);
* the precomputed lists (`ragrec.jobs` families), at most every `worker_lists_interval_s`
  while purchases keep arriving: they rank the whole recent history, so they are rebuilt
  whole (new version, then switch) rather than per customer;
* the cached answers (the shared cache in PostgreSQL, for every API worker): everything
  when purchases or products arrived (bought-together and similar answers of any customer
  change), only the changed customers' entries for other events, everything after a list
  rebuild. A cached answer is thus at most one interval older than the data it reflects.

A step that fails is reported and retried from the same watermarks at the next tick.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from neo4j import Driver, RoutingControl

from ragrec.config import Settings
from ragrec.cypher import query, statements

log = logging.getLogger("ragrec.worker")
STATE_ID = "worker"
Say = Callable[[str], None]


@dataclass
class StepReport:
    purchases: int = 0
    events: int = 0
    new_products: int = 0
    customers: int = 0
    co_purchase_products: int = 0
    co_purchase_links: int = 0
    embedded: int = 0
    embedded_via: str = ""
    personas_assigned: int = 0
    lists_refreshed: list[str] = field(default_factory=list)
    cache_evicted: int = 0
    backlog: bool = False
    seconds: float = 0.0
    errors: dict[str, str] = field(default_factory=dict)

    def changed(self) -> bool:
        return bool(self.purchases or self.events or self.new_products)

    def line(self) -> str:
        parts = [
            f"{self.purchases} purchases",
            f"{self.events} events",
            f"{self.new_products} new products",
            f"co-purchase {self.co_purchase_products} products/{self.co_purchase_links} links",
            f"embedded {self.embedded}{' via ' + self.embedded_via if self.embedded_via else ''}",
            f"personas {self.personas_assigned}",
            f"lists {','.join(self.lists_refreshed) or '-'}",
            f"cache -{self.cache_evicted}",
            f"{self.seconds:.2f}s",
        ]
        if self.errors:
            parts.append("errors: " + "; ".join(f"{k}: {v}" for k, v in self.errors.items()))
        return " | ".join(parts)


class Worker:
    """One worker process: `step()` once, or `run()` until stopped."""

    def __init__(self, settings: Settings, driver: Driver, *, say: Say | None = None) -> None:
        self.settings = settings
        self.driver = driver
        self.db = settings.neo4j_database
        self.say = say or (lambda msg: log.info(msg))
        self._encoders: Any = None
        self._lists_at = 0.0
        self._lists_pending = False
        self._cache: Any = None
        for statement in statements(query("worker/ensure_indexes")):
            driver.execute_query(statement, database_=self.db)

    # -- loop --------------------------------------------------------------------------

    def run(self, *, steps: int | None = None, stop: Callable[[], bool] | None = None) -> None:
        done = 0
        while not (stop and stop()) and (steps is None or done < steps):
            began = time.monotonic()
            report = self.step()
            done += 1
            if report.changed() or report.errors:
                self.say(report.line())
            if report.backlog:
                continue
            wait = self.settings.worker_interval_s - (time.monotonic() - began)
            deadline = time.monotonic() + max(0.0, wait)
            while time.monotonic() < deadline and not (stop and stop()):
                time.sleep(
                    min(0.5, deadline - time.monotonic()) if deadline > time.monotonic() else 0
                )

    def step(self) -> StepReport:
        began = time.perf_counter()
        report = StepReport()
        limit = self.settings.worker_batch_size
        state = self._read("worker/state_get", id=STATE_ID, write=True)[0]  # MERGE on first use
        purchases = self._read("worker/changed_purchases", since=state["purchases_at"], limit=limit)
        events = self._read("worker/changed_events", since=state["events_at"], limit=limit)
        products = self._read("worker/new_products", since=state["products_at"], limit=limit)
        report.purchases, report.events, report.new_products = (
            len(purchases),
            sum(1 for _ in events),
            len(products),
        )
        report.backlog = len(purchases) >= limit or len(products) >= limit
        customers = sorted(
            {r["customer_id"] for r in purchases} | {r["customer_id"] for r in events}
        )
        report.customers = len(customers)
        bought = sorted({r["product_id"] for r in purchases})

        if bought:
            self._guard(report, "co_purchase", lambda: self._co_purchase(bought, report))
        pending = [r["product_id"] for r in products if not r["embedded"]]
        if pending:
            self._guard(report, "embeddings", lambda: self._embed(pending, report))
        if customers:
            self._guard(report, "personas", lambda: self._personas(report))
        if customers or products:
            # new co-purchase links or products change answers of every customer (product
            # pages, bought-together, similar): those drop everything; events alone only
            # their customers' answers
            everything = bool(bought or products)
            self._guard(
                report,
                "cache",
                lambda: self._invalidate(customers, everything=everything, report=report),
            )
        if not report.errors:
            self._write(
                "worker/state_set",
                id=STATE_ID,
                purchases_at=max(
                    (r["recorded_at"] for r in purchases), default=state["purchases_at"]
                ),
                products_at=max((r["ingested_at"] for r in products), default=state["products_at"]),
                events_at=max((r["latest"] for r in events), default=state["events_at"]),
                report=json.dumps(asdict(report), default=str),
            )
        # the ranked lists last: they rank the whole recent history (seconds to minutes), and
        # what this step changed is already visible without them
        if purchases:
            self._lists_pending = True
        if self._lists_pending and (
            time.monotonic() - self._lists_at >= self.settings.worker_lists_interval_s
        ):
            self._guard(report, "lists", lambda: self._lists(report))
            if report.lists_refreshed:
                self._guard(
                    report, "cache", lambda: self._invalidate([], everything=True, report=report)
                )
        report.seconds = time.perf_counter() - began
        return report

    # -- updates -----------------------------------------------------------------------

    def _co_purchase(self, product_ids: list[str], report: StepReport) -> None:
        with self.driver.session(database=self.db) as session:  # auto-commit: IN TRANSACTIONS
            row = session.run(
                query("n8n/refresh_co_purchase_changed"),
                product_ids=product_ids,
                since=None,
                max_basket=self.settings.worker_max_basket,
                top_n=self.settings.worker_co_purchase_top_n,
                batch_size=100,
            ).single()
        if row:
            report.co_purchase_products = int(row["products"])
            report.co_purchase_links = int(row["links"] or 0)

    def _embed(self, product_ids: list[str], report: StepReport) -> None:
        if self.settings.worker_embed_via_api and self._api_reindex(product_ids[0]):
            report.embedded, report.embedded_via = len(product_ids), "api"
            return
        from ragrec.embeddings.models import encoders
        from ragrec.embeddings.pipeline import generate_embeddings

        if self._encoders is None:
            self._encoders = encoders(self.settings)
        summary = generate_embeddings(self.settings, self.driver, encoder_set=self._encoders)
        report.embedded = max(
            summary.text.embedded if summary.text else 0,
            summary.image.embedded if summary.image else 0,
        )
        report.embedded_via = "worker"

    def _api_reindex(self, product_id: str) -> bool:
        """Ask a running API to embed the pending products (one reindex call embeds every
        product whose embeddings are missing); False when no API answers."""
        from ragrec.n8n.importer import admin_api_key

        url = (
            f"{self.settings.effective_n8n_api_url()}/api/v1/internal/products/{product_id}/reindex"
        )
        try:
            key = admin_api_key(self.settings)
        except Exception:
            return False
        request = urllib.request.Request(
            url,
            data=b"{}",
            method="POST",
            headers={"X-API-Key": key, "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=600) as resp:
                return bool(resp.status == 200)
        except (urllib.error.URLError, OSError) as exc:
            log.info("API reindex unavailable (%s); embedding in the worker", exc)
            return False

    def _personas(self, report: StepReport) -> None:
        from ragrec.personas import service

        if not self._read("personas/current_personas"):
            return  # nothing to assign to before the first discovery
        result = service.assign(self.driver, self.db)
        report.personas_assigned = int(getattr(result, "assigned", 0))

    def _lists(self, report: StepReport) -> None:
        from ragrec.jobs import lists
        from ragrec.jobs.refresh import refresh

        result = refresh(self.driver, self.settings, only=list(lists.FAMILIES))
        self._lists_at = time.monotonic()
        self._lists_pending = False
        report.lists_refreshed = [s.name for s in result.steps if s.status == "ok"]
        failed = [s.name for s in result.steps if s.status == "failed"]
        if failed:
            report.errors["lists"] = f"failed: {', '.join(failed)}"

    def _invalidate(self, customers: list[str], *, everything: bool, report: StepReport) -> None:
        if self.settings.api_cache_ttl_s <= 0:
            return
        cache = self._shared_cache()
        if everything:
            report.cache_evicted += int(cache.clear() or 0)
            return
        for customer in customers:
            report.cache_evicted += int(cache.evict_customer(customer) or 0)

    def _shared_cache(self) -> Any:
        if self._cache is None:
            # the API's cache lives in PostgreSQL; its own class invalidates it the way the
            # API does (with invalidation stamps that stop in-flight requests writing back)
            from app.lib.cache import SharedCache

            self._cache = SharedCache(
                self.settings.effective_pg_dsn(),
                self.settings.api_cache_ttl_s,
                self.settings.api_cache_size,
                pool_size=1,
            )
        return self._cache

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()

    # -- helpers -------------------------------------------------------------------------

    def _guard(self, report: StepReport, name: str, action: Callable[[], None]) -> None:
        try:
            action()
        except Exception as exc:  # one failing update must not stop the others
            log.exception("worker step %s failed", name)
            report.errors[name] = f"{type(exc).__name__}: {exc}"[:300]

    def _read(self, name: str, *, write: bool = False, **params: Any) -> list[dict[str, Any]]:
        routing = RoutingControl.WRITE if write else RoutingControl.READ
        records, _, _ = self.driver.execute_query(
            query(name), params, database_=self.db, routing_=routing
        )
        return [r.data() for r in records]

    def _write(self, name: str, **params: Any) -> None:
        self.driver.execute_query(query(name), params, database_=self.db)


def wait_for_step(driver: Driver, settings: Settings, timeout: float = 180.0) -> bool:
    """Wait until a running worker finishes a step that began after this call."""
    began = time.time()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        records, _, _ = driver.execute_query(
            query("worker/last_step"), id=STATE_ID, database_=settings.neo4j_database
        )
        last = records[0]["last_step_at"] if records else None
        if last is not None and last.to_native().timestamp() > began:
            return True
        time.sleep(0.25)
    return False
