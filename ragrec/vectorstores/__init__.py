"""Vector stores behind one protocol: pgvector, Qdrant (embedded engine or server), Neo4j.

See `base` for the protocol, filters and named errors, `fallback` for opening a store by
kind and for trying stores in a configured order (the one fallback loop, `first_answer`).
This is the storage layer: every nearest-neighbour search runs here. The graph layer,
`ragrec.retrieval`, wraps these searches in neo4j-graphrag retrievers that expand the
hits through the graph.
"""

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

__all__ = [
    "STORE_KINDS",
    "HnswParams",
    "IndexNotFoundError",
    "SearchFilters",
    "StoreUnavailableError",
    "VectorHit",
    "VectorStore",
    "VectorStoreError",
]
