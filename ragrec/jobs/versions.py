"""The version pointer of each derived structure: `(:DerivedVersion {name, live, building})`.

Writers tag what they write with a fresh version; `switch` makes it live in one write.
Readers (the request templates) match `{version: d.live}`.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from neo4j import Driver

from ragrec.cypher import query, statements


def new_version() -> str:
    """Sortable and unique: UTC time to the second plus a random suffix."""
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + secrets.token_hex(3)


def ensure_indexes(driver: Driver, database: str) -> None:
    for statement in statements(query("jobs/ensure_indexes")):
        driver.execute_query(statement, database_=database)


def autocommit(driver: Driver, database: str, name: str, **params: Any) -> None:
    """Run a `CALL {} IN TRANSACTIONS` template (an implicit transaction)."""
    with driver.session(database=database) as session:
        session.run(query(name), params).consume()


def live_versions(driver: Driver, database: str) -> dict[str, dict[str, Any]]:
    """name -> {live, building, switched_at, stats}."""
    records, _, _ = driver.execute_query(query("jobs/live_versions"), database_=database)
    out: dict[str, dict[str, Any]] = {}
    for r in records:
        stats = json.loads(r["stats"]) if r["stats"] else {}
        out[r["name"]] = {
            "live": r["live"],
            "building": r["building"],
            "switched_at": r["switched_at"],
            "stats": stats,
        }
    return out


def live_version(driver: Driver, database: str, name: str) -> str | None:
    return live_versions(driver, database).get(name, {}).get("live")


def begin(driver: Driver, database: str, name: str) -> str:
    version = new_version()
    driver.execute_query(
        query("jobs/begin_version"), name=name, version=version, database_=database
    )
    return version


def switch(
    driver: Driver, database: str, name: str, version: str, stats: dict[str, Any]
) -> str | None:
    """Make `version` live; returns the version it replaced."""
    records, _, _ = driver.execute_query(
        query("jobs/switch_version"),
        name=name,
        version=version,
        stats=json.dumps(stats, default=str),
        database_=database,
    )
    return records[0]["previous"] if records else None
