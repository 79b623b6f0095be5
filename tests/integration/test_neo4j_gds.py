"""Neo4j over Bolt with Graph Data Science: projections, Louvain and FastRP for real."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from graphdatascience import GraphDataScience
from neo4j import Driver

from ragrec.config import Settings
from ragrec.gds import gds_client

pytestmark = pytest.mark.integration


@pytest.fixture()
def label(neo4j_driver: Driver) -> Iterator[str]:
    """A throwaway label so the test never touches other data; removed afterwards."""
    name = f"T_{uuid.uuid4().hex[:10]}"
    yield name
    neo4j_driver.execute_query(f"MATCH (n:{name}) DETACH DELETE n")


@pytest.fixture()
def gds(settings: Settings, neo4j_driver: Driver) -> GraphDataScience:
    return gds_client(neo4j_driver, settings)


def _two_cliques(driver: Driver, label: str) -> None:
    # clique A = 0..4, clique B = 5..9, joined by one bridge 4-5
    edges = [[i, j] for group in (range(5), range(5, 10)) for i in group for j in group if i < j]
    edges.append([4, 5])
    driver.execute_query(f"UNWIND range(0, 9) AS i CREATE (:{label} {{idx: i}})")
    driver.execute_query(
        f"UNWIND $edges AS e MATCH (a:{label} {{idx: e[0]}}), (b:{label} {{idx: e[1]}}) "
        "CREATE (a)-[:LINK]->(b)",
        edges=edges,
    )


def _project(gds: GraphDataScience, label: str):  # type: ignore[no-untyped-def]
    return gds.graph.project.native(
        f"g_{label}", label, {"LINK": {"orientation": "UNDIRECTED"}}, node_properties=["idx"]
    )


def test_louvain_finds_two_cliques(gds: GraphDataScience, neo4j_driver: Driver, label: str) -> None:
    _two_cliques(neo4j_driver, label)
    graph, result = _project(gds, label)
    try:
        assert result.node_count == 10
        assert result.relationship_count == 42  # 21 links, both directions
        communities = gds.louvain.stream(graph)
        idx = gds.graph.node_properties.stream(graph, ["idx"])
        idx_of = dict(zip(idx["nodeId"], idx["idx"], strict=True))
        community_of = {
            int(idx_of[node]): community
            for node, community in zip(
                communities["nodeId"], communities["communityId"], strict=True
            )
        }
        left = {community_of[i] for i in range(5)}
        right = {community_of[i] for i in range(5, 10)}
        assert len(left) == 1 and len(right) == 1, community_of
        assert left != right, "the two cliques must be different communities"
    finally:
        gds.graph.drop(graph)


def test_fastrp_dimension(gds: GraphDataScience, neo4j_driver: Driver, label: str) -> None:
    _two_cliques(neo4j_driver, label)
    graph, _ = _project(gds, label)
    try:
        frame = gds.fast_rp.stream(graph, embedding_dimension=64, random_seed=42)
        assert len(frame) == 10
        assert {len(vec) for vec in frame["embedding"]} == {64}
    finally:
        gds.graph.drop(graph)
    assert not gds.graph.exists(f"g_{label}")


def test_versions(gds: GraphDataScience, neo4j_driver: Driver) -> None:
    records, _, _ = neo4j_driver.execute_query(
        "CALL dbms.components() YIELD versions RETURN versions[0] AS v"
    )
    assert str(records[0]["v"]).startswith("5.")
    assert str(gds.server_version()).startswith("2.")
