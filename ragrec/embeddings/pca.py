"""Optional PCA reduction (e.g. 768 -> 128), fitted once and stored with a version.

A fitted PCA is a file ``<home>/models/pca/<encoder>_<dim>_pca<k>.npz`` holding the
mean, the components and a version (a hash of the components). Once written it is
reused, so every vector of that encoder goes through the same projection; the reduced
encoder's id is ``<encoder>_pca<k>`` and its version includes the PCA version, so a
refit re-embeds everything. Turn it on with ``RAGREC_EMBEDDING_PCA_DIM=128``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ragrec.embeddings.base import EncoderError, FloatMatrix, ImageInput, l2_normalise


@dataclass(frozen=True)
class PcaModel:
    mean: FloatMatrix  # (dim,)
    components: FloatMatrix  # (k, dim)
    version: str

    @property
    def dim(self) -> int:
        return int(self.components.shape[0])

    @classmethod
    def fit(cls, vectors: npt.ArrayLike, k: int, seed: int = 0) -> PcaModel:
        from sklearn.decomposition import PCA

        matrix = np.asarray(vectors, dtype=np.float32)
        if matrix.ndim != 2 or matrix.shape[0] < k or matrix.shape[1] < k:
            raise EncoderError(
                f"PCA to {k} dims needs at least {k} vectors of at least {k} dims; "
                f"got {matrix.shape}"
            )
        pca = PCA(n_components=k, random_state=seed).fit(matrix)
        comps = pca.components_.astype(np.float32)
        version = hashlib.sha256(comps.tobytes()).hexdigest()[:12]
        return cls(pca.mean_.astype(np.float32), comps, version)

    def transform(self, vectors: npt.ArrayLike) -> FloatMatrix:
        matrix = np.asarray(vectors, dtype=np.float32)
        return l2_normalise((matrix - self.mean) @ self.components.T)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, mean=self.mean, components=self.components, version=np.array(self.version))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> PcaModel:
        with np.load(path) as data:
            return cls(data["mean"], data["components"], str(data["version"]))


def pca_path(home: Path, encoder_id: str, dim: int, k: int) -> Path:
    return home / "models" / "pca" / f"{encoder_id}_{dim}_pca{k}.npz"


class PcaReduced:
    """An encoder followed by a fitted PCA; same protocol, fewer dims."""

    def __init__(self, inner: Any, pca: PcaModel) -> None:
        self.inner = inner
        self.pca = pca
        self.kind = getattr(inner, "kind", "model")
        self.encoder_id = f"{inner.encoder_id}_pca{pca.dim}"
        self.version = f"{inner.version}+pca.{pca.version}"
        self.dim = pca.dim
        self.label = f"{inner.label} + PCA to {pca.dim} dims (v {pca.version})"

    def encode_images(self, images: Sequence[ImageInput]) -> FloatMatrix:
        return self.pca.transform(self.inner.encode_images(images))

    def encode_texts(self, texts: Sequence[str]) -> FloatMatrix:
        return self.pca.transform(self.inner.encode_texts(texts))
