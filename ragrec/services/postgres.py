"""Project-local PostgreSQL 15 cluster with pgvector 0.8.x.

Layout (under ``settings.home``, i.e. ``.ragrec/``)::

    postgres/data/        the cluster (``settings.pg_data_dir``), owned by the cluster user
    postgres/run/         unix socket directory
    postgres/log/         server log (``postgresql.log``)
    build/pgvector/       pgvector source fetched with ``apt-get source`` and its build log

pgvector is built from Debian's ``pgvector`` *source* package of the trixie suite (0.8.x;
bookworm only ships 0.4.x) against ``postgresql-server-dev-15``. A ``deb-src``-only entry for
trixie is written to ``/etc/apt/sources.list.d/ragrec-trixie-src.list``, using the mirror of the
Debian entry already configured on this machine (it adds no binary packages, so nothing from
trixie can be installed by accident).

PostgreSQL 15 only looks for extensions in its compiled-in directories (``extension_control_path``
arrives in PostgreSQL 18, and ``make install DESTDIR=...`` only stages files), so the build is
installed into the system tree reported by ``pg_config``: ``/usr/share/postgresql/15/extension``
(``vector.control`` + SQL scripts) and ``/usr/lib/postgresql/15/lib`` (``vector.so``). These files
are not owned by any Debian package; remove them with ``make uninstall`` in the build directory.
The build is skipped when a ``vector.control`` of the 0.8 series is already installed.

The cluster listens on 127.0.0.1 only. Least privilege:

* the app connects over TCP as ``settings.pg_user`` (``ragrec``), a role that is **not** a
  superuser (it owns its database and tables, nothing else), with password authentication
  (``scram-sha-256``); the password is ``settings.pg_password`` or a secret generated into
  ``.ragrec/secrets/pg_password`` (0600, never committed);
* the cluster's bootstrap superuser is ``settings.pg_admin_user`` (``ragrec_admin``); it logs
  in only over the unix socket, whose directory is private to the cluster owner (0700), and
  is used by ``start`` to create the role, database and extension;
* a cluster made before this (the app role was the superuser, trust login) is migrated on
  the next ``services up``: the bootstrap role is renamed to the admin name, a new
  non-superuser app role takes over the database and its objects, and ``pg_hba.conf``
  switches TCP logins to scram.

Point ``RAGREC_PG_DSN`` at a real server instead (then ``install``/``start``/``stop`` do
nothing and ``status`` only connects).

initdb and postgres refuse to run as root: when RagRec runs as root the cluster is owned by, and
every server command run via ``runuser`` as, the ``postgres`` system user (created by Debian's
postgresql package) or else a ``ragrec`` system user created here. As a normal user the cluster
is owned by that user, and only the pgvector build needs root.
"""

from __future__ import annotations

import json
import logging
import os
import pwd
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ragrec.config import PROJECT_ROOT, Settings
from ragrec.services.base import ServiceError, ServiceStatus, port_in_use, wait_until

NAME = "postgres"
HOST = "127.0.0.1"
PGVECTOR_SERIES = "0.8."
SOURCE_SUITE = "trixie"
TRIXIE_SRC_LIST = Path("/etc/apt/sources.list.d/ragrec-trixie-src.list")
MIGRATE_ROLE = "ragrec_migrate"  # a temporary superuser while the bootstrap role is renamed
HBA = (
    "# Written by ragrec: the unix socket (directory private to the cluster owner) for the\n"
    "# admin role, password (scram-sha-256) over loopback TCP for everything else.\n"
    "# TYPE  DATABASE  USER  ADDRESS        METHOD\n"
    "local   all       all                  trust\n"
    "host    all       all   127.0.0.1/32   scram-sha-256\n"
)
MARKER = "ragrec-cluster.json"  # written into the data dir once initdb + configuration are done
CONF_FILE = "ragrec.conf"  # included by postgresql.conf, rewritten on every start
BUILD_SCRIPT = PROJECT_ROOT / "scripts" / "build_pgvector.sh"

log = logging.getLogger(__name__)

# Tuned for the reference box (2 cores, 24 GiB RAM), shared with Neo4j (3g heap + 2g page cache)
# and the API. maintenance_work_mem is what HNSW builds use to keep the graph in memory.
MEMORY_SETTINGS: dict[str, str] = {
    "max_connections": "50",
    "shared_buffers": "1GB",
    "effective_cache_size": "8GB",
    "work_mem": "32MB",
    "maintenance_work_mem": "1GB",
    "wal_buffers": "16MB",
    "max_worker_processes": "4",
    "max_parallel_workers": "2",
    "max_parallel_workers_per_gather": "1",
    "max_parallel_maintenance_workers": "1",
    "max_wal_size": "4GB",
    "min_wal_size": "256MB",
    "checkpoint_completion_target": "0.9",
    "random_page_cost": "1.1",
    "effective_io_concurrency": "200",
    "jit": "off",
}


