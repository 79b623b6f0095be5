"""Against `ragrec serve --workers 2` (issue 14): one recommendation cache for every
worker (an erasure or a new interaction invalidates cached answers in all of them, also
while a request is being computed), one rate limit for every worker (keyed by API key,
X-Forwarded-For only from a trusted proxy), and no shop customer id in the server's log."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import polars as pl
import pytest
from neo4j import Driver

from app.domain.recommendations.schemas import RecommendationResponse
from app.lib.cache import SharedCache
from ragrec.config import PROJECT_ROOT, Settings
from ragrec.cypher import query
from ragrec.graph.loader import load_data
from ragrec.services.sandbox import serving

pytestmark = pytest.mark.integration

SAMPLE = PROJECT_ROOT / "data" / "sample"
TX = pl.read_parquet(SAMPLE / "transactions_sample.parquet")
CUSTOMERS = TX.group_by("customer_id").len().sort(["len", "customer_id"], descending=True)
ERASED = str(CUSTOMERS["customer_id"][1])
ACTIVE = str(CUSTOMERS["customer_id"][2])
BEST_SELLER = (
    f"{TX.group_by('article_id').len().sort('len', descending=True)['article_id'][0]:010d}"
)
KEYS = {"admin": ["c-admin"], "events": ["c-events"], "read": ["c-read"], "widget": ["c-pk"]}
ADMIN = {"X-API-Key": "c-admin"}
EVENTS = {"X-API-Key": "c-events"}
READ = {"X-API-Key": "c-read"}  # not rate-limited here: the cache tests use it
WIDGET = {"X-API-Key": "c-pk"}
ANONYMOUS_LIMIT = 5
WIDGET_LIMIT = 3
PROXY = "127.0.0.9"
ROUNDS = 24


@pytest.fixture(scope="module")
def server(
    neo4j_driver: Driver, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    with neo4j_driver.session(database=settings.neo4j_database) as session:
        session.run(query("graph/wipe")).consume()
    load_data(SAMPLE, settings, neo4j_driver, show_progress=False, bulk=False)
    log = tmp_path_factory.mktemp("cache") / "serve.log"
    env = {
        "RAGREC_API_KEYS": json.dumps(KEYS),
        "RAGREC_API_RATE_LIMIT": str(ANONYMOUS_LIMIT),
        "RAGREC_API_RATE_LIMIT_SCOPES": json.dumps(
            {"read": 0, "events": 0, "admin": 0, "widget": WIDGET_LIMIT}
        ),
        "RAGREC_API_TRUSTED_PROXIES": json.dumps([PROXY]),
        "RAGREC_API_CACHE_TTL_S": "300",
    }
    # a loaded machine: model warm-up
    with serving("--workers", "2", env=env, log=log, timeout_s=300) as api:
        yield api.base, log


def homepage(base: str, customer: str) -> httpx.Response:
    # a new connection each time: the two workers take turns accepting them
    return httpx.get(
        f"{base}/api/v1/recommendations/homepage",
        params={"customer_id": customer, "top_k": 5},
        timeout=60,
        headers={"Connection": "close", **READ},
    )


def test_erasure_invalidates_the_cached_answers_of_every_worker(
    server: tuple[str, Path],
) -> None:
    base, log = server
    first = homepage(base, ERASED)
    assert first.status_code == 200, first.text
    warm = [homepage(base, ERASED) for _ in range(ROUNDS)]
    assert all(r.status_code == 200 and r.json()["cached"] for r in warm)
    assert {r.json()["request_id"] for r in warm}.isdisjoint({first.json()["request_id"]})
    erased = httpx.delete(f"{base}/api/v1/privacy/customers/{ERASED}", headers=ADMIN, timeout=60)
    assert erased.status_code == 200, erased.text
    after = [homepage(base, ERASED) for _ in range(ROUNDS)]
    assert [r.status_code for r in after] == [404] * ROUNDS, [r.text for r in after][:3]
    assert all(r.json()["error"]["field"] == "customer_id" for r in after)
    text = log.read_text()
    assert "/recommendations/homepage" in text  # the access log is on...
    assert ERASED not in text and "customer_id=<redacted>" in text  # ...without the shop id


def test_a_new_interaction_invalidates_every_worker(server: tuple[str, Path]) -> None:
    base, _ = server
    homepage(base, ACTIVE)
    assert all(homepage(base, ACTIVE).json()["cached"] for _ in range(6))
    event = {"customer_id": ACTIVE, "product_id": BEST_SELLER, "type": "cart_add"}
    posted = httpx.post(f"{base}/api/v1/interactions", json=event, headers=EVENTS, timeout=60)
    assert posted.status_code == 201, posted.text
    fresh = homepage(base, ACTIVE)
    assert fresh.status_code == 200 and fresh.json()["cached"] is False


def _response(tag: str) -> RecommendationResponse:
    return RecommendationResponse(request_id=tag, context="homepage", strategy="rrf", items=[])


def test_two_cache_clients_share_entries_and_a_late_write_cannot_outlive_an_erasure(
    settings: Settings,
) -> None:
    """Two SharedCache objects (two workers' pools): what one caches the other serves;
    an answer computed before an erasure is not written back after it."""
    worker_a = SharedCache(settings.effective_pg_dsn(), ttl_s=60, max_size=1000)
    worker_b = SharedCache(settings.effective_pg_dsn(), ttl_s=60, max_size=1000)
    try:
        pseudonym = f"p-{time.time_ns()}"
        key = ("rec", pseudonym, "homepage", None, (), None, 5, None, None)
        assert worker_a.get(key) is None
        worker_a.put(key, _response("a"))
        hit = worker_b.get(key)
        assert isinstance(hit, RecommendationResponse) and hit.request_id == "a"
        assert worker_b.evict_customer(pseudonym) == 1
        assert worker_a.get(key) is None  # gone for worker A too
        # worker A misses and computes; meanwhile worker B erases; A's late write is refused
        slow_key = (*key[:6], 7, None, None)
        assert worker_a.get(slow_key) is None
        worker_b.evict_customer(pseudonym)
        worker_a.put(slow_key, _response("stale"))
        assert worker_b.get(slow_key) is None and worker_a.get(slow_key) is None
        # a clear() of everything refuses in-flight writes the same way
        other = ("rec", None, "product", "x", (), None, 5, None, None)
        assert worker_a.get(other) is None
        worker_b.clear()
        worker_a.put(other, _response("stale"))
        assert worker_b.get(other) is None
    finally:
        worker_a.close()
        worker_b.close()


# -- one rate limit for every worker ------------------------------------------------------------


def from_address(address: str) -> httpx.Client:
    """A client whose connections come from `address` (any 127.x.y.z is this machine)."""
    return httpx.Client(
        transport=httpx.HTTPTransport(local_address=address),
        timeout=60,
        headers={"Connection": "close"},
    )


def fresh_window() -> None:
    """Counting windows are calendar minutes: do not start a check in a minute's last 15s."""
    if time.time() % 60 > 45:
        time.sleep(60 - time.time() % 60 + 0.5)


def unique_loopback() -> str:
    """A loopback address no earlier check in this minute used (its own counter)."""
    return "127." + ".".join(str(random.randint(1, 250)) for _ in range(3))


def test_rate_limit_is_shared_by_the_workers_and_ignores_spoofed_forwarded_for(
    server: tuple[str, Path],
) -> None:
    base, _ = server
    url = f"{base}/api/v1/products/{BEST_SELLER}"
    fresh_window()
    with from_address(unique_loopback()) as client:
        codes = [
            client.get(url, headers={"X-Forwarded-For": f"10.0.0.{n}"}).status_code
            for n in range(ANONYMOUS_LIMIT + 3)
        ]
        # per-process counting would let 2 x 5 through; one shared count stops at 5
        assert codes == [200] * ANONYMOUS_LIMIT + [429] * 3, codes
        limited = client.get(url)
        assert limited.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(limited.headers["retry-after"]) <= 61
        assert client.get(f"{base}/api/v1/health").status_code == 200  # monitoring is exempt
        assert client.get(url, headers=READ).status_code == 200  # its own (unlimited) bucket
        events = [
            client.post(
                f"{base}/api/v1/interactions",
                json={"customer_id": ACTIVE, "product_id": BEST_SELLER, "type": "view"},
                headers=EVENTS,
            ).status_code
            for _ in range(ANONYMOUS_LIMIT + 5)
        ]
        assert events == [201] * (ANONYMOUS_LIMIT + 5)  # an events key is not capped


def test_widget_key_is_limited_per_client_address(server: tuple[str, Path]) -> None:
    base, _ = server
    url = f"{base}/api/v1/products/{BEST_SELLER}"
    fresh_window()
    for _ in range(2):  # two visitors' browsers with the same publishable key
        with from_address(unique_loopback()) as browser:
            codes = [browser.get(url, headers=WIDGET).status_code for _ in range(WIDGET_LIMIT + 1)]
            assert codes == [200] * WIDGET_LIMIT + [429], codes


def test_forwarded_for_counts_only_behind_the_trusted_proxy(server: tuple[str, Path]) -> None:
    base, _ = server
    url = f"{base}/api/v1/products/{BEST_SELLER}"
    fresh_window()
    tag = time.time_ns() % 200
    with from_address(PROXY) as proxy:
        for n in range(3):  # each forwarded client has its own budget
            forwarded = {"X-Forwarded-For": f"198.51.{tag}.{n + 1}, {PROXY}"}
            codes = [proxy.get(url, headers=forwarded).status_code for _ in range(6)]
            assert codes == [200] * ANONYMOUS_LIMIT + [429], (n, codes)
