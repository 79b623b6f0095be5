"""generate-embeddings and the three neo4j-graphrag retrievers against the real stores.

The module loads a slice of data/sample (every article with an image, plus 200 more,
their transactions and customers) into an emptied graph, resets this encoder's
pgvector tables and Qdrant collections, embeds with the encoders this machine has
(offline: the hsvdesc_v1 image descriptor and MiniLM) and adds one BOUGHT_TOGETHER
edge, so every expansion of the retrieval query has something to return.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import psycopg
import pytest
from neo4j import Driver
from neo4j_graphrag.exceptions import (
    EmbeddingRequiredError,
    RetrieverInitializationError,
    SearchValidationError,
)

from ragrec.config import PROJECT_ROOT, Settings
from ragrec.embeddings.base import index_name
from ragrec.embeddings.models import encoders
from ragrec.embeddings.pipeline import EmbeddingSummary, current_encoder, generate_embeddings
from ragrec.graph.loader import load_data
from ragrec.retrieval.pgvector import PgVectorNeo4jRetriever
from ragrec.retrieval.service import ProductNotFoundError, ProductRetrieval
from ragrec.services import postgres as pg_service
from ragrec.vectorstores.base import STORE_KINDS, SearchFilters
from ragrec.vectorstores.fallback import AllStoresFailedError
from ragrec.vectorstores.pgvector import PgVectorStore, connect
from ragrec.vectorstores.qdrant import close_edge_handles

pytestmark = [
    pytest.mark.integration,
    # neo4j-graphrag's own VectorCypherRetriever warns about a field we do not use
    pytest.mark.filterwarnings("ignore:The default returned 'id' field:DeprecationWarning"),
]

SAMPLE = PROJECT_ROOT / "data" / "sample"
WIPE = "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
CO_BOUGHT = (
    "MATCH (a:Product {id: $a}), (b:Product {id: $b}) "
    "MERGE (a)-[r:BOUGHT_TOGETHER]->(b) SET r.count = 3, r.lift = 2.5"
)


def _slice(folder: Path) -> list[str]:
    """Write the slice of data/sample into `folder`; returns the ids of the imaged articles."""
    folder.mkdir(parents=True, exist_ok=True)
    imaged = sorted(int(p.stem) for p in (SAMPLE / "images").glob("*.jpg"))
    articles = pl.read_parquet(SAMPLE / "articles_sample.parquet")
    others = articles.filter(~pl.col("article_id").is_in(imaged)).head(200)["article_id"]
    keep = [*imaged, *others.to_list()]
    articles.filter(pl.col("article_id").is_in(keep)).write_parquet(
        folder / "articles_sample.parquet"
    )
    tx = pl.read_parquet(SAMPLE / "transactions_sample.parquet").filter(
        pl.col("article_id").is_in(keep)
    )
    tx.write_parquet(folder / "transactions_sample.parquet")
    pl.read_parquet(SAMPLE / "customers_sample.parquet").filter(
        pl.col("customer_id").is_in(tx["customer_id"].unique().to_list())
    ).write_parquet(folder / "customers_sample.parquet")
    (folder / "images").symlink_to(SAMPLE / "images", target_is_directory=True)
    return [f"{a:010d}" for a in imaged]


def _reset_stores(settings: Settings) -> None:
    encs = encoders(settings)
    close_edge_handles()
    for modality in ("image", "text"):
        enc = current_encoder(modality, settings, encs)
        name = index_name(modality, enc.encoder_id, enc.dim)
        store = PgVectorStore(settings.effective_pg_dsn(), name, enc.dim)
        store.drop()
        store.close()
        shutil.rmtree(settings.qdrant_path / name, ignore_errors=True)


class World:
    def __init__(self, imaged: list[str], first: EmbeddingSummary, second: EmbeddingSummary):
        self.imaged = imaged
        self.first = first
        self.second = second


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, settings: Settings, neo4j_driver: Driver
) -> World:
    state = pg_service.status(settings)
    if not state.reachable:
        pytest.fail(
            f"PostgreSQL + pgvector ({state.listen}) is not reachable: {state.detail}. "
            "Start it with `ragrec services up postgres`.",
            pytrace=False,
        )
    folder = tmp_path_factory.mktemp("retrieval") / "data"
    imaged = _slice(folder)
    with neo4j_driver.session(database=settings.neo4j_database) as session:
        session.run(WIPE).consume()
    load_data(folder, settings, neo4j_driver, show_progress=False)
    _reset_stores(settings)
    first = generate_embeddings(settings, neo4j_driver, batch_size=64)
    second = generate_embeddings(settings, neo4j_driver, batch_size=64)
    neo4j_driver.execute_query(
        CO_BOUGHT, a=imaged[0], b=imaged[1], database_=settings.neo4j_database
    )
    return World(imaged, first, second)


@pytest.fixture
def retrieval(world: World, settings: Settings, neo4j_driver: Driver) -> Iterator[ProductRetrieval]:
    r = ProductRetrieval(settings, neo4j_driver)
    yield r
    r.close()


def test_generate_embeddings_fills_all_three_and_resumes(world: World) -> None:
    assert world.first.text is not None and world.first.image is not None
    text, image = world.first.text, world.first.image
    assert text.embedded == text.candidates == 300
    assert image.embedded == len(world.imaged) == 100
    assert image.without_input == 200  # products without an image still get text
    for mod in (text, image):
        assert set(mod.store_counts) == set(STORE_KINDS)
        assert len(set(mod.store_counts.values())) == 1, mod.store_counts
        assert mod.index.endswith(f"_{mod.dim}") and mod.encoder in mod.index
    assert world.second.text is not None and world.second.image is not None
    assert world.second.text.embedded == 0 and world.second.image.embedded == 0
    assert world.second.image.skipped_current == 100


def test_a_wiped_store_is_refilled_from_the_graph(
    world: World, settings: Settings, neo4j_driver: Driver
) -> None:
    image = world.first.image
    assert image is not None
    store = PgVectorStore(settings.effective_pg_dsn(), image.index, image.dim)
    store.delete(world.imaged[:10])
    store.close()
    again = generate_embeddings(settings, neo4j_driver, text=False)
    assert again.image is not None
    assert again.image.embedded == 0 and again.image.refilled["pgvector"] == 100
    assert again.image.store_counts["pgvector"] == 100


@pytest.mark.parametrize("store", STORE_KINDS)
def test_similar_image_returns_that_product_first(
    world: World, retrieval: ProductRetrieval, store: str
) -> None:
    for pid in (world.imaged[0], world.imaged[57]):
        result = retrieval.similar_to_image(SAMPLE / "images" / f"{pid}.jpg", store=store)
        assert result.store == store
        assert result.items[0].id == pid
        assert result.items[0].score == pytest.approx(1.0, abs=1e-3)
        assert len(result.items) == 10
        assert result.encoder_is_fallback and "not SigLIP" in result.encoder_label


def test_the_three_retrievers_return_the_same_expanded_shape(
    world: World, retrieval: ProductRetrieval
) -> None:
    image = SAMPLE / "images" / f"{world.imaged[0]}.jpg"
    results = {s: retrieval.similar_to_image(image, store=s, top_k=5) for s in STORE_KINDS}
    assert {r.retriever for r in results.values()} == {
        "QdrantNeo4jRetriever",
        "PgVectorNeo4jRetriever",
        "VectorCypherRetriever",
    }
    dumps = {s: [i.model_dump() for i in r.items] for s, r in results.items()}
    base = dumps["neo4j"]
    for s in ("qdrant", "pgvector"):
        assert [d["id"] for d in dumps[s]] == [d["id"] for d in base], s
        for a, b in zip(dumps[s], base, strict=True):
            assert a.keys() == b.keys()
            assert a["score"] == pytest.approx(b["score"], abs=1e-4)
            assert {k: v for k, v in a.items() if k != "score"} == {
                k: v for k, v in b.items() if k != "score"
            }
    top = results["pgvector"].items[0]
    assert top.categories[0].level == "product_type"
    assert top.colours and top.image_path and top.image_encoder == "hsvdesc_v1"
    assert [b.id for b in top.bought_together] == [world.imaged[1]]
    assert top.bought_together[0].lift == pytest.approx(2.5)


@pytest.mark.parametrize("store", STORE_KINDS)
def test_text_search_works_offline_with_minilm(retrieval: ProductRetrieval, store: str) -> None:
    result = retrieval.search_text("blue summer dress", store=store, top_k=5)
    assert result.encoder == "minilm" and result.modality == "text"
    assert len(result.items) == 5
    reference = retrieval.search_text("blue summer dress", store="neo4j", top_k=5)
    assert [i.id for i in result.items] == [i.id for i in reference.items]


@pytest.mark.parametrize("store", STORE_KINDS)
def test_filters_apply_in_every_store(retrieval: ProductRetrieval, store: str) -> None:
    everything = retrieval.search_text("trousers", store="pgvector", top_k=300)
    cheap = sorted(i.price for i in everything.items if i.price is not None)
    limit = cheap[len(cheap) // 2]
    flt = SearchFilters(category="Trousers", max_price=limit)
    expected = [
        i.id
        for i in everything.items
        if "Trousers" in i.category_names and i.price is not None and i.price <= limit
    ][:3]
    assert expected, "the slice should hold cheap trousers"
    result = retrieval.search_text("trousers", store=store, top_k=3, filters=flt)
    assert [i.id for i in result.items] == expected
    for item in result.items:
        assert "Trousers" in item.category_names and item.price is not None
        assert item.price <= limit


def test_similar_product_excludes_itself(world: World, retrieval: ProductRetrieval) -> None:
    pid = world.imaged[3]
    result = retrieval.similar_to_product(pid, top_k=5, store="qdrant")
    assert result.modality == "image" and len(result.items) == 5
    assert pid not in [i.id for i in result.items]
    with pytest.raises(ProductNotFoundError):
        retrieval.similar_to_product("0000000000", store="qdrant")


def test_fallback_order_skips_a_down_store(
    world: World, settings: Settings, neo4j_driver: Driver
) -> None:
    broken = settings.model_copy(
        update={
            "pg_dsn": "postgresql://ragrec@127.0.0.1:1/ragrec?connect_timeout=2",
            "vector_store_order": "pgvector,neo4j,qdrant",
        }
    )
    r = ProductRetrieval(broken, neo4j_driver, encoders(settings))
    try:
        result = r.similar_to_image(SAMPLE / "images" / f"{world.imaged[0]}.jpg")
        assert result.store == "neo4j" and "pgvector" in result.skipped_stores
        assert result.items[0].id == world.imaged[0]
        with pytest.raises(AllStoresFailedError, match="pgvector"):
            r.search_text("dress", store="pgvector")
    finally:
        r.close()


def test_pgvector_retriever_validates_like_its_qdrant_sibling(
    world: World, settings: Settings, neo4j_driver: Driver
) -> None:
    image = world.first.image
    assert image is not None
    conn: psycopg.Connection[Any] = connect(settings.effective_pg_dsn())
    try:
        with pytest.raises(RetrieverInitializationError):
            PgVectorNeo4jRetriever(neo4j_driver, conn, "bad name; drop", "id")
        with pytest.raises(RetrieverInitializationError):
            PgVectorNeo4jRetriever(neo4j_driver, object(), image.index, "id")  # type: ignore[arg-type]
        retriever = PgVectorNeo4jRetriever(
            neo4j_driver, conn, image.index, "id", neo4j_database=settings.neo4j_database
        )
        vec = list(np.ones(image.dim, dtype=float) / np.sqrt(image.dim))
        with pytest.raises(SearchValidationError):
            retriever.search(query_vector=vec, top_k=0)
        with pytest.raises(SearchValidationError):
            retriever.search(query_vector=vec, filters={"min_price": 3, "max_price": 1})
        with pytest.raises(EmbeddingRequiredError):
            retriever.search(query_text="red dress")
        plain = retriever.search(query_vector=vec, top_k=3)  # default return: node, score
        assert len(plain.items) == 3
    finally:
        conn.close()