# --------------------------------------------------------------------------- public API


def install(settings: Settings) -> None:
    """Make pgvector available and create the cluster. Idempotent, fast when already done.

    A data directory left by an interrupted earlier install (no ``PG_VERSION`` or no marker file)
    is removed and initialised again.
    """
    if not settings.local_pg:
        return
    _ensure_server_binaries(settings)
    ensure_pgvector(settings)
    _ensure_cluster(settings)


def start(settings: Settings, timeout: float = 60) -> None:
    """Start the cluster (no-op when it already runs) and ensure role, database and extension."""
    if not settings.local_pg:
        return
    data = settings.pg_data_dir
    if not _cluster_valid(data):
        raise ServiceError(NAME, f"no cluster in {data}; run `ragrec services up` (install) first")
    _check_major(settings, data)
    running_port = _running_port(settings)
    if running_port is not None:
        if running_port != settings.pg_port:
            raise ServiceError(
                NAME,
                f"the cluster in {data} already runs on port {running_port}, but RAGREC_PG_PORT "
                f"is {settings.pg_port}; stop it (`ragrec services down`) and start it again",
            )
    else:
        if port_in_use(settings.pg_port, HOST):
            raise ServiceError(
                NAME,
                f"port {settings.pg_port} on {HOST} is already used by another program; set "
                f"RAGREC_PG_PORT to a free port (e.g. RAGREC_PG_PORT={settings.pg_port + 1}) "
                "or stop that program",
            )
        _write_config(settings)
        logfile = _log_file(settings)
        proc = _run_owner(
            settings,
            [
                str(settings.pg_bin_dir / "pg_ctl"),
                "start",
                "-D",
                str(data),
                "-l",
                str(logfile),
                "-w",
                "-t",
                str(max(1, int(timeout))),
                "-s",
            ],
            check=False,
            start_new_session=True,
        )
        if proc.returncode != 0:
            raise ServiceError(
                NAME,
                f"pg_ctl start failed ({proc.stdout.strip()} {proc.stderr.strip()}); "
                f"last lines of {logfile}:\n{_tail(logfile)}",
            )
    if not wait_until(lambda: _accepts_connections(settings), timeout):
        raise ServiceError(
            NAME,
            f"started but not accepting connections on {HOST}:{settings.pg_port} after "
            f"{timeout:.0f}s; see {_log_file(settings)}:\n{_tail(_log_file(settings))}",
        )
    _ensure_objects(settings)


def stop(settings: Settings) -> None:
    """Stop the cluster (fast shutdown). No-op when it is not running or not installed."""
    if not settings.local_pg or not (settings.pg_data_dir / "PG_VERSION").exists():
        return
    if _running_port(settings) is None:
        return
    proc = _run_owner(
        settings,
        [
            str(settings.pg_bin_dir / "pg_ctl"),
            "stop",
            "-D",
            str(settings.pg_data_dir),
            "-m",
            "fast",
            "-w",
            "-t",
            "120",
            "-s",
        ],
        check=False,
    )
    if proc.returncode != 0 and _running_port(settings) is not None:
        raise ServiceError(NAME, f"pg_ctl stop failed: {proc.stdout.strip()} {proc.stderr.strip()}")


def status(settings: Settings) -> ServiceStatus:
    """Whether PostgreSQL answers, with server and pgvector versions."""
    if not settings.local_pg:
        result = ServiceStatus(NAME, False, "external", _dsn_location(settings.pg_dsn or ""))
    else:
        result = ServiceStatus(NAME, False, "local", f"{HOST}:{settings.pg_port}")
        if not _cluster_valid(settings.pg_data_dir):
            result.detail = f"not installed ({settings.pg_data_dir}); run `ragrec services up`"
            return result
    try:
        with psycopg.connect(settings.effective_pg_dsn(), connect_timeout=3) as conn:
            row = conn.execute(
                "SELECT current_setting('server_version'),"
                " (SELECT extversion FROM pg_extension WHERE extname = 'vector'),"
                " (SELECT default_version FROM pg_available_extensions WHERE name = 'vector')"
            ).fetchone()
    except psycopg.Error as exc:
        result.detail = f"not reachable: {str(exc).strip()}"
        return result
    assert row is not None
    server_version, extversion, available = row
    result.reachable = True
    result.version["postgresql"] = str(server_version)
    if extversion:
        result.version["pgvector"] = str(extversion)
        if available and available != extversion:
            result.detail = f"pgvector {available} installed; run ALTER EXTENSION vector UPDATE"
    elif available:
        result.detail = f"pgvector {available} available but not created in this database"
    else:
        result.detail = "pgvector is not installed on this server"
    return result


