"""`ragrec worker`: the micro-batch loop (see `ragrec.worker.loop`)."""

from __future__ import annotations

import logging
import signal
from typing import Annotated

import typer
from rich.console import Console

from ragrec.config import get_settings

console = Console(stderr=True)


def register(app: typer.Typer) -> None:
    app.command("worker")(worker_cmd)


def worker_cmd(
    interval: Annotated[
        float | None, typer.Option(min=0.1, help="seconds between steps (RAGREC_WORKER_INTERVAL_S)")
    ] = None,
    once: Annotated[bool, typer.Option(help="one step, then exit")] = False,
) -> None:
    """Apply new purchases, events and products: co-purchase links, embeddings, personas,
    ranked lists and cache, for what changed only, every 30 s."""
    from ragrec.services import neo4j as neo4j_service
    from ragrec.worker.loop import Worker

    settings = get_settings()
    if interval is not None:
        settings = settings.model_copy(update={"worker_interval_s": interval})
    logging.basicConfig(level=logging.WARNING)
    stopping = {"now": False}

    def stop(_sig: int, _frame: object) -> None:
        stopping["now"] = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    driver = neo4j_service.driver(settings)
    worker = Worker(settings, driver, say=lambda msg: console.print(msg, soft_wrap=True))
    console.print(
        f"worker: every {settings.worker_interval_s:g}s, batches of {settings.worker_batch_size:,}"
        + (" (one step)" if once else "; Ctrl-C stops")
    )
    try:
        if once:
            report = worker.step()
            console.print(report.line())
            if report.errors:
                raise typer.Exit(1)
        else:
            worker.run(stop=lambda: stopping["now"])
    finally:
        worker.close()
        driver.close()
