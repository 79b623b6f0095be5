"""`StoreQdrantClient`: neo4j-graphrag's `QdrantNeo4jRetriever` searching our Qdrant stores.

`QdrantNeo4jRetriever` checks that its client is a `qdrant_client.QdrantClient` and calls
one method on it: ``query_points(collection_name=..., query=vector, using=None, limit=k,
with_payload=[id field], **kwargs).points``. This subclass answers that call with the
`search` of the collection's store in `ragrec.vectorstores.qdrant` (opened by
`open_store`: `EdgeQdrantStore`, the engine in this process, or `ServerQdrantStore` when
``RAGREC_QDRANT_URL`` is set), so the query, the filter conversion, ``hnsw_ef`` and the
named errors (`StoreUnavailableError`, `IndexNotFoundError`) are the store's, not
re-implemented here. The one extra argument is ``filters`` (`SearchFilters`), which the
retriever's ``search(..., filters=...)`` passes through. The rest of the client is
qdrant-client's local in-memory mode, which nothing here uses.
"""

from __future__ import annotations

import threading
from typing import Any

from qdrant_client import QdrantClient
from qdrant_client.http import models as rest

from ragrec.config import Settings
from ragrec.vectorstores.base import SearchFilters, VectorStore
from ragrec.vectorstores.fallback import open_store
from ragrec.vectorstores.qdrant_edge import ID_FIELD, point_id


class StoreQdrantClient(QdrantClient):
    """A `QdrantClient` whose `query_points` runs the Qdrant store of `settings`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._stores: dict[str, VectorStore] = {}
        self._lock = threading.Lock()  # set before the base, whose __del__ calls close()
        super().__init__(location=":memory:")

    def store(self, collection_name: str, dim: int) -> VectorStore:
        """The (kept) Qdrant store of one collection."""
        with self._lock:
            store = self._stores.get(collection_name)
            if store is None:
                store = open_store("qdrant", self.settings, collection_name, dim)
                self._stores[collection_name] = store
            return store

    def query_points(  # type: ignore[override]
        self,
        collection_name: str,
        query: Any = None,
        *,
        limit: int = 10,
        filters: SearchFilters | None = None,
        using: str | None = None,
        with_payload: Any = None,
        **kwargs: Any,
    ) -> rest.QueryResponse:
        if using:
            raise ValueError("the collections have one unnamed vector; drop `using`")
        if kwargs:
            raise ValueError(f"StoreQdrantClient.query_points does not support {sorted(kwargs)}")
        hits = self.store(collection_name, len(query)).search(query, limit, filters)
        points = [
            rest.ScoredPoint(
                id=str(point_id(h.id)), version=0, score=h.score, payload={ID_FIELD: h.id}
            )
            for h in hits
        ]
        return rest.QueryResponse(points=points)

    def close(self, grpc_grace: float | None = None, **kwargs: Any) -> None:
        with self._lock:
            for store in self._stores.values():
                store.close()
            self._stores.clear()
        super().close(grpc_grace, **kwargs)