def pgvector_installed_version(settings: Settings) -> str | None:
    """``default_version`` of the installed ``vector.control`` when the module and its SQL
    script are installed too; None otherwise."""
    ext_dir, lib_dir = _pg_install_dirs(settings)
    control = ext_dir / "vector.control"
    if not control.is_file():
        return None
    match = re.search(r"^\s*default_version\s*=\s*'([^']+)'", control.read_text(), re.MULTILINE)
    if not match:
        return None
    version = match.group(1)
    if not (lib_dir / "vector.so").is_file() or not (ext_dir / f"vector--{version}.sql").is_file():
        return None
    return version


def ensure_pgvector(settings: Settings, force: bool = False) -> str:
    """Build and install pgvector 0.8.x from Debian trixie sources unless already installed.

    Returns the installed version. Needs root when something is missing.
    """
    installed = pgvector_installed_version(settings)
    if installed and installed.startswith(PGVECTOR_SERIES) and not force:
        return installed
    major = _pg_major(settings)
    packages = _build_packages(major)
    if os.geteuid() != 0:
        missing = [p for p in packages if not _deb_installed(p)]
        steps = []
        if missing:
            steps.append(f"sudo apt-get install -y --no-install-recommends {' '.join(missing)}")
        steps.append(f"sudo {_display_path(BUILD_SCRIPT)}")
        raise ServiceError(
            NAME,
            f"pgvector {PGVECTOR_SERIES}x is not installed for PostgreSQL {major} "
            f"(found: {installed or 'none'}) and building it needs root. Run:\n  "
            + "\n  ".join(steps)
            + f"\n(the script adds a deb-src entry for Debian {SOURCE_SUITE} in {TRIXIE_SRC_LIST}, "
            "runs `apt-get source pgvector` and `make install`), then run this again.",
        )
    return _build_pgvector(settings, major, packages)


# --------------------------------------------------------------------------- pgvector build


def _build_packages(major: str) -> list[str]:
    return [f"postgresql-server-dev-{major}", "build-essential", "dpkg-dev"]


def _build_pgvector(settings: Settings, major: str, packages: list[str]) -> str:
    started = time.monotonic()
    build_dir = settings.home / "build" / "pgvector"
    if build_dir.exists():
        shutil.rmtree(build_dir)
    build_dir.mkdir(parents=True)
    build_log = build_dir / "build.log"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C.UTF-8"}
    apt = ["apt-get", "-q", "-o", "DPkg::Lock::Timeout=600"]

    def run(cmd: list[str], cwd: Path = build_dir) -> None:
        log.info("pgvector build: %s", " ".join(cmd))
        with build_log.open("a") as out:
            out.write(f"\n$ {' '.join(cmd)}\n")
            out.flush()
            proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        if proc.returncode != 0:
            raise ServiceError(
                NAME,
                f"pgvector build step failed (exit {proc.returncode}): {' '.join(cmd)}\n"
                f"last lines of {build_log}:\n{_tail(build_log)}",
            )

    missing = [p for p in packages if not _deb_installed(p)]
    if missing:
        install_cmd = [*apt, "install", "-y", "--no-install-recommends", *missing]
        try:
            run(install_cmd)
        except ServiceError:  # stale package lists: refresh once and retry
            run([*apt, "update"])
            run(install_cmd)

    _write_trixie_sources()
    run(
        [
            *apt,
            "update",
            "-o",
            f"Dir::Etc::SourceList={TRIXIE_SRC_LIST}",
            "-o",
            "Dir::Etc::SourceParts=-",
            "-o",
            "APT::Get::List-Cleanup=0",
        ]
    )
    run([*apt, "-o", "APT::Sandbox::User=root", "source", f"pgvector/{SOURCE_SUITE}"])

    sources = sorted(p for p in build_dir.glob("pgvector-*") if p.is_dir())
    if len(sources) != 1:
        raise ServiceError(NAME, f"apt-get source pgvector: no single source dir in {build_dir}")
    src = sources[0]
    upstream = src.name.removeprefix("pgvector-")
    if not upstream.startswith(PGVECTOR_SERIES):
        raise ServiceError(
            NAME, f"Debian {SOURCE_SUITE} ships pgvector {upstream}, expected {PGVECTOR_SERIES}x"
        )
    pg_config = str(settings.pg_bin_dir / "pg_config")
    # OPTFLAGS="" as in Debian's package: no -march=native, so the module does not depend on
    # this CPU (pgvector dispatches its SIMD distance functions at run time).
    make = ["make", "-C", str(src), f"PG_CONFIG={pg_config}", "OPTFLAGS="]
    run([*make, f"-j{os.cpu_count() or 1}"])
    run([*make, "install"])
    _give_back_to_sudo_user(settings.home / "build")

    version = pgvector_installed_version(settings)
    if version != upstream:
        raise ServiceError(NAME, f"built pgvector {upstream} but found {version} installed")
    ext_dir, lib_dir = _pg_install_dirs(settings)
    log.info(
        "pgvector %s installed into %s and %s in %.0fs",
        version,
        ext_dir,
        lib_dir,
        time.monotonic() - started,
    )
    return version


