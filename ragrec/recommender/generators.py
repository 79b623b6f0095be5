"""Candidate generators. Each is one versioned Cypher template (cypher/recommend/) or a
retriever call, and returns ranked `Candidate`s (product, score, reason) plus the product
details the rules need, so that no second round trip is needed to hydrate them.

Generators never see purchases on or after `as_of` (evaluation and tuning travel back in
time on one graph); `ref_date` is "today" for time decay (the last purchase before `as_of`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from neo4j import READ_ACCESS, Driver, Query
from neo4j.exceptions import Neo4jError

from ragrec.cypher import query
from ragrec.jobs.export import FAR_FUTURE as FAR_FUTURE
from ragrec.recommender.types import Candidate, ProductInfo


@dataclass(frozen=True)
class GeneratorParams:
    limit: int = 50  # candidates per generator
    history_limit: int = 20  # recent purchases used as anchors
    anchor_half_life_days: float = 30.0
    window_days: int = 56  # persona / category / community windows
    half_life_days: float = 14.0
    trending_window_days: int = 14
    trending_half_life_days: float = 3.0
    popularity_window_days: int = 7
    popularity_half_life_days: float = 7.0
    new_days: int = 30
    neighbours: int = 50
    max_buyers: int = 1_000  # skip anchors bought by more people (no signal, slow)
    per_category: int = 20
    categories: int = 5


class SimilarProducts(Protocol):
    """What the #4 retrievers offer: products like one product (visual or text)."""

    def similar_to(self, product_id: str, k: int) -> list[tuple[str, float]]: ...


class QueryRetriever(Protocol):
    """Products for a free-text query or an image (path or bytes)."""

    def search(self, query: Any, k: int) -> list[tuple[str, float]]: ...


class SourceFailed(RuntimeError):
    """A generator's query failed or timed out; `source` names it in `degraded`."""

    def __init__(self, source: str, cause: BaseException) -> None:
        super().__init__(f"{source}: {cause}")
        self.source = source


@dataclass
class GeneratorResult:
    generator: str
    candidates: list[Candidate]
    products: list[ProductInfo]


Row = dict[str, Any]


