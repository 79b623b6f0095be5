"""Qdrant: the embedded engine (default) or a Qdrant server, behind one `VectorStore` shape.

* `EdgeQdrantStore` runs Qdrant's engine in this process (`qdrant_edge.EdgeCollection`,
  one shard directory per collection under ``settings.qdrant_path``). A shard can be
  open once per process, so handles are shared through `edge_handle`; a shard held by
  another process raises `StoreUnavailableError` (the fallback wrapper moves on).
  HNSW is built by `optimize()` (the engine has no background optimizer); the indexing
  threshold is set low so that any collection above a few hundred points gets its graph.
* `ServerQdrantStore` talks to a server with `qdrant-client` (``RAGREC_QDRANT_URL``).

Both: cosine distance, HNSW ``m`` / ``ef_construct`` from `HnswParams`, ``hnsw_ef`` per
query, payload ``category`` (keyword, list of lower-case names) and ``price`` (float)
with payload indexes, filters applied inside the engine during the HNSW search. The
graph layer's Qdrant retriever (`ragrec.retrieval.qdrant.StoreQdrantClient`) searches
through these stores too.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ragrec.vectorstores.base import (
    CATEGORY_FIELD,
    PRICE_FIELD,
    HnswParams,
    IndexNotFoundError,
    SearchFilters,
    StoreUnavailableError,
    VectorHit,
    VectorStoreError,
    check_vectors,
)
from ragrec.vectorstores.qdrant_edge import (
    ID_FIELD,
    CollectionLockedError,
    CollectionNotFoundError,
    EdgeCollection,
    EdgeError,
    point_id,
)

KIND = "qdrant"
#: KB of vectors above which the optimizer builds HNSW (Qdrant's default is 10 000 KB)
INDEXING_THRESHOLD_KB = 100
#: KB below which a search is brute force anyway (small collections, exact and fast)
FULL_SCAN_THRESHOLD_KB = 100

_HANDLES: dict[Path, EdgeCollection] = {}
_HANDLES_LOCK = threading.Lock()


def edge_handle(
    root: Path, name: str, dim: int | None = None, hnsw: HnswParams | None = None
) -> EdgeCollection:
    """The process-wide open handle of shard ``root/name``; created when `dim` is given."""
    path = Path(root) / name
    with _HANDLES_LOCK:
        handle = _HANDLES.get(path)
        if handle is not None and not handle.closed:
            return handle
        params = hnsw or HnswParams()
        try:
            if dim is None:
                handle = EdgeCollection.open(root, name, lock_timeout=2.0)
            else:
                handle = EdgeCollection.create(
                    root,
                    name,
                    dim,
                    "cosine",
                    m=params.m,
                    ef_construct=params.ef_construction,
                    full_scan_threshold=FULL_SCAN_THRESHOLD_KB,
                    indexing_threshold_kb=INDEXING_THRESHOLD_KB,
                    payload_indexes={CATEGORY_FIELD: "keyword", PRICE_FIELD: "float"},
                    exist_ok=True,
                )
        except CollectionLockedError as exc:
            raise StoreUnavailableError(
                KIND, f"collection {name} is open in another process (embedded engine): {exc}"
            ) from exc
        except CollectionNotFoundError as exc:
            raise IndexNotFoundError(
                KIND, f"collection {name} does not exist: run `ragrec generate-embeddings`"
            ) from exc
        except EdgeError as exc:
            raise StoreUnavailableError(KIND, str(exc)) from exc
        _HANDLES[path] = handle
        return handle


def close_edge_handles() -> None:
    with _HANDLES_LOCK:
        for handle in _HANDLES.values():
            handle.close()
        _HANDLES.clear()


class EdgeQdrantStore:
    """Qdrant's engine in-process (qdrant-edge-py)."""

    kind = KIND

    def __init__(self, root: Path, name: str, dim: int, hnsw: HnswParams | None = None) -> None:
        self.root = Path(root)
        self.name = name
        self.dim = dim
        self.hnsw = hnsw or HnswParams()
        self._coll: EdgeCollection | None = None

    @property
    def collection(self) -> EdgeCollection:
        if self._coll is None or self._coll.closed:
            self._coll = edge_handle(self.root, self.name)
        return self._coll

    def ensure(self) -> None:
        self._coll = edge_handle(self.root, self.name, self.dim, self.hnsw)

    def upsert(
        self,
        ids: Sequence[str],
        vectors: npt.ArrayLike,
        payloads: Sequence[Mapping[str, Any]] | None = None,
    ) -> int:
        try:
            return self.collection.upsert(ids, vectors, _payloads(ids, payloads))
        except EdgeError as exc:
            raise VectorStoreError(KIND, str(exc)) from exc

    def optimize(self) -> bool:
        """Build the HNSW graph now (call after a bulk load)."""
        return self.collection.optimize()

    def search(
        self,
        vector: npt.ArrayLike,
        top_k: int = 10,
        filters: SearchFilters | None = None,
        *,
        ef_search: int | None = None,
    ) -> list[VectorHit]:
        flt = _edge_filter(filters)
        try:
            hits = self.collection.search(
                vector, top_k, flt, hnsw_ef=max(ef_search or self.hnsw.ef_search, top_k)
            )
        except EdgeError as exc:
            raise VectorStoreError(KIND, str(exc)) from exc
        return [VectorHit(h.id, h.score) for h in hits]

    def delete(self, ids: Sequence[str]) -> int:
        before = self.collection.count()
        self.collection.delete([str(i) for i in ids])
        return before - self.collection.count()

    def count(self) -> int:
        return self.collection.count()

    def disk_bytes(self) -> int:
        self.collection.flush()
        return sum(p.stat().st_size for p in (self.root / self.name).rglob("*") if p.is_file())

    def close(self) -> None:
        """Handles are shared per process; `close_edge_handles` releases them all."""
        self._coll = None