def _write_trixie_sources() -> None:
    """deb-src lines for trixie main, on the mirror (and keyring) of the existing Debian entry."""
    uri, signed_by = _debian_mirror()
    options = f"[signed-by={signed_by}] " if signed_by else ""
    text = (
        "# Added by ragrec (ragrec/services/postgres.py) to build pgvector 0.8.x from source.\n"
        "# Sources only: no binary package comes from trixie.\n"
        f"deb-src {options}{uri} {SOURCE_SUITE} main\n"
    )
    if TRIXIE_SRC_LIST.exists() and TRIXIE_SRC_LIST.read_text() == text:
        return
    TRIXIE_SRC_LIST.write_text(text)


def _debian_mirror() -> tuple[str, str | None]:
    """(URI, signed-by keyring or None) of the configured Debian main archive entry."""
    codename = _os_release().get("VERSION_CODENAME", "")
    entries = _apt_entries()
    for uri, suites, components, signed_by in entries:
        if codename in suites and "main" in components:
            return uri, signed_by
    for uri, suites, _components, signed_by in entries:
        if any(re.fullmatch(r"[a-z]+", s) for s in suites) and "/debian" in uri:
            return uri, signed_by
    raise ServiceError(
        NAME,
        "found no Debian archive entry in /etc/apt/sources.list(.d) to take the mirror from; "
        f"write {TRIXIE_SRC_LIST} yourself with `deb-src <mirror> {SOURCE_SUITE} main`",
    )


def _apt_entries() -> list[tuple[str, list[str], list[str], str | None]]:
    """Enabled deb/deb-src entries: (uri, suites, components, signed-by path or None)."""
    entries: list[tuple[str, list[str], list[str], str | None]] = []
    etc = Path("/etc/apt")
    one_line = [etc / "sources.list", *sorted((etc / "sources.list.d").glob("*.list"))]
    for path in one_line:
        if not path.is_file() or path == TRIXIE_SRC_LIST:
            continue
        for raw in path.read_text().splitlines():
            line = raw.split("#", 1)[0].strip()
            match = re.match(r"^(deb|deb-src)\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)\s*(.*)$", line)
            if not match:
                continue
            opts = dict(o.split("=", 1) for o in (match.group(2) or "").split() if "=" in o)
            entries.append(
                (match.group(3), [match.group(4)], match.group(5).split(), opts.get("signed-by"))
            )
    for path in sorted((etc / "sources.list.d").glob("*.sources")):
        for stanza in re.split(r"\n\s*\n", path.read_text()):
            fields: dict[str, str] = {}
            key = ""
            for raw in stanza.splitlines():
                if raw.startswith("#") or not raw.strip():
                    continue
                if raw[0] in " \t" and key:  # continuation line (inline keys)
                    fields[key] += "\n" + raw.strip()
                    continue
                key, _, value = raw.partition(":")
                key = key.strip().lower()
                fields[key] = value.strip()
            if fields.get("enabled", "yes").lower() == "no" or "uris" not in fields:
                continue
            signed_by = fields.get("signed-by")
            if signed_by and ("\n" in signed_by or not signed_by.startswith("/")):
                signed_by = None  # inline key: fall back to apt's trusted keyrings
            for uri in fields["uris"].split():
                entries.append(
                    (
                        uri,
                        fields.get("suites", "").split(),
                        fields.get("components", "").split(),
                        signed_by,
                    )
                )
    return entries


def _os_release() -> dict[str, str]:
    result: dict[str, str] = {}
    path = Path("/etc/os-release")
    if path.is_file():
        for line in path.read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep:
                result[key] = value.strip().strip('"')
    return result


