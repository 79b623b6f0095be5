"""`ragrec generate-embeddings`: embed every product's text and image into all three stores.

For each modality (text, then image):

1. the index name follows the encoder (`index_name`: ``product_text_minilm_384``,
   ``product_image_hsvdesc_v1_248``, ``product_image_siglip_..._768``) and is created in
   pgvector, Qdrant and Neo4j when missing (Neo4j: other vector indexes on the same
   property are dropped; the property holds one encoder's vectors);
2. products whose stored encoder + version differ from the current one are embedded in
   batches, written to pgvector and Qdrant (payload: category names, price), then onto
   the Product node (``text_embedding`` / ``image_embedding`` + ``text_encoder`` /
   ``image_encoder`` and ``*_version``). The node is written last, so it records what is
   done: an interrupted run resumes where it stopped, and a re-run is a no-op;
3. a store holding fewer vectors than the graph (e.g. wiped, or down during a run) is
   refilled from the vectors on the nodes.

Product text = name + type + colour + description. Products without an image get only
a text embedding; an unreadable image is counted as a reject with its reason.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from neo4j import Driver, RoutingControl

from ragrec.config import Settings
from ragrec.cypher import query
from ragrec.embeddings.base import EncoderError, index_name
from ragrec.embeddings.models import EncoderSet, encoders, stored_pca, with_pca
from ragrec.vectorstores.base import StoreUnavailableError, VectorStore
from ragrec.vectorstores.fallback import open_store
from ragrec.vectorstores.neo4j import PRODUCT_IMAGE, PRODUCT_TEXT, NodeTarget

PCA_SAMPLE = 2_000
Progress = Callable[[str, int, int], None]  # (task, done, total)


@dataclass
class ModalitySummary:
    index: str
    encoder: str
    encoder_label: str
    dim: int
    candidates: int = 0
    embedded: int = 0
    skipped_current: int = 0
    without_input: int = 0
    rejects: dict[str, str] = field(default_factory=dict)
    store_counts: dict[str, int] = field(default_factory=dict)
    refilled: dict[str, int] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)


@dataclass
class EmbeddingSummary:
    text: ModalitySummary | None = None
    image: ModalitySummary | None = None
    seconds: float = 0.0
    siglip_error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def product_text(row: dict[str, Any]) -> str:
    """name + type + colour + description, as one line."""
    parts = [row.get("name"), row.get("product_type"), row.get("colour"), row.get("description")]
    return ". ".join(str(p).strip() for p in parts if p and str(p).strip())


def generate_embeddings(
    settings: Settings,
    driver: Driver,
    *,
    batch_size: int = 64,
    image: bool = True,
    text: bool = True,
    stores: Sequence[str] = ("pgvector", "qdrant", "neo4j"),
    progress: Progress | None = None,
    encoder_set: EncoderSet | None = None,
) -> EmbeddingSummary:
    began = time.perf_counter()
    encs = encoder_set or encoders(settings)
    rows = _products(settings, driver)
    summary = EmbeddingSummary(siglip_error=encs.siglip_error)
    if text:
        summary.text = _run_modality(
            "text", encs.text, rows, settings, driver, batch_size, stores, progress
        )
    if image:
        summary.image = _run_modality(
            "image", encs.image, rows, settings, driver, batch_size, stores, progress
        )
    summary.seconds = time.perf_counter() - began
    return summary


def modality_stores(
    modality: str,
    encoder: Any,
    settings: Settings,
    driver: Driver,
    kinds: Sequence[str] = ("pgvector", "qdrant", "neo4j"),
) -> dict[str, VectorStore]:
    """The stores of the current encoder's index for `modality` (not created here)."""
    target = PRODUCT_TEXT if modality == "text" else PRODUCT_IMAGE
    name = index_name(modality, encoder.encoder_id, encoder.dim)
    return {
        kind: open_store(
            kind,
            settings,
            name,
            encoder.dim,
            driver=driver,
            target=target,
            encoder=encoder.encoder_id,
            encoder_version=encoder.version,
        )
        for kind in kinds
    }


def current_encoder(
    modality: str, settings: Settings, encoder_set: EncoderSet | None = None
) -> Any:
    """The encoder whose index serves `modality` now (with its stored PCA, if any)."""
    encs = encoder_set or encoders(settings)
    return stored_pca(encs.text if modality == "text" else encs.image, settings)


# -- one modality --------------------------------------------------------------------------


