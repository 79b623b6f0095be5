"""`ragrec backup DIR` and `ragrec restore DIR`: every store, with a manifest.

A backup folder holds::

    manifest.json      format, versions (ragrec, Neo4j/GDS/APOC, PostgreSQL/pgvector,
                       Qdrant engine), counts per store, sha256 of every file
    neo4j/<db>.dump    `neo4j-admin database dump` (Community edition: the local server is
                       stopped for the dump and started again)
    postgres.dump      `pg_dump -Fc` of the permanent tables of the app's database (vector
                       tables, erasure audit log); unlogged caches are left out
    qdrant/<name>/     the embedded engine's collection folders, copied while holding
                       each collection's lock (with a Qdrant server: snapshots on the server,
                       named in the manifest)
    settings.json      the settings that shape the data (no secrets)
    secrets/           only with `--with-secrets`: `.ragrec/secrets/*` (0600)

The folder is written as `DIR.partial` and renamed when complete, so a DIR that exists
is a finished backup. `restore` checks the manifest first and refuses, with a message
saying why, a backup of another format, of newer service versions than the ones here,
damaged files, or data pseudonymised with another key than the current one (unless its
secrets are restored too); then it replaces each store and compares the counts with the
manifest's.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ragrec import __version__
from ragrec.config import Settings
from ragrec.services import neo4j as neo4j_service
from ragrec.services import postgres as pg_service
from ragrec.services.base import ServiceError, port_in_use

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
#: setting names that may hold a secret: never in settings.json
_SECRET_WORDS = ("password", "key", "secret", "token", "dsn")

#: secrets of this installation's servers, not of the data: never restored over the
#: current ones (the running Neo4j and PostgreSQL know their own passwords);
#: settings.json holds secrets that came from the environment: the operator sets them
_INSTALLATION_SECRETS = frozenset({"neo4j_password", "pg_password", "settings.json"})

Progress = Callable[[str], None]


class BackupError(ServiceError):
    """A backup or restore that cannot go on; the message says why and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__("backup", message)


# -- backup ------------------------------------------------------------------------------


