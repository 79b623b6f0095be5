"""SigLIP image and text encoder through `transformers` (default
google/siglip-base-patch16-256-multilingual, 768 dims).

The model comes from a local directory or, by id, from the local model cache only
(``RAGREC_MODEL_HUB_OFFLINE``, on by default, sets ``HF_HUB_OFFLINE=1`` and
``local_files_only``): nothing is downloaded at run time. When no weights can be
found, loading raises `ModelNotAvailableError` and the caller falls back
(`ragrec.embeddings.models`). Encoding is batched under `torch.inference_mode`, on the
GPU when one is present (``RAGREC_EMBEDDING_DEVICE=auto``), else on the CPU; rows are
L2-normalised. Texts are padded to a fixed length (as SigLIP was trained), so a text's
vector does not depend on the other texts of its batch.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ragrec.embeddings.base import (
    EncoderError,
    FloatMatrix,
    ImageInput,
    ModelNotAvailableError,
    l2_normalise,
    load_image,
)

DEFAULT_MODEL = "google/siglip-base-patch16-256-multilingual"
TEXT_MAX_LENGTH = 64


def set_offline(offline: bool) -> None:
    """Make the hub libraries local-only (set before they are imported) and quiet."""
    if offline:
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def pick_device(device: str = "auto") -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def encoder_id_for(model: str) -> str:
    """``siglip_base_patch16_256_multilingual`` for the default id; from the folder name."""
    base = Path(model.rstrip("/")).name.lower()
    base = re.sub(r"^siglip[-_]?", "", base)
    safe = re.sub(r"[^a-z0-9]+", "_", base).strip("_")[:48]
    return f"siglip_{safe or 'model'}"


class SiglipEncoder:
    """SigLIP for images and texts (the same embedding space, so text can find images)."""

    kind = "model"

    def __init__(
        self,
        model: str | Path = DEFAULT_MODEL,
        *,
        device: str = "auto",
        batch_size: int = 64,
        offline: bool = True,
    ) -> None:
        set_offline(offline)
        import torch
        from transformers import AutoModel, AutoProcessor

        self.model_ref = str(model)
        self.batch_size = batch_size
        self.device = pick_device(device)
        local = Path(self.model_ref)
        source = str(local) if local.is_dir() else self.model_ref
        try:
            self.processor = AutoProcessor.from_pretrained(source, local_files_only=offline)
            self.model = AutoModel.from_pretrained(source, local_files_only=offline)
        except (OSError, ValueError) as exc:
            where = "in the local model cache" if offline else "locally or from the model hub"
            raise ModelNotAvailableError(
                f"SigLIP weights {self.model_ref!r} were not found {where} "
                f"({type(exc).__name__}); set RAGREC_SIGLIP_MODEL to a local directory "
                "with the model"
            ) from exc
        if getattr(self.model.config, "model_type", "") != "siglip":
            raise EncoderError(
                f"{self.model_ref} is a {self.model.config.model_type!r} model, not SigLIP"
            )
        self.model.eval().to(self.device)
        self._torch = torch
        self.dim = int(self.model.config.vision_config.hidden_size)
        text_cfg = self.model.config.text_config
        self.text_max_length = min(TEXT_MAX_LENGTH, int(text_cfg.max_position_embeddings))
        self.encoder_id = encoder_id_for(self.model_ref)
        self.version = _fingerprint(self.model.config.to_json_string())
        self.label = f"SigLIP ({self.model_ref}, {self.dim} dims)"

    # -- images ------------------------------------------------------------------------

    def encode_images(self, images: Sequence[ImageInput]) -> FloatMatrix:
        if not images:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = []
        for start in range(0, len(images), self.batch_size):
            batch = [load_image(i) for i in images[start : start + self.batch_size]]
            inputs = self.processor(images=batch, return_tensors="pt")
            with self._torch.inference_mode():
                feats = self.model.get_image_features(
                    pixel_values=inputs["pixel_values"].to(self.device)
                )
            out.append(_features(feats))
        return l2_normalise(np.concatenate(out))

    # -- texts -------------------------------------------------------------------------

    def encode_texts(self, texts: Sequence[str]) -> FloatMatrix:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = []
        for start in range(0, len(texts), self.batch_size):
            batch = [t.lower() for t in texts[start : start + self.batch_size]]
            inputs = self.processor(
                text=batch,
                padding="max_length",
                truncation=True,
                max_length=self.text_max_length,
                return_tensors="pt",
            )
            with self._torch.inference_mode():
                feats = self.model.get_text_features(input_ids=inputs["input_ids"].to(self.device))
            out.append(_features(feats))
        return l2_normalise(np.concatenate(out))


def _features(output: Any) -> np.ndarray:
    """A tensor of features, whether transformers returned it bare or in a model output."""
    tensor = output if hasattr(output, "detach") else output.pooler_output
    return np.asarray(tensor.detach().float().cpu().numpy(), dtype=np.float32)


def _fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]