class ServerQdrantStore:
    """A Qdrant server through qdrant-client (``RAGREC_QDRANT_URL``), or its local mode."""

    kind = KIND

    def __init__(
        self,
        client: Any,
        name: str,
        dim: int,
        hnsw: HnswParams | None = None,
    ) -> None:
        self.client = client
        self.name = name
        self.dim = dim
        self.hnsw = hnsw or HnswParams()

    @classmethod
    def connect(
        cls, url: str, api_key: str | None, name: str, dim: int, hnsw: HnswParams | None = None
    ) -> ServerQdrantStore:
        from qdrant_client import QdrantClient

        client = QdrantClient(url=url, api_key=api_key, timeout=10, check_compatibility=False)
        return cls(client, name, dim, hnsw)

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

        try:
            return fn(*args, **kwargs)
        except UnexpectedResponse as exc:
            if exc.status_code == 404:
                raise IndexNotFoundError(KIND, f"collection {self.name} does not exist") from exc
            raise VectorStoreError(KIND, f"{what}: {exc}") from exc
        except (ResponseHandlingException, ConnectionError, OSError) as exc:
            raise StoreUnavailableError(KIND, f"{what}: cannot reach the server: {exc}") from exc
        except ValueError as exc:  # local mode: "Collection ... not found"
            if "not found" in str(exc):
                raise IndexNotFoundError(KIND, str(exc)) from exc
            raise

    def ensure(self) -> None:
        from qdrant_client import models

        exists = self._call("collection_exists", self.client.collection_exists, self.name)
        if exists:
            return
        self._call(
            "create_collection",
            self.client.create_collection,
            self.name,
            vectors_config=models.VectorParams(size=self.dim, distance=models.Distance.COSINE),
            hnsw_config=models.HnswConfigDiff(
                m=self.hnsw.m, ef_construct=self.hnsw.ef_construction
            ),
        )
        for field, schema in (
            (CATEGORY_FIELD, models.PayloadSchemaType.KEYWORD),
            (PRICE_FIELD, models.PayloadSchemaType.FLOAT),
        ):
            self._call(
                "create_payload_index",
                self.client.create_payload_index,
                self.name,
                field_name=field,
                field_schema=schema,
            )

    def upsert(
        self,
        ids: Sequence[str],
        vectors: npt.ArrayLike,
        payloads: Sequence[Mapping[str, Any]] | None = None,
    ) -> int:
        from qdrant_client import models

        matrix = check_vectors(ids, vectors, self.dim, payloads)
        full = _payloads(ids, payloads)
        for start in range(0, len(ids), 1_000):
            points = [
                models.PointStruct(
                    id=str(point_id(str(ids[i]))),
                    vector=matrix[i].tolist(),
                    payload={**full[i], ID_FIELD: str(ids[i])},
                )
                for i in range(start, min(start + 1_000, len(ids)))
            ]
            self._call("upsert", self.client.upsert, self.name, points=points, wait=True)
        return len(ids)

    def search(
        self,
        vector: npt.ArrayLike,
        top_k: int = 10,
        filters: SearchFilters | None = None,
        *,
        ef_search: int | None = None,
    ) -> list[VectorHit]:
        from qdrant_client import models

        query = np.asarray(vector, dtype=np.float32).tolist()
        response = self._call(
            "query_points",
            self.client.query_points,
            self.name,
            query=query,
            limit=top_k,
            query_filter=_client_filter(filters),
            search_params=models.SearchParams(hnsw_ef=max(ef_search or self.hnsw.ef_search, top_k)),
            with_payload=[ID_FIELD],
        )
        return [
            VectorHit(str((p.payload or {}).get(ID_FIELD, p.id)), float(p.score))
            for p in response.points
        ]

    def delete(self, ids: Sequence[str]) -> int:
        from qdrant_client import models

        before = self.count()
        selector = models.PointIdsList(points=[str(point_id(str(i))) for i in ids])
        self._call("delete", self.client.delete, self.name, points_selector=selector, wait=True)
        return before - self.count()

    def count(self) -> int:
        return int(self._call("count", self.client.count, self.name, exact=True).count)

    def close(self) -> None:
        self.client.close()


