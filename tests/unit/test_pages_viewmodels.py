"""View models of the explorer pages (pure: no server, no database)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from app.pages import access, media
from app.pages import viewmodels as vm


@dataclass(frozen=True)
class Cand:
    product_id: str
    score: float
    generator: str
    reason: str


def test_cards_merge_ranked_items_with_details_and_keep_order() -> None:
    items = [
        {"product_id": "2", "score": 0.91, "position": 1, "reasons": ["looks alike"]},
        {"product_id": "1", "score": 1.7, "position": 2, "name": "Tee", "reasons": []},
    ]
    details = {
        "1": {"name": "ignored", "product_type": "T-shirt", "has_image": True, "price": 0.02},
        "2": {"name": "Dress", "product_type": "Dress", "has_image": False, "colour": "Black"},
    }
    a, b = vm.cards(items, details)
    assert (a.id, a.title, a.image_url, a.score_pct) == ("2", "Dress", None, 91)
    assert a.alt == "Dress, Black, Dress"
    assert (b.title, b.product_type, b.price, b.score_pct) == ("Tee", "T-shirt", 0.02, 100)
    assert b.image_url == "/media/products/1?w=320"


def test_card_without_name_or_score_reads_well() -> None:
    card = vm.ProductCard(id="0108775015", score=float("nan"))
    assert card.title == "product 0108775015"
    assert card.alt == "product 0108775015"
    assert card.score_pct == 0


def test_store_bars_are_relative_to_the_slowest_and_show_fallbacks() -> None:
    runs = [
        vm.StoreRun("pgvector", ms=10.0, answered_by="pgvector", results=5),
        vm.StoreRun("qdrant", ms=40.0, answered_by="neo4j", results=5),
        vm.StoreRun("neo4j", error="index missing"),
    ]
    bars = vm.store_bars(runs)
    assert [pct for _, pct in bars] == [25, 100, 0]
    assert runs[1].fell_back and runs[1].status == "unavailable, answered by neo4j"
    assert runs[2].status == "failed: index missing"
    assert runs[0].status == "5 results"


def test_pca_2d_finds_the_direction_of_most_variance() -> None:
    rng = np.random.default_rng(0)
    x = np.zeros((200, 5))
    x[:, 3] = rng.normal(0, 10, 200)  # the big axis
    x[:, 1] = rng.normal(0, 1, 200)
    coords, (first, second) = vm.pca_2d(x)
    assert coords.shape == (200, 2)
    assert first > 0.9 and second > 0.0
    assert abs(np.corrcoef(coords[:, 0], x[:, 3])[0, 1]) > 0.99


def test_pca_2d_of_degenerate_input_is_all_zero() -> None:
    coords, explained = vm.pca_2d(np.ones((3, 4)))
    assert coords.shape == (3, 2) and not coords.any() and explained == (0.0, 0.0)
    coords, _ = vm.pca_2d(np.zeros((0, 4)))
    assert coords.shape == (0, 2)


def test_persona_map_scales_into_the_box_and_colours_by_persona() -> None:
    rows = [
        {"id": f"c{i}", "persona_id": "p1" if i < 6 else None, "embedding": [i, i % 3, 1.0]}
        for i in range(10)
    ]
    rows.append({"id": "no-vector", "persona_id": "p1", "embedding": None})
    m = vm.persona_map(rows, {"p1": "Young basics"}, width=300, height=200, pad=10)
    assert m.total == 10
    assert all(10 <= p.x <= 290 and 10 <= p.y <= 190 for p in m.points)
    assert {p.persona for p in m.points} == {"Young basics", "no persona"}
    colours = {p.persona: p.colour for p in m.points}
    assert colours["Young basics"] == vm.PALETTE[0]
    assert colours["no persona"] == vm.PALETTE[-2]
    assert m.legend[0] == ("Young basics", vm.PALETTE[0], 6)


def test_persona_map_keeps_the_common_dimension_and_handles_no_rows() -> None:
    rows = [{"id": str(i), "persona_id": None, "embedding": [float(i), 1.0]} for i in range(4)]
    rows.append({"id": "odd", "persona_id": None, "embedding": [1.0, 2.0, 3.0]})
    assert vm.persona_map(rows, {}).total == 4
    empty = vm.persona_map([], {})
    assert empty.points == [] and empty.total == 0


def test_persona_cards_share_age_mix_and_stable_colours() -> None:
    cards = vm.persona_cards(
        [
            {"id": "a", "name": "A", "size": 30, "age_mix": {"25-34": 0.25, "18-24": 0.75}},
            {"id": "b", "size": 10, "top_categories": list("abcdefg")},
        ]
    )
    assert [c.share_pct for c in cards] == [75.0, 25.0]
    assert cards[0].age_mix == [("18-24", 75), ("25-34", 25)]
    assert cards[1].name == "persona b" and cards[1].top_categories == list("abcde")
    assert cards[0].colour != cards[1].colour


def test_rel_filter_keeps_known_types_in_a_fixed_order() -> None:
    assert vm.rel_filter(["SIMILAR_TO", "DROP TABLE", "BOUGHT_TOGETHER"]) == (
        "BOUGHT_TOGETHER|SIMILAR_TO"
    )
    assert vm.rel_filter([]) == ""


def test_network_data_uses_pictures_colours_and_weights() -> None:
    nodes = [
        {"key": "n1", "labels": ["Product"], "id": "1", "name": "Tee", "has_image": True},
        {"key": "n2", "labels": ["Product"], "id": "2", "name": "Top", "has_image": False},
        {"key": "n3", "labels": ["Category"], "id": "c", "name": "T-shirt", "level": "type"},
        {"key": "n4", "labels": ["Customer"], "id": "abcdef0123456789"},
    ]
    rels = [
        {"source": "n1", "target": "n2", "type": "BOUGHT_TOGETHER", "weight": 3.5},
        {"source": "n1", "target": "n3", "type": "IN_CATEGORY", "weight": None},
        {"source": "n4", "target": "n1", "type": "PURCHASED", "weight": 1},
        {"source": "n1", "target": "gone", "type": "SIMILAR_TO", "weight": 0.9},
    ]
    data = vm.network_data(nodes, rels, "n1")
    by_id = {n["id"]: n for n in data["nodes"]}
    assert by_id["n1"]["shape"] == "image"
    assert by_id["n1"]["image"] == "/media/products/1?w=160"
    assert by_id["n1"]["borderWidth"] == 4
    assert by_id["n2"]["color"] == vm.NODE_COLOURS["Product"]
    assert by_id["n3"]["shape"] == "box"
    assert by_id["n4"]["label"] == "customer"  # the pseudonym is never shown
    assert "abcdef" not in by_id["n4"]["title"]
    assert data["edge_count"] == 3  # the edge to a node outside the neighbourhood is dropped
    titles = sorted(e["title"] for e in data["edges"])
    assert titles == ["BOUGHT_TOGETHER 3.50", "IN_CATEGORY", "PURCHASED 1.00"]
    assert json.loads(data["options"])["physics"]["solver"] == "forceAtlas2Based"
    assert data["counts"] == {"Product": 2, "Category": 1, "Customer": 1}


def test_sources_of_ranks_scores_and_rrf_shares() -> None:
    lists = {
        "co_purchase": [Cand("x", 9, "co_purchase", "bought with y"), Cand("p", 5, "", "")],
        "popularity": [Cand("p", 100, "popularity", "popular"), Cand("q", 1, "", "")],
        "new_arrivals": [Cand("q", 1, "", "")],
    }
    sources = vm.sources_of("p", lists, rrf_k=60)
    assert [(s.generator, s.rank, s.score) for s in sources] == [
        ("popularity", 1, 100.0),
        ("co_purchase", 2, 5.0),
    ]
    assert sum(s.share_pct for s in sources) == 100 and sources[0].share_pct == 50
    assert vm.sources_of("zzz", lists) == []
    assert all(s.share_pct == 0 for s in vm.sources_of("p", lists))


def test_path_steps_draw_nodes_and_directions() -> None:
    row = {
        "steps": [
            {"labels": ["Customer"], "id": "abc", "name": "abc"},
            {"labels": ["Product"], "id": "1", "name": "Tee"},
            {"labels": ["Product"], "id": "2", "name": "Top"},
        ],
        "rels": [
            {"type": "PURCHASED", "forward": True},
            {"type": "BOUGHT_TOGETHER", "forward": False},
        ],
    }
    steps = vm.path_steps(row)
    assert [(s.kind, s.label, s.rel, s.forward) for s in steps] == [
        ("Customer", "customer", "PURCHASED", True),
        ("Product", "Tee", "BOUGHT_TOGETHER", False),
        ("Product", "Top", None, True),
    ]
    assert vm.path_steps(None) == [] and vm.path_steps({"steps": []}) == []


DAILY = [
    {
        "day": "2026-01-02",
        "context": "product",
        "impressions": 8,
        "clicks": 2,
        "carts": 1,
        "purchases": 0,
    },
    {
        "day": "2026-01-01",
        "context": "homepage",
        "impressions": 10,
        "clicks": 1,
        "carts": 0,
        "purchases": 1,
    },
    {
        "day": "2026-01-02",
        "context": "homepage",
        "impressions": 2,
        "clicks": 0,
        "carts": 0,
        "purchases": 0,
    },
]


def test_daily_chart_sums_contexts_per_day() -> None:
    chart = vm.daily_chart(DAILY, width=200, height=100, pad=10)
    assert chart.days == ["2026-01-01", "2026-01-02"]
    series = {s.name: s for s in chart.series}
    assert series["impressions"].values == [10, 10]
    assert series["clicks"].values == [1, 2]
    assert chart.max_value == 10
    first, last = series["impressions"].points.split(" ")
    assert first == "10.0,10.0" and last == "190.0,10.0"
    assert vm.daily_chart([]).empty


def test_context_rates_ctr_and_conversion() -> None:
    rates = {r.context: r for r in vm.context_rates(DAILY)}
    assert rates["homepage"].impressions == 12 and rates["homepage"].ctr == pytest.approx(1 / 12)
    assert rates["product"].conversion == pytest.approx(0.5)
    assert vm.ContextRate("x", 0, 0, 0, 0).ctr == 0.0


def test_top_lists_pair_rows_and_mark_overlap() -> None:
    rec = [{"product_id": "a"}, {"product_id": "b"}]
    bought = [{"product_id": "b"}]
    rows = vm.top_lists(rec, bought)
    assert [(r and r["product_id"], b and b["product_id"], x, y) for r, b, x, y in rows] == [
        ("a", "b", False, True),
        ("b", None, True, False),
    ]


def test_bench_file_tables_charts_and_summary() -> None:
    data = {
        "n": 1000,
        "dim": 384,
        "results": [
            {"store": "numpy", "p95_ms": 2.0, "recall@10": 1.0, "ok": True},
            {"store": "qdrant", "p95_ms": 4.0, "recall@10": 0.98, "ok": True},
        ],
        "systems": [{"name": "ours", "metrics": {"ndcg@10": 0.3, "p50_ms": 9}}],
    }
    f = vm.bench_file("vectorstores.json", "today", data)
    assert f.summary == [("n", "1,000"), ("dim", "384")]
    first, second = f.tables
    assert first.columns == ["store", "p95_ms", "recall@10", "ok"]
    assert [c.metric for c in first.charts] == ["p95_ms", "recall@10"]
    assert [(b.label, b.pct) for b in first.charts[0].bars] == [("numpy", 50), ("qdrant", 100)]
    assert first.rows[0] == ["numpy", "2.00", "1.00", "yes"]
    assert second.columns == ["name", "metrics.ndcg@10", "metrics.p50_ms"]
    assert [c.metric for c in second.charts] == ["metrics.ndcg@10"]
    assert vm.bench_file("x.json", "t", [1, 2]).error == "not a JSON object"


def test_widget_key_and_page_keys_by_scope() -> None:
    keys = {"admin": ["adm"], "read": ["rd"], "widget": ["pk"], "events": ["ev"]}
    assert access.key_scopes("rd", keys) == {"read"}
    assert access.key_scopes("nope", keys) == set()
    assert access.key_scopes(None, keys) == set()
    assert access.key_scopes("", {"admin": [""]}) == set()


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/pages/graph?product=1", "/pages/graph?product=1"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil", "/"),
        (None, "/"),
    ],
)
def test_sign_in_only_returns_to_this_site(target: str | None, expected: str) -> None:
    assert access.safe_next(target) == expected


def test_thumbnail_widths_snap_up() -> None:
    assert [media.snap_width(w) for w in (1, 80, 81, 320, 5000)] == [80, 80, 160, 320, 1024]
    svg = media.placeholder_svg("<Trousers>")
    assert b"&lt;Trousers&gt;" in svg and svg.startswith(b"<svg")


def test_browser_guide_reads_every_saved_query() -> None:
    from app.pages.guide import BROWSER_DIR, saved_queries

    queries = saved_queries()
    assert len(queries) == len(list(BROWSER_DIR.glob("*.cypher")))
    assert queries[0].name == "customer_journey"  # the guide's order
    for q in queries:
        assert q.description and "returns:" not in q.description
        assert not any(line.startswith("//") for line in q.cypher.splitlines())
        assert q.cypher.split()[0] in ("MATCH", "CALL")


def test_demo_urls_name_where_secrets_live_not_the_secrets(tmp_path: Path) -> None:
    from app.pages.urls import lines
    from ragrec.config import Settings

    settings = Settings(home=tmp_path, api_host="0.0.0.0", neo4j_http_port=7474)
    text = "\n".join(lines(settings, port=8123))
    assert "http://127.0.0.1:8123/" in text and "http://127.0.0.1:8123/schema" in text
    assert "http://localhost:7474/browser/" in text
    assert str(tmp_path / "secrets" / "neo4j_password") in text
    assert ":play http://localhost:8123/guides/ragrec.html" in text


def test_persona_map_spreads_identical_customers_a_little_and_stably() -> None:
    rows = [{"id": f"c{i}", "persona_id": None, "embedding": [1.0, 1.0]} for i in range(3)]
    rows.append({"id": "far", "persona_id": None, "embedding": [9.0, 5.0]})
    first = vm.persona_map(rows, {}, jitter=3.0)
    again = vm.persona_map(rows, {}, jitter=3.0)
    crowd = [(p.x, p.y) for p in first.points[:3]]
    assert len(set(crowd)) == 3  # not one dot
    assert max(x for x, _ in crowd) - min(x for x, _ in crowd) <= 6.0
    assert [(p.x, p.y) for p in again.points] == [(p.x, p.y) for p in first.points]
