from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, TypeVar

import msgspec
from litestar import Controller, get, post
from litestar.params import JSONBody, Parameter

from app.domain.recommendations.schemas import (
    Filters,
    RecommendationResponse,
    RecommendRequest,
    SearchRequest,
    Strategy,
)
from app.domain.recommendations.services import recommend as _recommend
from app.domain.recommendations.services import search as _search
from app.lib import metrics
from app.lib.engines import recommender
from app.lib.errors import NotFound, Unprocessable, error_specs
from app.lib.params import ID_PATTERN, ProductId, TopK
from app.lib.resources import Resources, ResourcesDep

OptionalCustomer = Annotated[
    str | None,
    Parameter(
        description="the shop's own customer id (pseudonymised, never stored); "
        "absent = anonymous visitor",
        min_length=1,
        max_length=128,
        pattern=ID_PATTERN,
        required=False,
    ),
]
StrategyParam = Annotated[
    Strategy | None, Parameter(description="fusion strategy (default: settings)", required=False)
]
Category = Annotated[
    str | None,
    Parameter(description="only this product type", min_length=1, max_length=200, required=False),
]
# `schema_extra`: Litestar leaves a bound of 0 out of the schema (it is falsy)
MinPrice = Annotated[float | None, Parameter(ge=0, required=False, schema_extra={"minimum": 0})]
MaxPrice = Annotated[float | None, Parameter(ge=0, required=False, schema_extra={"minimum": 0})]
InStock = Annotated[bool | None, Parameter(description="only products in stock", required=False)]
CartItems = Annotated[
    list[str],
    Parameter(
        description="product ids in the cart (repeat the parameter)",
        min_items=1,
        max_items=100,
    ),
]

_RESPONSES = error_specs(404, 422)
_Req = TypeVar("_Req", RecommendRequest, SearchRequest)


#: named in `degraded` when the learned ranker cannot load (not trained, or its files
#: cannot be read) and RRF fused the candidates instead
RANKER_FALLBACK = "ranker:rrf"


def recommend(resources: Resources, req: RecommendRequest) -> RecommendationResponse:
    return _with_fallbacks(_recommend, resources, req)


def search(resources: Resources, req: SearchRequest) -> RecommendationResponse:
    return _with_fallbacks(_search, resources, req)


def _with_fallbacks(
    answer: Callable[[Resources, _Req], RecommendationResponse], resources: Resources, req: _Req
) -> RecommendationResponse:
    """Answer; when the learned ranker cannot load, fuse by RRF instead and say so in
    `degraded` (issue 14, degraded modes). Fallbacks are counted in /metrics
    (`ragrec_fallbacks_total`): the sources' once per computed answer, the ranker's once
    per request it served."""
    fallbacks: list[str] = []
    with _no_pseudonym():
        response: RecommendationResponse | None = None
        if not _ranker_cannot_load(resources, req):
            try:
                response = answer(resources, req)
            except Unprocessable as exc:
                if exc.field != "strategy" or req.strategy == "rrf":
                    raise
        if response is None:
            as_rrf = msgspec.structs.replace(req, strategy="rrf")
            served: RecommendationResponse = answer(resources, as_rrf)
            response = msgspec.structs.replace(
                served, degraded=sorted({*served.degraded, RANKER_FALLBACK})
            )
            fallbacks.append(RANKER_FALLBACK)
    if not response.cached:
        fallbacks += [d for d in response.degraded if d != RANKER_FALLBACK]
    metrics.record_degraded(fallbacks)
    return response


def _ranker_cannot_load(resources: Resources, req: RecommendRequest | SearchRequest) -> bool:
    """Whether the request asks for the learned ranker and it cannot load: checked before
    the candidates are read (they would be read twice otherwise). A loaded ranker is kept
    by the engine; a missing or unreadable one costs a look at the models folder."""
    if (req.strategy or resources.settings.rec_strategy) != "learned":
        return False
    try:
        recommender(resources).strategy("learned")
    except Exception:  # not trained, or its files cannot be read
        return True
    return False


@contextmanager
def _no_pseudonym() -> Iterator[None]:
    """api (issue 14): a 404 for an unknown customer never carries the pseudonym (it
    would confirm which ids exist and leak what the pseudonymisation key derives)."""
    try:
        yield
    except NotFound as exc:
        if exc.field != "customer_id":
            raise
        raise NotFound("unknown customer: no such customer is known", field="customer_id") from None