def _client_filter(filters: SearchFilters | None) -> Any:
    """`SearchFilters` as a qdrant-client `Filter` (None when empty)."""
    from qdrant_client import models

    if filters is None or filters.empty:
        return None
    must: list[Any] = []
    if filters.category_key is not None:
        must.append(
            models.FieldCondition(
                key=CATEGORY_FIELD, match=models.MatchValue(value=filters.category_key)
            )
        )
    if filters.min_price is not None or filters.max_price is not None:
        must.append(
            models.FieldCondition(
                key=PRICE_FIELD, range=models.Range(gte=filters.min_price, lte=filters.max_price)
            )
        )
    return models.Filter(must=must)


def _edge_filter(filters: SearchFilters | None) -> dict[str, Any] | None:
    if filters is None or filters.empty:
        return None
    flt: dict[str, Any] = {}
    if filters.category_key is not None:
        flt["category"] = filters.category_key
    if filters.min_price is not None:
        flt["min_price"] = filters.min_price
    if filters.max_price is not None:
        flt["max_price"] = filters.max_price
    return flt


def _payloads(
    ids: Sequence[str], payloads: Sequence[Mapping[str, Any]] | None
) -> list[dict[str, Any]]:
    if payloads is None:
        return [{} for _ in ids]
    if len(payloads) != len(ids):
        raise ValueError(f"{len(payloads)} payloads for {len(ids)} ids")
    out = []
    for payload in payloads:
        item: dict[str, Any] = {}
        cats = payload.get(CATEGORY_FIELD)
        if cats:
            item[CATEGORY_FIELD] = [str(c).lower() for c in cats]
        if payload.get(PRICE_FIELD) is not None:
            item[PRICE_FIELD] = float(payload[PRICE_FIELD])
        out.append(item)
    return out
