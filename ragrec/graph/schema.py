"""Schema migrations: `cypher/schema/V<NNN>__<name>.cypher`, applied once each, in order.

Every applied migration is recorded in the graph as `(:Migration {version, name,
checksum, applied_at})`, so a re-run applies only what is new. Schema statements
are `IF NOT EXISTS`, so a migration interrupted half-way is safe to run again.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from neo4j import Driver

from ragrec.cypher import CYPHER_DIR, query, statements

SCHEMA_DIR = CYPHER_DIR / "schema"
_MIGRATION = re.compile(r"^V(?P<version>\d+)__(?P<name>[\w-]+)\.cypher$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()[:16]


def migrations() -> list[Migration]:
    found = [
        Migration(int(m["version"]), m["name"], p)
        for p in SCHEMA_DIR.glob("V*.cypher")
        if (m := _MIGRATION.match(p.name))
    ]
    return sorted(found, key=lambda m: m.version)


def migrate(driver: Driver, database: str) -> list[str]:
    """Apply the migrations not yet recorded; returns the names applied now."""
    records, _, _ = driver.execute_query(query("graph/applied_migrations"), database_=database)
    done = {r["version"] for r in records}
    applied: list[str] = []
    for migration in migrations():
        if migration.version in done:
            continue
        for statement in statements(migration.path.read_text()):
            driver.execute_query(statement, database_=database)
        driver.execute_query(
            query("graph/record_migration"),
            version=migration.version,
            name=migration.name,
            checksum=migration.checksum,
            database_=database,
        )
        applied.append(f"V{migration.version:03d}__{migration.name}")
    return applied
