"""`ragrec gdpr export|erase ID`: the CLI twins of the API's privacy endpoints.

ID is the shop's own customer id; it is pseudonymised here exactly as the API and the
loader do, and never printed or stored.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import psycopg
import typer
from rich.console import Console

from ragrec.config import get_settings
from ragrec.etl.pseudonymise import pseudonymise_customer_id
from ragrec.privacy.gdpr import PrivacyError, PrivacyStores, erase_customer, export_customer

console = Console(stderr=True)


def register(app: typer.Typer) -> None:
    gdpr = typer.Typer(no_args_is_help=True, help="GDPR: export or erase one customer.")
    app.add_typer(gdpr, name="gdpr")

    @gdpr.command("export")
    def export_cmd(
        customer_id: Annotated[str, typer.Argument(help="the shop's own customer id")],
    ) -> None:
        """Print everything held about the customer as JSON (exit 1 when nothing is held)."""
        with _stores() as stores:
            data = export_customer(stores, _pseudonym(customer_id))
        if data is None:
            console.print("[red]not found[/red] no data is held about this customer")
            raise typer.Exit(1)
        json.dump(data, sys.stdout, indent=2)
        print()

    @gdpr.command("erase")
    def erase_cmd(
        customer_id: Annotated[str, typer.Argument(help="the shop's own customer id")],
        as_json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Erase the customer from Neo4j, pgvector, Qdrant and training data (exit 1 if
        nothing is held), and drop their answers from the API's shared cache."""
        pseudonym = _pseudonym(customer_id)
        with _stores() as stores:
            report = erase_customer(stores, pseudonym)
        _evict_cached_answers(pseudonym)
        if report is None:
            console.print("[red]not found[/red] no data is held about this customer")
            raise typer.Exit(1)
        if as_json:
            print(json.dumps(report.to_dict(), indent=2))
            return
        counts = {k: v for k, v in report.to_dict().items() if k not in ("stores", "at")}
        console.print("erased: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


def _evict_cached_answers(pseudonym: str) -> None:
    """Every API worker stops serving the customer's cached answers (shared cache)."""
    settings = get_settings()
    if settings.api_cache_ttl_s <= 0:
        return
    from app.lib.cache import SharedCache

    cache = SharedCache(settings.effective_pg_dsn(), settings.api_cache_ttl_s, 1, pool_size=1)
    try:
        cache.evict_customer(pseudonym)
    finally:
        cache.close()


def _pseudonym(customer_id: str) -> str:
    if not customer_id.strip():
        raise typer.BadParameter("the customer id is empty", param_hint="ID")
    return pseudonymise_customer_id(customer_id, get_settings().effective_pseudonym_key())


@contextmanager
def _stores() -> Iterator[PrivacyStores]:
    """The stores of the configured settings; a store failure exits 2 naming it."""
    from ragrec.services import neo4j as neo4j_service

    settings = get_settings()
    driver = neo4j_service.driver(settings)
    dsn = settings.effective_pg_dsn()
    try:
        yield PrivacyStores(settings, driver, lambda: psycopg.connect(dsn))
    except PrivacyError as exc:
        console.print(f"[red]error[/red] {exc}")
        raise typer.Exit(2) from exc
    finally:
        driver.close()