def _filters(
    category: str | None, min_price: float | None, max_price: float | None, in_stock: bool | None
) -> Filters | None:
    if category is None and min_price is None and max_price is None and in_stock is None:
        return None
    return Filters(category=category, min_price=min_price, max_price=max_price, in_stock=in_stock)


class RecommendController(Controller):
    tags = ["recommendations"]

    @post(
        "/recommend",
        sync_to_thread=True,
        status_code=200,
        summary="Recommendations for any context",
        description="Candidates from the graph (and vector retrievers), fused, reranked and "
        "filtered by the business rules. Every item has its position, score and reasons.",
        responses=_RESPONSES,
    )
    def recommend(
        self, resources: ResourcesDep, data: JSONBody[RecommendRequest]
    ) -> RecommendationResponse:
        return recommend(resources, data)

    @post(
        "/search",
        sync_to_thread=True,
        status_code=200,
        summary="Product search",
        description="Full-text (and, where configured, semantic) search with filters; with "
        "`customer_id` the matches are re-weighted by the customer's tastes.",
        responses=_RESPONSES,
    )
    def search(
        self, resources: ResourcesDep, data: JSONBody[SearchRequest]
    ) -> RecommendationResponse:
        return search(resources, data)


class RecommendationShortcutController(Controller):
    path = "/recommendations"
    tags = ["recommendations"]

    @get(
        "/homepage",
        sync_to_thread=True,
        summary="Homepage recommendations",
        responses=_RESPONSES,
    )
    def homepage(
        self,
        resources: ResourcesDep,
        customer_id: OptionalCustomer = None,
        top_k: TopK = 10,
        strategy: StrategyParam = None,
        category: Category = None,
        min_price: MinPrice = None,
        max_price: MaxPrice = None,
        in_stock: InStock = None,
    ) -> RecommendationResponse:
        return recommend(
            resources,
            RecommendRequest(
                customer_id=customer_id,
                context="homepage",
                top_k=top_k,
                strategy=strategy,
                filters=_filters(category, min_price, max_price, in_stock),
            ),
        )

    @get(
        "/product/{product_id:str}",
        sync_to_thread=True,
        summary="Product-page recommendations",
        responses=_RESPONSES,
    )
    def product(
        self,
        resources: ResourcesDep,
        product_id: ProductId,
        customer_id: OptionalCustomer = None,
        top_k: TopK = 10,
        strategy: StrategyParam = None,
        category: Category = None,
        min_price: MinPrice = None,
        max_price: MaxPrice = None,
        in_stock: InStock = None,
    ) -> RecommendationResponse:
        return recommend(
            resources,
            RecommendRequest(
                customer_id=customer_id,
                context="product",
                product_id=product_id,
                top_k=top_k,
                strategy=strategy,
                filters=_filters(category, min_price, max_price, in_stock),
            ),
        )

    @get(
        "/cart",
        sync_to_thread=True,
        summary="Cart (basket completion) recommendations",
        responses=_RESPONSES,
    )
    def cart(
        self,
        resources: ResourcesDep,
        items: CartItems,
        customer_id: OptionalCustomer = None,
        top_k: TopK = 10,
        strategy: StrategyParam = None,
        in_stock: InStock = None,
    ) -> RecommendationResponse:
        return recommend(
            resources,
            RecommendRequest(
                customer_id=customer_id,
                context="cart",
                cart=items,
                top_k=top_k,
                strategy=strategy,
                filters=_filters(None, None, None, in_stock),
            ),
        )

    @get(
        "/frequently-bought-together/{product_id:str}",
        sync_to_thread=True,
        summary="Frequently bought together",
        description="Products bought in the same basket as this one (BOUGHT_TOGETHER).",
        responses=_RESPONSES,
    )
    def bought_together(
        self,
        resources: ResourcesDep,
        product_id: ProductId,
        top_k: TopK = 10,
        strategy: StrategyParam = None,
    ) -> RecommendationResponse:
        return recommend(
            resources,
            RecommendRequest(
                context="frequently_bought_together",
                product_id=product_id,
                top_k=top_k,
                strategy=strategy,
            ),
        )
