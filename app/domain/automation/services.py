"""Automation endpoints: live products and purchases (n8n's realtime webhooks), and the
heavy RagRec jobs n8n schedules (each a `ragrec` command run to its end)."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import msgspec

from app.domain.automation.schemas import (
    JobResult,
    JobRun,
    ProductBatch,
    ProductsUpserted,
    PurchaseBatch,
    PurchasesRecorded,
)
from app.lib.engines import retrieval
from app.lib.errors import ApiError, NotFound, Unavailable, Unprocessable
from app.lib.graph import jsonable
from app.lib.resources import Resources
from ragrec.config import PROJECT_ROOT
from ragrec.worker.ingest import IngestError, record_purchases, upsert_products

JOB_TIMEOUT_S = 4 * 3600


def products(resources: Resources, batch: ProductBatch) -> ProductsUpserted:
    rows = [msgspec.to_builtins(p) for p in batch.products]
    for i, p in enumerate(batch.products):
        if p.image_path and not Path(p.image_path).is_absolute():
            rows[i]["image_path"] = str(PROJECT_ROOT / p.image_path)
    try:
        report = upsert_products(resources.driver, resources.settings, _typed(rows, batch))
    except IngestError as exc:
        raise Unprocessable(exc.message, field=exc.field) from exc
    embedded: dict[str, Any] | None = None
    if batch.embed and (report.created or report.reembed):
        embedded = _embed(resources)
    resources.cache.clear()
    return ProductsUpserted(
        products=report.ids,
        created=report.created,
        restocked=report.restocked,
        reembedded=report.reembed,
        embedded=embedded,
    )


def purchases(resources: Resources, batch: PurchaseBatch) -> PurchasesRecorded:
    rows = [
        {
            "customer_id": resources.pseudonym(p.customer_id),
            "product_id": p.product_id,
            "price": p.price,
            "qty": p.qty,
            "ts": p.ts,
            "channel": p.channel,
        }
        for p in batch.purchases
    ]
    try:
        report = record_purchases(resources.driver, resources.settings, rows)
    except IngestError as exc:
        if exc.not_found:
            raise NotFound(exc.message, field=exc.field) from exc
        raise Unprocessable(exc.message, field=exc.field) from exc
    for customer in report.customers:
        resources.evict_customer(customer)
    return PurchasesRecorded(
        recorded=report.recorded,
        product_ids=report.product_ids,
        customers=len(report.customers),
        new_customers=report.new_customers,
    )


def run_job(resources: Resources, name: str, run: JobRun) -> JobResult:
    """Run one named job (`JOBS`) as a `ragrec` subprocess and wait for it."""
    if name not in JOBS:
        raise NotFound(f"unknown job {name!r}; one of {', '.join(JOBS)}", field="name")
    with tempfile.TemporaryDirectory(prefix="ragrec-job-") as tmp:
        out = Path(tmp) / "result.json"
        command = JOBS[name](run, out)
        began = time.perf_counter()
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "ragrec.cli", *command],
                capture_output=True,
                text=True,
                timeout=JOB_TIMEOUT_S,
                cwd=PROJECT_ROOT,
            )
        except subprocess.TimeoutExpired as exc:
            raise Unavailable(f"job {name} did not end within {JOB_TIMEOUT_S} s") from exc
        result = json.loads(out.read_text()) if out.exists() else None
    tail = ((proc.stdout or "") + (proc.stderr or ""))[-4000:]
    if proc.returncode != 0:
        raise Unprocessable(
            f"job {name} failed (exit {proc.returncode}): {tail[-500:]}", field="name"
        )
    if name in ("full_reindex", "import_hm_dataset", "refresh"):
        resources.cache.clear()
    return JobResult(
        job=name,
        command=["ragrec", *command],
        exit_code=proc.returncode,
        seconds=round(time.perf_counter() - began, 2),
        output_tail=tail,
        result=jsonable(result) if isinstance(result, dict) else None,
    )


def _import_path(run: JobRun, _out: Path) -> list[str]:
    if not run.path:
        raise ApiError("give the folder to load", field="path")
    folder = Path(run.path) if Path(run.path).is_absolute() else PROJECT_ROOT / run.path
    if not folder.is_dir():
        raise ApiError(f"{run.path!r} is not a folder on the server", field="path")
    return ["load-data", str(folder)]


def _refresh(_run: JobRun, _out: Path) -> list[str]:
    """The engine's full refresh when it exists, else the persona discovery it builds on."""
    from ragrec.cli import app as cli_app

    names = {c.name for c in cli_app.registered_commands}
    return ["refresh"] if "refresh" in names else ["discover-personas", "--if-missing"]


JOBS = {
    "full_reindex": lambda run, out: ["generate-embeddings", "--json"],
    "import_hm_dataset": _import_path,
    "refresh": _refresh,
    "evaluate": lambda run, out: ["evaluate", "--json", str(out)],
    "vectorstore_bench": lambda run, out: [
        "benchmark",
        "vectorstores",
        "--n",
        "20000",
        "--dim",
        "384",
        "--queries",
        "200",
        "--json",
        str(out),
    ],
}


def _typed(rows: list[dict[str, Any]], batch: ProductBatch) -> list[dict[str, Any]]:
    for row, p in zip(rows, batch.products, strict=True):
        row["created_at"] = p.created_at  # a date, not msgspec's string
    return rows


def _embed(resources: Resources) -> dict[str, Any]:
    from ragrec.embeddings.base import EncoderError
    from ragrec.embeddings.pipeline import generate_embeddings
    from ragrec.vectorstores.base import VectorStoreError

    try:
        summary = generate_embeddings(
            resources.settings, resources.driver, encoder_set=retrieval(resources).encoder_set
        )
    except (VectorStoreError, EncoderError) as exc:
        raise Unavailable(f"embedding failed: {exc}") from exc
    result: dict[str, Any] = jsonable(asdict(summary))
    return result
