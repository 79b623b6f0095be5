"""Cypher statements live in `cypher/`, one file per statement, versioned by file name.

`query("etl/products")` returns the newest version (`cypher/etl/products.v2.cypher`
beats `.v1`); `query("etl/products", version=1)` pins one. Each file starts with a
`//` header saying what it returns and its parameters; parameters are always bound.
"""

from __future__ import annotations

import logging
import re
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

from neo4j import Driver
from neo4j.exceptions import DriverError, Neo4jError

from ragrec.config import PROJECT_ROOT

log = logging.getLogger(__name__)

CYPHER_DIR = PROJECT_ROOT / "cypher"
_VERSIONED = re.compile(r"^(?P<stem>.+)\.v(?P<version>\d+)\.cypher$")


class CypherNotFound(LookupError):
    pass


def query(name: str, version: int | None = None) -> str:
    """The text of `cypher/<name>.v<version>.cypher` (newest version if not given)."""
    path = query_path(name, version)
    return path.read_text()


@lru_cache(maxsize=512)
def query_path(name: str, version: int | None = None) -> Path:
    folder = (CYPHER_DIR / name).parent
    stem = Path(name).name
    versions = {
        int(m["version"]): p
        for p in folder.glob(f"{stem}.v*.cypher")
        if (m := _VERSIONED.match(p.name)) and m["stem"] == stem
    }
    if not versions:
        raise CypherNotFound(f"no Cypher file cypher/{name}.vN.cypher")
    chosen = max(versions) if version is None else version
    if chosen not in versions:
        raise CypherNotFound(f"cypher/{name}.v{chosen}.cypher does not exist")
    return versions[chosen]


def statements(text: str) -> list[str]:
    """Split a script into statements on `;` at line ends, dropping `//` comment lines."""
    body = "\n".join(line for line in text.splitlines() if not line.strip().startswith("//"))
    return [s.strip() for s in re.split(r";\s*(?:\n|$)", body) if s.strip()]


AUTOCOMMIT_TRIES = 4


def run_autocommit(driver: Driver, database: str, name: str, params: dict[str, Any]) -> None:
    """Run a `cypher/` template in an implicit transaction: CALL { ... } IN TRANSACTIONS
    commits its own batches and cannot run in a managed transaction, so the driver does
    not retry it. These templates are idempotent (a re-run finds only what is left), so
    a transient error (deadlock, leader switch, lost connection) is retried here."""
    for attempt in range(1, AUTOCOMMIT_TRIES + 1):
        try:
            with driver.session(database=database) as session:
                session.run(query(name), params).consume()
            return
        except (Neo4jError, DriverError) as exc:
            if attempt == AUTOCOMMIT_TRIES or not exc.is_retryable():
                raise
            log.warning("%s: %s; retrying (%d/%d)", name, exc, attempt, AUTOCOMMIT_TRIES - 1)
            time.sleep(0.5 * 2**attempt)
