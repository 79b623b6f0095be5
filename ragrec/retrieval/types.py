"""Validated arguments of the pgvector retriever, and the result shape every retriever returns."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import neo4j
from neo4j_graphrag.types import EmbedderModel, Neo4jDriverModel, RetrieverResultItem
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ragrec.vectorstores.base import SearchFilters
from ragrec.vectorstores.pgvector import check_table_name

# -- pgvector retriever arguments (the shape of neo4j-graphrag's Qdrant types) -------------


class PgVectorClientModel(BaseModel):
    client: Any
    model_config = ConfigDict(arbitrary_types_allowed=True)

    @field_validator("client")
    @classmethod
    def check_client(cls, value: Any) -> Any:
        import psycopg

        if not isinstance(value, psycopg.Connection):
            raise ValueError("Provided client needs to be a psycopg.Connection")
        if value.closed:
            raise ValueError("Provided psycopg connection is closed")
        return value


class PgVectorNeo4jRetrieverModel(BaseModel):
    driver_model: Neo4jDriverModel
    client_model: PgVectorClientModel
    table_name: str
    id_property_neo4j: str
    embedder_model: EmbedderModel | None = None
    return_properties: list[str] | None = None
    retrieval_query: str | None = None
    result_formatter: Callable[[neo4j.Record], RetrieverResultItem] | None = None
    neo4j_database: str | None = None
    node_label_neo4j: str | None = None
    ef_search: int = Field(default=100, ge=1, le=1000)

    @field_validator("table_name")
    @classmethod
    def check_table(cls, value: str) -> str:
        return check_table_name(value)


class PgVectorSearchModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query_vector: list[float] | None = None
    query_text: str | None = None
    top_k: int = Field(default=5, ge=1)
    filters: SearchFilters | None = None
    ef_search: int | None = Field(default=None, ge=1, le=1000)

    @model_validator(mode="after")
    def _one_query(self) -> PgVectorSearchModel:
        if self.query_vector is None and self.query_text is None:
            raise ValueError("give query_vector or query_text")
        return self


# -- the result shape, whichever store ran first -------------------------------------------


class ProductRef(BaseModel):
    id: str
    name: str | None = None


class CategoryRef(BaseModel):
    id: str
    name: str | None = None
    level: str | None = None


class AttributeRef(BaseModel):
    id: str
    kind: str | None = None
    value: str | None = None


class CoPurchase(ProductRef):
    count: int | None = None
    lift: float | None = None


class CategoryNeighbour(ProductRef):
    buyers: int = 0


class RetrievedProduct(BaseModel):
    """One matched product and what the graph says around it."""

    id: str
    score: float  # cosine similarity to the query (1 = same direction), any store
    name: str | None = None
    product_type: str | None = None
    product_group: str | None = None
    colour: str | None = None
    price: float | None = None
    in_stock: bool | None = None
    image_path: str | None = None
    description: str | None = None
    image_encoder: str | None = None
    text_encoder: str | None = None
    categories: list[CategoryRef] = []
    colours: list[str] = []
    attributes: list[AttributeRef] = []
    bought_together: list[CoPurchase] = []
    same_category: list[CategoryNeighbour] = []
    same_colour: list[ProductRef] = []

    @property
    def category_names(self) -> list[str]:
        return [c.name for c in self.categories if c.name]


class RetrievalResult(BaseModel):
    """What `ragrec similar` / `ragrec search` return (and print with --json)."""

    store: str  # the store that answered
    retriever: str  # the neo4j-graphrag retriever class that ran
    index: str
    modality: str
    encoder: str
    encoder_label: str
    encoder_is_fallback: bool
    query: str
    filters: dict[str, Any] = {}
    skipped_stores: dict[str, str] = {}
    items: list[RetrievedProduct] = []
