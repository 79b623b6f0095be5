"""A private, local service stack (Neo4j + GDS, PostgreSQL + pgvector, Qdrant) under its own
home and ports, for the test suite: tests never touch the user's graph, tables or collections.

The stack reuses the jars of the main Neo4j install (``lib/`` and ``plugins/`` are
symlinked), so creating it costs no download. Its ports are chosen once, when the home is
first created, and kept in ``stack.json`` so a second run reuses the running servers.

    env = sandbox_env(base_settings, home)   # RAGREC_* variables that point at the stack
    os.environ.update(env)                   # before anything calls get_settings()
    ensure_up(Settings())                    # install (links) + start; idempotent

`serving(...)` / `start_api(...)` run `ragrec serve` in a subprocess on a free port until
it is healthy (the tests that need a real server, and the API benchmarks).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Container, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ragrec.config import PROJECT_ROOT, Settings
from ragrec.services import neo4j as neo4j_service

_MARKER = ".ragrec-installed"
STACK_FILE = "stack.json"
#: variables that would point the stack at someone else's services; always cleared
EXTERNAL_VARS = (
    "RAGREC_NEO4J_URI",
    "RAGREC_NEO4J_PASSWORD",
    "RAGREC_PG_DSN",
    "RAGREC_QDRANT_URL",
    "RAGREC_QDRANT_API_KEY",
    "RAGREC_PSEUDONYM_KEY",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def link_neo4j_install(base: Settings, target: Settings) -> None:
    """Give `target` a Neo4j home whose jars are the main install's (idempotent)."""
    neo4j_service.install(base)  # no-op when the main install is there
    home = target.neo4j_home
    if home.resolve() == base.neo4j_home.resolve():
        return
    marker = base.neo4j_home / _MARKER
    if (home / _MARKER).exists() and (home / _MARKER).read_text() == marker.read_text():
        return
    (home / "conf").mkdir(parents=True, exist_ok=True)
    for sub in ("lib", "plugins"):
        link = home / sub
        if link.is_symlink() or link.exists():
            if link.is_symlink() or link.is_file():
                link.unlink()
            else:
                shutil.rmtree(link)
        link.symlink_to((base.neo4j_home / sub).resolve())
    shutil.copyfile(marker, home / _MARKER)


def sandbox_env(base: Settings, home: Path, *, heap: str = "2g", pagecache: str = "512m") -> dict:
    """The RAGREC_* variables of the stack under `home` (ports chosen once, then kept)."""
    home = home.resolve()
    if home == base.home.resolve():
        raise ValueError(f"the test stack home {home} is the user's own home; choose another")
    home.mkdir(parents=True, exist_ok=True)
    state_file = home / STACK_FILE
    state: dict[str, int] = {}
    if state_file.exists():
        state = json.loads(state_file.read_text())
    for key in ("neo4j_bolt_port", "neo4j_http_port", "pg_port", "api_port"):
        if not isinstance(state.get(key), int):
            state[key] = free_port()
    state_file.write_text(json.dumps(state, indent=2))
    return {
        "RAGREC_HOME": str(home),
        "RAGREC_NEO4J_BOLT_PORT": str(state["neo4j_bolt_port"]),
        "RAGREC_NEO4J_HTTP_PORT": str(state["neo4j_http_port"]),
        "RAGREC_PG_PORT": str(state["pg_port"]),
        "RAGREC_API_PORT": str(state["api_port"]),
        "RAGREC_NEO4J_HEAP": heap,
        "RAGREC_NEO4J_PAGECACHE": pagecache,
        "RAGREC_NEO4J_VERSION": base.neo4j_version,
        "RAGREC_GDS_VERSION": base.gds_version,
        "RAGREC_APOC_VERSION": base.apoc_version,
    }


def ensure_up(base: Settings, settings: Settings) -> None:
    """Link the Neo4j install, then install (PostgreSQL cluster) and start all three."""
    from ragrec.services import manager

    link_neo4j_install(base, settings)
    manager.up(settings, ["neo4j", "postgres", "qdrant"])


class ServeError(RuntimeError):
    """`ragrec serve` exited, or did not answer in time (the message has its log's tail)."""


@dataclass
class ApiProcess:
    """A `ragrec serve` subprocess on a loopback port (see `start_api` / `serving`)."""

    proc: subprocess.Popen[bytes]
    port: int
    log: Path | None
    new_session: bool = False

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, chars: int = 3000) -> str:
        if self.log is None or not self.log.is_file():
            return "(no log)"
        return self.log.read_text(errors="replace")[-chars:]

    def wait_ready(
        self,
        timeout_s: float = 300.0,
        *,
        path: str = "/api/v1/health",
        statuses: Container[int] = (200,),
        request_timeout_s: float = 30.0,
    ) -> None:
        """Poll `path` until it answers one of `statuses`; ServeError when the server
        exits first or `timeout_s` passes (the server is stopped then)."""
        import httpx

        deadline = time.monotonic() + timeout_s
        while True:
            if self.proc.poll() is not None:
                raise ServeError(f"ragrec serve exited {self.proc.returncode}: {self.log_tail()}")
            try:
                answer = httpx.get(self.base + path, timeout=request_timeout_s)
                if answer.status_code in statuses:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise ServeError(
                    f"ragrec serve did not answer {path} within {timeout_s:.0f}s: {self.log_tail()}"
                )
            time.sleep(0.3)

    def stop(self, timeout_s: float = 30.0) -> int:
        """SIGTERM (uvicorn shuts down gracefully), SIGKILL after `timeout_s`; the exit code."""
        if self.proc.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.proc.wait()
        return int(self.proc.returncode)

    def _signal(self, sig: int) -> None:
        try:
            if self.new_session:
                os.killpg(self.proc.pid, sig)
            else:
                self.proc.send_signal(sig)
        except ProcessLookupError:
            pass


def start_api(
    *args: str,
    env: Mapping[str, str] | None = None,
    log: Path | None = None,
    port: int | None = None,
    new_session: bool = False,
) -> ApiProcess:
    """Start `ragrec serve --port PORT ARGS...` (a free port unless given) with the
    environment plus `env`, output to `log` (or discarded); returns at once: call
    `wait_ready` before using it. `new_session` puts it (and its workers) in its own
    process group, stopped as a group."""
    port = port or free_port()
    cmd = [sys.executable, "-m", "ragrec.cli", "serve", "--port", str(port), *args]
    full_env = {**os.environ, **(env or {})}
    if log is None:
        proc = subprocess.Popen(
            cmd,
            env=full_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=PROJECT_ROOT,
            start_new_session=new_session,
        )
    else:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("wb") as out:
            proc = subprocess.Popen(
                cmd,
                env=full_env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=PROJECT_ROOT,
                start_new_session=new_session,
            )
    return ApiProcess(proc, port, log, new_session)


@contextmanager
def serving(
    *args: str,
    env: Mapping[str, str] | None = None,
    log: Path | None = None,
    port: int | None = None,
    new_session: bool = False,
    timeout_s: float = 300.0,
    statuses: Container[int] = (200,),
) -> Iterator[ApiProcess]:
    """`ragrec serve` in a subprocess, healthy (`/api/v1/health` answers one of
    `statuses`) for the block, stopped after it."""
    api = start_api(*args, env=env, log=log, port=port, new_session=new_session)
    try:
        api.wait_ready(timeout_s, statuses=statuses)
        yield api
    finally:
        api.stop()
