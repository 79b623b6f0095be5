"""End-to-end fixtures: the sample in the test graph, `ragrec serve` in a subprocess on a
free port, and Debian's Chromium driven by Playwright (never `playwright install`); the
helpers (a context that blocks and records every request leaving the app, sign-in,
screenshots) are in `browser_support.py`."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import ADMIN_KEY, ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, SAMPLE, WIDGET_KEY
from neo4j import Driver

from ragrec.config import Settings
from ragrec.cypher import query
from ragrec.services.sandbox import start_api


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not Path(CHROMIUM).is_file():
        found = shutil.which("chromium")
        if not found:
            pytest.fail(
                "Chromium is missing for the browser tests: `make browser` installs it "
                "(as root: apt-get install -y chromium)",
                pytrace=False,
            )
        return found
    return CHROMIUM


@pytest.fixture(scope="module")
def sample_world(neo4j_driver: Driver, settings: Settings) -> Driver:
    """data/sample in an emptied test graph with image vectors in all three stores (the
    `server` fixture adds personas while the server boots: what `make demo` prepares,
    without text vectors)."""
    from ragrec.embeddings.pipeline import generate_embeddings
    from ragrec.graph.loader import load_data
    from ragrec.vectorstores.qdrant import close_edge_handles

    with neo4j_driver.session(database=settings.neo4j_database) as session:
        session.run(query("graph/wipe")).consume()
    load_data(SAMPLE, settings, neo4j_driver, show_progress=False, bulk=False)
    generate_embeddings(settings, neo4j_driver, text=False, image=True)
    close_edge_handles()  # the embedded Qdrant shards are free for the server
    return neo4j_driver


def _keys_env() -> str:
    return json.dumps({"admin": [ADMIN_KEY], "widget": [WIDGET_KEY]})


@pytest.fixture(scope="module")
def server(sample_world: Driver, settings: Settings) -> Iterator[str]:
    """`ragrec serve` on a free port; personas are discovered while it starts (the pages
    read them per request)."""
    from ragrec.gds import gds_client
    from ragrec.personas.service import discover

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = ARTIFACTS / "serve.log"  # kept for a look after a failure
    env = {"RAGREC_API_RATE_LIMIT": "0", "RAGREC_API_KEYS": _keys_env()}
    api = start_api("--host", "127.0.0.1", env=env, log=log)
    try:
        discover(
            gds_client(sample_world, settings),
            sample_world,
            settings.neo4j_database,
            seed=42,
            stability=False,
        )
        api.wait_ready(120, path="/", request_timeout_s=5)
        yield api.base
    finally:
        api.stop()
    errors = [line for line in log.read_text(errors="replace").splitlines() if "Traceback" in line]
    assert not errors, f"the server logged a traceback: {log.read_text()[-4000:]}"


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()
