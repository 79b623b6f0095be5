"""Recommendations over `ragrec.recommender`: pseudonymise, pool, filter, fuse, cache."""

from __future__ import annotations

import uuid
from collections.abc import Hashable, Iterator
from contextlib import contextmanager

import msgspec

from app.domain.recommendations.schemas import (
    Filters,
    RecommendationItem,
    RecommendationResponse,
    RecommendContext,
    RecommendRequest,
    SearchRequest,
)
from app.lib import metrics
from app.lib.engines import recommender
from app.lib.errors import ApiError, NotFound, Unprocessable
from app.lib.resources import Resources
from ragrec.recommender.engine import Recommender
from ragrec.recommender.errors import (
    InvalidRequest,
    RankerNotTrained,
    UnknownCustomer,
    UnknownProduct,
)
from ragrec.recommender.types import CandidatePool, ProductInfo, Recommendation


def recommend(resources: Resources, req: RecommendRequest) -> RecommendationResponse:
    """Answer a recommendation request, from the per-process cache when it is fresh."""
    _check_inputs(req)
    pseudonym = resources.pseudonym(req.customer_id) if req.customer_id else None
    key: Hashable = (
        "rec",
        pseudonym,
        req.context,
        req.product_id,
        tuple(req.cart or ()),
        req.query,
        req.top_k,
        req.strategy,
        _filters_key(req.filters),
    )
    hit: RecommendationResponse | None = resources.cache.get(key)
    if hit is not None:
        metrics.RECOMMENDATIONS.labels(context=req.context, cached="yes").inc()
        return msgspec.structs.replace(hit, request_id=uuid.uuid4().hex, cached=True)
    rec = recommender(resources)
    with _translated_errors(req):
        pool = _pool(rec, req, pseudonym)
        counts = {g: len(c) for g, c in pool.lists.items()}
        metrics.observe_candidates(counts)
        if req.filters:
            _apply_filters(pool, req.filters)
        result = rec.finish(
            pool,
            k=req.top_k,
            strategy=req.strategy,
            rerank_query=req.query if req.context == "search" else None,
        )
    response = _response(result, req.context, counts)
    resources.cache.put(key, response)
    metrics.RECOMMENDATIONS.labels(context=req.context, cached="no").inc()
    return response


def search(resources: Resources, req: SearchRequest) -> RecommendationResponse:
    return recommend(
        resources,
        RecommendRequest(
            customer_id=req.customer_id,
            context="search",
            query=req.query,
            top_k=req.top_k,
            strategy=req.strategy,
            filters=req.filters,
        ),
    )


def _check_inputs(req: RecommendRequest) -> None:
    needs = {
        "product": "product_id",
        "frequently_bought_together": "product_id",
        "cart": "cart",
        "search": "query",
    }.get(req.context)
    if needs and not getattr(req, needs):
        raise ApiError(f"{needs!r} is required for context {req.context!r}", field=needs)
    f = req.filters
    if f and f.min_price is not None and f.max_price is not None and f.min_price > f.max_price:
        raise ApiError("min_price is above max_price", field="filters.min_price")


def _pool(rec: Recommender, req: RecommendRequest, customer: str | None) -> CandidatePool:
    if req.context == "homepage":
        return rec.homepage_pool(customer)
    if req.context == "product":
        assert req.product_id is not None
        return rec.items_pool("product", [req.product_id], customer)
    if req.context == "cart":
        return rec.items_pool("cart", list(dict.fromkeys(req.cart or ())), customer)
    if req.context == "search":
        assert req.query is not None
        if not req.query.strip():
            raise ApiError("the search query is blank", field="query")
        return rec.search_pool(req.query, customer)
    assert req.product_id is not None
    return rec.bought_together_pool(req.product_id)


def _apply_filters(pool: CandidatePool, f: Filters) -> None:
    def keep(info: ProductInfo | None) -> bool:
        if info is None:
            return False
        if f.category and (info.category or "").casefold() != f.category.casefold():
            return False
        if f.min_price is not None and (info.price is None or info.price < f.min_price):
            return False
        if f.max_price is not None and (info.price is None or info.price > f.max_price):
            return False
        return not (f.in_stock and info.in_stock is False)

    pool.lists = {
        g: kept
        for g, cands in pool.lists.items()
        if (kept := [c for c in cands if keep(pool.products.get(c.product_id))])
    }


@contextmanager
def _translated_errors(req: RecommendRequest) -> Iterator[None]:
    """Map the recommender's named errors to API errors naming the field."""
    try:
        yield
    except UnknownCustomer as exc:
        raise NotFound(
            f"unknown customer (pseudonym {exc.customer_id}): no such customer is known",
            field="customer_id",
        ) from exc
    except UnknownProduct as exc:
        field = "cart" if req.context == "cart" else "product_id"
        raise NotFound(f"unknown product id {exc.product_id!r}", field=field) from exc
    except RankerNotTrained as exc:
        raise Unprocessable(str(exc), field="strategy") from exc
    except InvalidRequest as exc:
        raise Unprocessable(str(exc)) from exc


def _response(
    result: Recommendation, context: RecommendContext, counts: dict[str, int]
) -> RecommendationResponse:
    return RecommendationResponse(
        request_id=result.request_id,
        context=context,
        strategy=result.strategy,
        items=[
            RecommendationItem(
                position=i.position,
                product_id=i.product_id,
                score=float(i.score),
                reasons=list(i.reasons),
                generators=list(i.generators),
                name=i.name,
                category=i.category,
                price=None if i.price is None else float(i.price),
            )
            for i in result.items
        ],
        cold_start=result.cold_start,
        persona=result.persona,
        candidates=counts,
        timings_ms=dict(result.timings),
        degraded=list(result.degraded),
    )


def _filters_key(f: Filters | None) -> Hashable:
    if f is None:
        return None
    return (f.category, f.min_price, f.max_price, f.in_stock)
