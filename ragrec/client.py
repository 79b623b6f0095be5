"""A typed Python client of the RagRec REST API (httpx), sync and async.

```python
from ragrec.client import RagRecClient

with RagRecClient("http://127.0.0.1:8000", api_key=EVENTS_KEY) as client:
    recs = client.homepage(customer_id="shop-customer-42", top_k=5)
    for item in recs.items:
        print(item.position, item.name, item.score, item.reasons)
    results = client.search("black leggings", top_k=10, filters=Filters(max_price=0.05))
    client.track("shop-customer-42", results.items[0].product_id, "recommendation_click",
                 request_id=results.request_id, position=1, context="search")
```

`api_key` is sent as `X-API-Key`: tracking needs an `events` key (or the `widget` key for
impressions and clicks), persona and analytics a `read` key, GDPR export/erasure an
`admin` key; a 403 (`ForbiddenError`) says the key's scope does not allow the call.
`AsyncRagRecClient` has the same methods as coroutines. Customer ids are the shop's own:
the server pseudonymises them. Every error response raises a `RagRecError` subclass
carrying the server's status, code, message and field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Any, Generic, Literal, Self, TypeVar

import httpx
import msgspec

API_PREFIX = "/api/v1"
DEFAULT_TIMEOUT_S = 30.0

InteractionType = Literal[
    "view",
    "cart_add",
    "wishlist_add",
    "cart_remove",
    "recommendation_click",
    "recommendation_impression",
    "search",
]
Context = Literal["homepage", "product", "cart", "search", "frequently_bought_together"]
TopMetric = Literal["top-viewed", "top-recommended", "top-purchased"]

T = TypeVar("T")


# -- errors ---------------------------------------------------------------------------------


class RagRecError(Exception):
    """An error response: `status`, stable `code`, `message` and the offending `field`."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(f"{status} {code}: {message}" + (f" (field {field})" if field else ""))
        self.status = status
        self.code = code
        self.message = message
        self.field = field


class ValidationError(RagRecError):
    """400/422: the request was invalid; `field` names what."""


class AuthenticationError(RagRecError):
    """401: missing or wrong API key."""


class ForbiddenError(RagRecError):
    """403: the key's scope does not allow this (e.g. a widget key on a private endpoint)."""


class NotFoundError(RagRecError):
    """404: unknown id (named in the message) or path."""


class RateLimitedError(RagRecError):
    """429: too many requests from this client."""


class ServerError(RagRecError):
    """5xx."""


