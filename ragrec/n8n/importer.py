"""`ragrec n8n import`: workflows and credentials into the local n8n, through n8n's CLI.

Credentials are made from settings at import time (never stored in the repository): the
JSON handed to `n8n import:credentials` is written 0600 into a temporary folder and
removed right after; n8n encrypts it with its key (`.ragrec/secrets/n8n_encryption_key`).
Workflows reference credentials by the ids and names in `ragrec.n8n.nodes.CREDENTIALS`.
The n8n CLI works on the database directly, so a running n8n is stopped for the import
and started again afterwards (it reads activations at start).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ragrec.config import Settings
from ragrec.n8n.nodes import CREDENTIALS
from ragrec.n8n.workflows import IDS, WORKFLOWS_DIR
from ragrec.services import n8n as n8n_service
from ragrec.services.base import ServiceError

#: workflows with a webhook trigger: activated by default so the shop can post events
WEBHOOK_WORKFLOWS = (
    "new_product_webhook",
    "purchase_event",
    "product_update_webhook",
    "import_hm_dataset",
)
ACTIVATE_CHOICES = ("none", "webhooks", "all")


class ImportError_(ServiceError):
    def __init__(self, message: str) -> None:
        super().__init__("n8n import", message)


@dataclass
class ImportReport:
    workflows: list[str] = field(default_factory=list)
    credentials: list[str] = field(default_factory=list)
    activated: list[str] = field(default_factory=list)
    restarted: bool = False


def import_all(
    settings: Settings,
    workflows_dir: Path = WORKFLOWS_DIR,
    *,
    activate: str | list[str] = "webhooks",
    restart: bool = True,
) -> ImportReport:
    """Import every workflow file under `workflows_dir` and the credentials from settings;
    activate `none`, `webhooks`, `all` or the named workflows."""
    if isinstance(activate, str) and activate not in ACTIVATE_CHOICES:
        raise ImportError_(f"activate must be one of {', '.join(ACTIVATE_CHOICES)}")
    if isinstance(activate, list) and (unknown := [k for k in activate if k not in IDS]):
        raise ImportError_(f"unknown workflow {unknown[0]!r}")
    n8n_service.install(settings)
    was_running = n8n_service.status(settings).reachable
    if was_running:
        n8n_service.stop(settings)
    report = ImportReport()
    try:
        report.credentials = import_credentials(settings)
        report.workflows = import_workflows(settings, workflows_dir)
        named = {"none": [], "webhooks": list(WEBHOOK_WORKFLOWS), "all": list(IDS)}
        keys = activate if isinstance(activate, list) else named[activate]
        for key in keys:
            set_active(settings, IDS[key], True)
            report.activated.append(key)
    finally:
        if was_running and restart:
            n8n_service.start(settings)
            report.restarted = True
    return report


def import_workflows(settings: Settings, workflows_dir: Path = WORKFLOWS_DIR) -> list[str]:
    """`n8n import:workflow --separate` of every group folder's files, in one n8n run
    (each run of n8n's CLI boots n8n: seconds)."""
    files = sorted(workflows_dir.rglob("*.json"))
    if not files:
        raise ImportError_(f"no workflow files under {workflows_dir}")
    with tempfile.TemporaryDirectory(prefix="ragrec-n8n-") as tmp:
        for path in files:
            (Path(tmp) / f"{path.parent.name}__{path.name}").write_bytes(path.read_bytes())
        _run(settings, "import:workflow", "--separate", f"--input={tmp}")
    return [f"{p.parent.name}/{p.stem}" for p in files]


def import_credentials(settings: Settings) -> list[str]:
    creds = credentials_from_settings(settings)
    with tempfile.TemporaryDirectory(prefix="ragrec-n8n-") as tmp:
        path = Path(tmp) / "credentials.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(creds, fh)
        _run(settings, "import:credentials", f"--input={path}")
    return [c["name"] for c in creds]


def set_active(settings: Settings, workflow_id: str, active: bool) -> None:
    _run(settings, "update:workflow", f"--id={workflow_id}", f"--active={str(active).lower()}")


def credentials_from_settings(settings: Settings) -> list[dict[str, Any]]:
    """The credentials the workflows reference, filled from settings (secrets included)."""
    data: dict[str, dict[str, Any]] = {
        "neo4j": {
            "user": settings.neo4j_user,
            "password": settings.effective_neo4j_password(),
        },
        "api": {"name": "X-API-Key", "value": admin_api_key(settings)},
        "smtp": {
            "user": settings.n8n_smtp_user,
            "password": settings.n8n_smtp_password,
            "host": settings.n8n_smtp_host,
            "port": settings.n8n_smtp_port,
            "secure": settings.n8n_smtp_secure,
            "disableStartTls": False,
        },
        "slack": {"accessToken": settings.n8n_slack_token or "unset"},
        "crm": {
            "name": "Authorization",
            "value": f"Bearer {settings.n8n_crm_token}" if settings.n8n_crm_token else "",
        },
    }
    return [
        {"id": cid, "name": name, "type": ctype, "data": data[kind]}
        for kind, (ctype, cid, name) in CREDENTIALS.items()
    ]


def admin_api_key(settings: Settings) -> str:
    """The key n8n calls the internal endpoints with: `n8n_api_key`, else the first admin
    key (`RAGREC_API_KEYS` or the API's generated keys file)."""
    if settings.n8n_api_key:
        return settings.n8n_api_key
    admin = settings.effective_api_keys().get("admin") or []
    if not admin:
        raise ImportError_(
            "no admin API key for n8n: set RAGREC_N8N_API_KEY or an admin key in RAGREC_API_KEYS"
        )
    return admin[0]


def _run(settings: Settings, *args: str) -> str:
    result = n8n_service.cli(settings, *args)
    out = (result.stdout or "") + (result.stderr or "")
    if result.returncode != 0:
        tail = " | ".join(out.strip().splitlines()[-6:])
        raise ImportError_(f"`n8n {args[0]}` failed (exit {result.returncode}): {tail}")
    return out
