"""Setup faults are reported with what to do, and never leave a home the next run trips over."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from ragrec.config import PROJECT_ROOT, Settings
from ragrec.services import neo4j, postgres
from ragrec.services.base import ServiceError

pytestmark = pytest.mark.integration


def test_unresolvable_maven_artifact_is_named_and_leaves_no_partial_home(
    tmp_path: Path,
) -> None:
    settings = Settings(home=tmp_path, gds_version="0.0.404")
    with pytest.raises(ServiceError) as excinfo:
        neo4j.install(settings)
    message = str(excinfo.value)
    assert "Maven" in message and "RAGREC_GDS_VERSION" in message
    assert not settings.neo4j_home.exists()
    assert not list(tmp_path.glob("*.partial")), "a failed install must not leave a partial home"


def test_half_finished_install_is_replaced(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    broken = settings.neo4j_home
    (broken / "lib").mkdir(parents=True)
    (broken / "lib" / "truncated.jar").write_bytes(b"PK\x03")
    partial = broken.with_name(broken.name + ".partial")
    partial.mkdir()
    assert not neo4j.is_installed(settings)
    neo4j.install(settings)
    assert neo4j.is_installed(settings)
    assert not (broken / "lib" / "truncated.jar").exists()
    assert not partial.exists()
    assert any((broken / "plugins").glob("org.neo4j.gds.proc-*.jar"))


def test_taken_port_is_named() -> None:
    # under the project: the cluster's files must be reachable by the postgres user
    home = PROJECT_ROOT / f".ragrec-test-{uuid.uuid4().hex[:8]}"
    try:
        with socket.socket() as squatter:
            squatter.bind(("127.0.0.1", 0))
            squatter.listen()
            port = squatter.getsockname()[1]
            pg = Settings(home=home, pg_port=port)
            postgres.install(pg)
            with pytest.raises(ServiceError, match=str(port)) as excinfo:
                postgres.start(pg)
            assert "RAGREC_PG_PORT" in str(excinfo.value)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def test_status_of_an_unreachable_neo4j_answers_at_once(tmp_path: Path) -> None:
    """No minute of driver retries: a closed port (local or external URI) is reported
    unreachable after one attempt."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]  # bound, never listening: connections are refused
        for settings in (
            Settings(home=tmp_path, neo4j_uri=f"bolt://127.0.0.1:{closed}"),
            Settings(neo4j_bolt_port=closed),
        ):
            began = time.monotonic()
            state = neo4j.status(settings)
            elapsed = time.monotonic() - began
            assert not state.reachable and "unreachable" in state.detail, state
            assert elapsed < settings.neo4j_connect_timeout_s + 5, elapsed
            assert not neo4j.reachable(settings)


@pytest.mark.parametrize("command", ["refresh", "discover-personas"])
def test_cli_without_neo4j_ends_with_one_clear_line(command: str) -> None:
    """A command that needs Neo4j, run while it is unreachable: exit 2 and a line that says
    what to do, never a traceback (after the driver's own retries), also when a library on
    top of the driver (graphdatascience) wraps the driver's error."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]  # bound, never listening: connections are refused
        env = {**os.environ, "RAGREC_NEO4J_URI": f"bolt://127.0.0.1:{closed}"}
        result = subprocess.run(
            [sys.executable, "-m", "ragrec.cli", command],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output and "╭" not in output, output
    assert f"Neo4j at bolt://127.0.0.1:{closed} is not reachable" in result.stderr, output
    assert "ragrec services up" in result.stderr, output