_BY_STATUS: dict[int, type[RagRecError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: ForbiddenError,
    404: NotFoundError,
    413: ValidationError,
    415: ValidationError,
    422: ValidationError,
    429: RateLimitedError,
}


# -- results --------------------------------------------------------------------------------


class Filters(msgspec.Struct, kw_only=True, omit_defaults=True):
    category: str | None = None
    min_price: float | None = None
    max_price: float | None = None
    in_stock: bool | None = None


class RecommendationItem(msgspec.Struct, kw_only=True):
    position: int
    product_id: str
    score: float
    reasons: list[str]
    generators: list[str] = msgspec.field(default_factory=list)
    name: str | None = None
    category: str | None = None
    price: float | None = None


class Recommendations(msgspec.Struct, kw_only=True):
    request_id: str
    context: str
    strategy: str
    items: list[RecommendationItem]
    cold_start: bool = False
    persona: str | None = None
    cached: bool = False
    candidates: dict[str, int] = msgspec.field(default_factory=dict)
    timings_ms: dict[str, float] = msgspec.field(default_factory=dict)


class CategoryRef(msgspec.Struct, kw_only=True):
    id: str
    name: str
    level: str


class Product(msgspec.Struct, kw_only=True):
    id: str
    name: str | None = None
    description: str | None = None
    product_type: str | None = None
    product_group: str | None = None
    colour: str | None = None
    section: str | None = None
    index_group: str | None = None
    price: float | None = None
    in_stock: bool | None = None
    created_at: date | None = None
    has_image: bool = False
    categories: list[CategoryRef] = msgspec.field(default_factory=list)
    colours: list[str] = msgspec.field(default_factory=list)


class Persona(msgspec.Struct, kw_only=True):
    id: str
    name: str | None = None
    description: str | None = None
    size: int | None = None
    top_categories: list[str] = msgspec.field(default_factory=list)
    age_mix: dict[str, float] = msgspec.field(default_factory=dict)
    price_label: str | None = None


class Personas(msgspec.Struct, kw_only=True):
    personas: list[Persona]


class CustomerPersona(msgspec.Struct, kw_only=True):
    age_bracket: str | None = None
    community_id: int | None = None
    purchases: int = 0
    interactions: int = 0
    persona: Persona | None = None
    reason: str | None = None


class Interaction(msgspec.Struct, kw_only=True, omit_defaults=True):
    customer_id: str
    product_id: str
    type: InteractionType
    ts: datetime | None = None
    event_id: str | None = None
    request_id: str | None = None
    position: int | None = None
    context: str | None = None
    query: str | None = None


class InteractionsAccepted(msgspec.Struct, kw_only=True):
    received: int
    created: int
    duplicates: int
    weights: dict[str, float] = msgspec.field(default_factory=dict)


class Window(msgspec.Struct, kw_only=True):
    since: date | None = None
    until: date | None = None


class TopProduct(msgspec.Struct, kw_only=True):
    position: int
    product_id: str
    name: str | None
    events: int
    customers: int


class TopProducts(msgspec.Struct, kw_only=True):
    metric: str
    window: Window
    items: list[TopProduct]


class Performance(msgspec.Struct, kw_only=True):
    context: str
    requests: int
    impressions: int
    clicks: int
    conversions: int
    ctr: float
    conversion_rate: float


class RecommendationPerformance(msgspec.Struct, kw_only=True):
    window: Window
    total: Performance
    by_context: list[Performance]


class BenchmarkComparison(msgspec.Struct, kw_only=True):
    file: str
    modified_at: str
    results: dict[str, Any]


class ServiceReport(msgspec.Struct, kw_only=True):
    name: str
    reachable: bool
    mode: str = ""
    listen: str = ""
    version: dict[str, str] = msgspec.field(default_factory=dict)
    detail: str = ""
    required: bool = True


class Health(msgspec.Struct, kw_only=True):
    """Anonymous callers get `status` (up | degraded | down) only; an admin key, the
    services too."""

    status: str
    services: list[ServiceReport] = msgspec.field(default_factory=list)
    failing: list[str] = msgspec.field(default_factory=list)


class ErasureResult(msgspec.Struct, kw_only=True):
    audit_id: str
    at: str
    neo4j_nodes: int
    neo4j_relationships: int
    persona_memberships: int
    pgvector_rows: int
    qdrant_points: int
    training_rows: int
    cache_entries: int
    stores: dict[str, int] = msgspec.field(default_factory=dict)


# -- requests (built once, sent by either client) --------------------------------------------


@dataclass(frozen=True)
class _Call(Generic[T]):
    method: str
    path: str
    result: type[T] | None  # None: the raw text
    params: Mapping[str, Any] | None = None
    body: Any = None
    ok: tuple[int, ...] = (200, 201)


def _params(**values: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, date):
            out[key] = value.isoformat()
        else:
            out[key] = value
    return out


def _filter_params(filters: Filters | None) -> dict[str, Any]:
    return msgspec.to_builtins(filters) if filters else {}


def _recommend(
    customer_id: str | None,
    context: Context,
    product_id: str | None,
    cart: Sequence[str] | None,
    query: str | None,
    top_k: int,
    strategy: str | None,
    filters: Filters | None,
) -> _Call[Recommendations]:
    body: dict[str, Any] = {"context": context, "top_k": top_k}
    for key, value in (
        ("customer_id", customer_id),
        ("product_id", product_id),
        ("cart", list(cart) if cart is not None else None),
        ("query", query),
        ("strategy", strategy),
        ("filters", _filter_params(filters) or None),
    ):
        if value is not None:
            body[key] = value
    return _Call("POST", "/recommend", Recommendations, body=body)


def _homepage(
    customer_id: str | None, top_k: int, strategy: str | None, filters: Filters | None
) -> _Call[Recommendations]:
    params = _params(customer_id=customer_id, top_k=top_k, strategy=strategy)
    params.update(_params(**_filter_params(filters)))
    return _Call("GET", "/recommendations/homepage", Recommendations, params=params)


def _product_recs(
    product_id: str, customer_id: str | None, top_k: int, strategy: str | None
) -> _Call[Recommendations]:
    params = _params(customer_id=customer_id, top_k=top_k, strategy=strategy)
    path = f"/recommendations/product/{_seg(product_id)}"
    return _Call("GET", path, Recommendations, params=params)


def _cart(
    items: Sequence[str], customer_id: str | None, top_k: int, strategy: str | None
) -> _Call[Recommendations]:
    params: dict[str, Any] = _params(customer_id=customer_id, top_k=top_k, strategy=strategy)
    params["items"] = list(items)
    return _Call("GET", "/recommendations/cart", Recommendations, params=params)


def _bought_together(product_id: str, top_k: int) -> _Call[Recommendations]:
    path = f"/recommendations/frequently-bought-together/{_seg(product_id)}"
    return _Call("GET", path, Recommendations, params=_params(top_k=top_k))


def _search(
    query: str,
    top_k: int,
    customer_id: str | None,
    filters: Filters | None,
    strategy: str | None,
) -> _Call[Recommendations]:
    body: dict[str, Any] = {"query": query, "top_k": top_k}
    if customer_id is not None:
        body["customer_id"] = customer_id
    if filters is not None:
        body["filters"] = _filter_params(filters)
    if strategy is not None:
        body["strategy"] = strategy
    return _Call("POST", "/search", Recommendations, body=body)


def _track_one(event: Interaction) -> _Call[InteractionsAccepted]:
    return _Call("POST", "/interactions", InteractionsAccepted, body=msgspec.to_builtins(event))


def _track_batch(events: Sequence[Interaction]) -> _Call[InteractionsAccepted]:
    body = {"events": [msgspec.to_builtins(e) for e in events]}
    return _Call("POST", "/interactions/batch", InteractionsAccepted, body=body)


def _top(
    metric: TopMetric, since: date | None, until: date | None, days: int | None, limit: int
) -> _Call[TopProducts]:
    params = _params(since=since, until=until, days=days, limit=limit)
    return _Call("GET", f"/analytics/products/{metric}", TopProducts, params=params)


def _performance(
    since: date | None, until: date | None, days: int | None
) -> _Call[RecommendationPerformance]:
    params = _params(since=since, until=until, days=days)
    path = "/analytics/recommendations/performance"
    return _Call("GET", path, RecommendationPerformance, params=params)


def _seg(value: str) -> str:
    """A path segment, percent-encoded."""
    from urllib.parse import quote

    return quote(value, safe="")


def _interaction(
    customer_id: str,
    product_id: str,
    type: InteractionType,
    *,
    request_id: str | None = None,
    position: int | None = None,
    context: str | None = None,
    query: str | None = None,
    event_id: str | None = None,
    ts: datetime | None = None,
) -> Interaction:
    return Interaction(
        customer_id=customer_id,
        product_id=product_id,
        type=type,
        ts=ts,
        event_id=event_id,
        request_id=request_id,
        position=position,
        context=context,
        query=query,
    )


def _decode(call: _Call[T], response: httpx.Response) -> T:
    if response.status_code not in call.ok:
        raise _error(response)
    if call.result is None:
        return response.text  # type: ignore[return-value]
    return msgspec.json.decode(response.content, type=call.result, strict=False)


def _error(response: httpx.Response) -> RagRecError:
    status = response.status_code
    try:
        detail = response.json()["error"]
        code, message, field = detail["code"], detail["message"], detail.get("field")
    except (ValueError, KeyError, TypeError):
        code, message, field = "error", response.text[:200] or response.reason_phrase, None
    kind = _BY_STATUS.get(status, ServerError if status >= 500 else RagRecError)
    return kind(status, code, message, field)


def _headers(api_key: str | None) -> dict[str, str]:
    headers = {"Accept": "application/json", "User-Agent": "ragrec-client"}
    if api_key:
        headers["X-API-Key"] = api_key
    return headers


# -- the clients ------------------------------------------------------------------------------


class RagRecClient:
    """Synchronous client. Use as a context manager, or call `close()`."""

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000",
        *,
        api_key: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + API_PREFIX,
            headers=_headers(api_key),
            timeout=timeout,
            transport=transport,
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _send(self, call: _Call[T]) -> T:
        response = self._http.request(call.method, call.path, params=call.params, json=call.body)
        return _decode(call, response)

    # recommendations
    def recommend(
        self,
        customer_id: str | None = None,
        *,
        context: Context = "homepage",
        product_id: str | None = None,
        cart: Sequence[str] | None = None,
        query: str | None = None,
        top_k: int = 10,
        strategy: str | None = None,
        filters: Filters | None = None,
    ) -> Recommendations:
        return self._send(
            _recommend(customer_id, context, product_id, cart, query, top_k, strategy, filters)
        )

    def homepage(
        self,
        customer_id: str | None = None,
        *,
        top_k: int = 10,
        strategy: str | None = None,
        filters: Filters | None = None,
    ) -> Recommendations:
        return self._send(_homepage(customer_id, top_k, strategy, filters))

    def get_recommendations(self, customer_id: str, top_k: int = 10) -> Recommendations:
        """Personal picks for a customer (the homepage context)."""
        return self.homepage(customer_id, top_k=top_k)

    def product_recommendations(
        self,
        product_id: str,
        *,
        customer_id: str | None = None,
        top_k: int = 10,
        strategy: str | None = None,
    ) -> Recommendations:
        return self._send(_product_recs(product_id, customer_id, top_k, strategy))

    def cart(
        self,
        items: Sequence[str],
        *,
        customer_id: str | None = None,
        top_k: int = 10,
        strategy: str | None = None,
    ) -> Recommendations:
        return self._send(_cart(items, customer_id, top_k, strategy))

    def bought_together(self, product_id: str, *, top_k: int = 10) -> Recommendations:
        return self._send(_bought_together(product_id, top_k))

    def search(
        self,
        query: str,
        top_k: int = 10,
        *,
        customer_id: str | None = None,
        filters: Filters | None = None,
        strategy: str | None = None,
    ) -> Recommendations:
        return self._send(_search(query, top_k, customer_id, filters, strategy))

    # catalogue and personas
    def product(self, product_id: str) -> Product:
        return self._send(_Call("GET", f"/products/{_seg(product_id)}", Product))

    def personas(self) -> Personas:
        return self._send(_Call("GET", "/personas", Personas))

    def persona(self, customer_id: str) -> CustomerPersona:
        return self._send(_Call("GET", f"/persona/{_seg(customer_id)}", CustomerPersona))

    # interactions
    def track(
        self,
        customer_id: str,
        product_id: str,
        type: InteractionType,
        **attribution: Any,
    ) -> InteractionsAccepted:
        """One event; `attribution`: request_id, position, context, query, event_id, ts."""
        return self._send(_track_one(_interaction(customer_id, product_id, type, **attribution)))

    def track_batch(self, events: Sequence[Interaction]) -> InteractionsAccepted:
        return self._send(_track_batch(events))

    # analytics, benchmark, monitoring
    def top_products(
        self,
        metric: TopMetric = "top-purchased",
        *,
        since: date | None = None,
        until: date | None = None,
        days: int | None = None,
        limit: int = 10,
    ) -> TopProducts:
        return self._send(_top(metric, since, until, days, limit))

    def recommendation_performance(
        self, *, since: date | None = None, until: date | None = None, days: int | None = None
    ) -> RecommendationPerformance:
        return self._send(_performance(since, until, days))

    def benchmark_compare(self) -> BenchmarkComparison:
        return self._send(_Call("GET", "/benchmark/compare", BenchmarkComparison))

    def health(self) -> Health:
        return self._send(_Call("GET", "/health", Health, ok=(200, 503)))

    def metrics(self) -> str:
        return self._send(_Call[str]("GET", "/metrics", None))

    # GDPR
    def export_customer(self, customer_id: str) -> dict[str, Any]:
        path = f"/privacy/customers/{_seg(customer_id)}/export"
        return self._send(_Call[dict[str, Any]]("GET", path, dict))

    def erase_customer(self, customer_id: str) -> ErasureResult:
        path = f"/privacy/customers/{_seg(customer_id)}"
        return self._send(_Call("DELETE", path, ErasureResult))


class AsyncRagRecClient:
    """Asynchronous client with the same methods as `RagRecClient`."""

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000",
        *,
        api_key: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        transport: httpx.AsyncBaseTransport | None = None,
        limits: httpx.Limits | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + API_PREFIX,
            headers=_headers(api_key),
            timeout=timeout,
            transport=transport,
            limits=limits or httpx.Limits(max_connections=100, max_keepalive_connections=100),
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _send(self, call: _Call[T]) -> T:
        response = await self._http.request(
            call.method, call.path, params=call.params, json=call.body
        )
        return _decode(call, response)

    async def recommend(
        self,
        customer_id: str | None = None,
        *,
        context: Context = "homepage",
        product_id: str | None = None,
        cart: Sequence[str] | None = None,
        query: str | None = None,
        top_k: int = 10,
        strategy: str | None = None,
        filters: Filters | None = None,
    ) -> Recommendations:
        return await self._send(
            _recommend(customer_id, context, product_id, cart, query, top_k, strategy, filters)
        )

    async def homepage(
        self,
        customer_id: str | None = None,
        *,
        top_k: int = 10,
        strategy: str | None = None,
        filters: Filters | None = None,
    ) -> Recommendations:
        return await self._send(_homepage(customer_id, top_k, strategy, filters))

    async def get_recommendations(self, customer_id: str, top_k: int = 10) -> Recommendations:
        return await self.homepage(customer_id, top_k=top_k)

    async def product_recommendations(
        self,
        product_id: str,
        *,
        customer_id: str | None = None,
        top_k: int = 10,
        strategy: str | None = None,
    ) -> Recommendations:
        return await self._send(_product_recs(product_id, customer_id, top_k, strategy))

    async def cart(
        self,
        items: Sequence[str],
        *,
        customer_id: str | None = None,
        top_k: int = 10,
        strategy: str | None = None,
    ) -> Recommendations:
        return await self._send(_cart(items, customer_id, top_k, strategy))

    async def bought_together(self, product_id: str, *, top_k: int = 10) -> Recommendations:
        return await self._send(_bought_together(product_id, top_k))

    async def search(
        self,
        query: str,
        top_k: int = 10,
        *,
        customer_id: str | None = None,
        filters: Filters | None = None,
        strategy: str | None = None,
    ) -> Recommendations:
        return await self._send(_search(query, top_k, customer_id, filters, strategy))

    async def product(self, product_id: str) -> Product:
        return await self._send(_Call("GET", f"/products/{_seg(product_id)}", Product))

    async def personas(self) -> Personas:
        return await self._send(_Call("GET", "/personas", Personas))

    async def persona(self, customer_id: str) -> CustomerPersona:
        return await self._send(_Call("GET", f"/persona/{_seg(customer_id)}", CustomerPersona))

    async def track(
        self,
        customer_id: str,
        product_id: str,
        type: InteractionType,
        **attribution: Any,
    ) -> InteractionsAccepted:
        return await self._send(
            _track_one(_interaction(customer_id, product_id, type, **attribution))
        )

    async def track_batch(self, events: Sequence[Interaction]) -> InteractionsAccepted:
        return await self._send(_track_batch(events))

    async def top_products(
        self,
        metric: TopMetric = "top-purchased",
        *,
        since: date | None = None,
        until: date | None = None,
        days: int | None = None,
        limit: int = 10,
    ) -> TopProducts:
        return await self._send(_top(metric, since, until, days, limit))

    async def recommendation_performance(
        self, *, since: date | None = None, until: date | None = None, days: int | None = None
    ) -> RecommendationPerformance:
        return await self._send(_performance(since, until, days))

    async def benchmark_compare(self) -> BenchmarkComparison:
        return await self._send(_Call("GET", "/benchmark/compare", BenchmarkComparison))

    async def health(self) -> Health:
        return await self._send(_Call("GET", "/health", Health, ok=(200, 503)))

    async def metrics(self) -> str:
        return await self._send(_Call[str]("GET", "/metrics", None))

    async def export_customer(self, customer_id: str) -> dict[str, Any]:
        path = f"/privacy/customers/{_seg(customer_id)}/export"
        return await self._send(_Call[dict[str, Any]]("GET", path, dict))

    async def erase_customer(self, customer_id: str) -> ErasureResult:
        path = f"/privacy/customers/{_seg(customer_id)}"
        return await self._send(_Call("DELETE", path, ErasureResult))


__all__ = [
    "AsyncRagRecClient",
    "AuthenticationError",
    "Filters",
    "Interaction",
    "NotFoundError",
    "RagRecClient",
    "RagRecError",
    "RateLimitedError",
    "Recommendations",
    "ServerError",
    "ValidationError",
]
