"""`ragrec n8n ...`: build, import and run the n8n workflows."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

from ragrec.config import get_settings

n8n_app = typer.Typer(no_args_is_help=True, help="n8n workflows: build, import, execute.")
console = Console(stderr=True)


def register(app: typer.Typer) -> None:
    app.add_typer(n8n_app, name="n8n")


@n8n_app.command("import")
def import_cmd(
    activate: Annotated[
        str,
        typer.Option(
            help="activate: none, webhooks (the realtime webhooks and the import webhook) or "
            "all (schedules too)"
        ),
    ] = "webhooks",
) -> None:
    """Import every workflow of n8n/workflows/ and the credentials from settings."""
    from ragrec.n8n.importer import ACTIVATE_CHOICES, import_all

    if activate not in ACTIVATE_CHOICES:
        raise typer.BadParameter(
            f"{activate!r} is not one of {', '.join(ACTIVATE_CHOICES)}", param_hint="--activate"
        )
    with console.status("importing into n8n (its CLI takes a few seconds per call)"):
        report = import_all(get_settings(), activate=activate)
    console.print(f"credentials: {', '.join(report.credentials)}")
    console.print(f"workflows: {len(report.workflows)} imported")
    console.print(f"active: {', '.join(report.activated) or 'none'}")
    if report.restarted:
        console.print("n8n restarted to pick up the changes")


@n8n_app.command("build")
def build_cmd(
    check: Annotated[bool, typer.Option(help="only report files that differ")] = False,
) -> None:
    """Write n8n/workflows/<group>/<name>.json from ragrec.n8n.workflows and cypher/n8n."""
    from ragrec.n8n.workflows import WORKFLOWS_DIR, build_all, render, write_all

    if check:
        stale = [
            str(rel)
            for rel, wf in build_all().items()
            if not (WORKFLOWS_DIR / rel).exists() or (WORKFLOWS_DIR / rel).read_text() != render(wf)
        ]
        if stale:
            console.print(f"out of date: {', '.join(stale)}; run `ragrec n8n build`")
            raise typer.Exit(1)
        console.print("workflow files are up to date")
        return
    paths = write_all()
    console.print(f"{len(paths)} workflow files in {WORKFLOWS_DIR}")


@n8n_app.command("execute")
def execute_cmd(
    name: Annotated[str, typer.Argument(help="workflow name, e.g. cart_abandonment")],
) -> None:
    """Run one workflow once with n8n's CLI (`n8n execute --id`), printing its result."""
    from ragrec.n8n.workflows import IDS
    from ragrec.services import n8n as n8n_service

    if name not in IDS:
        raise typer.BadParameter(f"unknown workflow {name!r}; one of {', '.join(IDS)}")
    result = n8n_service.cli(get_settings(), "execute", f"--id={IDS[name]}", "--rawOutput")
    print(result.stdout)
    if result.returncode != 0:
        console.print(result.stderr[-2000:])
        raise typer.Exit(1)


@n8n_app.command("workflows")
def list_cmd(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The workflows with their group, id and what each does."""
    from ragrec.n8n.workflows import build_all

    rows = [
        {
            "file": str(rel),
            "id": wf["id"],
            "name": wf["name"],
            "does": wf["meta"]["ragrec"]["description"],
        }
        for rel, wf in build_all().items()
    ]
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    for r in rows:
        print(f"{r['file']:45} {r['id']}  {r['does']}")
