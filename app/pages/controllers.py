"""The explorer pages (server-rendered Jinja templates), product pictures and the shop
widget's demo. Pages call the API's own services in-process, so they show exactly what
the API would answer; every script, style and picture is served by the app itself.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, Router, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.params import Body, Parameter
from litestar.response import File, Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from neo4j.exceptions import DatabaseUnavailable as Neo4jDatabaseUnavailable
from neo4j.exceptions import ServiceUnavailable as Neo4jServiceUnavailable
from neo4j.exceptions import SessionExpired as Neo4jSessionExpired
from psycopg import OperationalError as PgOperationalError
from psycopg_pool import PoolTimeout as PgPoolTimeout

from app.domain.analytics.services import performance, top_products, window
from app.domain.personas.services import list_personas, persona_of
from app.domain.products.services import get_product
from app.domain.recommendations.schemas import Filters, SearchRequest
from app.domain.recommendations.services import search
from app.lib.errors import ApiError
from app.lib.params import ID_PATTERN
from app.lib.resources import ResourcesDep
from app.pages import access, guide, media, services
from app.pages import viewmodels as vm

log = logging.getLogger("ragrec.pages")

PAGES = (
    (
        "visual",
        "/pages/visual-search",
        "Visual search",
        "Pictures that look alike, per vector store",
    ),
    ("search", "/pages/search", "Text search", "Full-text and semantic product search"),
    ("personas", "/pages/personas", "Personas", "Persona cards, a map of customers, lookup"),
    ("graph", "/pages/graph", "Graph explorer", "A product's or customer's neighbourhood"),
    ("explain", "/pages/explain", "Explainer", "Why each item was recommended"),
    ("analytics", "/pages/analytics", "Analytics", "Impressions, clicks, carts, purchases"),
    ("benchmarks", "/pages/benchmarks", "Benchmarks", "Vector stores, ingest, API, evaluation"),
    ("shop", "/pages/shop", "Shop widget", "The carousel on a product page and a cart"),
)

OptId = Annotated[
    str | None, Parameter(min_length=1, max_length=128, pattern=ID_PATTERN, required=False)
]
OptText = Annotated[str | None, Parameter(max_length=200, required=False)]
StoreParam = Literal["pgvector", "qdrant", "neo4j"]


def page(name: str, request: Request[Any, Any, Any], **context: Any) -> Template:
    return Template(
        template_name=f"{name}.html",
        context={
            "pages": PAGES,
            "current": name,
            "signed_in": access.signed_in(request),
            **context,
        },
    )


def _html_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    return html_error(request, exc)


#: every exception type the app maps to JSON, mapped to a page instead (the most
#: specific registered type wins, whichever layer registered it)
PAGE_ERRORS: dict[type[Exception] | int, Any] = dict.fromkeys(
    (
        ValidationException,
        HTTPException,
        ApiError,
        Neo4jServiceUnavailable,
        Neo4jSessionExpired,
        Neo4jDatabaseUnavailable,
        PgOperationalError,
        PgPoolTimeout,
        Exception,
    ),
    _html_error,
)


def _blank(value: str | None) -> str | None:
    return value.strip() or None if value else None


class HomeController(Controller):
    include_in_schema = False
    exception_handlers = PAGE_ERRORS

    @get("/", sync_to_thread=False)
    def home(self, request: Request[Any, Any, Any]) -> Template:
        return page("home", request)

    @get("/guides/ragrec.html", sync_to_thread=False)
    def browser_guide(self) -> Template:
        """Neo4j Browser guide; Browser fetches it cross-origin, so CORS allows any origin
        (it holds only the saved queries of cypher/browser/)."""
        return Template(
            template_name="browser_guide.html",
            context={"queries": guide.saved_queries()},
            headers={"Access-Control-Allow-Origin": "*"},
        )

    @get("/favicon.ico", sync_to_thread=False)
    def favicon(self) -> Redirect:
        return Redirect("/static/favicon.svg")


class MediaController(Controller):
    """Product pictures (shrunk and cached on disk), for the pages and the widget."""

    path = "/media"
    include_in_schema = False

    @get("/products/{product_id:str}", sync_to_thread=True)
    def product_image(
        self,
        resources: ResourcesDep,
        product_id: Annotated[str, Parameter(max_length=128, pattern=ID_PATTERN)],
        w: Annotated[int, Parameter(ge=32, le=1024)] = 320,
    ) -> File | Response[bytes]:
        source = services.image_path(resources, product_id)
        if source is None:
            known = services.product_details(resources, [product_id]).get(product_id)
            if known is None:
                raise NotFoundException(f"unknown product id {product_id!r}")
            return Response(
                media.placeholder_svg(known.get("product_type") or known.get("name") or ""),
                media_type="image/svg+xml",
                headers={"Cache-Control": "public, max-age=3600"},
            )
        thumb = media.thumbnail(source, media.snap_width(w), resources.settings)
        return File(
            path=thumb,
            media_type="image/jpeg",
            content_disposition_type="inline",
            headers={"Cache-Control": "public, max-age=86400"},
        )


class ExplorerController(Controller):
    path = "/pages"
    include_in_schema = False
    exception_handlers = PAGE_ERRORS

    # -- visual search --------------------------------------------------------------------

    @get("/visual-search", sync_to_thread=True)
    def visual_search(
        self,
        request: Request[Any, Any, Any],
        resources: ResourcesDep,
        product: OptId = None,
        store: StoreParam = "pgvector",
        category: OptText = None,
        top_k: Annotated[int, Parameter(ge=1, le=48)] = 12,
        compare: bool = True,
    ) -> Template:
        category = _blank(category)
        result = None
        if product:
            result = services.visual_search_product(
                resources, product, store=store, top_k=top_k, category=category, compare=compare
            )
        return self._visual(request, resources, result, product, store, category, top_k, compare)

    @post("/visual-search", status_code=200)
    async def visual_search_upload(
        self,
        request: Request[Any, Any, Any],
        resources: ResourcesDep,
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Template:
        upload = data.get("image")
        store = str(data.get("store") or "pgvector")
        category = _blank(str(data.get("category") or ""))
        compare = str(data.get("compare") or "") in ("1", "true", "on")
        try:
            top_k = max(1, min(48, int(data.get("top_k") or 12)))
        except ValueError:
            top_k = 12
        if store not in vm.STORES:
            store = "pgvector"
        result: services.VisualResult
        if not isinstance(upload, UploadFile) or not upload.filename:
            result = services.VisualResult([], None, "choose a picture to upload", "image")
        else:
            payload = await upload.read(resources.settings.api_max_upload_bytes + 1)
            result = await services.visual_search_image(
                resources,
                payload,
                upload.filename,
                upload.content_type,
                store=store,  # type: ignore[arg-type]
                top_k=top_k,
                category=category,
                compare=compare,
            )
        return await services.run_async(
            lambda: self._visual(
                request, resources, result, None, store, category, top_k, compare, uploaded=True
            )
        )

    def _visual(
        self,
        request: Request[Any, Any, Any],
        resources: ResourcesDep,
        result: services.VisualResult | None,
        product: str | None,
        store: str,
        category: str | None,
        top_k: int,
        compare: bool,
        uploaded: bool = False,
    ) -> Template:
        grid: list[vm.ProductCard] = []
        if result and result.shown:
            items = [msgspec.to_builtins(i) for i in result.shown.items]
            grid = vm.cards(
                items, services.product_details(resources, [i["product_id"] for i in items])
            )
        return page(
            "visual_search",
            request,
            picks=services.pickable_products(resources),
            categories=services.product_types(resources),
            product=product,
            store=store,
            stores=vm.STORES,
            category=category,
            top_k=top_k,
            compare=compare,
            result=result,
            bars=vm.store_bars(result.runs) if result else [],
            grid=grid,
            uploaded=uploaded,
            query_card=(
                services.product_details(resources, [product]).get(product) if product else None
            ),
        )

    # -- text search ------------------------------------------------------------------------

    @get("/search", sync_to_thread=True)
    def text_search(
        self,
        request: Request[Any, Any, Any],
        resources: ResourcesDep,
        q: Annotated[str | None, Parameter(max_length=500, required=False)] = None,
        category: OptText = None,
        min_price: Annotated[float | None, Parameter(ge=0, required=False)] = None,
        max_price: Annotated[float | None, Parameter(ge=0, required=False)] = None,
        in_stock: bool = False,
        top_k: Annotated[int, Parameter(ge=1, le=48)] = 12,
    ) -> Template:
        q, category = _blank(q), _blank(category)
        grid: list[vm.ProductCard] = []
        error = field = None
        timings: dict[str, float] = {}
        if q:
            filters = Filters(
                category=category,
                min_price=min_price,
                max_price=max_price,
                in_stock=True if in_stock else None,
            )
            try:
                resp = search(resources, SearchRequest(query=q, top_k=top_k, filters=filters))
                items = [msgspec.to_builtins(i) for i in resp.items]
                grid = vm.cards(
                    items, services.product_details(resources, [i["product_id"] for i in items])
                )
                timings = resp.timings_ms
            except ApiError as exc:
                error, field = exc.message, exc.field
        return page(
            "search",
            request,
            q=q,
            category=category,
            min_price=min_price,
            max_price=max_price,
            in_stock=in_stock,
            top_k=top_k,
            categories=services.product_types(resources),
            grid=grid,
            error=error,
            field=field,
            timings=timings,
        )

    # -- personas ---------------------------------------------------------------------------

    @get("/personas", sync_to_thread=True)
    def personas(
        self,
        request: Request[Any, Any, Any],
        resources: ResourcesDep,
        customer: OptId = None,
    ) -> Template:
        personas = [msgspec.to_builtins(p) for p in list_personas(resources).personas]
        names = {str(p["id"]): p.get("name") or f"persona {p['id']}" for p in personas}
        limit = resources.settings.pages_persona_map_limit
        the_map = vm.persona_map(services.rows(resources, "persona_map", limit=limit), names)
        lookup = purchases = None
        error = None
        if customer:
            try:
                lookup = msgspec.to_builtins(persona_of(resources, customer))
                purchases = services.rows(
                    resources,
                    "customer_purchases",
                    customer=resources.pseudonym(customer),
                    limit=20,
                )
            except ApiError as exc:
                error = exc.message
        return page(
            "personas",
            request,
            cards=vm.persona_cards(personas),
            map=the_map,
            map_limit=limit,
            customer=customer,
            lookup=lookup,
            purchases=purchases,
            error=error,
            examples=services.example_customers(resources),
        )

    # -- graph explorer ---------------------------------------------------------------------

    @get("/graph", sync_to_thread=True)
    def graph(
        self,
        request: Request[Any, Any, Any],
        resources: ResourcesDep,
        product: OptId = None,
        customer: OptId = None,
        depth: Annotated[int, Parameter(ge=1, le=3)] = 2,
        edges: Annotated[list[str] | None, Parameter(required=False, max_items=10)] = None,
        max_nodes: Annotated[int, Parameter(ge=5, le=300)] = 60,
    ) -> Template:
        chosen = [
            e
            for e in (edges or ["BOUGHT_TOGETHER", "SIMILAR_TO", "IN_CATEGORY"])
            if e in vm.EDGE_TYPES
        ]
        network = None
        error = None
        if product or customer:
            label, node_id = ("Product", product) if product else ("Customer", None)
            if customer:
                node_id = resources.pseudonym(customer)
                if "PURCHASED" not in chosen:
                    chosen.append("PURCHASED")
            found = services.rows(
                resources,
                "neighbourhood",
                label=label,
                id=node_id,
                depth=depth,
                rel_filter=vm.rel_filter(chosen),
                max_nodes=max_nodes,
            )
            if not found:
                error = (
                    f"no product with id {product!r}" if product else "no such customer is known"
                )
            else:
                nodes, rels = found[0]["nodes"], found[0]["rels"]
                start = next((n["key"] for n in nodes if n["id"] == node_id), None)
                network = vm.network_data(nodes, rels, start)
        return page(
            "graph",
            request,
            product=product,
            customer=customer,
            depth=depth,
            edges=chosen,
            edge_types=vm.EDGE_TYPES,
            max_nodes=max_nodes,
            network=network,
            error=error,
            picks=services.pickable_products(resources, 12),
            examples=services.example_customers(resources),
        )

    # -- explainer --------------------------------------------------------------------------

    @get("/explain", sync_to_thread=True)
    def explain(
        self,
        request: Request[Any, Any, Any],
        resources: ResourcesDep,
        customer: OptId = None,
        context: Literal["homepage", "product", "cart"] = "homepage",
        products: OptText = None,
        strategy: Literal["rrf", "weighted", "learned"] | None = None,
        top_k: Annotated[int, Parameter(ge=1, le=24)] = 8,
        run: bool = False,
    ) -> Template:
        ids = [p.strip() for p in (products or "").split(",") if p.strip()]
        explanation = None
        error = field = None
        if run or customer or ids:
            try:
                explanation = services.explain(
                    resources,
                    customer_id=customer,
                    context=context,
                    product_ids=ids,
                    strategy=strategy,
                    top_k=top_k,
                )
            except ApiError as exc:
                error, field = exc.message, exc.field
        return page(
            "explain",
            request,
            customer=customer,
            context=context,
            products=",".join(ids),
            strategy=strategy,
            top_k=top_k,
            explanation=explanation,
            error=error,
            field=field,
            examples=services.example_customers(resources),
            picks=services.pickable_products(resources, 8),
        )

    # -- analytics --------------------------------------------------------------------------

    @get("/analytics", sync_to_thread=True)
    def analytics(
        self,
        request: Request[Any, Any, Any],
        resources: ResourcesDep,
        days: Annotated[int, Parameter(ge=1, le=3650)] = 30,
    ) -> Template:
        win = window(None, None, days)
        daily = services.rows(
            resources,
            "recommendation_daily",
            since=services.start_of(win.since),
            until=None,
            purchase_days=resources.settings.pages_purchase_attribution_days,
        )
        perf = msgspec.to_builtins(performance(resources, win))
        recommended = msgspec.to_builtins(top_products(resources, "top-recommended", win, 10))
        bought = msgspec.to_builtins(top_products(resources, "top-purchased", win, 10))
        bought_all = msgspec.to_builtins(
            top_products(resources, "top-purchased", window(None, None, None), 10)
        )
        return page(
            "analytics",
            request,
            days=days,
            chart=vm.daily_chart(daily),
            daily=daily,
            rates=vm.context_rates(daily),
            perf=perf,
            tops=vm.top_lists(recommended["items"], bought["items"] or bought_all["items"]),
            bought_window="the window" if bought["items"] else "all time (none in the window)",
        )

    # -- benchmarks -------------------------------------------------------------------------

    @get("/benchmarks", sync_to_thread=True)
    def benchmarks(self, request: Request[Any, Any, Any], resources: ResourcesDep) -> Template:
        folder = services.benchmark_dir(resources.settings)
        return page(
            "benchmarks", request, files=services.benchmark_files(folder), folder=str(folder)
        )


class ShopController(Controller):
    """The widget's demo shop: public like a shop's own pages."""

    path = "/pages/shop"
    include_in_schema = False
    exception_handlers = PAGE_ERRORS

    @get("/", sync_to_thread=True)
    def shop(
        self,
        request: Request[Any, Any, Any],
        resources: ResourcesDep,
        product: OptId = None,
        customer: OptId = None,
        cart: OptText = None,
    ) -> Template:
        picks = services.pickable_products(resources, 8)
        product = product or (picks[0].id if picks else None)
        detail = None
        error = None
        if product:
            try:
                detail = msgspec.to_builtins(get_product(resources, product))
            except ApiError as exc:
                error = exc.message
        examples = services.example_customers(resources)
        customer = customer or (examples[0] if examples else None)
        cart_ids = [c for c in (cart or "").split(",") if c.strip()] or [p.id for p in picks[1:3]]
        return page(
            "shop",
            request,
            product=product,
            detail=detail,
            error=error,
            customer=customer,
            cart=cart_ids,
            cart_cards=services.product_details(resources, cart_ids),
            widget_key=access.widget_key(resources),
            examples=examples,
        )


def _trip_breaker(request: Request[Any, Any, Any]) -> None:
    """Let the API's Neo4j circuit breaker know, as its own handler would (ops)."""
    try:
        from app.lib.graph import BREAKER

        BREAKER.trip(request.app.state.resources.settings)
    except (ImportError, AttributeError):
        pass