class GraphGenerators:
    """Runs the Cypher generators against one database (read routing)."""

    def __init__(
        self, driver: Driver, database: str, params: GeneratorParams, timeout_s: float | None = None
    ) -> None:
        self.driver = driver
        self.database = database
        self.params = params
        self.timeout_s = timeout_s

    def rows(self, name: str, **params: Any) -> list[Row]:
        # an auto-commit read: one round trip fewer than a managed transaction
        text = Query(query(f"recommend/{name}"), timeout=self.timeout_s)
        try:
            with self.driver.session(database=self.database, default_access_mode=READ_ACCESS) as s:
                return [r.data() for r in s.run(text, params)]
        except Neo4jError as exc:
            raise SourceFailed(name, exc) from exc

    # -- generators ------------------------------------------------------------------

    def co_purchase(
        self, anchors: Sequence[Row], exclude: Sequence[str], *, phrase: str = ""
    ) -> GeneratorResult:
        rows = self.rows(
            "co_purchase", anchors=list(anchors), exclude_ids=list(exclude), limit=self.params.limit
        )

        def reason(r: Row) -> str:
            best = max(r["evidence"], key=lambda e: e["count"])
            times = "once" if best["count"] == 1 else f"{best['count']} times"
            return f"bought together with {best['anchor']} {times}"

        return _result("co_purchase", rows, reason)

    def similar_items(
        self,
        anchors: Sequence[Row],
        exclude: Sequence[str],
        *,
        sources: Sequence[str] = ("gds_node_similarity", "visual", "text"),
        you_bought: bool = True,
    ) -> GeneratorResult:
        rows = self.rows(
            "similar_items",
            anchors=list(anchors),
            sources=list(sources),
            exclude_ids=list(exclude),
            limit=self.params.limit,
        )
        suffix = " you bought" if you_bought else ""

        def reason(r: Row) -> str:
            best = max(r["evidence"], key=lambda e: e["score"])
            verb = {"visual": "looks like", "text": "described like"}.get(
                best["source"], "bought by the same people as"
            )
            return f"{verb} {best['anchor']}{suffix}"

        return _result("similar_items", rows, reason)

    def persona_favourites(
        self, persona_id: str, persona_name: str | None, exclude: Sequence[str], when: Row
    ) -> GeneratorResult:
        p = self.params
        rows = self.rows(
            "persona_favourites",
            persona_id=persona_id,
            window_days=p.window_days,
            half_life_days=p.half_life_days,
            exclude_ids=list(exclude),
            limit=p.limit,
            **when,
        )
        label = persona_name or persona_id
        return _result("persona_favourites", rows, lambda r: f"popular with persona {label}")

    def cohort_favourites(
        self, age_bracket: str, exclude: Sequence[str], when: Row
    ) -> GeneratorResult:
        p = self.params
        rows = self.rows(
            "cohort_favourites",
            age_bracket=age_bracket,
            window_days=p.window_days,
            half_life_days=p.half_life_days,
            exclude_ids=list(exclude),
            limit=p.limit,
            **when,
        )
        return _result(
            "persona_favourites", rows, lambda r: f"popular with customers aged {age_bracket}"
        )

    def persona_for_age_bracket(self, age_bracket: str) -> tuple[str, str | None] | None:
        rows = self.rows("persona_for_age_bracket", age_bracket=age_bracket)
        return (rows[0]["persona_id"], rows[0]["persona_name"]) if rows else None

    def community_trending(
        self, community_id: int, exclude: Sequence[str], when: Row
    ) -> GeneratorResult:
        p = self.params
        rows = self.rows(
            "community_trending",
            community_id=community_id,
            window_days=p.trending_window_days,
            half_life_days=p.trending_half_life_days,
            exclude_ids=list(exclude),
            limit=p.limit,
            **when,
        )
        return _result(
            "community_trending",
            rows,
            lambda r: f"trending in your community ({r['buyers']} buyers lately)",
        )

    def behaviour_neighbours(
        self, customer_id: str, index_name: str, exclude: Sequence[str], when: Row
    ) -> GeneratorResult:
        rows = self.rows(
            "behaviour_neighbours",
            customer_id=customer_id,
            index_name=index_name,
            neighbours=self.params.neighbours,
            exclude_ids=list(exclude),
            limit=self.params.limit,
            as_of=when["as_of"],
        )
        return _result("behaviour_neighbours", rows, _neighbours_reason)

    def purchase_neighbours(
        self, customer_id: str | None, anchors: Sequence[Row], exclude: Sequence[str], when: Row
    ) -> GeneratorResult:
        rows = self.rows(
            "purchase_neighbours",
            anchors=list(anchors),
            customer_id=customer_id or "",
            max_buyers=self.params.max_buyers,
            neighbours=self.params.neighbours,
            exclude_ids=list(exclude),
            limit=self.params.limit,
            as_of=when["as_of"],
        )
        return _result("behaviour_neighbours", rows, _neighbours_reason)

    def category_affinity(
        self, shares: dict[str, float], exclude: Sequence[str], when: Row
    ) -> GeneratorResult:
        p = self.params
        top = sorted(shares.items(), key=lambda kv: -kv[1])[: p.categories]
        rows = self.rows(
            "category_affinity",
            categories=[{"name": n, "weight": w} for n, w in top],
            window_days=p.window_days,
            half_life_days=p.half_life_days,
            per_category=p.per_category,
            exclude_ids=list(exclude),
            limit=p.limit,
            **when,
        )
        return _result("category_affinity", rows, lambda r: f"you often buy {r['category']}")

    def popularity(self, exclude: Sequence[str], when: Row) -> GeneratorResult:
        p = self.params
        rows = self.rows(
            "popularity",
            window_days=p.popularity_window_days,
            half_life_days=p.popularity_half_life_days,
            exclude_ids=list(exclude),
            limit=p.limit,
            **when,
        )
        days = p.popularity_window_days
        return _result(
            "popularity", rows, lambda r: f"popular now: {r['buyers']} sold in the last {days} days"
        )

    def new_arrivals(self, exclude: Sequence[str], when: Row) -> GeneratorResult:
        p = self.params
        rows = self.rows(
            "new_arrivals", new_days=p.new_days, exclude_ids=list(exclude), limit=p.limit, **when
        )
        return _result("new_arrivals", rows, lambda r: "new arrival")

    def search_text(self, text: str, exclude: Sequence[str]) -> GeneratorResult:
        rows = self.rows(
            "search_text",
            query=lucene_query(text),
            exclude_ids=list(exclude),
            limit=self.params.limit,
        )
        return _result("search", rows, lambda r: f"matches “{text}”")

    def products(self, ids: Sequence[str]) -> list[ProductInfo]:
        return [_info(r) for r in self.rows("products_by_ids", ids=list(ids))]


def retriever_generator(
    name: str,
    retriever: SimilarProducts,
    anchors: Sequence[Row],
    exclude: set[str],
    k: int,
    verb: str,
    suffix: str,
) -> tuple[str, list[tuple[str, float, str]]]:
    """Call a #4 retriever per anchor and merge: score = sum of similarity * anchor weight."""
    scores: dict[str, float] = {}
    best: dict[str, tuple[float, str]] = {}
    for anchor in anchors:
        for pid, sim in retriever.similar_to(anchor["id"], k):
            if pid in exclude or pid == anchor["id"]:
                continue
            scores[pid] = scores.get(pid, 0.0) + sim * anchor["weight"]
            if sim > best.get(pid, (-1.0, ""))[0]:
                best[pid] = (sim, anchor.get("name") or anchor["id"])
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
    return name, [(pid, s, f"{verb} {best[pid][1]}{suffix}") for pid, s in ranked]


def lucene_query(text: str) -> str:
    """Escape Lucene's special characters; terms are OR-ed, the full-text default."""
    special = set('+-&|!(){}[]^"~*?:\\/')
    cleaned = "".join(f"\\{ch}" if ch in special else ch for ch in text)
    return " ".join(cleaned.split()) or '""'


def _neighbours_reason(r: Row) -> str:
    n = r["neighbours"]
    return f"bought by {n} customer{'s' if n != 1 else ''} with tastes like yours"


def _info(r: Row) -> ProductInfo:
    created: Any = r.get("created_at")
    return ProductInfo(
        product_id=r["product_id"],
        name=r.get("name"),
        category=r.get("category"),
        price=r.get("price"),
        in_stock=r.get("in_stock"),
        created_at=created.to_native() if hasattr(created, "to_native") else created,
        description=r.get("description"),
        colour=r.get("colour"),
    )


def _result(generator: str, rows: list[Row], reason: Callable[[Row], str]) -> GeneratorResult:
    return GeneratorResult(
        generator,
        [Candidate(r["product_id"], float(r["score"] or 0.0), generator, reason(r)) for r in rows],
        [_info(r) for r in rows],
    )