def _run_modality(
    modality: str,
    base_encoder: Any,
    rows: list[dict[str, Any]],
    settings: Settings,
    driver: Driver,
    batch_size: int,
    kinds: Sequence[str],
    progress: Progress | None,
) -> ModalitySummary:
    inputs = [r for r in rows if _input(modality, r) is not None]
    encoder = _maybe_pca(modality, base_encoder, inputs, settings)
    target = PRODUCT_TEXT if modality == "text" else PRODUCT_IMAGE
    stores = modality_stores(modality, encoder, settings, driver, kinds)
    summary = ModalitySummary(
        index=index_name(modality, encoder.encoder_id, encoder.dim),
        encoder=encoder.encoder_id,
        encoder_label=encoder.label,
        dim=encoder.dim,
        without_input=len(rows) - len(inputs),
    )
    live: dict[str, VectorStore] = {}
    for kind, store in stores.items():
        try:
            store.ensure()
            live[kind] = store
        except StoreUnavailableError as exc:
            summary.unavailable[kind] = exc.message
    if "neo4j" not in live:
        raise StoreUnavailableError("neo4j", summary.unavailable.get("neo4j", "not selected"))
    enc_key = f"{modality}_encoder"
    pending = [
        r
        for r in inputs
        if r[enc_key] != encoder.encoder_id or r[f"{enc_key}_version"] != encoder.version
    ]
    summary.candidates = len(inputs)
    summary.skipped_current = len(inputs) - len(pending)
    done = 0
    for batch in _batches(pending, batch_size):
        ids, vectors, payloads = _encode(modality, encoder, batch, summary.rejects)
        if ids:
            for kind, store in live.items():
                if kind != "neo4j":
                    store.upsert(ids, vectors, payloads)
            live["neo4j"].upsert(ids, vectors)
            summary.embedded += len(ids)
        done += len(batch)
        if progress:
            progress(f"{modality} ({encoder.encoder_id})", done, len(pending))
    if progress and not pending:
        progress(f"{modality} ({encoder.encoder_id})", 0, 0)
    expected = live["neo4j"].count()
    for kind, store in live.items():
        if kind != "neo4j" and store.count() < expected:
            summary.refilled[kind] = _refill(store, driver, settings, target, encoder.encoder_id)
        if hasattr(store, "optimize"):
            store.optimize()
        summary.store_counts[kind] = store.count()
    return summary


def _maybe_pca(
    modality: str, encoder: Any, inputs: list[dict[str, Any]], settings: Settings
) -> Any:
    k = settings.embedding_pca_dim
    if k <= 0 or encoder.dim <= k:
        return encoder
    reduced = stored_pca(encoder, settings)
    if reduced is not encoder:
        return reduced
    sample_rows = inputs[:PCA_SAMPLE]
    if len(sample_rows) < k:
        return encoder  # too few items to fit a PCA of k dims: keep the full vectors
    _, sample, _ = _encode(modality, encoder, sample_rows, {})
    return with_pca(encoder, settings, sample)


def _input(modality: str, row: dict[str, Any]) -> str | None:
    if modality == "text":
        return product_text(row) or None
    path = row.get("image_path")
    return str(path) if path else None


def _encode(
    modality: str, encoder: Any, batch: list[dict[str, Any]], rejects: dict[str, str]
) -> tuple[list[str], np.ndarray, list[dict[str, Any]]]:
    if modality == "text":
        ok = batch
        vectors = encoder.encode_texts([product_text(r) for r in batch])
    else:
        ok = []
        for r in batch:
            path = Path(str(r["image_path"]))
            if path.is_file():
                ok.append(r)
            else:
                rejects[r["id"]] = f"image_path {path} does not exist"
        try:
            vectors = encoder.encode_images([str(r["image_path"]) for r in ok])
        except EncoderError:
            vectors, ok = _encode_one_by_one(encoder, ok, rejects)
    payloads = [{"category": r["categories"], "price": r["price"]} for r in ok]
    return [r["id"] for r in ok], vectors, payloads


def _encode_one_by_one(
    encoder: Any, rows: list[dict[str, Any]], rejects: dict[str, str]
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    good, vecs = [], []
    for r in rows:
        try:
            vecs.append(encoder.encode_images([str(r["image_path"])])[0])
            good.append(r)
        except EncoderError as exc:
            rejects[r["id"]] = str(exc)
    matrix = np.stack(vecs) if vecs else np.zeros((0, encoder.dim), dtype=np.float32)
    return matrix, good


def _refill(
    store: VectorStore, driver: Driver, settings: Settings, target: NodeTarget, encoder_id: str
) -> int:
    assert target.encoder_property is not None
    records, _, _ = driver.execute_query(
        query("embeddings/stored_vectors"),
        {
            "property": target.property,
            "encoder_property": target.encoder_property,
            "encoder": encoder_id,
        },
        database_=settings.neo4j_database,
        routing_=RoutingControl.READ,
    )
    written = 0
    for batch in _batches(list(records), 1_000):
        ids = [r["id"] for r in batch]
        vectors = np.asarray([r["vector"] for r in batch], dtype=np.float32)
        payloads = [{"category": r["categories"], "price": r["price"]} for r in batch]
        written += store.upsert(ids, vectors, payloads)
    return written


def _products(settings: Settings, driver: Driver) -> list[dict[str, Any]]:
    records, _, _ = driver.execute_query(
        query("embeddings/products_for_embedding"),
        database_=settings.neo4j_database,
        routing_=RoutingControl.READ,
    )
    return [dict(r) for r in records]


def _batches(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