def html_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Pages answer errors with a page (never a stack trace)."""
    if isinstance(exc, HTTPException):
        status = exc.status_code
        message = exc.detail
        details = []
        if isinstance(exc, ValidationException) and isinstance(exc.extra, list):
            details = [
                f"{e.get('key', 'input')}: {e.get('message', 'invalid')}"
                for e in exc.extra
                if isinstance(e, dict)
            ]
    elif isinstance(exc, ApiError):
        status, message, details = exc.status, exc.message, [exc.field] if exc.field else []
    elif isinstance(exc, Neo4jServiceUnavailable | Neo4jSessionExpired | Neo4jDatabaseUnavailable):
        _trip_breaker(request)
        status, message, details = 503, "The graph database is unavailable; retry shortly.", []
    elif isinstance(exc, PgOperationalError | PgPoolTimeout):
        status, message, details = 503, "The vector database is unavailable; retry shortly.", []
    else:
        log.exception("page %s failed", request.url.path, exc_info=exc)
        status, message, details = HTTP_500_INTERNAL_SERVER_ERROR, "something went wrong", []
    if status in (401, 403):
        return Redirect(f"/login?next={request.url.path}")
    return Template(
        template_name="error.html",
        context={
            "pages": PAGES,
            "current": "",
            "status": status,
            "message": message,
            "details": details,
            "signed_in": False,
        },
        status_code=status,
    )


class SignInController(Controller):
    include_in_schema = False
    exception_handlers = PAGE_ERRORS

    @get("/login", sync_to_thread=False)
    def login_form(self, request: Request[Any, Any, Any], next: OptText = None) -> Template:
        return page("login", request, next=access.safe_next(next), error=None)

    @post("/login", status_code=303, sync_to_thread=False)
    def login(
        self,
        request: Request[Any, Any, Any],
        resources: ResourcesDep,
        data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Response[Any]:
        key = (data.get("key") or "").strip()
        target = access.safe_next(data.get("next"))
        if not access.may_open_pages(resources, key):
            response = page("login", request, next=target, error="that key does not open the pages")
            response.status_code = 401
            return response
        redirect: Response[Any] = Redirect(target, status_code=303)
        redirect.set_cookie(
            access.COOKIE,
            key,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )
        return redirect

    @post("/logout", status_code=303, sync_to_thread=False)
    def logout(self) -> Response[Any]:
        redirect: Response[Any] = Redirect("/", status_code=303)
        redirect.delete_cookie(access.COOKIE, path="/")
        return redirect


def route_handlers() -> list[Any]:
    explorer = Router(
        path="/",
        route_handlers=[ExplorerController],
        before_request=access.sign_in_redirect,
    )
    return [HomeController, MediaController, explorer, ShopController, SignInController]
