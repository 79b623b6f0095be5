"""The graph layer of vector search: neo4j-graphrag retrievers over `ragrec.vectorstores`.

Two layers, one direction:

* `ragrec.vectorstores` stores and searches vectors (pgvector, Qdrant, Neo4j behind one
  `VectorStore` protocol) and owns the store order and the fallback loop (`fallback`).
* `ragrec.retrieval` (this package) runs neo4j-graphrag retrievers: the store's nearest
  neighbours, then the versioned graph expansion ``cypher/retrieval/expand_products``.
  It searches through the stores, never around them.

A request: `app/domain/similar` (controller -> service) -> `ProductRetrieval` (`service`)
-> one retriever per store (`pgvector.PgVectorNeo4jRetriever`, neo4j-graphrag's
`QdrantNeo4jRetriever` with `qdrant.StoreQdrantClient`, or `VectorCypherRetriever`)
-> ``cypher/retrieval/expand_products.v1.cypher``. `types` holds the result shape.
"""
