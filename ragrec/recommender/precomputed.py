"""The request path over the precomputed structure: every candidate source of a request
read in ONE round trip.

Each source is a branch template in `cypher/recommend/sources/` (a live `RankedList`,
`BOUGHT_TOGETHER`, `NEIGHBOUR` or `SIMILAR_TO` lookup, never an aggregation over other
customers' purchases); `cypher/recommend/candidates` joins the branches by UNION ALL
inside one `CALL {}`. Every call has the `rec_query_timeout_s` timeout. A source whose
template is missing, or that fails when the joined query fails and each branch is then
run alone, is dropped and named in `degraded`; the request still answers.

Controller -> `Recommender.<context>_pool` -> `CandidateReader.read` -> the branch files.
Once a worker's item snapshot is built (`ragrec.recommender.snapshot`) it answers the same
sources in process; this path serves until then, and with `rec_item_snapshot` off.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

from neo4j import READ_ACCESS, Driver, Query

from ragrec.cypher import CypherNotFound, query
from ragrec.recommender.generators import GeneratorResult, _info
from ragrec.recommender.types import Candidate

log = logging.getLogger(__name__)

#: source (generator) name -> its branch template
SOURCE_TEMPLATES: dict[str, str] = {
    "popularity": "recommend/sources/popular",
    "new_arrivals": "recommend/sources/new_arrivals",
    "persona_favourites": "recommend/sources/persona_favourites",
    "community_trending": "recommend/sources/community_trending",
    "category_affinity": "recommend/sources/category_affinity",
    "co_purchase": "recommend/sources/co_purchase",
    "similar_items": "recommend/sources/similar_items",
    "behaviour_neighbours": "recommend/sources/item_neighbours",
    # the evaluation's model sources (the learned ranker's features): one list per model
    "model_neighbours": "recommend/sources/model_neighbours",
    "trending": "recommend/sources/trending",
    "siblings": "recommend/sources/siblings",
}

MARKER = "// {sources}"
PLAN_TIMEOUT_S = 60.0
Row = dict[str, Any]


class CandidateReader:
    def __init__(
        self,
        driver: Driver,
        database: str,
        timeout_s: float,
        pool: ThreadPoolExecutor,
        templates: dict[str, str] | None = None,
    ) -> None:
        self.driver = driver
        self.database = database
        self.timeout_s = timeout_s
        self.pool = pool
        self.templates = dict(SOURCE_TEMPLATES if templates is None else templates)
        self._planning: set[str] = set()  # query texts being planned in the background
        self._lock = threading.Lock()

    def read(
        self, sources: Sequence[str], params: Row, labels: Row, timeout_s: float | None = None
    ) -> tuple[list[GeneratorResult], list[str], dict[str, Row]]:
        """The sources' candidates (one round trip), the names of those that failed and
        each candidate's sales counters (product id -> stats; `ragrec refresh`)."""
        degraded: list[str] = []
        branches: dict[str, str] = {}
        for source in sources:
            try:
                branches[source] = _branch(query(self.templates[source]))
            except (CypherNotFound, KeyError) as exc:
                log.warning("source %s dropped: %s", source, exc)
                degraded.append(source)
        if not branches:
            return [], degraded, {}
        text = compose(list(branches.values()))
        try:
            rows = self.rows(text, params, timeout_s)
        except Exception as exc:  # find which branch fails, keep the others
            log.warning("candidates query failed (%s); running its sources one by one", exc)
            if "TimedOut" in str(getattr(exc, "code", "")):
                self._plan_in_background(text, params)
            rows = []
            futures = {
                s: self.pool.submit(self.rows, compose([text]), params)
                for s, text in branches.items()
            }
            for source, future in futures.items():
                try:
                    rows.extend(future.result())
                except Exception as one:
                    log.warning("source %s dropped: %s", source, one)
                    degraded.append(source)
        stats = {r["product_id"]: r["stats"] for r in rows if r.get("stats")}
        return _results(rows, labels), degraded, stats

    def _plan_in_background(self, text: str, params: Row) -> None:
        """A cold plan of the joined query (Neo4j plans per parameter types) can take
        longer than a request's timeout on a busy machine, and a plan cut short is not
        cached: run it once with a long timeout so that later requests find it."""
        with self._lock:
            if text in self._planning:
                return
            self._planning.add(text)

        def plan() -> None:
            try:
                self.rows(text, params, PLAN_TIMEOUT_S)
            except Exception as exc:
                log.warning("background planning of the candidates query failed: %s", exc)
            finally:
                with self._lock:
                    self._planning.discard(text)

        threading.Thread(target=plan, daemon=True, name="rec-plan").start()

    def rows(self, text: str, params: Row, timeout_s: float | None = None) -> list[Row]:
        """The candidate rows of a composed query: {source, product_id, score, detail,
        name, category, price, in_stock, created_at, colour, stats}."""
        timeout = timeout_s or self.timeout_s
        with self.driver.session(database=self.database, default_access_mode=READ_ACCESS) as s:
            record = s.run(Query(text, timeout=timeout), params).single(strict=False)
        if record is None:
            return []
        products = {p[0]: _product(p) for p in record["products"]}
        return [
            {"source": source, "product_id": pid, "score": score, "detail": detail,
             **products[pid]}
            for source, pid, score, detail in record["candidates"]
        ]  # fmt: skip


