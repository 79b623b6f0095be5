from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from litestar.datastructures import UploadFile

from app.domain.recommendations.schemas import TopK

Store = Literal["pgvector", "qdrant", "neo4j"]


class VectorFilters(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Applied inside the vector store: a category name (any level) and a price range."""

    category: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    min_price: Annotated[float, msgspec.Meta(ge=0)] | None = None
    max_price: Annotated[float, msgspec.Meta(ge=0)] | None = None


class SimilarRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    product_id: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    top_k: TopK = 10
    filters: VectorFilters | None = None
    store: Store | None = None


class SimilarImageForm(msgspec.Struct, kw_only=True):
    """multipart/form-data: the picture and optional search settings."""

    image: UploadFile
    top_k: TopK = 10
    category: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    min_price: Annotated[float, msgspec.Meta(ge=0)] | None = None
    max_price: Annotated[float, msgspec.Meta(ge=0)] | None = None
    store: Store | None = None


class SimilarItem(msgspec.Struct, kw_only=True):
    position: int
    product_id: str
    score: float
    reasons: list[str]
    name: str | None = None
    product_type: str | None = None
    colour: str | None = None
    price: float | None = None
    in_stock: bool | None = None
    categories: list[str] = msgspec.field(default_factory=list)


class SimilarResponse(msgspec.Struct, kw_only=True):
    """`store` answered (the others were tried first when listed in `skipped_stores`);
    `score` is cosine similarity whichever store ran."""

    request_id: str
    store: str
    index: str
    modality: str
    encoder: str
    encoder_is_fallback: bool
    items: list[SimilarItem]
    skipped_stores: dict[str, str] = msgspec.field(default_factory=dict)
    #: ops: fallbacks that served this response, e.g. ["vector:pgvector"] when the first
    #: store in RAGREC_VECTOR_STORE_ORDER was down and pgvector answered; empty = normal
    degraded: list[str] = msgspec.field(default_factory=list)
