"""Degraded modes of the recommendation endpoints (issue 14), through the HTTP API against
the real test stack, with data/sample loaded into an emptied graph and no GDS run:

* the learned ranker cannot load (none trained, or its files are corrupt): fusion falls
  back to RRF, the response says ``strategy: rrf`` and names ``ranker:rrf`` in
  ``degraded``, and ``/metrics`` counts it;
* the cross-encoder cannot load (a broken model folder, a path that does not exist): the
  search still answers in the fused order, names ``cross_encoder`` in ``degraded``, and
  ``/metrics`` counts it; a working one reranks without being named;
* GDS never ran (no personas, communities or FastRP vectors): the persona sources step
  aside for their stand-ins (the age cohort's favourites, purchase neighbours) and the
  answer is a normal one: nothing failed, so nothing is named in ``degraded``.

Each test builds its own app (`create_app`) with the settings it needs and the response
cache off, so every answer is computed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from neo4j import Driver
from test_api import BEST_SELLER, LOYAL, load_sample

from ragrec.config import Settings
from ragrec.recommender.engine import Recommender
from ragrec.recommender.errors import RankerNotTrained
from ragrec.recommender.random_model import build_random_cross_encoder
from ragrec.recommender.ranker import FEATURES

pytestmark = pytest.mark.integration

ADMIN = {"X-API-Key": "t-fallbacks-admin"}
QUERY = {"query": "shirt", "top_k": 8}
#: sources that read GDS results only (communities); persona favourites come from the
#: customer's age cohort instead when there is no persona, and `behaviour_neighbours` from
#: customers who bought the same products instead of FastRP vectors (same source name)
GDS_SOURCES = {"community_trending"}


@pytest.fixture(scope="module")
def graph(neo4j_driver: Driver, settings: Settings) -> Driver:
    load_sample(neo4j_driver, settings)  # wipes the graph first: no GDS results at all
    return neo4j_driver


@pytest.fixture
def app_factory(graph: Driver, settings: Settings, app_clients: Any) -> Any:
    def make(**update: Any) -> TestClient[Any]:
        local = settings.model_copy(
            update={
                "api_keys": {"admin": [ADMIN["X-API-Key"]]},
                "api_rate_limit": 0,
                "api_cache_ttl_s": 0.0,  # every answer computed, every fallback counted
                "rec_query_timeout_s": 30.0,  # the shared test box is loaded
                **update,
            }
        )
        client: TestClient[Any] = app_clients(local)
        return client

    return make


def _fallbacks(client: TestClient[Any], component: str, fallback: str) -> float:
    response = client.get("/api/v1/metrics", headers=ADMIN)
    assert response.status_code == 200, response.text
    wanted = f'ragrec_fallbacks_total{{component="{component}",fallback="{fallback}"}}'
    for line in response.text.splitlines():
        if line.startswith(wanted):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def _ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["items"], body
    return body


def _ids(body: dict[str, Any]) -> list[str]:
    return [i["product_id"] for i in body["items"]]


# -- the learned ranker ------------------------------------------------------------------


def _corrupt_ranker(models: Path, part: str) -> None:
    folder = models / "ranker" / "v1"
    folder.mkdir(parents=True)
    meta = {"features": list(FEATURES), "version": 1}
    (folder / "meta.json").write_text(json.dumps(meta))
    (folder / "model.txt").write_text("tree\nversion=v4\nnum_class=1\n")  # cut short
    if part == "meta":
        (folder / "model.txt").write_text("")
        (folder / "meta.json").write_text('{"features": [')  # half-written


@pytest.mark.parametrize("model", ["none", "corrupt model", "corrupt meta"])
def test_ranker_that_cannot_load_falls_back_to_rrf(
    app_factory: Any, tmp_path: Path, model: str
) -> None:
    models = tmp_path / "models"
    models.mkdir()
    if model != "none":
        _corrupt_ranker(models, model.split()[1])
    client = app_factory(rec_models_dir=models)
    before = _fallbacks(client, "ranker", "rrf")

    params = {"customer_id": LOYAL, "top_k": 8}
    rrf = _ok(client.get("/api/v1/recommendations/homepage", params={**params, "strategy": "rrf"}))
    assert rrf["strategy"] == "rrf" and "ranker:rrf" not in rrf["degraded"]
    learned = _ok(
        client.get("/api/v1/recommendations/homepage", params={**params, "strategy": "learned"})
    )
    assert learned["strategy"] == "rrf"
    assert "ranker:rrf" in learned["degraded"], learned["degraded"]
    assert _ids(learned) == _ids(rrf)

    product = _ok(
        client.post(
            "/api/v1/recommend",
            json={"context": "product", "product_id": BEST_SELLER, "strategy": "learned"},
        )
    )
    assert product["strategy"] == "rrf" and "ranker:rrf" in product["degraded"]
    search = _ok(client.post("/api/v1/search", json={**QUERY, "strategy": "learned"}))
    assert search["strategy"] == "rrf" and "ranker:rrf" in search["degraded"]
    assert _fallbacks(client, "ranker", "rrf") == before + 3


@pytest.mark.parametrize("part", ["model", "meta"])
def test_engine_reports_an_unreadable_ranker_as_not_trained(
    graph: Driver, settings: Settings, tmp_path: Path, part: str
) -> None:
    """What the API's fallback relies on for every caller of the engine: a corrupt model
    is the named RankerNotTrained, not a LightGBM or JSON error."""
    _corrupt_ranker(tmp_path, part)
    local = settings.model_copy(update={"rec_models_dir": tmp_path, "rec_query_timeout_s": 30.0})
    with Recommender(graph, local) as rec, pytest.raises(RankerNotTrained, match="retrain"):
        rec.homepage(None, strategy="learned")


def test_ranker_default_strategy_learned_without_a_model_still_answers(
    app_factory: Any, tmp_path: Path
) -> None:
    client = app_factory(rec_models_dir=tmp_path / "empty", rec_strategy="learned")
    body = _ok(client.get("/api/v1/recommendations/homepage", params={"customer_id": LOYAL}))
    assert body["strategy"] == "rrf" and "ranker:rrf" in body["degraded"]
    # asking for RRF itself is no fallback
    plain = _ok(
        client.get(
            "/api/v1/recommendations/homepage", params={"customer_id": LOYAL, "strategy": "rrf"}
        )
    )
    assert plain["degraded"] == []


# -- the cross-encoder --------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_cross_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_random_cross_encoder(tmp_path_factory.mktemp("tiny-ce"))


@pytest.fixture(scope="module")
def broken_cross_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = build_random_cross_encoder(tmp_path_factory.mktemp("broken-ce"))
    weights = [p for p in folder.iterdir() if p.suffix in {".safetensors", ".bin"}]
    assert weights, sorted(p.name for p in folder.iterdir())
    for path in weights:
        path.write_bytes(b"\x00not a model\x00" * 8)
    return folder


def test_working_cross_encoder_reranks_search_without_a_fallback(
    app_factory: Any, tiny_cross_encoder: Path
) -> None:
    client = app_factory(rec_cross_encoder=str(tiny_cross_encoder))
    before = _fallbacks(client, "cross_encoder", "skipped")
    body = _ok(client.post("/api/v1/search", json=QUERY))
    assert "cross_encoder" not in body["degraded"], body["degraded"]
    assert body["timings_ms"]["rerank_ms"] > 0
    assert _fallbacks(client, "cross_encoder", "skipped") == before


@pytest.mark.parametrize("where", ["broken folder", "missing path"])
def test_cross_encoder_that_cannot_load_leaves_the_fused_order(
    app_factory: Any, broken_cross_encoder: Path, tmp_path: Path, where: str
) -> None:
    model = broken_cross_encoder if where == "broken folder" else tmp_path / "no-such-model"
    plain = app_factory()  # no cross-encoder configured: search is not reranked
    fused = _ok(plain.post("/api/v1/search", json=QUERY))
    assert fused["degraded"] == []

    client = app_factory(rec_cross_encoder=str(model))
    before = _fallbacks(client, "cross_encoder", "skipped")
    for _ in range(2):  # the failure is remembered; every request still says so
        body = _ok(client.post("/api/v1/search", json=QUERY))
        assert body["degraded"] == ["cross_encoder"]
        assert _ids(body) == _ids(fused)
    personal = _ok(client.post("/api/v1/search", json={**QUERY, "customer_id": LOYAL}))
    assert "cross_encoder" in personal["degraded"]
    # contexts without a text query are never reranked, so never degraded by it
    home = _ok(client.get("/api/v1/recommendations/homepage", params={"customer_id": LOYAL}))
    assert "cross_encoder" not in home["degraded"]
    assert _fallbacks(client, "cross_encoder", "skipped") == before + 3


# -- GDS results missing -------------------------------------------------------------------


def test_without_gds_results_persona_sources_step_aside(
    app_factory: Any, graph: Driver, settings: Settings
) -> None:
    records, _, _ = graph.execute_query(
        "OPTIONAL MATCH (p:Persona) WITH count(p) AS personas "
        "MATCH (c:Customer) RETURN personas, count(c.community_id) AS communities, "
        "count(c.behavior_embedding) AS embeddings, count(c.persona_id) AS members",
        database_=settings.neo4j_database,
    )
    assert dict(records[0]) == {"personas": 0, "communities": 0, "embeddings": 0, "members": 0}
    client = app_factory()
    before = _fallbacks(client, "persona_favourites", "skipped")

    body = _ok(client.get("/api/v1/recommendations/homepage", params={"customer_id": LOYAL}))
    assert body["persona"] is None and body["cold_start"] is False
    assert body["degraded"] == []
    sources = set(body["candidates"])
    assert not sources & GDS_SOURCES, sources
    assert "popularity" in sources, sources
    # (`behaviour_neighbours`, when present, is the purchase-overlap stand-in: no customer
    # has a FastRP vector, checked above; the sample's LOYAL may share no product)
    # the persona source stands in with the customer's age cohort (no persona to name)
    assert "persona_favourites" in sources, sources
    reasons = [r for i in body["items"] for r in i["reasons"]]
    assert any(r.startswith("popular with customers aged") for r in reasons), reasons
    assert not any(r.startswith("popular with persona") for r in reasons), reasons

    # the customer's persona page says there is none (yet), with what is known
    persona = client.get(f"/api/v1/persona/{LOYAL}", headers=ADMIN)
    assert persona.status_code == 200, persona.text
    about = persona.json()
    assert about["persona"] is None and about["community_id"] is None, about
    assert about["purchases"] > 0 and about["age_bracket"], about
    listing = client.get("/api/v1/personas", headers=ADMIN)
    assert listing.status_code == 200 and listing.json()["personas"] == [], listing.text
    for context in ({"context": "product", "product_id": BEST_SELLER}, {**QUERY}):
        kind = "search" if "query" in context else "recommend"
        answer = _ok(client.post(f"/api/v1/{kind}", json={**context, "customer_id": LOYAL}))
        assert answer["degraded"] == [] and answer["persona"] is None
    assert _fallbacks(client, "persona_favourites", "skipped") == before


def test_refreshed_lists_without_gds_serve_a_normal_answer(
    app_factory: Any, graph: Driver, settings: Settings
) -> None:
    """The precomputed request path (`ragrec refresh` run, GDS never run, as a shop that
    skipped `discover-personas`): the persona and community lists are simply empty."""
    from ragrec.jobs.refresh import refresh

    report = refresh(graph, settings)
    assert report.ok, report.to_dict()
    client = app_factory()
    before = _fallbacks(client, "persona_favourites", "skipped")
    body = _ok(client.get("/api/v1/recommendations/homepage", params={"customer_id": LOYAL}))
    assert body["persona"] is None and body["degraded"] == []
    # (here `behaviour_neighbours` is the refresh's own list, not FastRP's)
    assert "community_trending" not in body["candidates"], body["candidates"]
    assert "popularity" in body["candidates"], body["candidates"]
    reasons = [r for i in body["items"] for r in i["reasons"]]
    assert not any(r.startswith("popular with persona") for r in reasons), reasons
    product = _ok(
        client.post(
            "/api/v1/recommend",
            json={"context": "product", "product_id": BEST_SELLER, "customer_id": LOYAL},
        )
    )
    assert product["degraded"] == [], product["degraded"]
    assert _fallbacks(client, "persona_favourites", "skipped") == before
