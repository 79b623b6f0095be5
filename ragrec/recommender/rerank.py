"""Cross-encoder reranking (sentence-transformers `CrossEncoder`) for contexts with a text
query. The model is a local folder or a hub id already in the local cache
(`RAGREC_REC_CROSS_ENCODER`); it loads on first use and is kept for the life of the
process. Nothing is downloaded unless `allow_download=True`: a missing model fails at
once (no network retries) and the failure is remembered, so it is reported once."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ragrec.recommender.errors import RecommenderError
from ragrec.recommender.types import ProductInfo, Profile

log = logging.getLogger(__name__)


class RerankerUnavailable(RecommenderError):
    pass


class CrossEncoderReranker:
    def __init__(
        self,
        model: str,
        *,
        max_length: int = 96,
        batch_size: int = 32,
        allow_download: bool = False,
    ) -> None:
        self.model_name = model
        self.max_length = max_length
        self.batch_size = batch_size
        self.allow_download = allow_download
        self._model: Any = None
        self._error: RerankerUnavailable | None = None
        self._lock = threading.Lock()

    def load(self) -> Any:
        with self._lock:
            if self._error is not None:
                raise self._error
            if self._model is None:
                if not self.allow_download and not _available_locally(self.model_name):
                    self._error = RerankerUnavailable(
                        f"cross-encoder {self.model_name!r} is neither a local folder nor "
                        "in the local model cache (nothing is downloaded). Set "
                        "RAGREC_REC_CROSS_ENCODER to a local model folder"
                    )
                    log.warning("%s", self._error)
                    raise self._error
                try:
                    from sentence_transformers import CrossEncoder
                except ImportError as exc:  # pragma: no cover - depends on the install
                    raise RerankerUnavailable(
                        "sentence-transformers is not installed: pip install sentence-transformers"
                    ) from exc
                try:
                    self._model = CrossEncoder(
                        self.model_name,
                        max_length=self.max_length,
                        device="cpu",
                        local_files_only=not self.allow_download,
                    )
                except Exception as exc:
                    self._error = RerankerUnavailable(
                        f"cannot load cross-encoder {self.model_name!r} from local files "
                        f"({type(exc).__name__}). Set RAGREC_REC_CROSS_ENCODER to a local "
                        "model folder"
                    )
                    log.warning("%s", self._error)
                    raise self._error from exc
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


def _available_locally(model: str) -> bool:
    """A folder on disk, or a hub id whose files are in the local cache."""
    if Path(model).expanduser().exists():
        return True
    try:
        from huggingface_hub import constants
    except ImportError:  # pragma: no cover - comes with sentence-transformers
        return False
    cached = Path(constants.HF_HUB_CACHE) / f"models--{model.replace('/', '--')}"
    return (cached / "snapshots").is_dir()


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
