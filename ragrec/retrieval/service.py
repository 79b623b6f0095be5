"""Vector search + graph expansion through neo4j-graphrag retrievers, one per store.

`ProductRetrieval` is the entry point (similar-image, similar-product, text search). For
each store kind in `ragrec.vectorstores.fallback.store_order` it runs one retriever
(through `first_answer`, the one fallback loop, which skips a store that is down or
lacks the index and says why):

* qdrant: neo4j-graphrag `QdrantNeo4jRetriever`; its client, `StoreQdrantClient`
  (`ragrec.retrieval.qdrant`), runs `EdgeQdrantStore` / `ServerQdrantStore.search`.
* pgvector: our `PgVectorNeo4jRetriever` (an `ExternalRetriever`), which runs
  `PgVectorStore.search`.
* neo4j: neo4j-graphrag `VectorCypherRetriever` on Neo4j's native vector index.

All three append the same ``cypher/retrieval/expand_products`` query (`RETRIEVAL_QUERY`),
so they return the same `RetrievedProduct` shape; scores are cosine similarity. Filters
(category, price range) run inside Qdrant and pgvector; Neo4j 5.26 cannot filter inside
its vector index, so there the candidate pool grows until `top_k` products pass.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from neo4j import Driver, Record
from neo4j_graphrag.retrievers import QdrantNeo4jRetriever, VectorCypherRetriever
from neo4j_graphrag.types import RetrieverResultItem

from ragrec.config import Settings
from ragrec.cypher import query
from ragrec.embeddings.base import index_name
from ragrec.embeddings.models import EncoderSet, encoders
from ragrec.embeddings.pipeline import current_encoder
from ragrec.retrieval.pgvector import PgVectorNeo4jRetriever
from ragrec.retrieval.qdrant import StoreQdrantClient
from ragrec.retrieval.types import RetrievalResult, RetrievedProduct
from ragrec.vectorstores.base import IndexNotFoundError, SearchFilters, StoreUnavailableError
from ragrec.vectorstores.fallback import first_answer, store_order
from ragrec.vectorstores.neo4j import neo4j_score_to_cosine

RETRIEVAL_QUERY = "retrieval/expand_products"


class ProductNotFoundError(LookupError):
    """No product with that id, or it has no stored vector."""


def record_formatter(record: Record) -> RetrieverResultItem:
    """Every retriever returns the retrieval query's columns as metadata."""
    return RetrieverResultItem(content=str(record.get("id")), metadata=dict(record))


