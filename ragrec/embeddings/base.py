"""What every encoder offers, and the names that keep vectors of different encoders apart.

An encoder turns images or texts into L2-normalised float32 rows. Its `encoder_id`
(``siglip_base_p16_256_ml``, ``minilm_l6_v2``, ``hsvdesc_v1``) and `dim` are stored
with every vector and are part of every index, collection and table name
(`index_name`), so vectors of two encoders never share an index.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
from PIL import Image

FloatMatrix = npt.NDArray[np.float32]
ImageInput = str | Path | Image.Image

_NAME_SAFE = re.compile(r"[^a-z0-9_]+")


class EncoderError(RuntimeError):
    """An encoder could not be loaded or could not encode its input."""


class ModelNotAvailableError(EncoderError):
    """The weights of a model are not available here (no local path, no offline cache)."""


@runtime_checkable
class ImageEncoder(Protocol):
    encoder_id: str
    dim: int
    kind: str  # "model" (learned weights) or "descriptor" (weights-free)
    label: str  # what to call it in status lines, API responses and pages

    def encode_images(self, images: Sequence[ImageInput]) -> FloatMatrix: ...


@runtime_checkable
class TextEncoder(Protocol):
    encoder_id: str
    dim: int
    label: str

    def encode_texts(self, texts: Sequence[str]) -> FloatMatrix: ...


def index_name(modality: str, encoder_id: str, dim: int) -> str:
    """`product_image_hsvdesc_v1_248`: one index/collection/table per (modality, encoder, dim)."""
    if modality not in ("image", "text"):
        raise ValueError(f"modality must be 'image' or 'text', not {modality!r}")
    safe = _NAME_SAFE.sub("_", encoder_id.lower()).strip("_")
    return f"product_{modality}_{safe}_{dim}"


def l2_normalise(matrix: npt.ArrayLike) -> FloatMatrix:
    """Rows scaled to unit length (zero rows stay zero); float32."""
    arr = np.asarray(matrix, dtype=np.float32)
    if arr.ndim == 1:
        arr = arr[None, :]
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (arr / norms).astype(np.float32)


def load_image(item: ImageInput) -> Image.Image:
    """An RGB PIL image from a path or an image; names the file on failure."""
    if isinstance(item, Image.Image):
        return item.convert("RGB")
    path = Path(item)
    try:
        with Image.open(path) as img:
            return img.convert("RGB")
    except (OSError, ValueError) as exc:
        raise EncoderError(f"cannot read image {path}: {exc}") from exc
