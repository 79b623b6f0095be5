from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from litestar.openapi.spec import OpenAPIType, Schema

Strategy = Literal["rrf", "weighted", "learned"]
RecommendContext = Literal["homepage", "product", "cart", "search", "frequently_bought_together"]

ShopCustomerId = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=128,
        description="the shop's own customer id (pseudonymised by the API, never stored)",
    ),
]
ProductRef = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
TopK = Annotated[int, msgspec.Meta(ge=1, le=100, description="number of items (1..100)")]
Price = Annotated[float, msgspec.Meta(ge=0)]


class Filters(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Applied to the candidates before ranking; a product without a stock flag counts as
    in stock."""

    category: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    min_price: Price | None = None
    max_price: Price | None = None
    in_stock: bool | None = None


def _requires(context: str, field: str) -> Schema:
    """OpenAPI: `field` (non-null) is required when `context` is `context`."""
    kind = OpenAPIType.ARRAY if field == "cart" else OpenAPIType.STRING
    return Schema(
        schema_if=Schema(properties={"context": Schema(const=context)}, required=["context"]),
        then=Schema(required=[field], properties={field: Schema(type=kind)}),
    )


def _context_rules(component: Schema) -> None:
    """The inputs each context needs, in the schema (api, issue 14: Schemathesis)."""
    component.all_of = [
        _requires("product", "product_id"),
        _requires("frequently_bought_together", "product_id"),
        _requires("cart", "cart"),
        _requires("search", "query"),
    ]


#: a search query with at least one non-blank character
Query = Annotated[str, msgspec.Meta(min_length=1, max_length=500, pattern=r"\S")]


class RecommendRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """`context` says which inputs are needed: product and frequently_bought_together need
    `product_id`, cart needs `cart`, search needs `query`; homepage needs nothing (a
    missing `customer_id` is a cold start)."""

    customer_id: ShopCustomerId | None = None
    context: RecommendContext = "homepage"
    product_id: ProductRef | None = None
    cart: Annotated[list[ProductRef], msgspec.Meta(min_length=1, max_length=100)] | None = None
    query: Query | None = None
    top_k: TopK = 10
    strategy: Strategy | None = None
    filters: Filters | None = None

    __openapi_extra__ = _context_rules


class SearchRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    query: Query
    top_k: TopK = 10
    customer_id: ShopCustomerId | None = None
    filters: Filters | None = None
    strategy: Strategy | None = None


class RecommendationItem(msgspec.Struct, kw_only=True):
    position: int
    product_id: str
    score: float
    reasons: list[str]
    generators: list[str]
    name: str | None = None
    category: str | None = None
    price: float | None = None


class RecommendationResponse(msgspec.Struct, kw_only=True):
    """`request_id` identifies this response: send it back with impression, click and
    cart events (with the item's `position`) so they are attributed to it."""

    request_id: str
    context: RecommendContext
    strategy: str
    items: list[RecommendationItem]
    cold_start: bool = False
    persona: str | None = None
    cached: bool = False
    candidates: dict[str, int] = msgspec.field(default_factory=dict)
    timings_ms: dict[str, float] = msgspec.field(default_factory=dict)
    #: candidate sources that failed or timed out and were left out of this answer
    degraded: list[str] = msgspec.field(default_factory=list)
