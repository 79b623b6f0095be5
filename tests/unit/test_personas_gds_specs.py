"""The GDS specs in gds_projections/ are valid and say what issue #5 asks."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragrec.cypher import query_path
from ragrec.gds.features import price_levels
from ragrec.gds.specs import SpecError, load_spec, load_specs


def test_all_specs_load_and_name_existing_cypher() -> None:
    specs = load_specs()
    assert [s.name for s in specs] == [
        "behavior_embeddings",
        "louvain_communities",
        "product_similarity",
        "bought_together",
    ]
    for spec in specs:
        assert spec.run_id == f"{spec.name}:v{spec.version}"
        for name in [*spec.pre, *spec.post]:
            assert query_path(name).exists()
        if spec.projection and spec.projection.query:
            assert query_path(spec.projection.query).exists()


def test_interaction_weights_and_decay() -> None:
    spec = load_spec("louvain_communities")
    assert spec.weights is not None
    assert spec.weights.by_type() == {
        "purchase": 5.0,
        "cart_add": 3.0,
        "wishlist": 2.0,
        "rec_click": 1.5,
        "view": 1.0,
        "rec_impression": 0.5,
        "cart_remove": -1.0,
        # the type names ragrec.graph.interactions stores
        "wishlist_add": 2.0,
        "recommendation_click": 1.5,
        "recommendation_impression": 0.5,
    }
    assert spec.weights.decay_days == 30 and spec.weights.reference == "latest_purchase"


def test_fastrp_is_deterministic_and_property_aware() -> None:
    spec = load_spec("behavior_embeddings")
    assert spec.algorithm is not None
    config = spec.algorithm.config
    # 128 dimensions: near-isometric for ~100 feature dimensions, half of 256's memory
    assert config["embedding_dimension"] == 128
    assert config["random_seed"] is not None and config["concurrency"] == 1
    # every dimension from the propagated features (see the spec's description)
    assert config["feature_properties"] == ["features"] and config["property_ratio"] == 1.0


def test_invalid_spec_names_the_file_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nversion: 0\n")
    with pytest.raises(SpecError, match=r"(?s)bad\.yaml.*version"):
        load_spec(bad)
    with pytest.raises(SpecError, match="no GDS spec 'nope'"):
        load_spec("nope")


def test_price_levels_are_terciles_within_product_group() -> None:
    products = [{"product_group": "A", "price": p} for p in (1, 2, 3, 4, 5, 6)]
    products += [{"product_group": "B", "price": p} for p in (100, 200, 300)]
    products.append({"product_group": "B", "price": None})
    assert price_levels(products, 3) == [0, 0, 1, 1, 2, 2, 0, 1, 2, 1]
