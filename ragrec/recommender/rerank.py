"""Cross-encoder reranking (sentence-transformers `CrossEncoder`) for contexts with a text
query. The model is a hub id or a local folder (`RAGREC_REC_CROSS_ENCODER`); it loads on
first use and is kept for the life of the process."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from ragrec.recommender.errors import RecommenderError
from ragrec.recommender.types import ProductInfo, Profile


class RerankerUnavailable(RecommenderError):
    pass


class CrossEncoderReranker:
    def __init__(self, model: str, *, max_length: int = 96, batch_size: int = 32) -> None:
        self.model_name = model
        self.max_length = max_length
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    def load(self) -> Any:
        with self._lock:
            if self._model is None:
                try:
                    from sentence_transformers import CrossEncoder
                except ImportError as exc:  # pragma: no cover - depends on the install
                    raise RerankerUnavailable(
                        "sentence-transformers is not installed: pip install sentence-transformers"
                    ) from exc
                try:
                    self._model = CrossEncoder(
                        self.model_name, max_length=self.max_length, device="cpu"
                    )
                except Exception as exc:
                    raise RerankerUnavailable(
                        f"cannot load cross-encoder {self.model_name!r}: {exc}. Set "
                        "RAGREC_REC_CROSS_ENCODER to a local model folder"
                    ) from exc
            return self._model

    def score(self, query: str, documents: Sequence[str]) -> list[float]:
        if not documents:
            return []
        model = self.load()
        scores = model.predict(
            [(query, d) for d in documents],
            batch_size=self.batch_size,
            show_progress_bar=False,
            convert_to_numpy=True,
        )
        return [float(s) for s in scores]


def product_text(info: ProductInfo | None, product_id: str) -> str:
    """What the cross-encoder reads about a product."""
    if info is None:
        return product_id
    parts = [info.name or product_id, info.category or "", (info.description or "")[:120]]
    return ". ".join(p for p in parts if p)


def profile_query(profile: Profile, max_items: int = 3) -> str:
    """A text query for a homepage: the customer's main categories and recent items."""
    top = sorted(profile.category_shares().items(), key=lambda kv: -kv[1])[:max_items]
    recent = [h["name"] for h in profile.history[:max_items] if h.get("name")]
    text = " ".join([c for c, _ in top] + recent)
    return text or "popular fashion"
