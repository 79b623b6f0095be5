"""Open the vector store of an index by kind, and the one fallback loop across kinds.

`open_store(kind, ...)` builds a `PgVectorStore`, `EdgeQdrantStore` / `ServerQdrantStore`
or `Neo4jVectorStore` for one index from settings. `store_order` is the order to try
(``RAGREC_VECTOR_STORE_ORDER``, default ``qdrant,pgvector,neo4j``) and `first_answer`
tries it: a store that is down (`StoreUnavailableError`) or lacks the index
(`IndexNotFoundError`) is skipped with its reason, and when all fail
`AllStoresFailedError` lists each store's reason. Both `FallbackStore` (plain vector
search) and `ragrec.retrieval.ProductRetrieval` (search + graph expansion) use it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import Any, TypeVar

import numpy.typing as npt
from neo4j import Driver

from ragrec.config import Settings
from ragrec.vectorstores.base import (
    STORE_KINDS,
    HnswParams,
    IndexNotFoundError,
    SearchFilters,
    StoreUnavailableError,
    VectorHit,
    VectorStore,
    VectorStoreError,
)
from ragrec.vectorstores.neo4j import Neo4jVectorStore, NodeTarget

T = TypeVar("T")


class AllStoresFailedError(VectorStoreError):
    """Every store in the fallback order failed; `reasons` maps store kind to its error."""

    def __init__(self, reasons: Mapping[str, str]) -> None:
        super().__init__("all", "; ".join(f"{kind}: {reason}" for kind, reason in reasons.items()))
        self.reasons = dict(reasons)


def store_order(settings: Settings, only: str | None = None) -> list[str]:
    """The store kinds to try: just `only` when given, else ``RAGREC_VECTOR_STORE_ORDER``."""
    if only is not None:
        if only not in STORE_KINDS:
            raise ValueError(f"unknown store {only!r}; use one of {', '.join(STORE_KINDS)}")
        return [only]
    order = [s.strip().lower() for s in settings.vector_store_order.split(",") if s.strip()]
    unknown = [s for s in order if s not in STORE_KINDS]
    if unknown or not order:
        raise ValueError(
            f"RAGREC_VECTOR_STORE_ORDER={settings.vector_store_order!r}: use a comma-separated "
            f"order of {', '.join(STORE_KINDS)}"
        )
    return order


def first_answer(attempts: Iterable[tuple[str, Callable[[], T]]]) -> tuple[str, T, dict[str, str]]:
    """Run ``(kind, attempt)`` pairs in order until one answers.

    Returns the kind that answered, its result and ``{kind: reason}`` of the stores
    skipped before it (down or without the index); any other error propagates.

    Raises:
        AllStoresFailedError: every store was skipped.
    """
    skipped: dict[str, str] = {}
    for kind, attempt in attempts:
        try:
            result = attempt()
        except (StoreUnavailableError, IndexNotFoundError) as exc:
            skipped[kind] = exc.message
            continue
        return kind, result, skipped
    raise AllStoresFailedError(skipped)


def hnsw_params(settings: Settings) -> HnswParams:
    return HnswParams(
        m=settings.vector_hnsw_m,
        ef_construction=settings.vector_hnsw_ef_construction,
        ef_search=settings.vector_ef_search,
    )


def open_store(
    kind: str,
    settings: Settings,
    name: str,
    dim: int,
    *,
    driver: Driver | None = None,
    target: NodeTarget | None = None,
    encoder: str | None = None,
    encoder_version: str | None = None,
) -> VectorStore:
    """The store of `kind` for index `name` (nothing is created until `ensure()`)."""
    hnsw = hnsw_params(settings)
    if kind == "pgvector":
        from ragrec.vectorstores.pgvector import PgVectorStore

        return PgVectorStore(settings.effective_pg_dsn(), name, dim, hnsw)
    if kind == "qdrant":
        from ragrec.vectorstores.qdrant import EdgeQdrantStore, ServerQdrantStore

        if settings.qdrant_url:
            return ServerQdrantStore.connect(
                settings.qdrant_url, settings.qdrant_api_key, name, dim, hnsw
            )
        return EdgeQdrantStore(settings.qdrant_path, name, dim, hnsw)
    if kind == "neo4j":
        if driver is None or target is None:
            raise ValueError("the neo4j store needs a driver and a NodeTarget")
        return Neo4jVectorStore(
            driver,
            settings.neo4j_database,
            name,
            dim,
            target,
            hnsw,
            encoder=encoder,
            encoder_version=encoder_version,
        )
    raise ValueError(f"unknown store {kind!r}; use one of {', '.join(STORE_KINDS)}")


class FallbackStore:
    """Searches the first store that answers, in order; writes go to every store."""

    kind = "fallback"

    def __init__(self, stores: Sequence[VectorStore]) -> None:
        if not stores:
            raise ValueError("FallbackStore needs at least one store")
        self.stores = list(stores)
        self.name = self.stores[0].name
        self.dim = self.stores[0].dim
        self.last_used: str | None = None
        self.skipped: dict[str, str] = {}

    def _first(self, op: str, *args: Any, **kwargs: Any) -> Any:
        self.last_used, result, self.skipped = first_answer(
            (store.kind, partial(getattr(store, op), *args, **kwargs)) for store in self.stores
        )
        return result

    def search(
        self, vector: npt.ArrayLike, top_k: int = 10, filters: SearchFilters | None = None
    ) -> list[VectorHit]:
        hits: list[VectorHit] = self._first("search", vector, top_k, filters)
        return hits

    def count(self) -> int:
        return int(self._first("count"))

    def ensure(self) -> None:
        for store in self.stores:
            store.ensure()

    def upsert(
        self,
        ids: Sequence[str],
        vectors: npt.ArrayLike,
        payloads: Sequence[Mapping[str, Any]] | None = None,
    ) -> int:
        return max(store.upsert(ids, vectors, payloads) for store in self.stores)

    def delete(self, ids: Sequence[str]) -> int:
        return max(store.delete(ids) for store in self.stores)

    def close(self) -> None:
        for store in self.stores:
            store.close()
