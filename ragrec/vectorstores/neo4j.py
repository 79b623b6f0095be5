"""Neo4j's native vector index (HNSW, Lucene) behind the `VectorStore` shape.

The vectors live on nodes: ``(:Product).image_embedding`` / ``.text_embedding`` for the
product indexes (the node's ``image_encoder`` / ``text_encoder`` says which encoder
made it), ``(:VectorBench).embedding`` for the benchmark. The index is created with
``vector.dimensions``, ``vector.similarity_function: 'cosine'``, ``vector.hnsw.m`` and
``vector.hnsw.ef_construction`` (verified in Neo4j 5.26: ``SHOW VECTOR INDEXES`` lists
them in the vector-2.0 provider's config) and ``vector.quantization.enabled: false``,
so it stores the same float32 vectors as the other stores.

Neo4j 5.26 has no ``ef_search`` knob: ``db.index.vector.queryNodes(index, k, v)`` explores
``k`` candidates, so `search` asks for ``max(top_k, ef_search)`` and keeps the best
`top_k`. It also has no in-index filtering (that is the SEARCH clause of 2025.x), so
filters are applied to the candidates, and the candidate count grows until `top_k`
rows pass or the whole index was seen. Scores: Neo4j reports ``(1 + cos) / 2``; they
are converted back to cosine similarity.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from neo4j import Driver, RoutingControl
from neo4j.exceptions import ClientError, DatabaseError, ServiceUnavailable, SessionExpired

from ragrec.cypher import query
from ragrec.vectorstores.base import (
    HnswParams,
    IndexNotFoundError,
    SearchFilters,
    StoreUnavailableError,
    VectorHit,
    VectorStoreError,
    check_vectors,
)

KIND = "neo4j"
_BATCH = 500


@dataclass(frozen=True)
class NodeTarget:
    """Where an index's vectors live: label, property, the encoder property, the DDL file."""

    label: str
    property: str
    encoder_property: str | None
    create_query: str  # cypher/embeddings/<file>: CREATE VECTOR INDEX for label/property
    owns_nodes: bool  # upsert creates / delete removes the nodes (benchmark) or only vectors


PRODUCT_IMAGE = NodeTarget(
    "Product", "image_embedding", "image_encoder", "embeddings/create_index_product_image", False
)
PRODUCT_TEXT = NodeTarget(
    "Product", "text_embedding", "text_encoder", "embeddings/create_index_product_text", False
)
BENCH = NodeTarget("VectorBench", "embedding", None, "embeddings/create_index_bench", True)


def neo4j_score_to_cosine(score: float) -> float:
    """Neo4j's cosine score is ``(1 + cos) / 2``; back to ``cos``."""
    return 2.0 * float(score) - 1.0