def backup(
    settings: Settings,
    dest: Path,
    *,
    with_secrets: bool = False,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Write a complete backup into `dest` (which must not exist); returns the manifest."""
    say = progress or (lambda _m: None)
    dest = dest.resolve()
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"{dest} exists and is not empty; choose a new folder")
    if not settings.local_neo4j:
        raise BackupError(
            "the graph is an external Neo4j (RAGREC_NEO4J_URI): back it up with neo4j-admin "
            "on that server; `ragrec backup` dumps the local one"
        )
    began = time.perf_counter()
    work = dest.with_name(dest.name + ".partial")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        say("reading versions and counts")
        versions = _versions(settings)
        counts: dict[str, Any] = {"graph": _graph_counts(settings)}
        say("PostgreSQL: pg_dump")
        counts["postgres"] = _pg_dump(settings, work / "postgres.dump")
        say("Qdrant: collections")
        counts["qdrant"], snapshots = _qdrant_backup(settings, work / "qdrant")
        say("Neo4j: stopping the server for neo4j-admin database dump")
        _neo4j_dump(settings, work / "neo4j")
        (work / "settings.json").write_text(json.dumps(_plain_settings(settings), indent=2))
        secrets = _copy_secrets(settings, work / "secrets") if with_secrets else []
        manifest = {
            "format": FORMAT_VERSION,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "versions": versions,
            "counts": counts,
            "neo4j_database": settings.neo4j_database,
            "pseudonym_key_fingerprint": key_fingerprint(settings.effective_pseudonym_key()),
            "secrets_included": secrets,
            "qdrant_server_snapshots": snapshots,
            "files": _checksums(work),
            "seconds": round(time.perf_counter() - began, 1),
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        if dest.exists():
            dest.rmdir()
        work.rename(dest)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return manifest


def key_fingerprint(key: bytes) -> str:
    """A fingerprint of the pseudonymisation key (not reversible to the key)."""
    return hmac.new(key, b"ragrec-backup-fingerprint", hashlib.sha256).hexdigest()[:16]


def _versions(settings: Settings) -> dict[str, str]:
    neo = neo4j_service.status(settings)
    if not neo.reachable:
        raise BackupError(f"Neo4j is not reachable ({neo.detail}); start it first")
    pg = pg_service.status(settings)
    if not pg.reachable:
        raise BackupError(f"PostgreSQL is not reachable ({pg.detail}); start it first")
    versions = {
        "ragrec": __version__,
        "neo4j": neo.version.get("neo4j", "").split()[0],
        "gds": neo.version.get("gds", ""),
        "apoc": neo.version.get("apoc", ""),
        "postgresql": pg.version.get("postgresql", "").split()[0],
        "pgvector": pg.version.get("pgvector", ""),
        "pg_dump": _pg_tool_version(settings, "pg_dump"),
    }
    if settings.local_qdrant:
        from ragrec.vectorstores.qdrant_edge import engine_version

        versions["qdrant"] = f"edge {engine_version()}"
    else:
        versions["qdrant"] = "server"
    return versions


def _graph_counts(settings: Settings) -> dict[str, dict[str, int]]:
    from ragrec.graph.loader import graph_stats

    with neo4j_service.driver(settings, max_retry_s=5) as drv:
        return graph_stats(drv, settings.neo4j_database)


def _plain_settings(settings: Settings) -> dict[str, Any]:
    data = settings.model_dump(mode="json")
    return {k: v for k, v in data.items() if not any(w in k for w in _SECRET_WORDS)}


def _copy_secrets(settings: Settings, folder: Path) -> list[str]:
    folder.mkdir(mode=0o700)
    names: list[str] = []
    source = settings.home / "secrets"
    if source.is_dir():
        for path in sorted(source.iterdir()):
            if path.is_file() and not path.name.endswith(".tmp"):
                target = folder / path.name
                shutil.copyfile(path, target)
                target.chmod(0o600)
                names.append(path.name)
    from_env = {
        k: v
        for k, v in settings.model_dump(mode="json").items()
        if any(w in k for w in _SECRET_WORDS) and v and k != "pg_dsn"
    }
    if from_env:
        target = folder / "settings.json"
        target.write_text(json.dumps(from_env, indent=2))
        target.chmod(0o600)
        names.append("settings.json")
    return names


def _checksums(folder: Path) -> dict[str, str]:
    sums: dict[str, str] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if rel == MANIFEST:
            continue
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        sums[rel] = digest.hexdigest()
    return sums


# -- Neo4j -------------------------------------------------------------------------------


def _neo4j_running(settings: Settings) -> bool:
    return port_in_use(settings.neo4j_bolt_port)


AdminCall = Callable[[], subprocess.CompletedProcess[str]]


def _neo4j_offline(settings: Settings, action: AdminCall) -> str:
    """Run a neo4j-admin `action` with the server stopped, then start it again (if it ran)."""
    was_running = _neo4j_running(settings)
    if was_running:
        neo4j_service.stop(settings)
    try:
        result = action()
    finally:
        if was_running:
            neo4j_service.start(settings)
    if result.returncode != 0:
        tail = " | ".join((result.stdout + result.stderr).strip().splitlines()[-5:])
        raise BackupError(f"neo4j-admin failed: {tail}")
    return result.stdout


def _neo4j_dump(settings: Settings, folder: Path) -> None:
    folder.mkdir()
    _neo4j_offline(
        settings,
        lambda: neo4j_service.admin(
            settings,
            "database",
            "dump",
            settings.neo4j_database,
            f"--to-path={folder}",
            "--overwrite-destination=true",
        ),
    )
    if not (folder / f"{settings.neo4j_database}.dump").is_file():
        raise BackupError(f"neo4j-admin wrote no {settings.neo4j_database}.dump into {folder}")


def _neo4j_load(settings: Settings, folder: Path, database: str) -> None:
    if database != settings.neo4j_database:
        # the dump carries its database name in the file name; load it under ours
        shutil.copyfile(folder / f"{database}.dump", folder / f"{settings.neo4j_database}.dump")
    _neo4j_offline(
        settings,
        lambda: neo4j_service.admin(
            settings,
            "database",
            "load",
            settings.neo4j_database,
            f"--from-path={folder}",
            "--overwrite-destination=true",
        ),
    )


# -- PostgreSQL --------------------------------------------------------------------------


def _pg_conninfo(settings: Settings) -> tuple[str, dict[str, str]]:
    """(conninfo without the password, environment with PGPASSWORD): no secret in argv."""
    info = conninfo_to_dict(settings.effective_pg_dsn())
    password = info.pop("password", None)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    if password:
        env["PGPASSWORD"] = str(password)
    return make_conninfo("", **info), env


def _pg_tool(settings: Settings, tool: str) -> str:
    local = settings.pg_bin_dir / tool
    found = str(local) if local.is_file() else shutil.which(tool)
    if not found:
        raise BackupError(f"{tool} not found (RAGREC_PG_BIN_DIR={settings.pg_bin_dir})")
    return found


def _pg_tool_version(settings: Settings, tool: str) -> str:
    out = subprocess.run(
        [_pg_tool(settings, tool), "--version"], capture_output=True, text=True, check=False
    ).stdout
    match = re.search(r"(\d+(?:\.\d+)?)", out)
    return match.group(1) if match else "unknown"


def _pg_tables(conn: psycopg.Connection[Any]) -> list[str]:
    """Permanent (logged) tables of schema public: vector tables and the audit log."""
    rows = conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relpersistence = 'p'"
        " ORDER BY 1"
    ).fetchall()
    return [str(r[0]) for r in rows]


def _pg_counts(conn: psycopg.Connection[Any], tables: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for table in tables:
        stmt = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier("public", table))
        row = conn.execute(stmt).fetchone()
        counts[table] = int(row[0]) if row else 0
    return counts


def _pg_dump(settings: Settings, target: Path) -> dict[str, int]:
    conninfo, env = _pg_conninfo(settings)
    with psycopg.connect(settings.effective_pg_dsn()) as conn:
        tables = _pg_tables(conn)
        counts = _pg_counts(conn, tables)
    cmd = [_pg_tool(settings, "pg_dump"), "--format=custom", "--no-owner", "--no-privileges"]
    cmd += [f"--table=public.{_quote_pattern(t)}" for t in tables]
    if not tables:
        cmd.append("--schema-only")
        cmd.append("--table=public.ragrec_no_such_table")
    cmd += [f"--file={target}", f"--dbname={conninfo}"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0 and tables:
        raise BackupError(f"pg_dump failed: {proc.stderr.strip()[-500:]}")
    if not tables:
        target.write_bytes(b"")
    return counts


def _quote_pattern(name: str) -> str:
    """A table name as a pg_dump pattern matching exactly it."""
    escaped = re.sub(r"([*?.\\])", r"\\\1", name)
    return f'"{escaped}"' if not re.fullmatch(r"[a-z_][a-z0-9_]*", name) else escaped


def _pg_restore(settings: Settings, source: Path, tables: dict[str, int]) -> None:
    conninfo, env = _pg_conninfo(settings)
    with psycopg.connect(settings.effective_pg_dsn(), autocommit=True) as conn:
        # the backup's state, not a merge: tables it does not have go too
        for table in _pg_tables(conn):
            if table not in tables:
                conn.execute(
                    sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier("public", table))
                )
    if not tables:
        return
    cmd = [
        _pg_tool(settings, "pg_restore"),
        "--clean",
        "--if-exists",
        "--no-owner",
        "--no-privileges",
        "--single-transaction",
        f"--dbname={conninfo}",
        str(source),
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BackupError(f"pg_restore failed: {proc.stderr.strip()[-500:]}")


# -- Qdrant ------------------------------------------------------------------------------


def _qdrant_backup(settings: Settings, folder: Path) -> tuple[dict[str, int], dict[str, str]]:
    if not settings.local_qdrant:
        return {}, _qdrant_server_snapshots(settings)
    from ragrec.vectorstores.qdrant_edge import (
        CollectionLockedError,
        EdgeCollection,
        list_collections,
    )

    folder.mkdir()
    counts: dict[str, int] = {}
    root = settings.qdrant_path
    for name in list_collections(root):
        try:
            handle = EdgeCollection.open(root, name, lock_timeout=10.0)
        except CollectionLockedError as exc:
            raise BackupError(
                f"Qdrant collection {name} is held by a running process (the API?); stop it "
                f"or retry: {exc}"
            ) from exc
        try:
            handle.flush()
            counts[name] = handle.count()
            # nothing writes while we hold the lock: the copy is consistent
            shutil.copytree(root / name, folder / name, ignore=shutil.ignore_patterns("*.lock"))
        finally:
            handle.close()
    return counts, {}


def _qdrant_server_snapshots(settings: Settings) -> dict[str, str]:
    from qdrant_client import QdrantClient

    client = QdrantClient(url=settings.qdrant_url, api_key=settings.qdrant_api_key, timeout=60)
    try:
        snapshots: dict[str, str] = {}
        for collection in client.get_collections().collections:
            snap = client.create_snapshot(collection.name, wait=True)
            if snap is not None:
                snapshots[collection.name] = snap.name
        return snapshots
    finally:
        client.close()


def _qdrant_counts(settings: Settings) -> dict[str, int]:
    if not settings.local_qdrant:
        return {}
    from ragrec.vectorstores.qdrant_edge import EdgeCollection, list_collections

    counts: dict[str, int] = {}
    for name in list_collections(settings.qdrant_path):
        with EdgeCollection.open(settings.qdrant_path, name, lock_timeout=10.0) as handle:
            counts[name] = handle.count()
    return counts


def _qdrant_restore(settings: Settings, folder: Path, names: list[str]) -> None:
    if not settings.local_qdrant:
        return
    from ragrec.vectorstores.qdrant_edge import (
        CollectionLockedError,
        EdgeCollection,
        list_collections,
    )

    root = settings.qdrant_path
    root.mkdir(parents=True, exist_ok=True)
    for name in sorted(set(list_collections(root)) | set(names)):
        target = root / name
        if target.exists():
            try:
                EdgeCollection.open(root, name, lock_timeout=10.0).close()
            except CollectionLockedError as exc:
                raise BackupError(
                    f"Qdrant collection {name} is held by a running process (the API?); "
                    f"stop it first: {exc}"
                ) from exc
            except Exception:  # a damaged collection is replaced below anyway
                pass
        staging = root.parent / f".qdrant-restoring-{name}"
        shutil.rmtree(staging, ignore_errors=True)
        if name in names:
            shutil.copytree(folder / name, staging)
        shutil.rmtree(target, ignore_errors=True)
        if name in names:
            staging.rename(target)


# -- restore -----------------------------------------------------------------------------


def read_manifest(source: Path) -> dict[str, Any]:
    path = source / MANIFEST
    if not path.is_file():
        raise BackupError(f"{source} is not a ragrec backup (no {MANIFEST})")
    try:
        manifest: dict[str, Any] = json.loads(path.read_text())
    except ValueError as exc:
        raise BackupError(f"{path} is not valid JSON: {exc}") from exc
    return manifest


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


def check_compatible(manifest: dict[str, Any], settings: Settings) -> list[str]:
    """Reasons why this backup cannot be restored here (empty: it can)."""
    problems: list[str] = []
    fmt = manifest.get("format")
    if fmt != FORMAT_VERSION:
        problems.append(
            f"backup format {fmt!r} is not the format this ragrec reads ({FORMAT_VERSION})"
        )
        return problems
    versions: dict[str, str] = manifest.get("versions", {})
    ours = _version_tuple(__version__)
    theirs = _version_tuple(versions.get("ragrec", "0"))
    if theirs[:1] != ours[:1] or theirs > ours:
        problems.append(
            f"made by ragrec {versions.get('ragrec')}, this is ragrec {__version__}: restore it "
            "with that version (or newer of the same major)"
        )
    local_neo4j = _version_tuple(settings.neo4j_version)
    backup_neo4j = _version_tuple(versions.get("neo4j", "0"))
    if backup_neo4j[:1] != local_neo4j[:1] or backup_neo4j > local_neo4j:
        problems.append(
            f"the graph dump is from Neo4j {versions.get('neo4j')}; this Neo4j is "
            f"{settings.neo4j_version} (a dump loads only into the same major, same or newer)"
        )
    pg_major = _version_tuple(_pg_tool_version(settings, "pg_restore"))[:1]
    dump_major = _version_tuple(versions.get("pg_dump", "0"))[:1]
    if dump_major > pg_major:
        problems.append(
            f"postgres.dump was written by pg_dump {versions.get('pg_dump')}; this pg_restore "
            f"is {pg_major[0] if pg_major else '?'}: use a PostgreSQL at least as new"
        )
    qdrant = versions.get("qdrant", "")
    if settings.local_qdrant and qdrant.startswith("edge "):
        from ragrec.vectorstores.qdrant_edge import engine_version

        if _version_tuple(qdrant)[:2] != _version_tuple(engine_version())[:2]:
            problems.append(
                f"the Qdrant collections were written by qdrant-edge {qdrant[5:]}; this is "
                f"{engine_version()} (collection folders need the same minor version)"
            )
    return problems


def restore(
    settings: Settings,
    source: Path,
    *,
    with_secrets: bool = False,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Replace the graph, the PostgreSQL tables and the Qdrant collections with the backup
    in `source`; returns {"expected": manifest counts, "restored": counts now}."""
    say = progress or (lambda _m: None)
    source = source.resolve()
    manifest = read_manifest(source)
    problems = check_compatible(manifest, settings)
    if problems:
        raise BackupError(
            f"cannot restore {source}: " + "; ".join(problems) + ". Nothing was changed."
        )
    if not settings.local_neo4j:
        raise BackupError("restore loads the dump into the local Neo4j; RAGREC_NEO4J_URI is set")
    say("checking files")
    damaged = [
        rel
        for rel, digest in manifest.get("files", {}).items()
        if _checksums_one(source / rel) != digest
    ]
    if damaged:
        raise BackupError(
            f"cannot restore {source}: damaged or missing files: {', '.join(damaged[:5])}. "
            "Nothing was changed."
        )
    restoring_secrets = with_secrets and bool(manifest.get("secrets_included"))
    if with_secrets and not restoring_secrets:
        raise BackupError(f"{source} has no secrets (it was made without --with-secrets)")
    if not restoring_secrets:
        current = key_fingerprint(settings.effective_pseudonym_key())
        if current != manifest.get("pseudonym_key_fingerprint"):
            raise BackupError(
                "the backup's customer pseudonyms were made with another pseudonymisation key "
                "than this installation's: restore with --with-secrets (if the backup has "
                "them) or set RAGREC_PSEUDONYM_KEY to that key. Nothing was changed."
            )
    if restoring_secrets:
        say("secrets")
        _restore_secrets(settings, source / "secrets")
    counts = manifest["counts"]
    say("PostgreSQL: pg_restore")
    _pg_restore(settings, source / "postgres.dump", counts.get("postgres", {}))
    say("Qdrant: collections")
    _qdrant_restore(settings, source / "qdrant", sorted(counts.get("qdrant", {})))
    say("Neo4j: stopping the server for neo4j-admin database load")
    _neo4j_load(settings, source / "neo4j", manifest.get("neo4j_database", "neo4j"))
    say("comparing counts")
    restored = {
        "graph": _graph_counts(settings),
        "postgres": _current_pg_counts(settings),
        "qdrant": _qdrant_counts(settings),
    }
    return {"expected": counts, "restored": restored, "matches": restored == counts}


def _checksums_one(path: Path) -> str | None:
    if not path.is_file():
        return None
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _current_pg_counts(settings: Settings) -> dict[str, int]:
    with psycopg.connect(settings.effective_pg_dsn()) as conn:
        return _pg_counts(conn, _pg_tables(conn))


def _restore_secrets(settings: Settings, folder: Path) -> None:
    target = settings.home / "secrets"
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(folder.iterdir()):
        if path.name in _INSTALLATION_SECRETS:
            continue
        tmp = target / f"{path.name}.tmp"
        shutil.copyfile(path, tmp)
        tmp.chmod(0o600)
        tmp.replace(target / path.name)
