"""A private, local service stack (Neo4j + GDS, PostgreSQL + pgvector, Qdrant) under its own
home and ports, for the test suite: tests never touch the user's graph, tables or collections.

The stack reuses the jars of the main Neo4j install (``lib/`` and ``plugins/`` are
symlinked), so creating it costs no download. Its ports are chosen once, when the home is
first created, and kept in ``stack.json`` so a second run reuses the running servers.

    env = sandbox_env(base_settings, home)   # RAGREC_* variables that point at the stack
    os.environ.update(env)                   # before anything calls get_settings()
    ensure_up(Settings())                    # install (links) + start; idempotent
"""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

from ragrec.config import Settings
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