class ProductRetrieval:
    """Similar-image, similar-product and text search over whichever store answers first."""

    def __init__(
        self, settings: Settings, driver: Driver, encoder_set: EncoderSet | None = None
    ) -> None:
        self.settings = settings
        self.driver = driver
        self._encoder_set = encoder_set
        self._pg: Any = None
        self._qdrant: StoreQdrantClient | None = None
        self.retrieval_query = query(RETRIEVAL_QUERY)

    @property
    def encoder_set(self) -> EncoderSet:
        if self._encoder_set is None:
            self._encoder_set = encoders(self.settings)
        return self._encoder_set

    def _qdrant_client(self) -> StoreQdrantClient:
        if self._qdrant is None:
            self._qdrant = StoreQdrantClient(self.settings)
        return self._qdrant

    def _pg_conn(self) -> Any:
        if self._pg is None or self._pg.closed:
            from ragrec.vectorstores.pgvector import connect

            self._pg = connect(self.settings.effective_pg_dsn())
        return self._pg

    def close_pg(self) -> None:
        if self._pg is not None:
            self._pg.close()
            self._pg = None

    def close(self) -> None:
        self.close_pg()
        if self._qdrant is not None:
            self._qdrant.close()
            self._qdrant = None

    # -- entry points ------------------------------------------------------------------

    def similar_to_image(
        self,
        image: str | Path,
        *,
        top_k: int = 10,
        store: str | None = None,
        filters: SearchFilters | None = None,
    ) -> RetrievalResult:
        encoder = current_encoder("image", self.settings, self.encoder_set)
        vector = encoder.encode_images([str(image)])[0]
        return self.search_vector(
            "image", vector, top_k=top_k, store=store, filters=filters, query_label=str(image)
        )

    def similar_to_product(
        self,
        product_id: str,
        *,
        top_k: int = 10,
        store: str | None = None,
        filters: SearchFilters | None = None,
    ) -> RetrievalResult:
        """Products like `product_id` (itself excluded): by image if it has one, else by text."""
        records, _, _ = self.driver.execute_query(
            query("embeddings/product_vectors"),
            {"id": product_id},
            database_=self.settings.neo4j_database,
        )
        if not records:
            raise ProductNotFoundError(f"no product with id {product_id!r}")
        row = records[0]
        for modality in ("image", "text"):
            encoder = current_encoder(modality, self.settings, self.encoder_set)
            vec = row[f"{modality}_embedding"]
            if vec is not None and row[f"{modality}_encoder"] == encoder.encoder_id:
                return self.search_vector(
                    modality,
                    np.asarray(vec, dtype=np.float32),
                    top_k=top_k,
                    store=store,
                    filters=filters,
                    exclude=(product_id,),
                    query_label=f"product {product_id}",
                )
        raise ProductNotFoundError(
            f"product {product_id!r} has no embedding of the current encoders: "
            "run `ragrec generate-embeddings`"
        )

    def search_text(
        self,
        text: str,
        *,
        top_k: int = 10,
        store: str | None = None,
        filters: SearchFilters | None = None,
    ) -> RetrievalResult:
        encoder = current_encoder("text", self.settings, self.encoder_set)
        vector = encoder.encode_texts([text])[0]
        return self.search_vector(
            "text", vector, top_k=top_k, store=store, filters=filters, query_label=text
        )

    def search_vector(
        self,
        modality: str,
        vector: np.ndarray,
        *,
        top_k: int = 10,
        store: str | None = None,
        filters: SearchFilters | None = None,
        exclude: Sequence[str] = (),
        query_label: str = "",
    ) -> RetrievalResult:
        """Search the current encoder's index of `modality` in `store` (or the fallback order)."""
        encoder = current_encoder(modality, self.settings, self.encoder_set)
        if vector.shape != (encoder.dim,):
            raise ValueError(f"query vector has shape {vector.shape}, index wants {encoder.dim}")
        run = partial(self._run, modality=modality, encoder=encoder, vector=vector)
        kind, (items, retriever_name), skipped = first_answer(
            (k, partial(run, k, top_k=top_k + len(exclude), filters=filters))
            for k in store_order(self.settings, store or None)
        )
        return RetrievalResult(
            store=kind,
            retriever=retriever_name,
            index=index_name(modality, encoder.encoder_id, encoder.dim),
            modality=modality,
            encoder=encoder.encoder_id,
            encoder_label=encoder.label,
            encoder_is_fallback=getattr(encoder, "kind", "model") == "descriptor",
            query=query_label,
            filters={} if filters is None else filters.model_dump(exclude_none=True),
            skipped_stores=skipped,
            items=[i for i in items if i.id not in set(exclude)][:top_k],
        )

    # -- one store ---------------------------------------------------------------------

    def _run(
        self,
        kind: str,
        modality: str,
        encoder: Any,
        vector: np.ndarray,
        top_k: int,
        filters: SearchFilters | None,
    ) -> tuple[list[RetrievedProduct], str]:
        name = index_name(modality, encoder.encoder_id, encoder.dim)
        ef = self.settings.vector_ef_search
        vec = [float(x) for x in vector]
        enc_field = f"{modality}_encoder"
        if kind == "qdrant":
            qdrant = QdrantNeo4jRetriever(
                driver=self.driver,
                client=self._qdrant_client(),
                collection_name=name,
                id_property_neo4j="id",
                id_property_external="id",
                retrieval_query=self.retrieval_query,
                result_formatter=record_formatter,
                neo4j_database=self.settings.neo4j_database,
                node_label_neo4j="Product",
            )
            result = qdrant.search(query_vector=vec, top_k=top_k, filters=filters)
            items = _items(result.items, lambda s: s)
        elif kind == "pgvector":
            import psycopg

            try:
                pg = PgVectorNeo4jRetriever(
                    driver=self.driver,
                    client=self._pg_conn(),
                    table_name=name,
                    id_property_neo4j="id",
                    retrieval_query=self.retrieval_query,
                    result_formatter=record_formatter,
                    neo4j_database=self.settings.neo4j_database,
                    node_label_neo4j="Product",
                    ef_search=ef,
                )
            except psycopg.OperationalError as exc:
                # ops: the retriever's setup queries the connection; one left stale by a
                # PostgreSQL restart (or a server that is down) is a store that is
                # unavailable: the next store answers, and the next call reconnects
                self.close_pg()
                raise StoreUnavailableError("pgvector", f"PostgreSQL went away: {exc}") from exc
            result = pg.search(query_vector=vec, top_k=top_k, filters=filters)
            items = _items(result.items, lambda s: s)
        else:
            items, result = self._neo4j(name, vec, top_k, filters, ef)
        items = [i for i in items if getattr(i, enc_field) == encoder.encoder_id]
        if filters is not None and not filters.empty:
            items = [i for i in items if filters.matches(i.category_names, i.price)]
        items.sort(key=lambda i: (-i.score, i.id))
        return items[:top_k], str(result.metadata.get("__retriever") if result.metadata else "")

    def _neo4j(
        self,
        name: str,
        vec: list[float],
        top_k: int,
        filters: SearchFilters | None,
        ef: int,
    ) -> tuple[list[RetrievedProduct], Any]:
        from neo4j.exceptions import ServiceUnavailable

        try:
            retriever = VectorCypherRetriever(
                driver=self.driver,
                index_name=name,
                retrieval_query=self.retrieval_query,
                result_formatter=record_formatter,
                neo4j_database=self.settings.neo4j_database,
            )
        except ServiceUnavailable as exc:
            raise StoreUnavailableError("neo4j", f"Neo4j is unreachable: {exc}") from exc
        except Exception as exc:  # neo4j-graphrag raises a bare Exception for a missing index
            if "No index with name" in str(exc):
                raise IndexNotFoundError("neo4j", f"vector index {name} does not exist") from exc
            raise
        flt = filters if filters is not None and not filters.empty else None
        k = top_k if flt is None else top_k * 8
        while True:
            try:
                result = retriever.search(
                    query_vector=vec,
                    top_k=k,
                    effective_search_ratio=max(1, math.ceil(ef / k)),
                )
            except ServiceUnavailable as exc:
                raise StoreUnavailableError("neo4j", f"Neo4j is unreachable: {exc}") from exc
            items = _items(result.items, neo4j_score_to_cosine)
            if flt is None:
                return items, result
            passing = [i for i in items if flt.matches(i.category_names, i.price)]
            if len(passing) >= top_k or len(items) < k:
                return passing, result
            k *= 4


def _items(items: Sequence[RetrieverResultItem], score: Any) -> list[RetrievedProduct]:
    out = []
    for item in items:
        meta = dict(item.metadata or {})
        meta["score"] = float(score(meta.get("score", 0.0)))
        out.append(RetrievedProduct.model_validate(meta))
    return out
