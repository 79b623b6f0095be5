"""The ragrec engines the API serves from, built once per process (see `Resources.lazy`)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from app.lib.resources import Resources
from ragrec.config import Settings
from ragrec.recommender.engine import Recommender
from ragrec.recommender.rerank import CrossEncoderReranker
from ragrec.retrieval.service import ProductRetrieval

log = logging.getLogger("ragrec.api")


def retrieval(resources: Resources) -> ProductRetrieval:
    def build() -> ProductRetrieval:
        return ProductRetrieval(resources.settings, resources.driver)

    engine: ProductRetrieval = resources.lazy("retrieval", build)
    return engine


def recommender(resources: Resources) -> Recommender:
    def build() -> Recommender:
        return Recommender(
            resources.driver,
            resources.settings,
            search_retriever=_SemanticSearch(resources),
            reranker=cross_encoder(resources.settings),
        )

    engine: Recommender = resources.lazy("recommender", build)
    return engine


def cross_encoder(settings: Settings) -> CrossEncoderReranker | None:
    """The search reranker, when `RAGREC_REC_CROSS_ENCODER` is set (a local folder or a hub
    id in the local cache; never downloaded). One that cannot load leaves the fused order,
    named in the response's `degraded` (``cross_encoder``); unset, search is not reranked."""
    if "rec_cross_encoder" not in settings.model_fields_set:
        return None
    return CrossEncoderReranker(settings.rec_cross_encoder)


def warm_up(resources: Resources) -> None:
    """Build the engines at startup, so the first request does not pay for it. The
    encoders (torch, model weights: seconds) load in a background thread, so the server
    answers meanwhile (a search arriving first waits for them)."""
    rec = recommender(resources)
    try:
        rec.precomputed()  # plans the candidate queries once when the lists are live
    except Exception as exc:  # the first request reports it
        log.warning("recommender warm-up failed: %s", exc)
    engine = retrieval(resources)

    def load_encoders() -> None:
        try:
            _ = engine.encoder_set
        except Exception as exc:  # the first request that needs them reports the error
            log.warning("encoders not loaded at startup: %s", exc)

    threading.Thread(target=load_encoders, name="ragrec-warm-up", daemon=True).start()


class _SemanticSearch:
    """The recommender's text retriever: #4's vector search on product texts. When the
    text embeddings or the encoder are missing it proposes nothing (full-text search still
    runs) and does not try again for `RETRY_S` seconds: a failed attempt costs an encoding
    and a round trip to every store."""

    RETRY_S = 60.0

    def __init__(self, resources: Resources) -> None:
        self.resources = resources
        self._unavailable_until = 0.0

    def search(self, query: Any, k: int) -> list[tuple[str, float]]:
        from ragrec.embeddings.base import EncoderError
        from ragrec.vectorstores.base import VectorStoreError

        if time.monotonic() < self._unavailable_until:
            return []
        try:
            result = retrieval(self.resources).search_text(str(query), top_k=k)
        except (VectorStoreError, EncoderError, ValueError) as exc:
            log.info("semantic search unavailable for %.0fs: %s", self.RETRY_S, exc)
            self._unavailable_until = time.monotonic() + self.RETRY_S
            return []
        return [(item.id, float(item.score)) for item in result.items]
