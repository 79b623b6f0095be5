"""A throwaway local Neo4j (+ GDS, APOC) for evaluation, so the serving graph is never
touched. It reuses the jars of the main install (symlinked lib/ and plugins/), has its
own data folder, free ports, password and pseudonymisation key, and is stopped and
deleted on exit."""

from __future__ import annotations

import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from neo4j import Driver

from ragrec.config import Settings
from ragrec.services import neo4j as neo4j_service
from ragrec.services.sandbox import free_port, link_neo4j_install


@contextmanager
def throwaway_neo4j(
    base: Settings,
    *,
    heap: str = "2g",
    pagecache: str = "512m",
    keep: bool = False,
    pseudonym_key: str | None = None,
) -> Iterator[tuple[Settings, Driver]]:
    """Yield (settings, driver) of a fresh, empty local Neo4j; stop and delete it after.
    `pseudonym_key`: the staged graph's key (default: a random one)."""
    home = Path(tempfile.mkdtemp(prefix="ragrec-eval-"))
    settings = Settings(
        home=home,
        neo4j_uri=None,
        neo4j_password=secrets.token_hex(12),
        neo4j_bolt_port=free_port(),
        neo4j_http_port=free_port(),
        neo4j_heap=heap,
        neo4j_pagecache=pagecache,
        neo4j_version=base.neo4j_version,
        gds_version=base.gds_version,
        apoc_version=base.apoc_version,
        pseudonym_key=pseudonym_key or secrets.token_hex(16),
        rec_models_dir=home / "models",
        # quality, not latency, is measured here: a loaded machine must not drop sources
        rec_query_timeout_s=max(base.rec_query_timeout_s, 60.0),
    )
    link_neo4j_install(base, settings)  # the main install's jars, symlinked
    driver = None
    try:
        neo4j_service.start(settings)
        driver = neo4j_service.driver(settings)
        yield settings, driver
    finally:
        if driver is not None:
            driver.close()
        try:
            neo4j_service.stop(settings)
        finally:
            if not keep:
                shutil.rmtree(home, ignore_errors=True)
