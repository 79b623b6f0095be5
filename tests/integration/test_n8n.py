"""n8n for real: every workflow file imports with n8n's own CLI, and four workflows run
end to end against a real `ragrec serve`, the test stack's Neo4j (through its HTTP query
API) and an SMTP sink; their effects are read back from Neo4j and the emails' content."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from automation_support import (
    ADMIN_KEY,
    SmtpSink,
    api_server,
    body_text,
    embed_through_api,
    free_port,
    prepare_graph,
    pseudonym,
    smtp_sink,
    wait_for,
)
from neo4j import Driver

from ragrec.config import PROJECT_ROOT, Settings
from ragrec.n8n import importer
from ragrec.n8n.workflows import IDS, WORKFLOWS_DIR, build_all, render
from ragrec.services import n8n as n8n_service

pytestmark = pytest.mark.timeout(900)


def test_workflow_files_match_their_builders_and_cypher_scripts() -> None:
    """The committed JSON is what `ragrec n8n build` writes from the Cypher files."""
    built = build_all()
    on_disk = {p.relative_to(WORKFLOWS_DIR) for p in WORKFLOWS_DIR.rglob("*.json")}
    assert on_disk == set(built)
    stale = [
        str(rel) for rel, wf in built.items() if (WORKFLOWS_DIR / rel).read_text() != render(wf)
    ]
    assert not stale, f"run `ragrec n8n build`: {stale}"
    groups = {rel.parts[0] for rel in built}
    assert groups == {"etl", "realtime", "personas", "benchmark", "integrations", "campaigns"}
    for rel in built:
        text = (WORKFLOWS_DIR / rel).read_text()
        assert '"password"' not in text and ADMIN_KEY not in text  # credentials by reference


@pytest.fixture(scope="module")
def sample(
    neo4j_driver: Driver, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Driver:
    """Generated data with planted segments (personas can be discovered on it)."""
    from ragrec.etl.generator import generate

    folder = tmp_path_factory.mktemp("generated")
    generate(folder, products=200, customers=1_500, transactions=15_000, seed=11, progress=False)
    prepare_graph(neo4j_driver, settings, folder, personas=False)
    return neo4j_driver


@pytest.fixture(scope="module")
def sink() -> Iterator[SmtpSink]:
    with smtp_sink() as s:
        yield s


@pytest.fixture(scope="module")
def api(
    sample: Driver, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    with api_server(tmp_path_factory.mktemp("api") / "serve.log") as base:
        embed_through_api(base, sample, settings)
        yield base


@pytest.fixture(scope="module")
def n8n(settings: Settings, api: str, sink: SmtpSink) -> Iterator[Settings]:
    """One n8n for the module (it starts slowly): a fresh user folder in the test home,
    the shared install, the workflows and credentials imported, webhooks active."""
    shared = Settings(home=PROJECT_ROOT / ".ragrec")
    install_dir = settings.n8n_install_dir
    if not n8n_service.is_installed(settings) and n8n_service.is_installed(shared):
        install_dir = shared.n8n_install_dir  # `make setup` installed it in the project home
    ours = settings.model_copy(
        update={
            "n8n_dir": install_dir,
            "n8n_port": free_port(),
            "n8n_api_url": api,
            "n8n_api_key": ADMIN_KEY,
            "n8n_smtp_host": "127.0.0.1",
            "n8n_smtp_port": sink.port,
            "n8n_report_to": "team@shop.test",
            "n8n_mail_from": "ragrec@shop.test",
        }
    )
    shutil.rmtree(ours.n8n_user_folder, ignore_errors=True)
    report = importer.import_all(ours, activate=["new_product_webhook", "purchase_event"])
    assert len(report.workflows) == len(IDS)
    n8n_service.start(ours, timeout=240)
    try:
        yield ours
    finally:
        n8n_service.stop(ours)


def test_every_workflow_is_in_n8n(n8n: Settings) -> None:
    listed = n8n_service.cli(n8n, "list:workflow")
    assert listed.returncode == 0, listed.stderr
    ids = {line.split("|")[0] for line in listed.stdout.splitlines() if "|" in line}
    assert set(IDS.values()) <= ids


def webhook(n8n: Settings, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(f"http://127.0.0.1:{n8n.n8n_port}/webhook/{path}", json=body, timeout=300)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def execute(n8n: Settings, name: str) -> str:
    result = n8n_service.cli(n8n, "execute", f"--id={IDS[name]}", timeout=300)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    return result.stdout


def one(driver: Driver, settings: Settings, cypher: str, **params: Any) -> dict[str, Any]:
    records, _, _ = driver.execute_query(cypher, params, database_=settings.neo4j_database)
    return records[0].data() if records else {}


def test_new_product_webhook_embeds_links_and_indexes(
    n8n: Settings, sample: Driver, settings: Settings, api: str
) -> None:
    source = one(
        sample,
        settings,
        "MATCH (p:Product) WHERE p.text_encoder IS NOT NULL "
        "RETURN p.id AS id, p.name AS name, p.product_type AS product_type, "
        "p.product_group AS product_group, p.colour AS colour, p.description AS description, "
        "p.index_group AS index_group, p.index_name AS index_name, p.section AS section, "
        "p.price AS price ORDER BY p.id LIMIT 1",
    )
    new_id = "n8n" + uuid.uuid4().hex[:10]
    answer = webhook(n8n, "ragrec/new-product", {**source, "id": new_id, "in_stock": True})
    assert answer["ok"] is True and answer["products"] == [new_id]
    stored = one(
        sample,
        settings,
        "MATCH (p:Product {id: $id}) RETURN p.name AS name, p.ingested_at IS NOT NULL AS stamped,"
        " p.image_encoder AS image_encoder, p.text_encoder AS text_encoder, "
        "[(p)-[:IN_CATEGORY]->(c) | c.name] AS categories, "
        "[(p)-[:HAS_COLOUR]->(c) | c.name] AS colours",
        id=new_id,
    )
    assert stored["name"] == source["name"] and stored["stamped"]
    assert stored["categories"] == [source["product_type"]]
    assert stored["text_encoder"]
    similar = httpx.post(
        f"{api}/api/v1/similar/", json={"product_id": source["id"], "top_k": 5}, timeout=60
    )
    assert similar.status_code == 200, similar.text
    assert new_id in [i["product_id"] for i in similar.json()["items"]]


def test_purchase_event_records_and_links_bought_together(
    n8n: Settings, sample: Driver, settings: Settings
) -> None:
    a, b = (
        one(
            sample,
            settings,
            "MATCH (p:Product) WHERE NOT EXISTS { (p)-[:BOUGHT_TOGETHER]-() } "
            "WITH p ORDER BY p.id SKIP $skip LIMIT 1 RETURN p.id AS id",
            skip=skip,
        )["id"]
        for skip in (0, 1)
    )
    shop_id = f"n8n-buyer-{uuid.uuid4().hex[:8]}"
    answer = webhook(
        n8n,
        "ragrec/purchase",
        {"customer_id": shop_id, "items": [{"product_id": a, "qty": 2}, {"product_id": b}]},
    )
    assert answer["ok"] is True and answer["recorded"] == 2
    bought = one(
        sample,
        settings,
        "MATCH (c:Customer {id: $c})-[r:PURCHASED]->(p:Product) "
        "RETURN collect(p.id) AS ids, sum(r.qty) AS qty",
        c=pseudonym(settings, shop_id),
    )
    assert sorted(bought["ids"]) == sorted([a, b]) and bought["qty"] == 3
    link = one(
        sample,
        settings,
        "MATCH (:Product {id: $a})-[bt:BOUGHT_TOGETHER]-(:Product {id: $b}) "
        "RETURN bt.count AS count",
        a=a,
        b=b,
    )
    assert link.get("count") == 1
    assert answer["refreshed"]["products"] == 2


@pytest.fixture(scope="module")
def personas(sample: Driver, settings: Settings) -> Driver:
    from ragrec.gds import gds_client
    from ragrec.personas import service

    service.discover(
        gds_client(sample, settings), sample, settings.neo4j_database, seed=42, stability=False
    )
    return sample


def test_daily_persona_refresh_assigns_new_customers(
    n8n: Settings, personas: Driver, sample: Driver, settings: Settings, api: str, sink: SmtpSink
) -> None:
    product = one(sample, settings, "MATCH (p:Product) RETURN p.id AS id ORDER BY p.id LIMIT 1")
    shop_id = f"n8n-newcomer-{uuid.uuid4().hex[:8]}"
    posted = httpx.post(
        f"{api}/api/v1/internal/purchases",
        json={"purchases": [{"customer_id": shop_id, "product_id": product["id"]}]},
        headers={"X-API-Key": ADMIN_KEY},
        timeout=60,
    )
    assert posted.status_code == 201, posted.text
    customer = pseudonym(settings, shop_id)
    before = one(
        sample, settings, "MATCH (c:Customer {id: $c}) RETURN c.persona_id AS p", c=customer
    )
    assert before["p"] is None
    execute(n8n, "daily_persona_refresh")
    after = one(
        sample,
        settings,
        "MATCH (c:Customer {id: $c})-[:BELONGS_TO]->(p:Persona) RETURN c.persona_id AS id, "
        "p.id AS persona",
        c=customer,
    )
    assert after["id"] and after["id"] == after["persona"]
    reports = wait_for(lambda: sink.with_subject("RagRec persona refresh"), 30)
    assert reports, "the persona report was not emailed"
    text = body_text(reports[-1])
    assert "RagRec daily persona refresh" in text and '"assigned"' in text
    assert "team@shop.test" in str(reports[-1]["To"])


def test_cart_abandonment_emails_the_cart_once(
    n8n: Settings, sample: Driver, settings: Settings, api: str, sink: SmtpSink
) -> None:
    product = one(
        sample,
        settings,
        "MATCH (p:Product) WHERE p.name IS NOT NULL RETURN p.id AS id, p.name AS name "
        "ORDER BY p.id SKIP 5 LIMIT 1",
    )
    shop_id = f"n8n-cart-{uuid.uuid4().hex[:8]}"
    three_hours_ago = (datetime.now(UTC) - timedelta(hours=3)).isoformat()
    posted = httpx.post(
        f"{api}/api/v1/internal/events",
        json={
            "events": [
                {
                    "customer_id": shop_id,
                    "product_id": product["id"],
                    "type": "cart_add",
                    "ts": three_hours_ago,
                }
            ]
        },
        headers={"X-API-Key": ADMIN_KEY},
        timeout=60,
    )
    assert posted.status_code == 201, posted.text
    customer = pseudonym(settings, shop_id)
    address = f"{customer}@{n8n.n8n_recipient_domain}"
    execute(n8n, "cart_abandonment")
    mails = wait_for(lambda: sink.to(address), 30)
    assert len(mails) == 1, f"expected one email to {address}"
    text = body_text(mails[0])
    assert str(mails[0]["Subject"]) == "Still thinking it over?"
    assert product["name"] in text and product["id"] in text
    assert shop_id not in text and shop_id not in str(mails[0]["To"])  # pseudonymous only
    stamped = one(
        sample,
        settings,
        "MATCH (c:Customer {id: $c}) RETURN c.campaign_cart_abandonment_at IS NOT NULL AS s",
        c=customer,
    )
    assert stamped["s"]
    execute(n8n, "cart_abandonment")  # reminded once: the second run sends nothing new
    assert len(sink.to(address)) == 1