def compose(branches: Sequence[str]) -> str:
    """The candidates template with the branches joined by UNION ALL at its marker."""
    template = query("recommend/candidates")
    return template.replace(MARKER, "\nUNION ALL\n".join(branches))


def _branch(text: str) -> str:
    """A branch template without its header comment lines."""
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("//"))


def _results(rows: list[Row], labels: Row) -> list[GeneratorResult]:
    by_source: dict[str, list[Row]] = {}
    for r in rows:
        by_source.setdefault(r["source"], []).append(r)
    out = []
    for source, items in by_source.items():
        out.append(
            GeneratorResult(
                source,
                [
                    Candidate(r["product_id"], float(r["score"] or 0.0), source, _reason(r, labels))
                    for r in items
                ],
                [_info(r) for r in items],
            )
        )
    return out


def _product(p: list[Any]) -> Row:
    """A product's details (candidates template order) as a row's fields."""
    _id, name, category, price, in_stock, created, colour, *counts, last = p
    sales = None
    if counts[0] is not None:
        sales = dict(zip(("sales", "sales_1d", "sales_7d", "sales_28d"), counts, strict=True))
        sales["last_sale"] = _date(last)
    return {
        "name": name,
        "category": category,
        "price": price,
        "in_stock": in_stock,
        "created_at": _date(created),
        "colour": colour,
        "stats": sales,
    }


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text[:10]) if text else None


def _reason(r: Row, labels: Row) -> str:
    source, d = r["source"], r["detail"] or {}
    if source == "popularity":
        label = str(d.get("label") or "")
        if label.startswith("aged "):
            who, _, window = label.partition(", ")
            return f"popular with customers {who}: {d.get('n')} sold in the {window}"
        return f"popular now: {d.get('n')} sold in the {label or 'last days'}"
    if source == "new_arrivals":
        return "new arrival"
    if source == "persona_favourites":
        label = str(d.get("label") or "")
        if label.startswith("customers aged"):
            return f"popular with {label}"
        return f"popular with persona {labels.get('persona') or label}"
    if source == "community_trending":
        return f"trending in your community ({d.get('n')} bought lately)"
    if source == "category_affinity":
        return f"you often buy {d.get('category')}"
    evidence = d.get("evidence") or [{}]
    if source == "co_purchase":
        best = max(evidence, key=lambda e: e.get("count") or 0)
        n = round(float(best.get("count") or 0))
        times = "once" if n <= 1 else f"{n} times"
        return f"bought together with {best.get('anchor')} {times}"
    if source == "similar_items":
        best = max(evidence, key=lambda e: e.get("score") or 0)
        verb = {"visual": "looks like", "text": "described like"}.get(
            str(best.get("source")), "bought by the same people as"
        )
        return f"{verb} {best.get('anchor')}{labels.get('you_bought', '')}"
    if source == "behaviour_neighbours":
        return f"bought by customers who also bought {evidence[0].get('anchor')}"
    if source in ("ease", "rp3beta", "itemknn"):  # the model is named in the sources
        return f"people who bought {evidence[0].get('anchor')} also bought this"
    if source == "trending":
        return f"trending now: {d.get('n')} sold in the last days"
    if source == "siblings":
        return "another version (colour) of something you chose"
    return source
