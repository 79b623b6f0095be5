"""`EdgeQdrantClient`: lets neo4j-graphrag's `QdrantNeo4jRetriever` search the embedded engine.

`QdrantNeo4jRetriever` validates that its client is a `qdrant_client.QdrantClient` and
calls exactly one method on it: ``query_points(collection_name=..., query=vector,
using=..., limit=k, with_payload=[id field], **kwargs).points``. The embedded engine
(qdrant-edge-py) has a different API, so this adapter is a `QdrantClient` subclass
whose `query_points` runs the search on the Edge shard (through the process-wide
handle of `ragrec.vectorstores.qdrant.edge_handle`) and answers with qdrant-client's
own `QueryResponse` / `ScoredPoint`. The rest of the client is qdrant-client's local
in-memory mode, which nothing here uses; it is an adapter, not a Qdrant server.

Supported `query_points` arguments: `query` (a dense vector), `limit`, `query_filter`
(a `models.Filter` whose ``must`` holds category `MatchValue` / price `Range`
conditions, as `ragrec.vectorstores.qdrant.client_filter` builds) and `search_params`
(``hnsw_ef``, ``exact``); anything else raises `ValueError`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qdrant_client import QdrantClient, models
from qdrant_client.http import models as rest

from ragrec.vectorstores.base import CATEGORY_FIELD, PRICE_FIELD
from ragrec.vectorstores.qdrant import edge_handle
from ragrec.vectorstores.qdrant_edge import ID_FIELD, point_id

_IGNORED = {"with_payload", "with_vectors", "using"}


class EdgeQdrantClient(QdrantClient):
    """A `QdrantClient` whose `query_points` searches Qdrant Edge shards under `root`."""

    def __init__(self, root: str | Path) -> None:
        super().__init__(location=":memory:")
        self.edge_root = Path(root)

    def query_points(  # type: ignore[override]
        self,
        collection_name: str,
        query: Any = None,
        *,
        limit: int = 10,
        query_filter: models.Filter | None = None,
        search_params: models.SearchParams | None = None,
        **kwargs: Any,
    ) -> rest.QueryResponse:
        unknown = {k for k, v in kwargs.items() if v is not None} - _IGNORED
        if unknown:
            raise ValueError(f"EdgeQdrantClient.query_points does not support {sorted(unknown)}")
        if kwargs.get("using"):
            raise ValueError("the embedded collections have one unnamed vector; drop `using`")
        handle = edge_handle(self.edge_root, collection_name)
        hits = handle.search(
            list(query),
            top_k=limit,
            filter=edge_filter(query_filter),
            hnsw_ef=search_params.hnsw_ef if search_params else None,
            exact=bool(search_params and search_params.exact),
        )
        points = [
            rest.ScoredPoint(
                id=str(point_id(h.id)),
                version=0,
                score=h.score,
                payload={ID_FIELD: h.id},
            )
            for h in hits
        ]
        return rest.QueryResponse(points=points)


def edge_filter(flt: models.Filter | None) -> dict[str, Any] | None:
    """A qdrant-client `Filter` (category match / price range in ``must``) as an edge filter."""
    if flt is None:
        return None
    if flt.should or flt.must_not or flt.min_should:
        raise ValueError("only `must` conditions are supported by EdgeQdrantClient")
    must = flt.must if isinstance(flt.must, list) else ([flt.must] if flt.must else [])
    out: dict[str, Any] = {}
    for cond in must:
        if not isinstance(cond, models.FieldCondition):
            raise ValueError(f"unsupported condition {type(cond).__name__}")
        if cond.key == CATEGORY_FIELD and isinstance(cond.match, models.MatchValue):
            out["category"] = cond.match.value
        elif cond.key == PRICE_FIELD and isinstance(cond.range, models.Range):
            if cond.range.gte is not None:
                out["min_price"] = cond.range.gte
            if cond.range.lte is not None:
                out["max_price"] = cond.range.lte
        else:
            raise ValueError(f"unsupported condition on {cond.key!r}")
    return out or None