class Neo4jVectorStore:
    kind = KIND

    def __init__(
        self,
        driver: Driver,
        database: str,
        name: str,
        dim: int,
        target: NodeTarget,
        hnsw: HnswParams | None = None,
        *,
        encoder: str | None = None,
        encoder_version: str | None = None,
    ) -> None:
        self.driver = driver
        self.database = database
        self.name = name
        self.dim = dim
        self.target = target
        self.hnsw = hnsw or HnswParams()
        self.encoder = encoder
        self.encoder_version = encoder_version

    def _run(self, text: str, routing: RoutingControl = RoutingControl.WRITE, **params: Any) -> Any:
        try:
            records, _, _ = self.driver.execute_query(
                text, params, database_=self.database, routing_=routing
            )
            return records
        except (ServiceUnavailable, SessionExpired, OSError) as exc:
            raise StoreUnavailableError(KIND, f"Neo4j is unreachable: {exc}") from exc
        except ClientError as exc:
            if "no such vector schema index" in str(exc).lower() or (exc.code or "").endswith(
                "IndexNotFound"
            ):
                raise IndexNotFoundError(
                    KIND, f"vector index {self.name} does not exist: {exc.message}"
                ) from exc
            raise VectorStoreError(KIND, f"{exc.code}: {exc.message}") from exc
        except DatabaseError as exc:
            raise VectorStoreError(KIND, f"{exc.code}: {exc.message}") from exc

    # -- schema ------------------------------------------------------------------------

    def ensure(self) -> None:
        """Create the index; drop other vector indexes on the same label/property first
        (one property holds one encoder's vectors, and Neo4j allows one index on it)."""
        for row in self._run(
            query("embeddings/vector_indexes_on"),
            RoutingControl.READ,
            label=self.target.label,
            property=self.target.property,
        ):
            if row["name"] != self.name:
                self._run(query("embeddings/drop_index"), name=row["name"])
        self._run(
            query(self.target.create_query),
            name=self.name,
            dim=self.dim,
            m=self.hnsw.m,
            ef_construction=self.hnsw.ef_construction,
        )
        self.await_online()

    def await_online(self, timeout_s: int = 600) -> None:
        self._run(query("embeddings/await_index"), name=self.name, timeout=timeout_s)

    def drop(self) -> None:
        self._run(query("embeddings/drop_index"), name=self.name)

    # -- writes ------------------------------------------------------------------------

    def upsert(
        self,
        ids: Sequence[str],
        vectors: npt.ArrayLike,
        payloads: Sequence[Mapping[str, Any]] | None = None,
    ) -> int:
        matrix = check_vectors(ids, vectors, self.dim, payloads)
        written = 0
        text = query(
            "embeddings/bench_upsert" if self.target.owns_nodes else "embeddings/set_vectors"
        )
        for start in range(0, len(ids), _BATCH):
            rows = []
            for i in range(start, min(start + _BATCH, len(ids))):
                row: dict[str, Any] = {"id": str(ids[i]), "vector": matrix[i].tolist()}
                if payloads is not None:
                    row["category"] = list(payloads[i].get("category") or [])
                    row["price"] = payloads[i].get("price")
                rows.append(row)
            records = self._run(
                text,
                rows=rows,
                label=self.target.label,
                property=self.target.property,
                encoder_property=self.target.encoder_property or "",
                encoder=self.encoder,
                version_property=f"{self.target.encoder_property}_version",
                version=self.encoder_version,
            )
            written += int(records[0]["written"]) if records else 0
        return written

    def delete(self, ids: Sequence[str]) -> int:
        text = query(
            "embeddings/bench_delete" if self.target.owns_nodes else "embeddings/remove_vectors"
        )
        records = self._run(
            text,
            ids=[str(i) for i in ids],
            label=self.target.label,
            property=self.target.property,
            encoder_property=self.target.encoder_property or "",
            version_property=f"{self.target.encoder_property}_version",
        )
        return int(records[0]["deleted"]) if records else 0

    # -- reads -------------------------------------------------------------------------

    def search(
        self,
        vector: npt.ArrayLike,
        top_k: int = 10,
        filters: SearchFilters | None = None,
        *,
        ef_search: int | None = None,
    ) -> list[VectorHit]:
        vec = np.asarray(vector, dtype=np.float32)
        if vec.shape != (self.dim,):
            raise ValueError(f"query must have shape ({self.dim},); got {vec.shape}")
        ef = max(ef_search or self.hnsw.ef_search, top_k)
        flt = filters if filters is not None and not filters.empty else None
        candidates = ef if flt is None else max(ef, top_k * 8)
        total: int | None = None
        while True:
            records = self._run(
                query("embeddings/vector_search"),
                RoutingControl.READ,
                index=self.name,
                candidates=candidates,
                vector=vec.tolist(),
                top_k=top_k,
                encoder_property=self.target.encoder_property,
                encoder=self.encoder,
                category=None if flt is None else flt.category_key,
                min_price=None if flt is None else flt.min_price,
                max_price=None if flt is None else flt.max_price,
            )
            if flt is None or len(records) >= top_k:
                break
            total = self.count() if total is None else total
            if candidates >= total:
                break
            candidates = min(candidates * 4, total)
        return [VectorHit(str(r["id"]), neo4j_score_to_cosine(r["score"])) for r in records]

    def count(self) -> int:
        records = self._run(
            query("embeddings/count_vectors"),
            RoutingControl.READ,
            label=self.target.label,
            property=self.target.property,
            encoder_property=self.target.encoder_property,
            encoder=self.encoder,
        )
        return int(records[0]["count"])

    def close(self) -> None:
        """The driver belongs to the caller."""
