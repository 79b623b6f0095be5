"""The protocol every vector store follows, its filters, hits and named errors.

Three implementations share it: `PgVectorStore` (PostgreSQL + pgvector), `EdgeQdrantStore`
/ `ServerQdrantStore` (Qdrant in-process or a server) and `Neo4jVectorStore` (Neo4j's
native vector index). All use cosine similarity and HNSW with the same ``m`` /
``ef_construction``; `search` returns cosine similarity (1 = same direction) whichever
store ran it, so scores are comparable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, model_validator

STORE_KINDS = ("pgvector", "qdrant", "neo4j")

#: payload keys every store understands: lower-cased category names (all levels) and price
CATEGORY_FIELD = "category"
PRICE_FIELD = "price"


class VectorStoreError(RuntimeError):
    """A vector store refused an operation. `store` names it."""

    def __init__(self, store: str, message: str) -> None:
        super().__init__(f"{store}: {message}")
        self.store = store
        self.message = message


class StoreUnavailableError(VectorStoreError):
    """The store is down, unreachable or locked by another process."""


class IndexNotFoundError(VectorStoreError):
    """The index / collection / table does not exist (run `ragrec generate-embeddings`)."""


class SearchFilters(BaseModel):
    """Filters every store applies: a category name (any level) and an inclusive price range."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    category: str | None = Field(default=None, min_length=1)
    min_price: float | None = Field(default=None, ge=0)
    max_price: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _range(self) -> SearchFilters:
        if (
            self.min_price is not None
            and self.max_price is not None
            and self.min_price > self.max_price
        ):
            raise ValueError(f"min_price {self.min_price} is above max_price {self.max_price}")
        return self

    @property
    def empty(self) -> bool:
        return self.category is None and self.min_price is None and self.max_price is None

    @property
    def category_key(self) -> str | None:
        return None if self.category is None else self.category.strip().lower()

    def matches(self, categories: Sequence[str], price: float | None) -> bool:
        """Whether a product with these category names and price passes (for post-filters)."""
        if self.category_key is not None and self.category_key not in {
            c.lower() for c in categories
        }:
            return False
        if self.min_price is not None and (price is None or price < self.min_price):
            return False
        return not (self.max_price is not None and (price is None or price > self.max_price))


class VectorHit(NamedTuple):
    id: str
    score: float  # cosine similarity


@dataclass(frozen=True)
class HnswParams:
    m: int = 16
    ef_construction: int = 128
    ef_search: int = 100


@runtime_checkable
class VectorStore(Protocol):
    kind: str  # one of STORE_KINDS
    name: str  # index / collection / table name
    dim: int

    def ensure(self) -> None:
        """Create the index if missing (idempotent)."""
        ...

    def upsert(
        self,
        ids: Sequence[str],
        vectors: npt.ArrayLike,
        payloads: Sequence[Mapping[str, Any]] | None = None,
    ) -> int: ...

    def search(
        self, vector: npt.ArrayLike, top_k: int = 10, filters: SearchFilters | None = None
    ) -> list[VectorHit]: ...

    def delete(self, ids: Sequence[str]) -> int: ...

    def count(self) -> int: ...

    def close(self) -> None: ...


def check_vectors(
    ids: Sequence[str],
    vectors: npt.ArrayLike,
    dim: int,
    payloads: Sequence[Mapping[str, Any]] | None,
) -> npt.NDArray[np.float32]:
    """`vectors` as a float32 (len(ids), dim) matrix; ValueError naming what is wrong."""
    matrix = np.asarray(vectors, dtype=np.float32)
    if matrix.ndim != 2 or matrix.shape != (len(ids), dim):
        raise ValueError(f"vectors must be ({len(ids)}, {dim}); got shape {matrix.shape}")
    if payloads is not None and len(payloads) != len(ids):
        raise ValueError(f"{len(payloads)} payloads for {len(ids)} ids")
    if not np.isfinite(matrix).all():
        raise ValueError("vectors contain NaN or inf")
    return matrix
