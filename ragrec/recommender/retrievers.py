"""The small interface between the recommender and the #4 retrievers: adapters that turn
`ragrec.retrieval.ProductRetrieval` into the generator protocols (`SimilarProducts`,
`QueryRetriever`). A retriever that fails (no embedding, store down) proposes nothing for
that request instead of failing it."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from neo4j import Driver

from ragrec.config import Settings

log = logging.getLogger(__name__)


class VisualSimilar:
    """Products that look like a product (image embedding, else text) via #4's stores."""

    def __init__(self, retrieval: Any, store: str | None = None) -> None:
        self.retrieval = retrieval
        self.store = store

    def similar_to(self, product_id: str, k: int) -> list[tuple[str, float]]:
        try:
            result = self.retrieval.similar_to_product(product_id, top_k=k, store=self.store)
        except Exception as exc:  # retrievers are optional signal
            log.debug("visual similarity for %s failed: %s", product_id, exc)
            return []
        return [(item.id, float(item.score)) for item in result.items]


class TextSearch:
    """Free-text search (text embedding) via #4's stores."""

    def __init__(self, retrieval: Any, store: str | None = None) -> None:
        self.retrieval = retrieval
        self.store = store

    def search(self, query: Any, k: int) -> list[tuple[str, float]]:
        try:
            result = self.retrieval.search_text(str(query), top_k=k, store=self.store)
        except Exception as exc:
            log.debug("text search failed: %s", exc)
            return []
        return [(item.id, float(item.score)) for item in result.items]


class ImageSearch:
    """Products that look like an image file, via #4's stores."""

    def __init__(self, retrieval: Any, store: str | None = None) -> None:
        self.retrieval = retrieval
        self.store = store

    def search(self, query: Any, k: int) -> list[tuple[str, float]]:
        result = self.retrieval.similar_to_image(Path(query), top_k=k, store=self.store)
        return [(item.id, float(item.score)) for item in result.items]


def retrievers_from_settings(settings: Settings, driver: Driver) -> dict[str, Any]:
    """Keyword arguments for `Recommender(...)` when `ragrec.retrieval` is installed,
    else {} (the graph generators alone)."""
    try:
        from ragrec.retrieval.service import ProductRetrieval
    except ImportError:
        return {}
    retrieval = ProductRetrieval(settings, driver)
    return {
        "visual": VisualSimilar(retrieval),
        "search_retriever": TextSearch(retrieval),
        "image_retriever": ImageSearch(retrieval),
    }
