"""The version pointer of each derived structure: `(:DerivedVersion {name, live, building})`.

Writers tag what they write with a fresh version; `switch` makes it live in one write.
Readers (the request templates) match `{version: d.live}`.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from neo4j import Driver

from ragrec.cypher import query, run_autocommit, statements


def new_version() -> str:
    """Sortable and unique: UTC time to the second plus a random suffix."""
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + secrets.token_hex(3)


def ensure_indexes(driver: Driver, database: str) -> None:
    for statement in statements(query("jobs/ensure_indexes")):
        driver.execute_query(statement, database_=database)


def autocommit(driver: Driver, database: str, name: str, **params: Any) -> None:
    """Run a `CALL {} IN TRANSACTIONS` template (an implicit transaction, retried)."""
    run_autocommit(driver, database, name, params)


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


def write_batches(
    driver: Driver,
    database: str,
    template: str,
    batches: Iterable[Sequence[Mapping[str, Any]]],
    *,
    total: int | None = None,
    key: str = "rows",
    on_batch: Callable[[int, int], None] | None = None,
    **params: Any,
) -> None:
    """Run `template` once per batch (`$<key>` = the batch, plus `params`), each its own
    transaction, reporting `on_batch(done, total)` after each. `batches` may be a
    generator (only one batch in memory) when `total` is given."""
    if total is None:
        batches = list(batches)
        total = len(batches)
    statement = query(template)
    for i, chunk in enumerate(batches, start=1):
        driver.execute_query(statement, {key: list(chunk), **params}, database_=database)
        if on_batch:
            on_batch(i, total)


def publish(
    driver: Driver,
    database: str,
    name: str,
    write: Callable[[str], dict[str, Any]],
    *,
    cleanup: str,
    **cleanup_params: Any,
) -> tuple[str, str | None, dict[str, Any]]:
    """Build a new version of `name` beside the live one and switch it in when complete.

    `cleanup` (a `CALL {} IN TRANSACTIONS` template taking `$keep`) first removes what an
    interrupted run left (every version but the live one), then, after the switch, the
    version replaced. `write(version)` writes everything and returns the stats stored with
    the version. Returns (version, previous live version, stats).
    """
    live = live_version(driver, database, name)
    autocommit(driver, database, cleanup, keep=live, **cleanup_params)
    version = begin(driver, database, name)
    stats = write(version)
    previous = switch(driver, database, name, version, stats)
    autocommit(driver, database, cleanup, keep=version, **cleanup_params)
    return version, previous, stats
