"""neo4j-graphrag retrievers over pgvector, Qdrant and Neo4j, with graph expansion.

`ProductRetrieval` (in `service`) is the entry point: similar-image, similar-product and
text search, trying the stores in the configured order.
"""
