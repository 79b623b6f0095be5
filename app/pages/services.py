"""What the explorer pages read: the API's own services where one answers the question,
and the pages' read-only Cypher (`cypher/pages/`) for what only a page needs (pickers,
the persona map, neighbourhoods, explanation paths, daily attribution)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

from litestar.datastructures import UploadFile

from app.domain.similar.schemas import (
    SimilarImageForm,
    SimilarRequest,
    SimilarResponse,
    Store,
    VectorFilters,
)
from app.domain.similar.services import similar_to_image, similar_to_product
from app.lib.errors import ApiError, NotFound, Unprocessable
from app.lib.graph import read
from app.lib.resources import Resources
from app.pages import viewmodels as vm
from ragrec.config import PROJECT_ROOT, Settings

T = TypeVar("T")


def rows(resources: Resources, name: str, **params: Any) -> list[dict[str, Any]]:
    """Run `cypher/pages/<name>` (read-only)."""
    return read(resources, f"pages/{name}", **params)


def product_details(resources: Resources, ids: list[str]) -> dict[str, dict[str, Any]]:
    if not ids:
        return {}
    return {r["id"]: r for r in rows(resources, "product_cards", ids=ids)}


def product_types(resources: Resources) -> list[str]:
    return [r["name"] for r in rows(resources, "product_types", limit=200) if r["name"]]


def pickable_products(resources: Resources, limit: int = 24) -> list[vm.ProductCard]:
    return [
        vm.ProductCard(id=r["id"], name=r["name"], product_type=r["product_type"], has_image=True)
        for r in rows(resources, "products_with_images", limit=limit)
    ]


def image_path(resources: Resources, product_id: str) -> Path | None:
    found = rows(resources, "image_path", id=product_id)
    if not found or not found[0]["image_path"]:
        return None
    path = Path(found[0]["image_path"])
    return path if path.is_file() else None


# -- visual search --------------------------------------------------------------------------


@dataclass
class VisualResult:
    runs: list[vm.StoreRun]
    shown: SimilarResponse | None
    error: str | None = None
    field: str | None = None


def visual_search_product(
    resources: Resources,
    product_id: str,
    *,
    store: Store,
    top_k: int,
    category: str | None,
    compare: bool,
) -> VisualResult:
    filters = VectorFilters(category=category) if category else None

    def one(s: Store) -> SimilarResponse:
        return similar_to_product(
            resources, SimilarRequest(product_id=product_id, top_k=top_k, filters=filters, store=s)
        )

    return _each_store(store, compare, lambda s: _sync(one, s))


async def visual_search_image(
    resources: Resources,
    data: bytes,
    filename: str,
    content_type: str,
    *,
    store: Store,
    top_k: int,
    category: str | None,
    compare: bool,
) -> VisualResult:
    async def one(s: Store) -> SimilarResponse:
        upload = UploadFile(content_type=content_type, filename=filename, file_data=data)
        try:
            return await similar_to_image(
                resources, SimilarImageForm(image=upload, top_k=top_k, category=category, store=s)
            )
        finally:
            await upload.close()

    runs: list[vm.StoreRun] = []
    shown = None
    for s in _order(store, compare):
        began = time.perf_counter()
        try:
            resp = await one(s)
        except ApiError as exc:
            if s == store:
                return VisualResult(runs, None, exc.message, exc.field)
            runs.append(vm.StoreRun(s, error=exc.message))
            continue
        runs.append(_run(s, resp, began))
        if s == store:
            shown = resp
    return VisualResult(_sorted(runs), shown)


def _each_store(
    store: Store, compare: bool, call: Callable[[Store], tuple[SimilarResponse, float]]
) -> VisualResult:
    runs: list[vm.StoreRun] = []
    shown = None
    for s in _order(store, compare):
        try:
            resp, began = call(s)
        except ApiError as exc:
            if s == store:
                return VisualResult(runs, None, exc.message, exc.field)
            runs.append(vm.StoreRun(s, error=exc.message))
            continue
        runs.append(_run(s, resp, began))
        if s == store:
            shown = resp
    return VisualResult(_sorted(runs), shown)


def _sync(fn: Callable[[Store], SimilarResponse], s: Store) -> tuple[SimilarResponse, float]:
    began = time.perf_counter()
    return fn(s), began


def _order(store: Store, compare: bool) -> list[Store]:
    every: tuple[Store, ...] = ("pgvector", "qdrant", "neo4j")
    others = [s for s in every if s != store]
    return [store, *others] if compare else [store]


def _run(s: str, resp: SimilarResponse, began: float) -> vm.StoreRun:
    return vm.StoreRun(
        s,
        ms=round((time.perf_counter() - began) * 1000, 1),
        answered_by=resp.store,
        results=len(resp.items),
    )


def _sorted(runs: list[vm.StoreRun]) -> list[vm.StoreRun]:
    return sorted(runs, key=lambda r: vm.STORES.index(r.store) if r.store in vm.STORES else 9)


# -- explainer ------------------------------------------------------------------------------


@dataclass
class Explanation:
    request_id: str
    strategy: str
    context: str
    cold_start: bool
    persona: str | None
    items: list[vm.ExplainedItem]
    candidates: dict[str, int]
    timings: dict[str, float]
    notes: list[str] = field(default_factory=list)


def explain(
    resources: Resources,
    *,
    customer_id: str | None,
    context: str,
    product_ids: list[str],
    strategy: str | None,
    top_k: int,
) -> Explanation:
    """Run the recommender as the API does, keeping every generator's ranked list, and
    find the graph path behind each recommended item."""
    from app.lib.engines import recommender
    from ragrec.recommender.errors import (
        InvalidRequest,
        RankerNotTrained,
        UnknownCustomer,
        UnknownProduct,
    )

    rec = recommender(resources)
    pseudonym = resources.pseudonym(customer_id) if customer_id else None
    try:
        if context == "homepage":
            pool = rec.homepage_pool(pseudonym)
        else:
            if not product_ids:
                field_name = "cart" if context == "cart" else "product_id"
                raise ApiError(f"context {context!r} needs product ids", field=field_name)
            pool = rec.items_pool(
                "cart" if context == "cart" else "product", product_ids, pseudonym
            )
        lists = {g: list(c) for g, c in pool.lists.items()}
        result = rec.finish(pool, k=top_k, strategy=strategy)
    except UnknownCustomer as exc:
        raise NotFound("no such customer is known", field="customer") from exc
    except UnknownProduct as exc:
        raise NotFound(f"unknown product id {exc.product_id!r}", field="product_id") from exc
    except (RankerNotTrained, InvalidRequest) as exc:
        raise Unprocessable(str(exc), field="strategy") from exc
    ids = [i.product_id for i in result.items]
    details = product_details(resources, ids)
    paths = {
        r["item"]: r
        for r in rows(
            resources,
            "explain_paths",
            customer=pseudonym,
            anchors=product_ids if context != "homepage" else [],
            items=ids,
        )
    }
    rrf_k = rec.fusion.rrf_k if result.strategy == "rrf" else None
    items = []
    for item in result.items:
        card = vm.cards(
            [
                {
                    "product_id": item.product_id,
                    "name": item.name,
                    "category": item.category,
                    "price": item.price,
                    "score": item.score,
                    "position": item.position,
                    "reasons": item.reasons,
                }
            ],
            details,
        )[0]
        items.append(
            vm.ExplainedItem(
                card=card,
                generators=item.generators,
                sources=vm.sources_of(item.product_id, lists, rrf_k=rrf_k),
                path=vm.path_steps(paths.get(item.product_id)),
            )
        )
    notes = []
    degraded = list(getattr(pool, "degraded", None) or [])
    if degraded:
        notes.append(f"Left out because they failed or were too slow: {', '.join(degraded)}.")
    if result.cold_start:
        notes.append(
            "No purchase history before the reference date: a cold start, so the "
            "popular, new and persona/age lists lead."
        )
    return Explanation(
        request_id=result.request_id,
        strategy=result.strategy,
        context=result.context,
        cold_start=result.cold_start,
        persona=result.persona,
        items=items,
        candidates={g: len(c) for g, c in lists.items()},
        timings=result.timings,
        notes=notes,
    )


# -- benchmarks -----------------------------------------------------------------------------


def benchmark_files(folder: Path, limit: int = 20) -> list[vm.BenchFile]:
    """The newest benchmark JSON files of the folder (newest first)."""
    if not folder.is_dir():
        return []
    files = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)[:limit]
    out = []
    for path in files:
        modified = datetime.fromtimestamp(path.stat().st_mtime, UTC).strftime("%Y-%m-%d %H:%M UTC")
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            out.append(vm.BenchFile(path.name, modified, [], [], error=f"unreadable: {exc}"))
            continue
        out.append(vm.bench_file(path.name, modified, data))
    return out


async def run_async(fn: Callable[[], T]) -> T:
    """Run blocking driver calls off the event loop."""
    from anyio import to_thread

    return await to_thread.run_sync(fn)


def example_customers(resources: Resources, n: int = 5) -> list[str]:
    """Shop customer ids to try on the pages: the sample's most frequent buyers that exist
    in the graph (the graph holds only pseudonyms, so examples come from the sample file)."""

    def build() -> list[str]:
        path = PROJECT_ROOT / "data" / "sample" / "transactions_sample.parquet"
        if not path.is_file():
            return []
        import polars as pl

        counts = (
            pl.read_parquet(path, columns=["customer_id"])
            .group_by("customer_id")
            .len()
            .sort(["len", "customer_id"], descending=True)
            .head(50)
        )
        ids = [str(c) for c in counts["customer_id"]]
        by_pseudonym = {resources.pseudonym(c): c for c in ids}
        found = read(resources, "pages/customers_exist", ids=list(by_pseudonym))
        known = {r["id"] for r in found}
        return [c for p, c in by_pseudonym.items() if p in known][:n]

    cached: list[str] = resources.lazy("pages.example_customers", build)
    return cached


def start_of(day: date | None) -> datetime | None:
    return datetime.combine(day, datetime.min.time(), UTC) if day else None


def benchmark_dir(settings: Settings) -> Path:
    return settings.vector_benchmark_dir or PROJECT_ROOT / "benchmarks" / "results"
