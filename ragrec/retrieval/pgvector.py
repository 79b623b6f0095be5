"""`PgVectorNeo4jRetriever`: pgvector finds the nearest rows, Neo4j expands from them.

Built on neo4j-graphrag's `ExternalRetriever` and shaped like its `QdrantNeo4jRetriever`:
constructor and search arguments are validated by small pydantic models
(`ragrec.retrieval.types`), a bad argument raises `RetrieverInitializationError` /
`SearchValidationError`, and the graph step is neo4j-graphrag's own `get_match_query`
plus the `retrieval_query`, so swapping Qdrant for pgvector is a constructor argument.
The vector step is `ragrec.vectorstores.pgvector.PgVectorStore.search` on the given
connection (the table layout, filters, ``hnsw.ef_search`` and named errors are the
store's). Scores are cosine similarities (``1 - (embedding <=> query)``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import neo4j
import numpy as np
import psycopg
from neo4j_graphrag.embeddings.base import Embedder
from neo4j_graphrag.exceptions import (
    EmbeddingRequiredError,
    RetrieverInitializationError,
    SearchValidationError,
)
from neo4j_graphrag.retrievers.base import ExternalRetriever
from neo4j_graphrag.retrievers.external.utils import get_match_query
from neo4j_graphrag.types import (
    EmbedderModel,
    Neo4jDriverModel,
    RawSearchResult,
    RetrieverResultItem,
)
from pgvector.psycopg import register_vector
from pydantic import ValidationError

from ragrec.retrieval.types import (
    PgVectorClientModel,
    PgVectorNeo4jRetrieverModel,
    PgVectorSearchModel,
)
from ragrec.vectorstores.base import SearchFilters
from ragrec.vectorstores.pgvector import PgVectorStore

logger = logging.getLogger(__name__)


class PgVectorNeo4jRetriever(ExternalRetriever):
    """Vector search in a pgvector table, then graph expansion in Neo4j.

    Args:
        driver: the Neo4j driver.
        client: a psycopg 3 connection to the database that holds `table_name`.
        table_name: a `PgVectorStore` table (``id``, ``embedding``, ``category``,
            ``price``), e.g. ``product_image_hsvdesc_v1_248``.
        id_property_neo4j: the node property that equals the table's ``id``.
        embedder: embeds `query_text` (optional; pass `query_vector` otherwise).
        return_properties, retrieval_query, result_formatter, neo4j_database,
        node_label_neo4j: as in `QdrantNeo4jRetriever`.
        ef_search: ``hnsw.ef_search`` for each query.
    """

    def __init__(
        self,
        driver: neo4j.Driver,
        client: psycopg.Connection[Any],
        table_name: str,
        id_property_neo4j: str,
        embedder: Embedder | None = None,
        return_properties: list[str] | None = None,
        retrieval_query: str | None = None,
        result_formatter: Callable[[neo4j.Record], RetrieverResultItem] | None = None,
        neo4j_database: str | None = None,
        node_label_neo4j: str | None = None,
        ef_search: int = 100,
    ) -> None:
        try:
            validated = PgVectorNeo4jRetrieverModel(
                driver_model=Neo4jDriverModel(driver=driver),
                client_model=PgVectorClientModel(client=client),
                table_name=table_name,
                id_property_neo4j=id_property_neo4j,
                embedder_model=EmbedderModel(embedder=embedder) if embedder else None,
                return_properties=return_properties,
                retrieval_query=retrieval_query,
                result_formatter=result_formatter,
                neo4j_database=neo4j_database,
                node_label_neo4j=node_label_neo4j,
                ef_search=ef_search,
            )
        except ValidationError as e:
            raise RetrieverInitializationError(e.errors()) from e
        super().__init__(
            driver=driver,
            id_property_external="id",
            id_property_neo4j=validated.id_property_neo4j,
            neo4j_database=neo4j_database,
            node_label_neo4j=node_label_neo4j,
        )
        self.client = validated.client_model.client
        register_vector(self.client)
        self.table_name = validated.table_name
        self.embedder = validated.embedder_model.embedder if validated.embedder_model else None
        self.return_properties = validated.return_properties
        self.retrieval_query = validated.retrieval_query
        self.result_formatter = validated.result_formatter
        self.ef_search = validated.ef_search

    def get_search_results(
        self,
        query_vector: list[float] | None = None,
        query_text: str | None = None,
        top_k: int = 5,
        filters: SearchFilters | dict[str, Any] | None = None,
        ef_search: int | None = None,
        **kwargs: Any,
    ) -> RawSearchResult:
        """Nearest `top_k` rows (optionally filtered by category / price), expanded in Neo4j.

        Raises:
            SearchValidationError: invalid arguments (vector, top_k, filters).
            EmbeddingRequiredError: `query_text` without an embedder.
            StoreUnavailableError / IndexNotFoundError: PostgreSQL down / table missing.
        """
        try:
            validated = PgVectorSearchModel(
                query_vector=query_vector,
                query_text=query_text,
                top_k=top_k,
                filters=filters,  # type: ignore[arg-type]  # pydantic validates a dict too
                ef_search=ef_search,
                **kwargs,
            )
        except ValidationError as e:
            raise SearchValidationError(e.errors()) from e
        vector = validated.query_vector
        if vector is None:
            if not self.embedder:
                raise EmbeddingRequiredError("No embedder provided for query_text.")
            vector = self.embedder.embed_query(validated.query_text or "")
        result_tuples = self._nearest(
            np.asarray(vector, dtype=np.float32),
            validated.top_k,
            validated.filters,
            validated.ef_search or self.ef_search,
        )
        search_query = get_match_query(
            return_properties=self.return_properties,
            retrieval_query=self.retrieval_query,
            node_label=self.node_label_neo4j,
        )
        parameters = {"match_params": result_tuples, "id_property": self.id_property_neo4j}
        logger.debug("pgvector retriever Cypher parameters: %s", parameters)
        records, _, _ = self.driver.execute_query(
            search_query,
            parameters,
            database_=self.neo4j_database,
            routing_=neo4j.RoutingControl.READ,
        )
        return RawSearchResult(records=records)

    def _nearest(
        self, vector: np.ndarray, top_k: int, filters: SearchFilters | None, ef_search: int
    ) -> list[tuple[str, float]]:
        store = PgVectorStore(None, self.table_name, len(vector), conn=self.client)
        return [(h.id, h.score) for h in store.search(vector, top_k, filters, ef_search=ef_search)]
