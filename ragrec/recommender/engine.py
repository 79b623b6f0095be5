"""The `Recommender`: candidates -> fusion -> (cross-encoder rerank) -> business rules.

Constructed once with a driver and settings (and optional #4 retrievers); each context
method answers one request. When `ragrec refresh` has built the derived structure (live
`DerivedVersion`s), a request reads the customer's profile (one round trip), then every
candidate source from the in-process item snapshot of the live versions
(`ragrec.recommender.snapshot`, built in the background; `load_snapshot` builds it now)
or, until it is built, in one more round trip (`ragrec.recommender.precomputed`,
`cypher/recommend/candidates` + `cypher/recommend/sources/`, the same answers); vector
retrievers run beside it. Requests `as_of` a past
date (tuning, time travel) and graphs never refreshed use the aggregating generators
(`generators.py`, one round trip each, concurrently). A source that fails or times out
(`rec_query_timeout_s`) is left out and named in `degraded`.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from neo4j import Driver

from ragrec.config import Settings
from ragrec.jobs import versions
from ragrec.recommender import ranker as ranker_mod
from ragrec.recommender.errors import (
    InvalidRequest,
    RankerNotTrained,
    RecommenderError,
    UnknownCustomer,
    UnknownProduct,
)
from ragrec.recommender.fusion import (
    RRF_K,
    FusionStrategy,
    RRFFusion,
    WeightedFusion,
    min_max,
    seed_weights,
)
from ragrec.recommender.generators import (
    FAR_FUTURE,
    GeneratorParams,
    GeneratorResult,
    GraphGenerators,
    QueryRetriever,
    SimilarProducts,
    SourceFailed,
    retriever_generator,
)
from ragrec.recommender.precomputed import CandidateReader
from ragrec.recommender.rerank import (
    CrossEncoderReranker,
    RerankerUnavailable,
    product_text,
    profile_query,
)
from ragrec.recommender.rules import BusinessRules, apply_rules
from ragrec.recommender.snapshot import ItemSnapshot
from ragrec.recommender.types import (
    Candidate,
    CandidatePool,
    Context,
    ProductInfo,
    Profile,
    Recommendation,
    RecommendedItem,
    Scored,
    product_code,
)

log = logging.getLogger(__name__)
#: the sources of the precomputed path, per context (one query text each)
HOMEPAGE_SOURCES = (
    "popularity",
    "new_arrivals",
    "persona_favourites",
    "community_trending",
    "category_affinity",
    "co_purchase",
    "similar_items",
    "behaviour_neighbours",
    "model_neighbours",
    "trending",
    "siblings",
)
ITEMS_SOURCES = (
    "co_purchase",
    "similar_items",
    "behaviour_neighbours",
    "category_affinity",
    "popularity",
    "persona_favourites",
    "model_neighbours",
    "trending",
    "siblings",
)
#: with `rec_parallel_reads`, these sources are read in a second round trip beside the
#: others (Neo4j runs one query on one core): the two halves cost about the same
SECOND_TRIP = frozenset(
    {
        "model_neighbours",
        "category_affinity",
        "community_trending",
        "similar_items",
        "trending",
        "siblings",
    }
)
#: the evaluation's repurchase source (ragrec.evaluation.candidates): times bought, decayed
REPURCHASE_HALF_LIFE_DAYS = 30.0
REF_DATE_TTL_S = 60.0  # how long "today" (the last purchase day) is kept
#: the most recent history items that feed the model sources (the evaluation uses the whole
#: history; the most recent 50 bound a dense customer's request: 50 x 3 x top-N neighbours)
MODEL_ITEMS = 50
STRATEGIES = ("rrf", "weighted", "learned")
TUNED_FILE = "fusion/best.json"
CONTEXT_BOOST: dict[str, dict[str, float]] = {
    "product": {
        "co_purchase": 3.0,
        "similar_items": 3.0,
        "visual_similar": 3.0,
        "text_similar": 3.0,
    },
    "cart": {"co_purchase": 3.0, "similar_items": 2.0, "visual_similar": 2.0, "text_similar": 2.0},
}


@dataclass
class FusionConfig:
    """What `ragrec tune` searches and saves; what `weighted`/`rrf` use at serve time."""

    weights: dict[str, float] = field(default_factory=seed_weights)
    rrf_k: int = RRF_K
    limits: dict[str, int] = field(default_factory=dict)
    rerank_alpha: float = 0.5
    rerank_top: int = 20
    #: per-context multipliers of generator weights: on a product page or a cart, what goes
    #: with the items in view matters more than what the customer bought before
    context_boost: dict[str, dict[str, float]] = field(default_factory=lambda: CONTEXT_BOOST)

    def weights_for(self, context: str) -> dict[str, float]:
        boost = self.context_boost.get(context, {})
        return {g: w * boost.get(g, 1.0) for g, w in self.weights.items()}

    @classmethod
    def load(cls, path: Path) -> FusionConfig:
        data = json.loads(path.read_text())
        cfg = data.get("config", data)
        return cls(
            weights=dict(cfg.get("weights") or seed_weights()),
            rrf_k=int(cfg.get("rrf_k", RRF_K)),
            limits={k: int(v) for k, v in (cfg.get("limits") or {}).items()},
            rerank_alpha=float(cfg.get("rerank_alpha", 0.5)),
            rerank_top=int(cfg.get("rerank_top", 20)),
        )


def models_dir(settings: Settings) -> Path:
    return settings.rec_models_dir or settings.home / "models"


def rules_from_settings(settings: Settings) -> BusinessRules:
    return BusinessRules(
        max_per_category=settings.rec_max_per_category or None,
        exclude_bought=settings.rec_exclude_bought,
        repurchase_categories=frozenset(settings.rec_repurchase_categories),
        new_arrival_days=settings.rec_new_arrival_days,
        new_arrival_boost=settings.rec_new_arrival_boost,
    )


class Recommender:
    def __init__(
        self,
        driver: Driver,
        settings: Settings,
        *,
        params: GeneratorParams | None = None,
        rules: BusinessRules | None = None,
        fusion: FusionConfig | None = None,
        visual: SimilarProducts | None = None,
        text: SimilarProducts | None = None,
        search_retriever: QueryRetriever | None = None,
        image_retriever: QueryRetriever | None = None,
        reranker: CrossEncoderReranker | None = None,
        ranker_path: Path | None = None,
        database: str | None = None,
        workers: int = 8,
        source_templates: dict[str, str] | None = None,
        snapshot_templates: dict[str, str] | None = None,
    ) -> None:
        self.driver = driver
        self.settings = settings
        self.database = database or settings.neo4j_database
        self.params = params or GeneratorParams()
        self.rules = rules or rules_from_settings(settings)
        self.fusion = fusion or self._fusion_config()
        self.graph = GraphGenerators(
            driver, self.database, self.params, timeout_s=settings.rec_query_timeout_s
        )
        self.visual, self.text = visual, text
        self.search_retriever, self.image_retriever = search_retriever, image_retriever
        self.reranker = reranker
        self.ranker_path = ranker_path
        self._ranker: ranker_mod.LearnedFusion | None = None
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rec")
        self._vector_index: tuple[float, bool] = (0.0, False)
        self.reader = CandidateReader(
            driver, self.database, settings.rec_query_timeout_s, self._pool, source_templates
        )
        self.snapshot: ItemSnapshot | None = None
        if settings.rec_item_snapshot:
            self.snapshot = ItemSnapshot(
                driver,
                self.database,
                poll_s=settings.rec_snapshot_poll_s,
                templates=snapshot_templates,
            )
        self._live: tuple[float, set[str]] = (-1e9, set())
        self._warm_lock = threading.Lock()
        self._warming = False
        self._max_sales = 0.0
        self._model_versions: list[str] = []
        self._ref_dates: dict[date | None, tuple[float, date | None]] = {}

    def close(self) -> None:
        if self.snapshot is not None:  # before the caller closes the driver
            self.snapshot.close()
        self._pool.shutdown(wait=False)

    def __enter__(self) -> Recommender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- contexts ------------------------------------------------------------------

    def homepage(
        self,
        customer_id: str | None,
        *,
        k: int = 10,
        strategy: str | None = None,
        age_bracket: str | None = None,
        query: str | None = None,
        rerank: bool = False,
        as_of: date | None = None,
    ) -> Recommendation:
        """Personal picks; `customer_id=None` (or a customer without history) is a cold start."""
        started = time.perf_counter()
        pool = self.homepage_pool(customer_id, age_bracket=age_bracket, as_of=as_of)
        if rerank and query is None:
            query = profile_query(pool.profile)
        return self.finish(pool, k=k, strategy=strategy, rerank_query=query, started=started)

    def product(
        self,
        product_id: str,
        customer_id: str | None = None,
        *,
        k: int = 10,
        strategy: str | None = None,
        as_of: date | None = None,
    ) -> Recommendation:
        """A product page: similar products and what is bought together with it."""
        started = time.perf_counter()
        pool = self.items_pool("product", [product_id], customer_id, as_of=as_of)
        return self.finish(pool, k=k, strategy=strategy, started=started)

    def cart(
        self,
        items: Sequence[str],
        customer_id: str | None = None,
        *,
        k: int = 10,
        strategy: str | None = None,
        as_of: date | None = None,
    ) -> Recommendation:
        """Basket completion: what goes with everything in the cart."""
        started = time.perf_counter()
        if not items:
            raise InvalidRequest("the cart is empty: give at least one product id")
        pool = self.items_pool("cart", list(dict.fromkeys(items)), customer_id, as_of=as_of)
        return self.finish(pool, k=k, strategy=strategy, started=started)

    def search(
        self,
        query: str | bytes | Path,
        customer_id: str | None = None,
        *,
        k: int = 10,
        strategy: str | None = None,
        rerank: bool = True,
        as_of: date | None = None,
    ) -> Recommendation:
        """Personalised search: text (full-text index, retriever) or an image (retriever)."""
        started = time.perf_counter()
        pool = self.search_pool(query, customer_id, as_of=as_of)
        text = query if isinstance(query, str) and rerank and self.reranker else None
        return self.finish(pool, k=k, strategy=strategy, rerank_query=text, started=started)

    # -- candidate pools --------------------------------------------------------------

    def profile(self, customer_id: str | None, as_of: date | None = None) -> Profile:
        when = as_of or FAR_FUTURE
        if customer_id is None:
            return Profile(None, ref_date=self.reference_date(as_of))
        rows = self.graph.rows(
            "customer_profile",
            customer_id=customer_id,
            as_of=when,
            history_limit=max(self.params.history_limit, 200),
        )
        if not rows:
            raise UnknownCustomer(customer_id)
        r = rows[0]
        history = [{**h, "ts": _native(h["ts"])} for h in r["history"]]
        # "Today" is read once a minute for everyone; a purchase this customer has just
        # made moves it on at once for them (history is most recent first).
        ref_date = self.reference_date(as_of)
        newest = history[0]["ts"] if history else None
        if newest is not None and (ref_date is None or newest > ref_date):
            ref_date = newest
        return Profile(
            customer_id=customer_id,
            age_bracket=r["age_bracket"],
            persona_id=r["persona_id"],
            persona_name=r["persona_name"],
            community_id=r["community_id"],
            has_embedding=bool(r["has_embedding"]),
            history=history,
            bought=list(r["bought"]),
            ref_date=ref_date,
        )

    def reference_date(self, as_of: date | None = None) -> date | None:
        """The reference day, "today" for time decay: the last purchase day before `as_of`
        (in the live graph when None). The same for every customer, so it is read once a
        minute per `as_of`, not on every request (customer_profile v2 no longer reads it)."""
        now = time.monotonic()
        hit = self._ref_dates.get(as_of)
        if hit is not None and now - hit[0] <= REF_DATE_TTL_S:
            return hit[1]
        rows = self.graph.rows("reference_date", as_of=as_of or FAR_FUTURE)
        ref = _native(rows[0]["ref_date"]) if rows else None
        if len(self._ref_dates) >= 64:  # as_of comes from callers: keep a few
            self._ref_dates.clear()
        self._ref_dates[as_of] = (now, ref)
        return ref

    def homepage_pool(
        self, customer_id: str | None, *, age_bracket: str | None = None, as_of: date | None = None
    ) -> CandidatePool:
        began = time.perf_counter()
        profile = self.profile(customer_id, as_of)
        if age_bracket and not profile.age_bracket:
            profile.age_bracket = age_bracket
        if as_of is None and self.precomputed():
            return self._precomputed_homepage(profile, began)
        exclude = self._excluded(profile)
        when = self._when(profile, as_of)
        anchors = self._anchors(profile)
        g = self.graph
        tasks: list[Callable[[], GeneratorResult]] = [
            lambda: g.popularity(sorted(exclude), when),
            lambda: g.new_arrivals(sorted(exclude), when),
        ]
        tasks += self._persona_tasks(profile, exclude, when)
        if not profile.cold_start:
            ex = sorted(exclude)
            tasks += [
                lambda: g.co_purchase(anchors, ex),
                lambda: g.similar_items(anchors, ex),
                lambda: g.category_affinity(profile.category_shares(), ex, when),
                self._neighbour_task(profile, anchors, ex, when),
            ]
            if profile.community_id is not None:
                cid = profile.community_id
                tasks.append(lambda: g.community_trending(cid, ex, when))
            tasks += self._retriever_tasks(anchors, exclude, " you bought")
        return self._pool_of("homepage", profile, tasks, exclude, as_of, began)

    def items_pool(
        self,
        context: Context,
        product_ids: Sequence[str],
        customer_id: str | None,
        *,
        as_of: date | None = None,
    ) -> CandidatePool:
        began = time.perf_counter()
        known = {p.product_id: p for p in self.graph.products(product_ids)}
        for pid in product_ids:
            if pid not in known:
                raise UnknownProduct(pid)
        profile = self.profile(customer_id, as_of)
        exclude = self._excluded(profile) | set(product_ids)
        when = self._when(profile, as_of)
        anchors = [{"id": pid, "weight": 1.0, "name": known[pid].name} for pid in product_ids]
        if as_of is None and self.precomputed():
            pool = self._precomputed_items(context, known, profile, anchors, exclude, began)
            pool.products.update(known)
            return pool
        ex = sorted(exclude)
        g = self.graph
        tasks: list[Callable[[], GeneratorResult]] = [
            lambda: g.co_purchase(anchors, ex),
            lambda: g.similar_items(anchors, ex, you_bought=False),
            lambda: g.purchase_neighbours(customer_id, anchors, ex, when),
            lambda: g.category_affinity(
                _shares([known[p].category for p in product_ids]), ex, when
            ),
            lambda: g.popularity(ex, when),
        ]
        if customer_id is not None:
            tasks += self._persona_tasks(profile, exclude, when)
        tasks += self._retriever_tasks(anchors, exclude, "")
        pool = self._pool_of(context, profile, tasks, exclude, as_of, began)
        pool.products.update(known)
        return pool

    def bought_together_pool(self, product_id: str) -> CandidatePool:
        """Frequently bought together: the product's BOUGHT_TOGETHER partners alone."""
        began = time.perf_counter()
        known = {p.product_id: p for p in self.graph.products([product_id])}
        if product_id not in known:
            raise UnknownProduct(product_id)
        anchors = [{"id": product_id, "weight": 1.0, "name": known[product_id].name}]
        profile = Profile(None)
        degraded: list[str] = []
        task: Callable[[], GeneratorResult]
        if self.precomputed():
            params = self._source_params({product_id}, anchors, {})
            task = lambda: self._read_sources(["co_purchase"], params, profile, degraded)  # noqa: E731
        else:
            task = lambda: self.graph.co_purchase(anchors, [product_id])  # noqa: E731
        pool = self._pool_of("product", profile, [task], {product_id}, None, began)
        pool.degraded.extend(degraded)
        pool.products.update(known)
        return pool

    def search_pool(
        self, query: str | bytes | Path, customer_id: str | None, *, as_of: date | None = None
    ) -> CandidatePool:
        began = time.perf_counter()
        profile = self.profile(customer_id, as_of)
        exclude = self._excluded(profile)
        when = self._when(profile, as_of)
        g = self.graph
        tasks: list[Callable[[], GeneratorResult]] = []
        if isinstance(query, str):
            if not query.strip():
                raise InvalidRequest("the search query is empty")
            text = query
            tasks.append(lambda: g.search_text(text, sorted(exclude)))
            if self.search_retriever is not None:
                retriever = self.search_retriever
                tasks.append(lambda: self._retrieved("text_similar", retriever, text, exclude))
        else:
            if self.image_retriever is None:
                raise InvalidRequest("image search needs an image retriever (issue #4)")
            image_retriever = self.image_retriever
            tasks.append(lambda: self._retrieved("visual_similar", image_retriever, query, exclude))
        extra: list[str] = []
        if customer_id is not None and not profile.cold_start:
            shares = profile.category_shares()
            if as_of is None and self.precomputed():
                params = self._source_params(exclude, [], shares)
                tasks.append(
                    lambda: self._read_sources(["category_affinity"], params, profile, extra)
                )
            else:
                tasks.append(lambda: g.category_affinity(shares, sorted(exclude), when))
        pool = self._pool_of("search", profile, tasks, exclude, as_of, began)
        pool.degraded.extend(extra)
        pool.query = query if isinstance(query, str) else None
        if customer_id is not None:
            # personalisation re-weights matches; it never adds unrelated products
            matched = {
                c.product_id
                for g_, items in pool.lists.items()
                if g_ != "category_affinity"
                for c in items
            }
            if "category_affinity" in pool.lists:
                pool.lists["category_affinity"] = [
                    c for c in pool.lists["category_affinity"] if c.product_id in matched
                ]
        return pool

    # -- fusion, rerank, rules --------------------------------------------------------

    def strategy(self, name: str | None = None, context: str = "homepage") -> FusionStrategy:
        name = name or self.settings.rec_strategy
        if name == "rrf":
            return RRFFusion(self.fusion.rrf_k, self.fusion.context_boost.get(context, {}))
        if name == "weighted":
            return WeightedFusion(self.fusion.weights_for(context), self.fusion.limits)
        if name == "learned":
            if self._ranker is None:
                self._ranker = ranker_mod.LearnedFusion.load(
                    self.ranker_path or models_dir(self.settings) / "ranker"
                )
            return self._ranker
        raise InvalidRequest(f"unknown strategy {name!r}: choose one of {', '.join(STRATEGIES)}")

    def finish(
        self,
        pool: CandidatePool,
        *,
        k: int = 10,
        strategy: str | None = None,
        rerank_query: str | None = None,
        started: float | None = None,
        fusion: FusionStrategy | None = None,
    ) -> Recommendation:
        """Fuse, rerank (when a query and a reranker are there), apply the rules, explain."""
        t0 = time.perf_counter()
        degraded = set(pool.degraded)
        try:
            chosen = fusion or self.strategy(strategy, pool.context)
        except RecommenderError:
            raise
        except Exception as exc:
            if (strategy or self.settings.rec_strategy) != "learned":
                raise
            # a ranker whose files cannot be read (corrupt, half-written) is as good as
            # none: the caller decides (the API falls back to RRF, issue 14)
            where = self.ranker_path or models_dir(self.settings) / "ranker"
            raise RankerNotTrained(
                f"{where} (its model cannot be read: {type(exc).__name__}; retrain it)"
            ) from exc
        if isinstance(chosen, ranker_mod.LearnedFusion) and pool.stats is None:
            pool.stats = self.product_stats(pool)
        fused = chosen.fuse(pool)
        t1 = time.perf_counter()
        reranked = False
        if rerank_query and self.reranker is not None and fused:
            try:
                fused = self._rerank(pool, fused, rerank_query)
                reranked = True
            except RerankerUnavailable:
                # the cross-encoder cannot load: the fused order stands, and says so
                degraded.add("cross_encoder")
        t2 = time.perf_counter()
        final = apply_rules(
            fused,
            pool.products,
            self.rules,
            k=k,
            bought=pool.profile.bought,
            hidden=pool.exclude,
            ref_date=pool.profile.ref_date,
        )
        items = self._explain(pool, final)
        t3 = time.perf_counter()
        timings = {
            "candidates_ms": round(pool.seconds * 1000, 2),
            "fusion_ms": round((t1 - t0) * 1000, 2),
            "rerank_ms": round((t2 - t1) * 1000, 2),
            "rules_ms": round((t3 - t2) * 1000, 2),
        }
        if started is not None:
            timings["total_ms"] = round((t3 - started) * 1000, 2)
        return Recommendation(
            request_id=uuid.uuid4().hex,
            context=pool.context,
            strategy=chosen.name,
            customer_id=pool.profile.customer_id,
            items=items,
            timings=timings,
            cold_start=pool.profile.cold_start,
            reranked=reranked,
            persona=pool.profile.persona_name,
            degraded=sorted(degraded),
        )

    def product_stats(self, pool: CandidatePool) -> dict[str, dict[str, Any]]:
        ids = sorted({c.product_id for items in pool.lists.values() for c in items})
        rows = self.graph.rows(
            "product_stats",
            ids=ids,
            as_of=pool.as_of or FAR_FUTURE,
            ref_date=pool.profile.ref_date or date.today(),
            window_days=self.params.popularity_window_days,
        )
        return {r["product_id"]: {**r, "last_sale": _native(r["last_sale"])} for r in rows}

    # -- the precomputed request path ---------------------------------------------------

    def precomputed(self) -> bool:
        """Whether `ragrec refresh` has made the ranked lists live (checked every 30 s)."""
        checked, live = self._live
        if time.monotonic() - checked > 30:
            try:
                found = versions.live_versions(self.driver, self.database)
                live = {name for name, v in found.items() if v.get("live")}
                stats = found.get("product_stats", {}).get("stats") or {}
                self._max_sales = float(stats.get("max_sales") or 0.0)
                self._model_versions = sorted(
                    str(found[f"neighbours:{m}"]["live"])
                    for m in self.settings.neighbours_models
                    if found.get(f"neighbours:{m}", {}).get("live")
                )
            except Exception:  # no answer: keep what was known
                return "popular" in live
            newly = "popular" in live and "popular" not in self._live[1]
            self._live = (time.monotonic(), live)
            if newly:  # never in the request: concurrent requests would all wait on it
                self._warm_in_background()
        if self.snapshot is not None and "popular" in live:
            self.snapshot.maybe_rebuild()  # in the background, when a version switched
        return "popular" in live

    def readiness(self) -> dict[str, Any]:
        """Whether this process answers from its item snapshot yet (`/api/v1/ready`): not
        ready only while the first build of a live version runs; with the snapshot off or
        before `ragrec refresh` there is nothing to wait for."""
        live = self.precomputed()  # also starts the build when it is due
        if self.snapshot is None:
            return {"ready": True, "item_snapshot": {"state": "off"}}
        if not live:
            return {"ready": True, "item_snapshot": {"state": "no live lists"}}
        state = self.snapshot.state()
        return {"ready": state["state"] == "ready", "item_snapshot": state}

    def load_snapshot(self) -> bool:
        """Build the item snapshot now (the API builds it in the background at start;
        tests and benchmarks wait for it here). False when it is switched off."""
        if self.snapshot is None:
            return False
        self.snapshot.build_now()  # joins the build `precomputed()` may have started
        return True

    def _warm_in_background(self) -> None:
        with self._warm_lock:
            if self._warming:
                return
            self._warming = True

        def warm() -> None:
            try:
                self.warm_up()
            finally:
                with self._warm_lock:
                    self._warming = False

        threading.Thread(target=warm, daemon=True, name="rec-warm-up").start()

    def warm_up(self) -> None:
        """Plan the candidate queries once, with a long timeout: a cold plan of the joined
        query can take longer than a request's timeout on a busy machine. Neo4j keys its
        plan cache on the parameters' types too, so both shapes a request can have are
        planned: a customer with history, persona and community, and a cold start."""
        none = "\u0000warm-up"  # matches no product, list or persona
        full = self._source_params(
            {none}, [{"id": none, "weight": 1.0}], {none: 1.0}, ["0000000000"]
        )
        full.update(persona_key=none, community_key=none, bought=[none], model_versions=[none])
        empty = self._source_params(set(), [], {})
        for params in (full, empty):
            for context in (HOMEPAGE_SOURCES, ITEMS_SOURCES):
                for sources in self._trips(context):
                    try:
                        self.reader.read(sources, params, {}, timeout_s=60.0)
                    except Exception as exc:  # the requests will say what fails
                        log.warning("warm-up of the candidates query failed: %s", exc)

    def _trips(self, sources: Sequence[str]) -> list[list[str]]:
        """The round trips that read `sources`: one joined query, or two side by side (the
        item snapshot answers them all in-process, at once)."""
        if not self.settings.rec_parallel_reads or (
            self.snapshot is not None and self.snapshot.current is not None
        ):
            return [list(sources)]
        first = [s for s in sources if s not in SECOND_TRIP]
        second = [s for s in sources if s in SECOND_TRIP]
        return [t for t in (first, second) if t]

    def _precomputed_homepage(self, profile: Profile, began: float) -> CandidatePool:
        exclude = self._excluded(profile)
        anchors = self._anchors(profile)
        # every source always: one query text per context (one plan, cached by Neo4j);
        # a source without input (no anchors, no persona) reads nothing
        sources = list(HOMEPAGE_SOURCES)
        shares = profile.category_shares()
        items = [h["id"] for h in profile.history[:MODEL_ITEMS]]
        params = self._source_params(exclude, anchors, shares, items)
        params["bought"] = list(profile.bought)
        params.update(
            persona_key=self._persona_key(profile),
            community_key=None if profile.community_id is None else str(profile.community_id),
        )
        degraded: list[str] = []
        tasks: list[Callable[[], GeneratorResult]] = [
            functools.partial(self._read_sources, trip, params, profile, degraded, " you bought")
            for trip in self._trips(sources)
        ]
        tasks.append(lambda: self._repurchase(profile, exclude))
        if not profile.cold_start:
            tasks += self._retriever_tasks(anchors, exclude, " you bought")
        pool = self._pool_of("homepage", profile, tasks, exclude, None, began)
        pool.degraded.extend(degraded)
        return pool

    def _precomputed_items(
        self,
        context: Context,
        known: dict[str, ProductInfo],
        profile: Profile,
        anchors: list[dict[str, Any]],
        exclude: set[str],
        began: float,
    ) -> CandidatePool:
        shares = _shares([known[p].category for p in known])
        sources = list(ITEMS_SOURCES)
        params = self._source_params(exclude, anchors, shares, list(known))
        params["persona_key"] = self._persona_key(profile) if profile.customer_id else None
        degraded: list[str] = []
        tasks: list[Callable[[], GeneratorResult]] = [
            functools.partial(self._read_sources, trip, params, profile, degraded, "")
            for trip in self._trips(sources)
        ]
        tasks += self._retriever_tasks(anchors, exclude, "")
        pool = self._pool_of(context, profile, tasks, exclude, None, began)
        pool.degraded.extend(degraded)
        return pool

    def _source_params(
        self,
        exclude: set[str],
        anchors: list[dict[str, Any]],
        shares: dict[str, float],
        items: Sequence[str] = (),
    ) -> dict[str, Any]:
        p = self.params
        top = sorted(shares.items(), key=lambda kv: (-kv[1], kv[0]))[: p.categories]
        codes = sorted({c for i in items if (c := product_code(i)) is not None})
        return {
            "items": list(items),
            "bought": list(items),
            "codes": codes,
            "max_sales": self._max_sales,
            "trending_key": f"{p.popularity_window_days}d",
            "exclude_ids": sorted(exclude),
            "limit": p.limit,
            "popular_key": f"{p.popularity_window_days}d",
            "persona_key": None,
            "community_key": None,
            "categories": [{"name": n, "weight": w} for n, w in top],
            "per_category": p.per_category,
            "anchors": [{"id": a["id"], "weight": a["weight"]} for a in anchors],
            "sources": ["gds_node_similarity", "visual", "text"],
            "models": list(self.settings.neighbours_models),
            "model_versions": list(self._model_versions),
        }

    def _persona_key(self, profile: Profile) -> str | None:
        if profile.persona_id is not None:
            return profile.persona_id
        bracket = profile.age_bracket
        return f"age:{bracket}" if bracket and bracket != "unknown" else None

    def _read_sources(
        self,
        sources: list[str],
        params: dict[str, Any],
        profile: Profile,
        degraded: list[str],
        you_bought: str = "",
    ) -> GeneratorResult:
        """All the sources in one round trip; returned as one result per source, merged by
        `_pool_of` (a GeneratorResult named "*" that carries the others)."""
        labels = {"persona": profile.persona_name, "you_bought": you_bought}
        got = self.snapshot.read(sources, params, labels) if self.snapshot else None
        results, failed, stats = got or self.reader.read(sources, params, labels)
        degraded.extend(failed)
        return _Many(results, stats)

    def _repurchase(self, profile: Profile, exclude: set[str]) -> GeneratorResult:
        """Items the customer bought before (those the rules let through): times bought,
        decayed with age, as in the evaluation's repurchase source."""
        ref = profile.ref_date
        scored = []
        for h in profile.history:
            if h["id"] in exclude:
                continue
            age = (ref - _day(h.get("ts"))).days if ref and h.get("ts") else 0
            n = float(h.get("n") or 1)
            scored.append((h["id"], n * 0.5 ** (age / REPURCHASE_HALF_LIFE_DAYS)))
        scored.sort(key=lambda t: (-t[1], t[0]))
        top = scored[: self.params.limit]
        return GeneratorResult(
            "repurchase",
            [Candidate(pid, sc, "repurchase", "you bought this before") for pid, sc in top],
            [],
        )

    # -- helpers ------------------------------------------------------------------------

    def _fusion_config(self) -> FusionConfig:
        path = models_dir(self.settings) / TUNED_FILE
        cfg = FusionConfig.load(path) if path.exists() else FusionConfig()
        if self.settings.rec_fusion_weights:
            cfg.weights = dict(self.settings.rec_fusion_weights)
        return cfg

    def _when(self, profile: Profile, as_of: date | None) -> dict[str, Any]:
        return {"as_of": as_of or FAR_FUTURE, "ref_date": profile.ref_date or date.today()}

    def _excluded(self, profile: Profile) -> set[str]:
        if not self.rules.exclude_bought:
            return set()
        repurchase = self.rules.repurchase_categories
        return {h["id"] for h in profile.history if h.get("category") not in repurchase}

    def _anchors(self, profile: Profile) -> list[dict[str, Any]]:
        ref = profile.ref_date
        half = self.params.anchor_half_life_days
        out = []
        for h in profile.history[: self.params.history_limit]:
            days = (ref - h["ts"]).days if ref and h.get("ts") else 0
            out.append({"id": h["id"], "name": h.get("name"), "weight": 0.5 ** (days / half)})
        return out

    def _persona_tasks(
        self, profile: Profile, exclude: set[str], when: dict[str, Any]
    ) -> list[Callable[[], GeneratorResult]]:
        g, ex = self.graph, sorted(exclude)
        if profile.persona_id is not None:
            pid, pname = profile.persona_id, profile.persona_name
            return [lambda: g.persona_favourites(pid, pname, ex, when)]
        bracket = profile.age_bracket
        if not bracket or bracket == "unknown":
            return []

        def by_demographics() -> GeneratorResult:
            persona = g.persona_for_age_bracket(bracket)
            if persona is not None:
                return g.persona_favourites(persona[0], persona[1], ex, when)
            return g.cohort_favourites(bracket, ex, when)

        return [by_demographics]

    def _neighbour_task(
        self, profile: Profile, anchors: list[dict[str, Any]], ex: list[str], when: dict[str, Any]
    ) -> Callable[[], GeneratorResult]:
        g, cid = self.graph, profile.customer_id
        if cid is not None and profile.has_embedding and self._has_vector_index():
            index = self.settings.rec_customer_vector_index
            return lambda: g.behaviour_neighbours(cid, index, ex, when)
        return lambda: g.purchase_neighbours(cid, anchors, ex, when)

    def _has_vector_index(self) -> bool:
        checked, ok = self._vector_index
        if time.monotonic() - checked > 60:
            rows = self.graph.rows(
                "vector_index_exists", index_name=self.settings.rec_customer_vector_index
            )
            ok = bool(rows and rows[0]["n"])
            self._vector_index = (time.monotonic(), ok)
        return ok

    def _retriever_tasks(
        self, anchors: list[dict[str, Any]], exclude: set[str], suffix: str
    ) -> list[Callable[[], GeneratorResult]]:
        tasks: list[Callable[[], GeneratorResult]] = []
        for name, retriever, verb in (
            ("visual_similar", self.visual, "looks like"),
            ("text_similar", self.text, "described like"),
        ):
            if retriever is not None:
                tasks.append(self._retriever_task(name, retriever, verb, anchors, exclude, suffix))
        return tasks

    def _retriever_task(
        self,
        name: str,
        retriever: SimilarProducts,
        verb: str,
        anchors: list[dict[str, Any]],
        exclude: set[str],
        suffix: str,
    ) -> Callable[[], GeneratorResult]:
        k = self.params.limit
        return lambda: self._hydrate(
            *retriever_generator(name, retriever, anchors[:5], exclude, k, verb, suffix)
        )

    def _retrieved(
        self, name: str, retriever: QueryRetriever, query: Any, exclude: set[str]
    ) -> GeneratorResult:
        hits = [(p, s) for p, s in retriever.search(query, self.params.limit) if p not in exclude]
        label = f"matches “{query}”" if isinstance(query, str) else "looks like your picture"
        return self._hydrate(name, [(p, s, label) for p, s in hits])

    def _hydrate(self, name: str, hits: list[tuple[str, float, str]]) -> GeneratorResult:
        infos = self.graph.products([p for p, _, _ in hits])
        known = {i.product_id for i in infos}
        return GeneratorResult(
            name, [Candidate(p, s, name, why) for p, s, why in hits if p in known], infos
        )

    def _pool_of(
        self,
        context: Context,
        profile: Profile,
        tasks: list[Callable[[], GeneratorResult]],
        exclude: set[str],
        as_of: date | None,
        began: float,
    ) -> CandidatePool:
        results: list[GeneratorResult] = []
        degraded: list[str] = []
        stats: dict[str, dict[str, Any]] | None = None
        for future in [self._pool.submit(t) for t in tasks]:
            try:
                res = future.result()
            except (UnknownCustomer, UnknownProduct, InvalidRequest):
                raise
            except Exception as exc:  # one source failing never fails the request
                name = _failed_source(exc)
                log.warning("source %s dropped: %s", name, exc)
                degraded.append(name)
                continue
            if isinstance(res, _Many):
                results.extend(res.parts)
                stats = {**(stats or {}), **res.stats}
            else:
                results.append(res)
        lists: dict[str, list[Candidate]] = {}
        products: dict[str, ProductInfo] = {}
        for res in results:
            if res.candidates:
                lists.setdefault(res.generator, []).extend(res.candidates)
            for info in res.products:
                products.setdefault(info.product_id, info)
        return CandidatePool(
            context=context,
            profile=profile,
            lists=lists,
            products=products,
            exclude=exclude,
            as_of=as_of,
            seconds=time.perf_counter() - began,
            degraded=degraded,
            stats=stats,
        )

    def _rerank(self, pool: CandidatePool, fused: list[Scored], query: str) -> list[Scored]:
        assert self.reranker is not None
        top = fused[: self.fusion.rerank_top]
        missing = [
            s.product_id for s in top if not pool.products.get(s.product_id, _EMPTY).description
        ]
        if missing:
            for info in self.graph.products(missing):
                pool.products[info.product_id] = info
        ce = self.reranker.score(
            query, [product_text(pool.products.get(s.product_id), s.product_id) for s in top]
        )
        a = self.fusion.rerank_alpha
        blended = [
            replace(s, score=(1 - a) * f + a * c)
            for s, f, c in zip(top, min_max([s.score for s in top]), min_max(ce), strict=True)
        ]
        blended.sort(key=lambda s: (-s.score, s.product_id))
        low = min((s.score for s in blended), default=0.0)
        # items below the reranked head keep their order, under the head's scores
        tail = [replace(s, score=low - 1e-6 * (i + 1)) for i, s in enumerate(fused[len(top) :])]
        return blended + tail

    def _explain(self, pool: CandidatePool, final: list[Scored]) -> list[RecommendedItem]:
        why: dict[tuple[str, str], str] = {}
        for generator, items in pool.lists.items():
            for c in items:
                why.setdefault((c.product_id, generator), c.reason)
        out = []
        for position, s in enumerate(final, start=1):
            info = pool.products.get(s.product_id)
            reasons = list(
                dict.fromkeys(
                    why[(s.product_id, g)] for g in s.generators if (s.product_id, g) in why
                )
            )
            out.append(
                RecommendedItem(
                    product_id=s.product_id,
                    name=info.name if info else None,
                    score=round(s.score, 6),
                    position=position,
                    generators=list(dict.fromkeys(s.generators)),
                    reasons=reasons,
                    category=info.category if info else None,
                    price=info.price if info else None,
                )
            )
        return out


_EMPTY = ProductInfo("")


class _Many(GeneratorResult):
    """Several sources' results from one round trip."""

    def __init__(self, parts: list[GeneratorResult], stats: dict[str, dict[str, Any]]) -> None:
        super().__init__("*", [], [])
        self.parts = parts
        self.stats = stats


def _failed_source(exc: BaseException) -> str:
    return exc.source if isinstance(exc, SourceFailed) else f"generator ({type(exc).__name__})"


def _shares(categories: Sequence[str | None]) -> dict[str, float]:
    named = [c for c in categories if c]
    return {c: named.count(c) / len(named) for c in set(named)}


def _day(value: Any) -> date:
    value = _native(value)
    return value.date() if isinstance(value, datetime) else value


def _native(value: Any) -> Any:
    return value.to_native() if hasattr(value, "to_native") else value