def _deb_installed(package: str) -> bool:
    proc = subprocess.run(
        ["dpkg-query", "-W", "-f=${db:Status-Abbrev}", package],
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.returncode == 0 and proc.stdout.startswith("ii")


def _give_back_to_sudo_user(path: Path) -> None:
    """Run via sudo (scripts/build_pgvector.sh): leave the build dir to the invoking user."""
    uid, gid = os.environ.get("SUDO_UID"), os.environ.get("SUDO_GID")
    if os.geteuid() != 0 or not uid or not gid:
        return
    for p in [path.parent, path, *path.rglob("*")]:
        os.lchown(p, int(uid), int(gid))


# --------------------------------------------------------------------------- binaries


def _ensure_server_binaries(settings: Settings) -> None:
    if (settings.pg_bin_dir / "postgres").is_file() and (settings.pg_bin_dir / "initdb").is_file():
        return
    match = re.fullmatch(r"/usr/lib/postgresql/(\d+)/bin", str(settings.pg_bin_dir))
    if not match:
        raise ServiceError(NAME, f"no PostgreSQL in {settings.pg_bin_dir} (RAGREC_PG_BIN_DIR)")
    package = f"postgresql-{match.group(1)}"
    if os.geteuid() != 0:
        raise ServiceError(
            NAME, f"PostgreSQL server missing; run: sudo apt-get install -y {package}"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    proc = subprocess.run(
        [
            "apt-get",
            "-q",
            "-o",
            "DPkg::Lock::Timeout=600",
            "install",
            "-y",
            "--no-install-recommends",
            package,
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise ServiceError(NAME, f"apt-get install {package} failed:\n{proc.stdout[-2000:]}")


def _pg_major(settings: Settings) -> str:
    proc = subprocess.run(
        [str(settings.pg_bin_dir / "postgres"), "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    match = re.search(r"\(PostgreSQL\)\s+(\d+)", proc.stdout)
    if proc.returncode != 0 or not match:
        raise ServiceError(NAME, f"cannot run {settings.pg_bin_dir / 'postgres'} --version")
    return match.group(1)


def _pg_install_dirs(settings: Settings) -> tuple[Path, Path]:
    """(extension dir, module dir) of the server in pg_bin_dir, from pg_config when present."""
    pg_config = settings.pg_bin_dir / "pg_config"
    if pg_config.is_file():
        proc = subprocess.run(
            [str(pg_config), "--sharedir", "--pkglibdir"],
            capture_output=True,
            text=True,
            check=False,
        )
        lines = proc.stdout.split()
        if proc.returncode == 0 and len(lines) == 2:
            return Path(lines[0]) / "extension", Path(lines[1])
    major = settings.pg_bin_dir.parent.name  # Debian layout: /usr/lib/postgresql/<major>/bin
    return Path("/usr/share/postgresql") / major / "extension", settings.pg_bin_dir.parent / "lib"


# --------------------------------------------------------------------------- cluster


def _pg_root(settings: Settings) -> Path:
    return settings.pg_data_dir.parent


def _socket_dir(settings: Settings) -> Path:
    return _pg_root(settings) / "run"


def _log_file(settings: Settings) -> Path:
    return _pg_root(settings) / "log" / "postgresql.log"


def _cluster_valid(data: Path) -> bool:
    return (data / "PG_VERSION").is_file() and (data / MARKER).is_file()


def _marker(settings: Settings) -> dict[str, str]:
    try:
        value = json.loads((settings.pg_data_dir / MARKER).read_text())
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _check_major(settings: Settings, data: Path) -> None:
    cluster_major = (data / "PG_VERSION").read_text().strip()
    major = _pg_major(settings)
    if cluster_major != major:
        raise ServiceError(
            NAME,
            f"the cluster in {data} is PostgreSQL {cluster_major} but {settings.pg_bin_dir} is "
            f"{major}; dump it with the old binaries or remove {data}",
        )


def _owner(settings: Settings) -> str:
    """OS user that owns and runs the cluster."""
    data = settings.pg_data_dir
    if data.exists():
        return pwd.getpwuid(data.stat().st_uid).pw_name
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid()).pw_name
    for name in ("postgres", "ragrec"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    subprocess.run(
        [
            "useradd",
            "--system",
            "--user-group",
            "--no-create-home",
            "--home-dir",
            str(_pg_root(settings)),
            "--shell",
            "/usr/sbin/nologin",
            "ragrec",
        ],
        check=True,
        capture_output=True,
    )
    return "ragrec"


def _run_owner(
    settings: Settings,
    cmd: Sequence[str],
    *,
    check: bool = True,
    owner: str | None = None,
    start_new_session: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run a server binary as the cluster owner (via runuser when we are root)."""
    user = owner or _owner(settings)
    full = list(cmd)
    if os.geteuid() == 0 and user != "root":
        full = ["runuser", "-u", user, "--", *full]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "LC_"))}
    env["LC_ALL"] = "C.UTF-8"
    proc = subprocess.run(
        full,
        cwd=_pg_root(settings),
        env=env,
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
        start_new_session=start_new_session,
    )
    if check and proc.returncode != 0:
        raise ServiceError(
            NAME, f"{' '.join(cmd)} failed (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}"
        )
    return proc


def _ensure_cluster(settings: Settings) -> None:
    data = settings.pg_data_dir
    if _cluster_valid(data):
        _check_major(settings, data)
        return
    root = _pg_root(settings)
    if data.exists():
        pid_file = data / "postmaster.pid"
        if pid_file.exists() and _pid_alive(pid_file):
            raise ServiceError(NAME, f"{data} is incomplete but a server runs on it; stop it first")
        log.warning("removing incomplete PostgreSQL data dir %s (interrupted install)", data)
        shutil.rmtree(data)
    root.mkdir(parents=True, exist_ok=True)
    owner = _owner(settings)
    pw = pwd.getpwnam(owner)
    for sub in (_socket_dir(settings), _log_file(settings).parent):
        sub.mkdir(parents=True, exist_ok=True)
        os.chown(sub, pw.pw_uid, pw.pw_gid)
        sub.chmod(0o700)
    socket_path = _socket_dir(settings) / f".s.PGSQL.{settings.pg_port}"
    if len(str(socket_path).encode()) > 100:
        raise ServiceError(NAME, f"socket path {socket_path} too long; use a shorter RAGREC_HOME")

    # initdb into a temporary sibling and rename it when complete: the data dir is either a
    # finished cluster or absent.
    tmp = root / "data.initdb-tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(mode=0o700)
    os.chown(tmp, pw.pw_uid, pw.pw_gid)
    access = _run_owner(settings, ["test", "-w", str(tmp)], check=False, owner=owner)
    if access.returncode != 0:
        shutil.rmtree(tmp)
        raise ServiceError(
            NAME,
            f"user {owner!r} cannot reach {tmp}: every parent directory of {root} must be "
            "searchable (o+x) by it; move RAGREC_HOME or fix the permissions",
        )
    superuser = settings.pg_admin_user
    if superuser == settings.pg_user:
        raise ServiceError(
            NAME, "RAGREC_PG_ADMIN_USER must differ from RAGREC_PG_USER (least privilege)"
        )
    _run_owner(
        settings,
        [
            str(settings.pg_bin_dir / "initdb"),
            "-D",
            str(tmp),
            "-U",
            superuser,
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-instructions",
        ],
        owner=owner,
    )
    _write_file(tmp / "pg_hba.conf", HBA, pw)
    conf = tmp / "postgresql.conf"
    include = f"\n# ragrec settings, rewritten on every start\ninclude_if_exists = '{CONF_FILE}'\n"
    _write_file(conf, conf.read_text() + include, pw)
    marker = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "superuser": superuser,
        "owner": owner,
        "postgresql": (tmp / "PG_VERSION").read_text().strip(),
    }
    _write_file(tmp / MARKER, json.dumps(marker, indent=2) + "\n", pw)
    _fsync_dir(tmp)
    tmp.rename(data)
    _fsync_dir(root)
    log.info("PostgreSQL cluster initialised in %s (owner %s)", data, owner)


def _write_config(settings: Settings) -> None:
    """ragrec.conf: network, paths and memory; rewritten on each start so settings apply."""
    data = settings.pg_data_dir
    socket_dir = str(_socket_dir(settings)).replace("'", "''")
    lines = [
        "# Written by ragrec on every start; change RAGREC_PG_* settings instead of this file.",
        f"listen_addresses = '{HOST}'",
        f"port = {settings.pg_port}",
        f"unix_socket_directories = '{socket_dir}'",
        *(f"{key} = {value}" for key, value in MEMORY_SETTINGS.items()),
        "timezone = 'UTC'",
        "log_timezone = 'UTC'",
        "log_min_duration_statement = 2000",
        "log_line_prefix = '%m [%p] %q%u@%d '",
    ]
    owner = pwd.getpwuid(data.stat().st_uid)
    _write_file(data / CONF_FILE, "\n".join(lines) + "\n", owner)
    _write_hba(settings)


def _write_hba(settings: Settings) -> bool:
    """pg_hba.conf as `HBA`; True when it changed (a running server must reload)."""
    path = settings.pg_data_dir / "pg_hba.conf"
    if path.exists() and path.read_text() == HBA:
        return False
    _write_file(path, HBA, pwd.getpwuid(settings.pg_data_dir.stat().st_uid))
    return True


def _write_file(path: Path, text: str, owner: pwd.struct_passwd) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.chmod(0o600)
    if os.geteuid() == 0:
        os.chown(tmp, owner.pw_uid, owner.pw_gid)
    tmp.replace(path)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _pid_alive(pid_file: Path) -> bool:
    try:
        pid = int(pid_file.read_text().splitlines()[0])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return False
    return True


def _running_port(settings: Settings) -> int | None:
    """Port of the running postmaster of this cluster, None when it does not run."""
    data = settings.pg_data_dir
    if not (data / "postmaster.pid").exists():
        return None
    proc = _run_owner(
        settings, [str(settings.pg_bin_dir / "pg_ctl"), "status", "-D", str(data)], check=False
    )
    if proc.returncode != 0:
        return None
    try:
        return int((data / "postmaster.pid").read_text().splitlines()[3])
    except (OSError, ValueError, IndexError):
        return settings.pg_port


def _admin_conninfo(settings: Settings, dbname: str) -> str:
    """Unix-socket connection as the bootstrap superuser (independent of pg_user changes)."""
    return make_conninfo(
        "",
        host=str(_socket_dir(settings)),
        port=settings.pg_port,
        user=_marker(settings).get("superuser", settings.pg_user),
        dbname=dbname,
        connect_timeout=5,
    )


def _accepts_connections(settings: Settings) -> bool:
    try:
        with psycopg.connect(_admin_conninfo(settings, "postgres")) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def _ensure_objects(settings: Settings) -> None:
    """Role settings.pg_user (not a superuser, scram password), database
    settings.pg_database owned by it, extension vector; pg_hba.conf with scram logins."""
    user, db = settings.pg_user, settings.pg_database
    if user == settings.pg_admin_user:
        raise ServiceError(
            NAME, "RAGREC_PG_ADMIN_USER must differ from RAGREC_PG_USER (least privilege)"
        )
    _migrate_bootstrap_role(settings)
    password = settings.effective_pg_password()
    with psycopg.connect(_admin_conninfo(settings, "postgres"), autocommit=True) as conn:
        ident, secret = sql.Identifier(user), sql.Literal(password)
        conn.execute("SET password_encryption = 'scram-sha-256'")
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (user,)).fetchone() is None:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(ident, secret))
        conn.execute(
            sql.SQL(
                "ALTER ROLE {} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION"
                " NOBYPASSRLS PASSWORD {}"
            ).format(ident, secret)
        )
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db,)).fetchone() is None:
            create = sql.SQL("CREATE DATABASE {} OWNER {}")
            conn.execute(create.format(sql.Identifier(db), ident))
        else:
            conn.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(db), ident))
        if _write_hba(settings):
            conn.execute("SELECT pg_reload_conf()")
    with psycopg.connect(_admin_conninfo(settings, db), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        _give_objects_to(conn, settings.pg_admin_user, user)
        row = conn.execute(
            "SELECT e.extversion, a.default_version FROM pg_extension e"
            " JOIN pg_available_extensions a ON a.name = e.extname WHERE e.extname = 'vector'"
        ).fetchone()
        if row is not None and row[0] != row[1]:
            log.info("updating extension vector %s -> %s in %s", row[0], row[1], db)
            conn.execute("ALTER EXTENSION vector UPDATE")


def _migrate_bootstrap_role(settings: Settings) -> None:
    """A cluster whose bootstrap superuser is the app role (made before least privilege):
    rename that role to the admin name through a temporary superuser, and record it in the
    marker. Idempotent; each step can be interrupted and the next start finishes it."""
    app, admin = settings.pg_user, settings.pg_admin_user
    if _marker(settings).get("superuser", app) == admin:
        return
    bootstrap = _bootstrap_name(settings, admin) or _bootstrap_name(settings, app)
    if bootstrap is None:
        raise ServiceError(NAME, f"cannot log in as {admin!r} or {app!r} over the unix socket")
    if bootstrap == app:
        with psycopg.connect(_socket_conninfo(settings, app), autocommit=True) as conn:
            _drop_role(conn, MIGRATE_ROLE)
            conn.execute(
                sql.SQL("CREATE ROLE {} SUPERUSER LOGIN").format(sql.Identifier(MIGRATE_ROLE))
            )
        with psycopg.connect(_socket_conninfo(settings, MIGRATE_ROLE), autocommit=True) as conn:
            # the app role's sessions must end before it can be renamed
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE usename = %s AND pid <> pg_backend_pid()",
                (app,),
            )
            conn.execute(
                sql.SQL("ALTER ROLE {} RENAME TO {}").format(
                    sql.Identifier(app), sql.Identifier(admin)
                )
            )
        log.info("PostgreSQL: bootstrap superuser %r renamed to %r", app, admin)
    elif bootstrap != admin:
        raise ServiceError(
            NAME, f"the cluster's superuser is {bootstrap!r}; set RAGREC_PG_ADMIN_USER to it"
        )
    with psycopg.connect(_socket_conninfo(settings, admin), autocommit=True) as conn:
        _drop_role(conn, MIGRATE_ROLE)
    marker = {**_marker(settings), "superuser": admin}
    owner = pwd.getpwuid(settings.pg_data_dir.stat().st_uid)
    _write_file(settings.pg_data_dir / MARKER, json.dumps(marker, indent=2) + "\n", owner)


def _socket_conninfo(settings: Settings, user: str, dbname: str = "postgres") -> str:
    return make_conninfo(
        "",
        host=str(_socket_dir(settings)),
        port=settings.pg_port,
        user=user,
        dbname=dbname,
        connect_timeout=5,
    )


def _bootstrap_name(settings: Settings, user: str) -> str | None:
    """Name of the bootstrap superuser, asked as `user` (None when `user` cannot log in)."""
    try:
        with psycopg.connect(_socket_conninfo(settings, user)) as conn:
            row = conn.execute("SELECT rolname FROM pg_roles WHERE oid = 10").fetchone()
    except psycopg.OperationalError:
        return None
    return str(row[0]) if row else None


def _drop_role(conn: psycopg.Connection[Any], role: str) -> None:
    if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def _give_objects_to(conn: psycopg.Connection[Any], admin: str, user: str) -> None:
    """Schemas, tables, sequences, views and functions of this database that the admin owns
    outside the system schemas and extensions become the app role's (after a migration)."""
    rows = conn.execute(
        """
        SELECT 'SCHEMA', quote_ident(n.nspname) FROM pg_namespace n
          JOIN pg_roles r ON r.oid = n.nspowner
         WHERE r.rolname = %(admin)s AND n.nspname NOT LIKE 'pg\\_%%'
           AND n.nspname NOT IN ('information_schema')
        UNION ALL
        SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                              WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END,
               quote_ident(n.nspname) || '.' || quote_ident(c.relname)
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          JOIN pg_roles r ON r.oid = c.relowner
         WHERE r.rolname = %(admin)s AND c.relkind IN ('r', 'p', 'S', 'v', 'm')
           AND n.nspname NOT IN ('pg_catalog', 'information_schema')
           AND n.nspname NOT LIKE 'pg\\_toast%%'
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                           AND d.objid = c.oid AND d.deptype = 'e')
           AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                    AND d.deptype IN ('a', 'i')))
        """,
        {"admin": admin},
    ).fetchall()
    for kind, name in rows:
        conn.execute(
            sql.SQL("ALTER {} {} OWNER TO {}").format(
                sql.SQL(kind), sql.SQL(name), sql.Identifier(user)
            )
        )
    if rows:
        log.info("PostgreSQL: %d objects now owned by %r", len(rows), user)


# --------------------------------------------------------------------------- helpers


def _dsn_location(dsn: str) -> str:
    """host:port/db of a DSN, without credentials."""
    try:
        info = conninfo_to_dict(dsn)
    except psycopg.Error:
        return "(invalid RAGREC_PG_DSN)"
    return f"{info.get('host', 'localhost')}:{info.get('port', 5432)}/{info.get('dbname', '')}"


def _display_path(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m ragrec.services.postgres install|start|stop|status|build-pgvector`."""
    import argparse

    from ragrec.config import get_settings

    parser = argparse.ArgumentParser(prog="python -m ragrec.services.postgres")
    parser.add_argument("command", choices=["install", "start", "stop", "status", "build-pgvector"])
    parser.add_argument("--force", action="store_true", help="build-pgvector: rebuild anyway")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings = get_settings()
    try:
        if args.command == "install":
            install(settings)
        elif args.command == "start":
            start(settings)
        elif args.command == "stop":
            stop(settings)
        elif args.command == "build-pgvector":
            print(f"pgvector {ensure_pgvector(settings, force=args.force)}")
        else:
            print(json.dumps(status(settings).to_dict(), indent=2))
    except ServiceError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
