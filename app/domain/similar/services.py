"""Look-alike products over `ragrec.retrieval` (vector stores + graph expansion)."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable

from app.domain.similar.schemas import (
    SimilarImageForm,
    SimilarItem,
    SimilarRequest,
    SimilarResponse,
    VectorFilters,
)
from app.lib import metrics
from app.lib.engines import retrieval
from app.lib.errors import ApiError, NotFound, PayloadTooLarge, Unavailable, UnsupportedMediaType
from app.lib.resources import Resources
from ragrec.embeddings.base import EncoderError
from ragrec.retrieval.service import ProductNotFoundError
from ragrec.retrieval.types import RetrievalResult
from ragrec.vectorstores.base import SearchFilters, VectorStoreError

#: leading bytes of the accepted image types
IMAGE_SIGNATURES: dict[str, Callable[[bytes], bool]] = {
    "image/jpeg": lambda b: b[:3] == b"\xff\xd8\xff",
    "image/png": lambda b: b[:8] == b"\x89PNG\r\n\x1a\n",
    "image/webp": lambda b: b[:4] == b"RIFF" and b[8:12] == b"WEBP",
}


def similar_to_product(resources: Resources, req: SimilarRequest) -> SimilarResponse:
    filters = _filters(req.filters)

    def run() -> RetrievalResult:
        return retrieval(resources).similar_to_product(
            req.product_id, top_k=req.top_k, store=req.store, filters=filters
        )

    result = _guarded(run, req.product_id)
    return _response(result, f"looks like product {req.product_id}")


async def similar_to_image(resources: Resources, form: SimilarImageForm) -> SimilarResponse:
    limit = resources.settings.api_max_upload_bytes
    data = await form.image.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"the image is larger than {limit:,} bytes", field="image")
    kind = next((k for k, check in IMAGE_SIGNATURES.items() if check(data)), None)
    if kind is None:
        raise UnsupportedMediaType(
            f"the image must be one of {', '.join(IMAGE_SIGNATURES)} "
            f"(got {form.image.content_type or 'unknown'})",
            field="image",
        )
    _check_decodes(data)
    filters = _filters(
        VectorFilters(category=form.category, min_price=form.min_price, max_price=form.max_price)
    )
    from anyio import to_thread

    def run() -> RetrievalResult:
        suffix = "." + kind.split("/")[1]
        with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
            tmp.write(data)
            tmp.flush()
            return retrieval(resources).similar_to_image(
                tmp.name, top_k=form.top_k, store=form.store, filters=filters
            )

    result = await to_thread.run_sync(lambda: _guarded(run, None))
    return _response(result, "looks like your picture")


def _check_decodes(data: bytes) -> None:
    import io

    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise UnsupportedMediaType(f"the image cannot be decoded: {exc}", field="image") from exc


def _filters(f: VectorFilters | None) -> SearchFilters | None:
    if f is None or (f.category is None and f.min_price is None and f.max_price is None):
        return None
    if f.min_price is not None and f.max_price is not None and f.min_price > f.max_price:
        raise ApiError("min_price is above max_price", field="filters.min_price")
    return SearchFilters(category=f.category, min_price=f.min_price, max_price=f.max_price)


def _guarded(run: Callable[[], RetrievalResult], product_id: str | None) -> RetrievalResult:
    try:
        return run()
    except ProductNotFoundError as exc:
        if product_id is not None and "no product with id" in str(exc):
            raise NotFound(f"unknown product id {product_id!r}", field="product_id") from exc
        raise Unavailable(str(exc)) from exc
    except (VectorStoreError, EncoderError) as exc:
        raise Unavailable(f"similarity search is unavailable: {exc}") from exc


def _response(result: RetrievalResult, why: str) -> SimilarResponse:
    items = [
        SimilarItem(
            position=i,
            product_id=p.id,
            score=round(float(p.score), 6),
            reasons=[f"{why} ({result.modality}, cosine {p.score:.2f})"],
            name=p.name,
            product_type=p.product_type,
            colour=p.colour,
            price=p.price,
            in_stock=p.in_stock,
            categories=p.category_names,
        )
        for i, p in enumerate(result.items, start=1)
    ]
    # ops: a store that was tried first and failed means a fallback served this response
    degraded = [f"vector:{result.store}"] if result.skipped_stores else []
    metrics.record_degraded(degraded)
    return SimilarResponse(
        request_id=uuid.uuid4().hex,
        store=result.store,
        index=result.index,
        modality=result.modality,
        encoder=result.encoder,
        encoder_is_fallback=result.encoder_is_fallback,
        items=items,
        skipped_stores=dict(result.skipped_stores),
        degraded=degraded,
    )
