"""Graph Data Science: projections and algorithms run inside Neo4j via `graphdatascience`."""

from __future__ import annotations

from graphdatascience import GraphDataScience
from neo4j import Driver

from ragrec.config import Settings


def gds_client(driver: Driver, settings: Settings) -> GraphDataScience:
    """A GDS client over an existing Bolt driver.

    Arrow Flight is off: it is a GDS Enterprise server feature, and the open GDS we run
    answers everything over Bolt.
    """
    return GraphDataScience(driver, database=settings.neo4j_database, arrow=False)
