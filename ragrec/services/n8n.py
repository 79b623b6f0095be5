"""n8n, the workflow automation server, installed from npm into the project home.

Layout under `settings.home` (`.ragrec/`):

    n8n-<version>/          the install: node_modules/.bin/n8n (npm, pinned version)
    n8n/user/               n8n's user folder (SQLite database, its settings, logs)
    n8n/run/n8n.pid         pid of the running server, n8n/logs/n8n.log its output

Not started by `ragrec services up` (only by `ragrec services up n8n`), but installed by
`ragrec setup`. The install is made in `n8n-<version>.partial/` and renamed into place
when complete, so an interrupted setup never leaves a half-built install. n8n runs with
telemetry, version checks, templates and banners off, so it needs no internet. Workflows
read where the API and Neo4j are from `RAGREC_N8N_*` variables set here (`$env` in n8n
expressions); secrets reach n8n only as credentials (`ragrec n8n import`).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from ragrec.config import Settings, _secret_file
from ragrec.services.base import ServiceError, ServiceStatus, port_in_use, wait_until

NAME = "n8n"
_MARKER = ".ragrec-installed"
MIN_NODE = (20, 19)
#: n8n-nodes-base asks for SheetJS 0.20.2 as a tarball from SheetJS's own CDN, which only
#: the npm registry may be reachable instead of; the same release is on the registry
#: under another name, and an override points there.
PACKAGE_JSON = {
    "name": "ragrec-n8n",
    "private": True,
    "version": "0.0.0",
    "overrides": {"xlsx": "npm:@e965/xlsx@0.20.3"},
}


def install(settings: Settings) -> None:
    """`npm install n8n@<version>` into `settings.n8n_install_dir` (`RAGREC_N8N_DIR`).

    A no-op when that version is already installed."""
    home = settings.n8n_install_dir
    if is_installed(settings):
        _ensure_dirs(settings)
        return
    npm = shutil.which("npm")
    node = shutil.which("node")
    if not npm or not node:
        raise ServiceError(
            NAME,
            "Node.js 20.19+ and npm are needed; install them with: "
            "sudo apt-get install -y nodejs npm (or from your Node.js distribution)",
        )
    _check_node_version(node)
    partial = home.with_name(home.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    if home.exists():
        shutil.rmtree(home)
    partial.mkdir(parents=True)
    (partial / "package.json").write_text(json.dumps(PACKAGE_JSON, indent=2) + "\n")
    cmd = [
        npm,
        "install",
        "--no-audit",
        "--no-fund",
        "--omit=dev",
        "--save-exact",
        "--loglevel=error",
        f"n8n@{settings.n8n_version}",
    ]
    result = subprocess.run(cmd, cwd=partial, capture_output=True, text=True)
    if result.returncode != 0 or not (partial / "node_modules" / ".bin" / "n8n").exists():
        shutil.rmtree(partial, ignore_errors=True)
        raise ServiceError(
            NAME,
            f"`npm install n8n@{settings.n8n_version}` failed: {_tail(result)}; check that the "
            "npm registry is reachable; the partial install was removed",
        )
    (partial / _MARKER).write_text(settings.n8n_version)
    partial.rename(home)
    _ensure_dirs(settings)


def is_installed(settings: Settings) -> bool:
    marker = settings.n8n_install_dir / _MARKER
    return marker.exists() and marker.read_text().strip() == settings.n8n_version


def binary(settings: Settings) -> Path:
    return settings.n8n_install_dir / "node_modules" / ".bin" / "n8n"


def start(settings: Settings, timeout: float = 180) -> None:
    """Start `n8n start` in the background (idempotent) and wait until it has activated
    its workflows (their webhooks answer) and /healthz answers."""
    install(settings)
    if _running_pid(settings) is None:
        if port_in_use(settings.n8n_port):
            raise ServiceError(
                NAME,
                f"port {settings.n8n_port} is already taken by another process; stop it "
                f"(`ss -ltnp 'sport = :{settings.n8n_port}'` shows which) or choose another "
                "port with RAGREC_N8N_PORT",
            )
        log = _log_file(settings)
        offset = log.stat().st_size if log.exists() else 0
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [str(binary(settings)), "start"],
                env=environment(settings),
                cwd=settings.n8n_user_folder,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        _pid_file(settings).write_text(str(proc.pid))
        started_ok = wait_until(lambda: _activated(log, offset), timeout, interval=1.0)
    else:
        started_ok = True
    if not started_ok or not wait_until(lambda: _healthy(settings), timeout, interval=1.0):
        raise ServiceError(
            NAME,
            f"did not answer on http://127.0.0.1:{settings.n8n_port}/healthz within "
            f"{timeout:.0f}s; see {_log_file(settings)}",
        )


def stop(settings: Settings, timeout: float = 30) -> None:
    """Stop the server started by `start` (SIGTERM, then SIGKILL after `timeout`)."""
    pid = _running_pid(settings)
    if pid is None:
        _pid_file(settings).unlink(missing_ok=True)
        return
    os.killpg(pid, signal.SIGTERM)
    if not wait_until(lambda: not _alive(pid), timeout, interval=0.5):
        os.killpg(pid, signal.SIGKILL)
        wait_until(lambda: not _alive(pid), 5, interval=0.2)
    _pid_file(settings).unlink(missing_ok=True)


def status(settings: Settings) -> ServiceStatus:
    state = ServiceStatus(
        name=NAME,
        reachable=False,
        mode="local",
        listen=f"http://127.0.0.1:{settings.n8n_port}",
        required=False,
    )
    if not is_installed(settings):
        state.detail = "not installed: run `make setup` or `ragrec setup n8n`"
        return state
    state.version["n8n"] = settings.n8n_version
    if _healthy(settings):
        state.reachable = True
        state.detail = f"editor at http://127.0.0.1:{settings.n8n_port}/"
    else:
        state.detail = "not running: `ragrec services up n8n` starts it"
    return state


def cli(settings: Settings, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run an n8n CLI command (`import:workflow`, `execute`...) against the user folder."""
    install(settings)
    env = environment(settings)
    try:
        return subprocess.run(
            [str(binary(settings)), *args],
            env=env,
            cwd=settings.n8n_user_folder,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        raise ServiceError(
            NAME, f"`n8n {' '.join(args)}` did not end within {timeout:.0f}s"
        ) from exc


def environment(settings: Settings) -> dict[str, str]:
    """n8n's environment: local only, no telemetry, and where the workflows find RagRec."""
    env = dict(os.environ)
    env.update(
        {
            "N8N_USER_FOLDER": str(settings.n8n_user_folder),
            "N8N_PORT": str(settings.n8n_port),
            "N8N_LISTEN_ADDRESS": "127.0.0.1",
            "N8N_HOST": "127.0.0.1",
            "N8N_PROTOCOL": "http",
            "WEBHOOK_URL": f"http://127.0.0.1:{settings.n8n_port}/",
            "N8N_ENCRYPTION_KEY": encryption_key(settings),
            "N8N_DIAGNOSTICS_ENABLED": "false",
            "N8N_DIAGNOSTICS_CONFIG_FRONTEND": "",
            "N8N_DIAGNOSTICS_CONFIG_BACKEND": "",
            "N8N_VERSION_NOTIFICATIONS_ENABLED": "false",
            "N8N_TEMPLATES_ENABLED": "false",
            "N8N_PERSONALIZATION_ENABLED": "false",
            "N8N_HIRING_BANNER_ENABLED": "false",
            "N8N_COMMUNITY_PACKAGES_ENABLED": "false",
            "N8N_AI_ENABLED": "false",
            "N8N_SECURE_COOKIE": "false",
            "N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS": "true",
            # Code nodes run in n8n's own process: no task broker port per instance (a CLI
            # `execute` beside the server would need its own)
            "N8N_RUNNERS_ENABLED": "false",
            "DB_SQLITE_POOL_SIZE": "2",
            "N8N_GIT_NODE_DISABLE_BARE_REPOS": "true",
            "N8N_BLOCK_ENV_ACCESS_IN_NODE": "false",
            "GENERIC_TIMEZONE": "UTC",
            "TZ": "UTC",
            "EXECUTIONS_DATA_PRUNE": "true",
            "EXECUTIONS_DATA_MAX_AGE": str(settings.n8n_executions_max_age_h),
            "NODE_OPTIONS": f"--max-old-space-size={settings.n8n_max_heap_mib}",
            # read by the workflows as {{ $env.RAGREC_N8N_... }}; no secrets here
            "RAGREC_N8N_API_URL": settings.effective_n8n_api_url(),
            "RAGREC_N8N_NEO4J_URL": settings.effective_n8n_neo4j_http_url(),
            "RAGREC_N8N_NEO4J_DATABASE": settings.neo4j_database,
            "RAGREC_N8N_MAIL_FROM": settings.n8n_mail_from,
            "RAGREC_N8N_REPORT_TO": settings.n8n_report_to,
            "RAGREC_N8N_RECIPIENT_DOMAIN": settings.n8n_recipient_domain,
            "RAGREC_N8N_SLACK_CHANNEL": settings.n8n_slack_channel,
            "RAGREC_N8N_CRM_URL": settings.n8n_crm_url,
        }
    )
    return env


def encryption_key(settings: Settings) -> str:
    """The key n8n encrypts credentials with (generated once into the secrets folder)."""
    return _secret_file(settings.home / "secrets" / "n8n_encryption_key", 24)


# -- helpers ---------------------------------------------------------------------------


def _check_node_version(node: str) -> None:
    out = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
    try:
        major, minor = (int(p) for p in out.lstrip("v").split(".")[:2])
    except ValueError:
        major, minor = 0, 0
    if (major, minor) < MIN_NODE:
        raise ServiceError(
            NAME,
            f"n8n 1.123 needs Node.js {MIN_NODE[0]}.{MIN_NODE[1]}+ (found {out or 'none'}); "
            "install a newer Node.js",
        )


def _ensure_dirs(settings: Settings) -> None:
    for path in (settings.n8n_user_folder, _pid_file(settings).parent, _log_file(settings).parent):
        path.mkdir(parents=True, exist_ok=True)


def _pid_file(settings: Settings) -> Path:
    return settings.home / "n8n" / "run" / "n8n.pid"


def _log_file(settings: Settings) -> Path:
    return settings.home / "n8n" / "logs" / "n8n.log"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child of this process counts as gone
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
        return waited == 0
    except ChildProcessError:
        return True


def _running_pid(settings: Settings) -> int | None:
    path = _pid_file(settings)
    if not path.exists():
        return None
    try:
        pid = int(path.read_text().strip())
    except ValueError:
        return None
    return pid if _alive(pid) else None


def _activated(log: Path, offset: int) -> bool:
    """n8n answers /healthz before it has activated the workflows (and registered their
    webhooks); it logs this line once it has."""
    with log.open("rb") as fh:
        fh.seek(offset)
        return b"Editor is now accessible via" in fh.read()


def _healthy(settings: Settings) -> bool:
    url = f"http://127.0.0.1:{settings.n8n_port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _tail(result: subprocess.CompletedProcess[str], lines: int = 6) -> str:
    text = (result.stderr or "") + (result.stdout or "")
    return " | ".join(text.strip().splitlines()[-lines:]) or f"exit code {result.returncode}"


def wait_stopped(settings: Settings, timeout: float = 10) -> bool:
    """Whether the port is free again within `timeout` (used after `stop`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not port_in_use(settings.n8n_port):
            return True
        time.sleep(0.2)
    return False
