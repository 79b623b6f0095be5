"""A project-local Neo4j 5 community server with GDS and APOC, assembled from Maven Central.

Layout under `settings.home` (`.ragrec/`):

    neo4j-<version>/        the install: lib/ (server), plugins/ (GDS, APOC), conf/neo4j.conf
    neo4j/data, logs, run   the database and its logs, kept across reinstalls

The install is assembled in `neo4j-<version>.partial/` and renamed into place only
when complete, so an interrupted setup never leaves a half-built home: the next run
removes the partial directory and starts again. The server runs as a real process
started by Neo4j's own bootloader (`org.neo4j.server.startup.Neo4jCommand`, what
`bin/neo4j` calls), with Bolt and HTTP (Neo4j Browser at /browser) on loopback.
"""

from __future__ import annotations

import hashlib
import os
import re
import resource
import shutil
import subprocess
from pathlib import Path
from typing import Any

from neo4j import Driver, GraphDatabase
from neo4j.exceptions import AuthError, Neo4jError, ServiceUnavailable

from ragrec.config import Settings
from ragrec.services.base import ServiceError, ServiceStatus, port_in_use, wait_until

NAME = "neo4j"
MAVEN_DIR = Path(__file__).parent / "maven"
_MARKER = ".ragrec-installed"
_JAR_VERSION = re.compile(r"-[0-9][0-9A-Za-z.\-]*\.jar$")

JVM_OPTIONS = (
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+UnlockExperimentalVMOptions",
    "-XX:+TrustFinalNonStaticFields",
    "-XX:+DisableExplicitGC",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--enable-native-access=ALL-UNNAMED",
    "-Dlog4j2.disable.jmx=true",
)


