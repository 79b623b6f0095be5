"""A weights-free image descriptor: the offline fallback when no SigLIP weights load.

``hsvdesc_v1`` is not a learned model and is never presented as SigLIP. It describes
an image by colour and coarse shape, which is enough to find the same photo again and
to rank look-alikes by colour and silhouette:

* a joint HSV colour histogram (8 hue x 3 saturation x 3 value bins = 72), computed on
  the central 80 % of the image (product photos have a plain margin), square-rooted
  (Hellinger) so a dominant background does not swamp the rest;
* a 4x4 grid of mean HSV-derived colour (hue as cos/sin x saturation, value) = 48;
* a histogram of oriented gradients on a 64x64 grey thumbnail (skimage HOG, 8
  orientations, 4x4 cells of 16 px, no block overlap) = 128.

Each part is L2-normalised and weighted before the whole is normalised again: 248 dims.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image
from skimage.feature import hog

from ragrec.embeddings.base import FloatMatrix, ImageInput, l2_normalise, load_image

ENCODER_ID = "hsvdesc_v1"
LABEL = "HSV colour + edge descriptor (hsvdesc_v1, weights-free fallback; not SigLIP)"
_H_BINS, _S_BINS, _V_BINS = 8, 3, 3
_GRID = 4
_THUMB = 64
_WEIGHTS = (1.0, 0.7, 0.8)  # colour histogram, colour layout, shape
DIM = _H_BINS * _S_BINS * _V_BINS + _GRID * _GRID * 3 + 8 * 4 * 4


class HsvEdgeDescriptor:
    """`ImageEncoder` without weights: colour histograms in HSV plus a HOG shape histogram."""

    encoder_id = ENCODER_ID
    version = "1"
    dim = DIM
    kind = "descriptor"
    label = LABEL

    def encode_images(self, images: Sequence[ImageInput]) -> FloatMatrix:
        if not images:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([describe(load_image(item)) for item in images])


def describe(image: Image.Image) -> FloatMatrix:
    """The 248-dim unit vector of one RGB image."""
    w, h = image.size
    crop = image.crop((int(w * 0.1), int(h * 0.1), int(w * 0.9), int(h * 0.9)))
    hsv = np.asarray(crop.convert("HSV").resize((96, 96)), dtype=np.float32) / 255.0
    parts = [
        _colour_histogram(hsv),
        _colour_layout(hsv),
        _shape_histogram(image),
    ]
    weighted = [l2_normalise(p)[0] * wt for p, wt in zip(parts, _WEIGHTS, strict=True)]
    return l2_normalise(np.concatenate(weighted))[0]


def _colour_histogram(hsv: np.ndarray) -> np.ndarray:
    hist, _ = np.histogramdd(
        hsv.reshape(-1, 3),
        bins=(_H_BINS, _S_BINS, _V_BINS),
        range=((0, 1), (0, 1), (0, 1)),
    )
    hist = hist.ravel() / max(hist.sum(), 1.0)
    return np.sqrt(hist)


def _colour_layout(hsv: np.ndarray) -> np.ndarray:
    angle = hsv[..., 0] * 2 * np.pi
    sat = hsv[..., 1]
    channels = np.stack([np.cos(angle) * sat, np.sin(angle) * sat, hsv[..., 2]], axis=-1)
    size = channels.shape[0] // _GRID
    cells = channels[: size * _GRID, : size * _GRID].reshape(_GRID, size, _GRID, size, 3)
    return cells.mean(axis=(1, 3)).ravel()


def _shape_histogram(image: Image.Image) -> np.ndarray:
    grey = np.asarray(image.convert("L").resize((_THUMB, _THUMB)), dtype=np.float32) / 255.0
    return np.asarray(
        hog(
            grey,
            orientations=8,
            pixels_per_cell=(16, 16),
            cells_per_block=(1, 1),
            feature_vector=True,
        ),
        dtype=np.float32,
    )
