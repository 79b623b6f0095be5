"""Helpers of the automation tests (n8n, worker, campaigns): the sample graph with
embeddings and personas, a real `ragrec serve`, a real `ragrec worker`, an SMTP sink."""

from __future__ import annotations

import email
import email.policy
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from neo4j import Driver

from ragrec.config import PROJECT_ROOT, Settings
from ragrec.cypher import query
from ragrec.etl.pseudonymise import pseudonymise_customer_id
from ragrec.services.sandbox import free_port, serving

SAMPLE = PROJECT_ROOT / "data" / "sample"
RAGREC = str(Path(sys.executable).with_name("ragrec"))
ADMIN_KEY = "t-automation-admin"


def pseudonym(settings: Settings, shop_id: str) -> str:
    return pseudonymise_customer_id(shop_id, settings.effective_pseudonym_key())


def small_sample(folder: Path, products: int = 200) -> Path:
    """A slice of data/sample: the products with a picture plus the best-selling others
    (`products` in all), their transactions and customers; pictures linked, not copied."""
    import polars as pl

    folder.mkdir(parents=True, exist_ok=True)
    articles = pl.read_parquet(SAMPLE / "articles_sample.parquet")
    tx = pl.read_parquet(SAMPLE / "transactions_sample.parquet")
    pictured = {int(p.stem) for p in (SAMPLE / "images").glob("*.jpg")}
    sellers = tx.group_by("article_id").len().sort("len", descending=True)["article_id"]
    keep = list(pictured) + [a for a in sellers.to_list() if a not in pictured]
    keep = keep[:products]
    articles.filter(pl.col("article_id").is_in(keep)).write_parquet(folder / "articles.parquet")
    kept_tx = tx.filter(pl.col("article_id").is_in(keep))
    kept_tx.write_parquet(folder / "transactions.parquet")
    customers = pl.read_parquet(SAMPLE / "customers_sample.parquet")
    customers.filter(pl.col("customer_id").is_in(kept_tx["customer_id"].unique())).write_parquet(
        folder / "customers.parquet"
    )
    images = folder / "images"
    if not images.exists():
        images.symlink_to(SAMPLE / "images")
    return folder


def prepare_graph(driver: Driver, settings: Settings, folder: Path, *, personas: bool) -> None:
    """An emptied graph holding `folder` (and, optionally, personas discovered on it)."""
    from ragrec.graph.loader import load_data

    with driver.session(database=settings.neo4j_database) as session:
        session.run(query("graph/wipe")).consume()
    load_data(folder, settings, driver, show_progress=False, bulk=False)
    if personas:
        from ragrec.gds import gds_client
        from ragrec.personas import service

        service.discover(gds_client(driver, settings), driver, settings.neo4j_database, seed=7)


def embed_through_api(base: str, driver: Driver, settings: Settings) -> None:
    """Every product's text and image vectors, made by the running API (its encoders are
    loaded once, and it holds the embedded Qdrant shards): one reindex call embeds all
    products whose vectors are missing."""
    records, _, _ = driver.execute_query(
        "MATCH (p:Product) RETURN p.id AS id ORDER BY p.id LIMIT 1",
        database_=settings.neo4j_database,
    )
    response = httpx.post(
        f"{base}/api/v1/internal/products/{records[0]['id']}/reindex",
        json={},
        headers={"X-API-Key": ADMIN_KEY},
        timeout=900,
    )
    assert response.status_code == 200, response.text


def api_env(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "RAGREC_API_KEYS": f'{{"admin": ["{ADMIN_KEY}"]}}',
        "RAGREC_API_RATE_LIMIT": "0",
        # freshness, not latency, is tested here, on a machine shared with other stacks
        "RAGREC_REC_QUERY_TIMEOUT_S": "30",
        **extra,
    }


@contextmanager
def running(cmd: list[str], log: Path, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextmanager
def api_server(log: Path, **env: str) -> Iterator[str]:
    """`ragrec serve` on a free port, healthy, with the admin key ADMIN_KEY."""
    with serving(env=api_env(**env), log=log, timeout_s=120) as api:
        yield api.base


@dataclass
class SmtpSink:
    """A real SMTP server (aiosmtpd) that keeps what it receives."""

    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)  # type: ignore[arg-type]
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if address in str(m["To"])]

    def with_subject(self, text: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if text in str(m["Subject"])]


def body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    return part.get_content() if part is not None else ""


@contextmanager
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink(port=free_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


def wait_for(check: Any, timeout: float, interval: float = 0.5) -> Any:
    """Poll `check()` until it returns something truthy; returns it (or the last value)."""
    deadline = time.monotonic() + timeout
    value = check()
    while not value and time.monotonic() < deadline:
        time.sleep(interval)
        value = check()
    return value