def install(settings: Settings) -> None:
    """Assemble the server, GDS and APOC into `settings.neo4j_home`. A no-op when present."""
    if not settings.local_neo4j:
        return
    home = settings.neo4j_home
    if is_installed(settings):
        _ensure_data_dirs(settings)
        return
    java = _require_tool("java", "openjdk-17-jre-headless")
    _check_java_version(java)
    mvn = _require_tool("mvn", "maven")

    partial = home.with_name(home.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    if home.exists():  # an install without a valid marker is incomplete or outdated
        shutil.rmtree(home)
    try:
        _assemble(settings, mvn, partial)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    partial.rename(home)
    _ensure_data_dirs(settings)


def _assemble(settings: Settings, mvn: str, partial: Path) -> None:
    (partial / "conf").mkdir(parents=True)
    staging = partial / "staging"
    _copy_dependencies(mvn, "neo4j-server.pom.xml", partial / "lib", settings)
    _copy_dependencies(mvn, "neo4j-plugins.pom.xml", staging, settings)
    shipped = {_artifact(jar.name) for jar in (partial / "lib").glob("*.jar")}
    plugins = partial / "plugins"
    plugins.mkdir()
    for jar in staging.glob("*.jar"):
        if _artifact(jar.name) not in shipped:
            jar.rename(plugins / jar.name)
    shutil.rmtree(staging)
    _write_conf(settings, partial / "conf" / "neo4j.conf")
    (partial / _MARKER).write_text(_fingerprint(settings))


def is_installed(settings: Settings) -> bool:
    marker = settings.neo4j_home / _MARKER
    return marker.exists() and marker.read_text().strip() == _fingerprint(settings)


def start(settings: Settings, timeout: float = 180) -> None:
    """Start the local server (idempotent) and wait until it answers over Bolt."""
    if not settings.local_neo4j:
        return
    install(settings)
    _write_conf(settings, settings.neo4j_home / "conf" / "neo4j.conf")
    if _running_pid(settings) is None:
        for port, var in (
            (settings.neo4j_bolt_port, "RAGREC_NEO4J_BOLT_PORT"),
            (settings.neo4j_http_port, "RAGREC_NEO4J_HTTP_PORT"),
        ):
            if port_in_use(port):
                raise ServiceError(
                    NAME,
                    f"port {port} is already taken by another process; stop it "
                    f"(`ss -ltnp 'sport = :{port}'` shows which) or choose another port "
                    f"with {var}",
                )
        _set_initial_password(settings)
        result = _bootloader(settings, "Neo4jCommand", "start")
        if result.returncode != 0:
            raise ServiceError(NAME, f"failed to start: {_tail(result)}; see {_log_dir(settings)}")
    # ready = the database answers a query (after a crash or a load it may still be
    # recovering while Bolt already accepts connections)
    if not wait_until(lambda: reachable(settings), timeout, interval=1.0):
        raise ServiceError(
            NAME,
            f"did not answer on Bolt port {settings.neo4j_bolt_port} within {timeout:.0f}s; "
            f"see {_log_dir(settings) / 'neo4j.log'}",
        )


def stop(settings: Settings) -> None:
    """Stop the local server; does nothing if it is not running or external."""
    if not settings.local_neo4j or not (settings.neo4j_home / _MARKER).exists():
        return
    if _running_pid(settings) is None:
        return
    result = _bootloader(settings, "Neo4jCommand", "stop")
    if result.returncode != 0:
        raise ServiceError(NAME, f"failed to stop: {_tail(result)}")


def status(settings: Settings) -> ServiceStatus:
    uri = settings.effective_neo4j_uri()
    state = ServiceStatus(
        name=NAME,
        reachable=False,
        mode="local" if settings.local_neo4j else "external",
        listen=uri + ("" if not settings.local_neo4j else f" (http :{settings.neo4j_http_port})"),
    )
    if settings.local_neo4j and not (settings.neo4j_home / _MARKER).exists():
        state.detail = "not installed: run `make setup` or `ragrec services up`"
        return state
    if settings.local_neo4j and not port_in_use(settings.neo4j_bolt_port):
        # answer at once: nothing listens, so a driver would only retry for nothing
        state.detail = (
            f"unreachable: not running (nothing listens on 127.0.0.1:{settings.neo4j_bolt_port})"
        )
        return state
    try:
        # one attempt, no managed-transaction retries: a status must answer in seconds
        with driver(settings, max_retry_s=0) as drv:
            records, _, _ = drv.execute_query(
                "CALL dbms.components() YIELD name, versions, edition "
                "RETURN versions[0] AS version, edition",
                database_=settings.neo4j_database,
            )
            state.version["neo4j"] = f"{records[0]['version']} {records[0]['edition']}"
            for key, query in (
                ("gds", "RETURN gds.version() AS v"),
                ("apoc", "RETURN apoc.version() AS v"),
            ):
                try:
                    rows, _, _ = drv.execute_query(query, database_=settings.neo4j_database)
                    state.version[key] = str(rows[0]["v"])
                except Neo4jError:
                    state.version[key] = "missing"
        state.reachable = True
        if state.version.get("gds") == "missing":
            state.reachable = False
            state.detail = "Graph Data Science is not installed in this Neo4j"
    except (ServiceUnavailable, AuthError, OSError, Neo4jError) as exc:
        state.detail = f"unreachable: {exc}"
    return state


def driver(settings: Settings, *, max_retry_s: float | None = None) -> Driver:
    """A Bolt driver for the configured Neo4j (local or external).

    Managed transactions (`execute_query`, `execute_read/write`) retry transient errors
    (a restarting server, a lost connection, deadlocks) for `max_retry_s` seconds (the
    driver's default, 30 s, when None); a connection attempt gives up after
    `settings.neo4j_connect_timeout_s`.
    """
    options: dict[str, Any] = {}
    if max_retry_s is not None:
        options["max_transaction_retry_time"] = max_retry_s
    return GraphDatabase.driver(
        settings.effective_neo4j_uri(),
        auth=(settings.neo4j_user, settings.effective_neo4j_password()),
        connection_timeout=settings.neo4j_connect_timeout_s,
        max_connection_lifetime=3600,
        notifications_min_severity="OFF",
        **options,
    )


def api_driver(settings: Settings) -> Driver:
    """The API's driver: a request waits on an unreachable Neo4j for at most about
    `settings.api_neo4j_timeout_s` (connection attempts plus retries), then the
    `ServiceUnavailable` becomes a 503 with Retry-After (see `app.lib.graph`)."""
    budget = settings.api_neo4j_timeout_s
    options: dict[str, Any] = {
        "max_transaction_retry_time": budget / 2,
        "connection_timeout": min(settings.neo4j_connect_timeout_s, budget / 2),
        "connection_acquisition_timeout": budget,
    }
    return GraphDatabase.driver(
        settings.effective_neo4j_uri(),
        auth=(settings.neo4j_user, settings.effective_neo4j_password()),
        max_connection_lifetime=3600,
        notifications_min_severity="OFF",
        **options,
    )


def admin(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `neo4j-admin` of the local install (e.g. `database import full ...`)."""
    return _bootloader(settings, "Neo4jAdminCommand", *args)


# -- helpers ---------------------------------------------------------------------------


def _fingerprint(settings: Settings) -> str:
    poms = "".join((MAVEN_DIR / name).read_text() for name in sorted(os.listdir(MAVEN_DIR)))
    return (
        f"neo4j={settings.neo4j_version} gds={settings.gds_version} apoc={settings.apoc_version} "
        f"poms={hashlib.sha256(poms.encode()).hexdigest()[:16]}"
    )


def _artifact(jar_name: str) -> str:
    """`org.neo4j.gds.proc-2.13.9.jar` -> `org.neo4j.gds.proc` (group-prefixed name)."""
    return _JAR_VERSION.sub("", jar_name)


def _require_tool(tool: str, package: str) -> str:
    path = shutil.which(tool)
    if path:
        return path
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "update", "-q"], check=False, capture_output=True)
        result = subprocess.run(
            ["apt-get", "install", "-y", "-q", package], capture_output=True, text=True
        )
        path = shutil.which(tool)
        if path:
            return path
        raise ServiceError(NAME, f"`apt-get install -y {package}` failed: {_tail(result)}")
    raise ServiceError(
        NAME, f"`{tool}` is missing; install it with: sudo apt-get install -y {package}"
    )


def _check_java_version(java: str) -> None:
    out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    match = re.search(r'version "(\d+)', out)
    if not match or int(match.group(1)) < 17:
        raise ServiceError(
            NAME,
            f"Neo4j 5 needs Java 17 or newer, found: {out.splitlines()[0] if out else 'none'}; "
            "install it with: sudo apt-get install -y openjdk-17-jre-headless",
        )


def _copy_dependencies(mvn: str, pom: str, dest: Path, settings: Settings) -> None:
    cmd = [
        mvn,
        "-q",
        "-B",
        "-f",
        str(MAVEN_DIR / pom),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={dest}",
        "-DincludeScope=runtime",
        "-Dmdep.prependGroupId=true",
        f"-Dneo4j.version={settings.neo4j_version}",
        f"-Dgds.version={settings.gds_version}",
        f"-Dapoc.version={settings.apoc_version}",
    ]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        missing = re.findall(
            r"(?:Could not (?:find|resolve)[^\n]*?)([\w.\-]+:[\w.\-]+:[\w.\-]+)", result.stdout
        )
        what = f"artifact {missing[0]} did not resolve" if missing else _tail(result)
        raise ServiceError(
            NAME,
            f"Maven could not fetch {pom}: {what}. Check that Maven Central is reachable, or pin "
            "other versions with RAGREC_NEO4J_VERSION / RAGREC_GDS_VERSION / RAGREC_APOC_VERSION; "
            "the partial install was removed and the next run starts clean",
        )


def _data_root(settings: Settings) -> Path:
    return settings.home / "neo4j"


def _log_dir(settings: Settings) -> Path:
    return _data_root(settings) / "logs"


def _ensure_data_dirs(settings: Settings) -> None:
    for sub in ("data", "logs", "run", "import"):
        (_data_root(settings) / sub).mkdir(parents=True, exist_ok=True)


def _write_conf(settings: Settings, path: Path) -> None:
    root = _data_root(settings)
    lines = [
        "# Written by ragrec.services.neo4j from ragrec settings; edits are overwritten.",
        "server.default_listen_address=127.0.0.1",
        f"server.bolt.listen_address=:{settings.neo4j_bolt_port}",
        f"server.http.listen_address=:{settings.neo4j_http_port}",
        "server.https.enabled=false",
        f"server.directories.data={root / 'data'}",
        f"server.directories.logs={root / 'logs'}",
        f"server.directories.run={root / 'run'}",
        f"server.directories.import={root / 'import'}",
        "server.memory.heap.initial_size=1g",
        f"server.memory.heap.max_size={settings.neo4j_heap}",
        f"server.memory.pagecache.size={settings.neo4j_pagecache}",
        "db.tx_log.rotation.retention_policy=2 files",
        "dbms.security.procedures.unrestricted=gds.*,apoc.*",
        "dbms.security.procedures.allowlist=gds.*,apoc.*",
        "dbms.usage_report.enabled=false",
        *(f"server.jvm.additional={opt}" for opt in JVM_OPTIONS),
    ]
    text = "\n".join(lines) + "\n"
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def _env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env["NEO4J_HOME"] = str(settings.neo4j_home)
    env["NEO4J_CONF"] = str(settings.neo4j_home / "conf")
    java = shutil.which("java")
    if java and "JAVA_HOME" not in env:
        env["JAVA_HOME"] = str(Path(os.path.realpath(java)).parent.parent)
    return env


def _raise_file_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = 40000 if hard == resource.RLIM_INFINITY else min(40000, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def _bootloader(settings: Settings, command: str, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [
        "java",
        "-cp",
        str(settings.neo4j_home / "lib" / "*"),
        f"org.neo4j.server.startup.{command}",
        *args,
    ]
    return subprocess.run(
        cmd,
        env=_env(settings),
        capture_output=True,
        text=True,
        preexec_fn=_raise_file_limit,
        cwd=settings.neo4j_home,
    )


def _set_initial_password(settings: Settings) -> None:
    if (_data_root(settings) / "data" / "dbms" / "auth.ini").exists():
        return
    result = admin(settings, "dbms", "set-initial-password", settings.effective_neo4j_password())
    if result.returncode != 0:
        raise ServiceError(NAME, f"could not set the initial password: {_tail(result)}")


def _running_pid(settings: Settings) -> int | None:
    pid_file = _data_root(settings) / "run" / "neo4j.pid"
    if not pid_file.exists():
        return None
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, 0)
    except (ValueError, ProcessLookupError, PermissionError):
        return None
    return pid


def reachable(settings: Settings) -> bool:
    """Whether the configured database answers a query now (one attempt, no retries)."""
    if settings.local_neo4j and not port_in_use(settings.neo4j_bolt_port):
        return False
    try:
        with driver(settings, max_retry_s=0) as drv:
            drv.execute_query("RETURN 1", database_=settings.neo4j_database)
        return True
    except (ServiceUnavailable, OSError, Neo4jError):
        return False


def _tail(result: subprocess.CompletedProcess[str], lines: int = 6) -> str:
    text = (result.stderr or "") + (result.stdout or "")
    return " | ".join(text.strip().splitlines()[-lines:]) or f"exit code {result.returncode}"
