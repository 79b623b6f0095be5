"""Qdrant Edge round trip: the real Qdrant engine in-process, on disk under tmp_path.

No skips: if `qdrant-edge-py` is missing, importing the adapter fails with a message
naming the package.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from ragrec.config import Settings
from ragrec.services import qdrant as qdrant_service
from ragrec.vectorstores.qdrant_edge import (
    ID_FIELD,
    CollectionExistsError,
    CollectionLockedError,
    EdgeCollection,
    engine_version,
    list_collections,
    point_id,
)

pytestmark = pytest.mark.integration

DIM = 64
CATEGORIES = ("dresses", "trousers", "shoes", "bags")
PER_CATEGORY = 50


def _data() -> tuple[list[str], np.ndarray, list[dict[str, object]]]:
    """200 vectors in 4 tight clusters, one per category, with prices 0..100."""
    rng = np.random.default_rng(42)
    centers = rng.standard_normal((len(CATEGORIES), DIM)).astype(np.float32) * 3
    ids: list[str] = []
    rows: list[np.ndarray] = []
    payloads: list[dict[str, object]] = []
    for c, cat in enumerate(CATEGORIES):
        for j in range(PER_CATEGORY):
            ids.append(f"{108775015 + c * 1000 + j:010d}")  # article-like, leading zero
            rows.append(centers[c] + rng.standard_normal(DIM).astype(np.float32) * 0.3)
            payloads.append({"category": cat, "price": round(float(rng.uniform(0, 100)), 2)})
    return ids, np.stack(rows), payloads


def _cosine_top(vectors: np.ndarray, query: np.ndarray, mask: np.ndarray, k: int) -> list[int]:
    norm = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    scores = norm @ (query / np.linalg.norm(query))
    scores[~mask] = -np.inf
    order = np.argsort(-scores)[:k]
    return [int(i) for i in order if mask[i]]


def test_collection_round_trip(tmp_path: Path) -> None:
    ids, vectors, payloads = _data()
    prices = np.array([p["price"] for p in payloads], dtype=np.float64)
    cats = np.array([p["category"] for p in payloads])

    # indexing_threshold_kb=1 so optimize() really builds the HNSW graph for 200 points
    coll = EdgeCollection.create(
        tmp_path,
        "articles",
        dim=DIM,
        m=16,
        ef_construct=128,
        full_scan_threshold=1,
        indexing_threshold_kb=1,
    )
    assert coll.upsert(ids, vectors, payloads) == 200
    assert coll.count() == 200
    assert coll.optimize() is True
    info = coll.info()
    assert info["points"] == 200
    assert info["indexed_vectors"] == 200, info
    assert info["payload_indexes"] == {"category": "Keyword", "price": "Float"}

    # every point finds itself first, through HNSW and by brute force
    for i in (0, 57, 123, 199):
        for exact in (False, True):
            hits = coll.search(vectors[i], top_k=5, hnsw_ef=128, exact=exact)
            assert hits[0].id == ids[i]
            assert hits[0].score == pytest.approx(1.0, abs=1e-4)
            assert hits[0].payload["category"] == payloads[i]["category"]
            assert hits[0].payload[ID_FIELD] == ids[i]
            assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)

    # unfiltered neighbours of a point are its cluster-mates
    hits = coll.search(vectors[0], top_k=20)
    assert {h.payload["category"] for h in hits} == {CATEGORIES[0]}

    # category filter: a query from cluster 0 restricted to "shoes" returns only shoes
    hits = coll.search(vectors[0], top_k=10, filter={"category": "shoes"})
    assert len(hits) == 10
    assert all(h.payload["category"] == "shoes" for h in hits)
    expected = _cosine_top(vectors, vectors[0], cats == "shoes", 10)
    assert [h.id for h in hits] == [ids[i] for i in expected]
    assert coll.count({"category": "shoes"}) == PER_CATEGORY

    # price range, alone and with a category
    hits = coll.search(vectors[60], top_k=200, filter={"min_price": 20.0, "max_price": 40.0})
    in_range = (prices >= 20.0) & (prices <= 40.0)
    assert {h.id for h in hits} == {ids[i] for i in np.flatnonzero(in_range)}
    assert all(20.0 <= h.payload["price"] <= 40.0 for h in hits)
    assert coll.count({"min_price": 20.0, "max_price": 40.0}) == int(in_range.sum())

    both = (cats == "bags") & (prices >= 50.0)
    hits = coll.search(vectors[60], top_k=5, filter={"category": "bags", "min_price": 50.0})
    assert [h.id for h in hits] == [ids[i] for i in _cosine_top(vectors, vectors[60], both, 5)]
    assert coll.count({"category": "bags", "min_price": 50.0}) == int(both.sum())

    with pytest.raises(ValueError, match="unsupported filter keys"):
        coll.search(vectors[0], filter={"colour": "red"})

    # delete
    gone = ids[:10]
    coll.delete(gone)
    assert coll.count() == 190
    assert coll.count({"category": CATEGORIES[0]}) == PER_CATEGORY - 10
    assert not {h.id for h in coll.search(vectors[0], top_k=50)} & set(gone)

    # upsert of an existing id replaces it instead of adding one
    coll.upsert([ids[20]], vectors[20:21], [{"category": "sale", "price": 1.0}])
    assert coll.count() == 190
    assert coll.count({"category": "sale"}) == 1
    coll.close()
    coll.close()  # idempotent

    # reopen from disk: data, deletions and payload indexes survived
    assert list_collections(tmp_path) == ["articles"]
    with EdgeCollection.open(tmp_path, "articles") as again:
        assert again.count() == 190
        assert again.info()["payload_indexes"] == {"category": "Keyword", "price": "Float"}
        hits = again.search(vectors[150], top_k=3)
        assert hits[0].id == ids[150]
        assert again.search(vectors[20], top_k=1)[0].payload["category"] == "sale"
        assert again.count({"category": "shoes"}) == PER_CATEGORY

    with pytest.raises(CollectionExistsError):
        EdgeCollection.create(tmp_path, "articles", dim=DIM)
    with EdgeCollection.create(tmp_path, "articles", dim=DIM, exist_ok=True) as same:
        assert same.count() == 190


def test_point_ids_are_stable_uuid5() -> None:
    # fixed forever: stored collections are addressed by these ids
    assert str(point_id("0108775015")) == "fc5f1fbe-5d38-5594-8b84-c9c69d4ef9c2"
    assert point_id("0108775015") != point_id("108775015")  # leading zeros matter
    assert point_id("0108775015").version == 5


def test_one_open_handle_per_shard(tmp_path: Path) -> None:
    ids, vectors, payloads = _data()
    with EdgeCollection.create(tmp_path, "items", dim=DIM) as held:
        held.upsert(ids, vectors, payloads)
        held.flush()
        # same process, second handle: refused, and the first keeps working
        with pytest.raises(CollectionLockedError):
            EdgeCollection.open(tmp_path, "items")
        # another process: refused the same way
        code = textwrap.dedent(
            f"""
            from ragrec.vectorstores.qdrant_edge import EdgeCollection, CollectionLockedError
            try:
                EdgeCollection.open({str(tmp_path)!r}, "items")
            except CollectionLockedError:
                print("LOCKED")
            else:
                print("OPENED")
            """
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == "LOCKED", out.stderr
        assert held.count() == 200
        assert held.search(vectors[5], top_k=1)[0].id == ids[5]
    # released on close
    with EdgeCollection.open(tmp_path, "items") as again:
        assert again.count() == 200


def test_service_lifecycle_embedded(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", qdrant_url=None)
    st = qdrant_service.status(settings)
    assert st.mode == "embedded" and not st.reachable
    assert "does not exist" in st.detail

    qdrant_service.install(settings)
    qdrant_service.start(settings)  # empty: runs the engine self-test
    qdrant_service.start(settings)  # idempotent
    st = qdrant_service.status(settings)
    assert st.reachable, st.detail
    assert st.listen == str(settings.qdrant_path)
    assert st.version["qdrant"] == f"qdrant-edge-py {engine_version()}"
    assert "qdrant-edge" in st.version["mode"]
    assert st.detail == "no collections yet"
    assert list_collections(settings.qdrant_path) == []  # the self-test cleaned up

    ids, vectors, payloads = _data()
    with EdgeCollection.create(settings.qdrant_path, "articles", dim=DIM) as coll:
        coll.upsert(ids, vectors, payloads)
        # a running app holds the shard: status says so and does not disturb it
        st = qdrant_service.status(settings)
        assert st.reachable, st.detail
        assert "articles: in use" in st.detail
        qdrant_service.start(settings)
        assert coll.count() == 200
    st = qdrant_service.status(settings)
    assert st.reachable and st.detail == "articles: 200 points"
    qdrant_service.stop(settings)
    qdrant_service.stop(settings)
