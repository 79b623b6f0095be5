"""The API under its production server (`ragrec serve`, uvicorn) in a subprocess, over
real HTTP: requests and a graceful shutdown that finishes the request in flight
(Schemathesis with authentication: test_schemathesis.py)."""

from __future__ import annotations

import json
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from neo4j import Driver

from ragrec.config import PROJECT_ROOT, Settings
from ragrec.cypher import query
from ragrec.graph.loader import load_data
from ragrec.services.sandbox import ApiProcess, start_api

pytestmark = pytest.mark.integration

SAMPLE = PROJECT_ROOT / "data" / "sample"
BEST_SELLER = "0685816002"


#: uvicorn shuts down gracefully on SIGTERM, then re-raises the signal it caught
GRACEFUL_EXIT = (0, -signal.SIGTERM)


def start_server(log: Path) -> ApiProcess:
    api = start_api(env={"RAGREC_API_RATE_LIMIT": "0"}, log=log)
    api.wait_ready(300)  # a loaded machine: model warm-up
    return api


@pytest.fixture(scope="module")
def server(
    neo4j_driver: Driver, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    with neo4j_driver.session(database=settings.neo4j_database) as session:
        session.run(query("graph/wipe")).consume()
    load_data(SAMPLE, settings, neo4j_driver, show_progress=False, bulk=False)
    api = start_server(tmp_path_factory.mktemp("server") / "serve.log")
    yield api.base
    assert api.stop() in GRACEFUL_EXIT


def test_real_server_answers(server: str) -> None:
    with httpx.Client(base_url=server, timeout=30) as http:
        health = http.get("/api/v1/health")
        assert health.status_code == 200 and health.json() == {"status": "up"}  # anonymous
        rec = http.post("/api/v1/recommend", json={"context": "homepage", "top_k": 3})
        assert rec.status_code == 200, rec.text
        assert [i["position"] for i in rec.json()["items"]] == [1, 2, 3]
        search = http.post("/api/v1/search", json={"query": "t-shirt", "top_k": 3})
        assert search.status_code == 200 and search.json()["items"]
        missing = http.get("/api/v1/products/0000000000")
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "not_found"
        metrics = http.get("/api/v1/metrics")
        assert "ragrec_requests_total" in metrics.text


def test_graceful_shutdown_finishes_the_request_in_flight(server: str, tmp_path: Path) -> None:
    """SIGTERM while a request is being received: uvicorn stops accepting, lets that
    request finish (the body arrives after the signal) and exits."""
    log = tmp_path / "serve.log"
    api = start_server(log)
    proc, base = api.proc, api.base
    assert httpx.post(f"{base}/api/v1/recommend", json={"top_k": 5}, timeout=60).is_success
    port = int(base.rsplit(":", 1)[1])
    body = json.dumps({"context": "product", "product_id": BEST_SELLER, "top_k": 20}).encode()
    head = (
        f"POST /api/v1/recommend HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(head + body[:10])
        time.sleep(1.0)  # the server has the headers: a request is in flight
        proc.send_signal(signal.SIGTERM)
        time.sleep(1.0)
        sock.sendall(body[10:])
        response = b""
        while chunk := sock.recv(65536):
            response += chunk
    code = proc.wait(timeout=30)
    text = log.read_text()
    assert response.startswith(b"HTTP/1.1 200"), (response[:300], text[-2000:])
    assert b'"request_id"' in response
    assert code in GRACEFUL_EXIT, text[-2000:]
    assert "Shutting down" in text and "Finished server process" in text
