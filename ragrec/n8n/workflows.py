# ruff: noqa: E501  (the JavaScript of Code nodes keeps its own line lengths)
"""Every n8n workflow of RagRec, built from `nodes` and written to `n8n/workflows/<group>/`.

`ragrec n8n build` writes the JSON files (committed; a test checks they match this
module and the Cypher scripts they embed); `ragrec n8n import` loads them into n8n.
Schedules are in UTC.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ragrec.config import PROJECT_ROOT
from ragrec.n8n import nodes as n

WORKFLOWS_DIR = PROJECT_ROOT / "n8n" / "workflows"
_NAMESPACE = uuid.UUID("0f3f2f0e-6a1d-4a53-9c1e-2b7de0a3c6a4")

#: workflow ids (16 characters, as n8n's own); other workflows call slack_alerts by id
IDS = {
    "daily_product_sync": "RagRecEtlSync001",
    "weekly_full_reindex": "RagRecEtlReidx01",
    "import_hm_dataset": "RagRecEtlImport1",
    "new_product_webhook": "RagRecRtNewProd1",
    "purchase_event": "RagRecRtPurchase",
    "product_update_webhook": "RagRecRtProdUpd1",
    "daily_persona_refresh": "RagRecPersDaily1",
    "weekly_persona_discovery": "RagRecPersWeekly",
    "persona_drift_alert": "RagRecPersDrift1",
    "weekly_vectorstore_bench": "RagRecBenchVec01",
    "recommendation_quality": "RagRecBenchQual1",
    "export_to_crm": "RagRecIntCrm0001",
    "slack_alerts": "RagRecIntSlack01",
    "email_persona_report": "RagRecIntMail001",
    "cart_abandonment": "RagRecCampCart01",
    "new_arrivals": "RagRecCampNew001",
    "weekly_digest": "RagRecCampDigest",
    "back_in_stock": "RagRecCampStock1",
}


class Flow:
    """A workflow under construction: nodes placed left to right, connections by name."""

    def __init__(self, key: str, group: str, name: str, description: str) -> None:
        self.key, self.group, self.name, self.description = key, group, name, description
        self.nodes: list[dict[str, Any]] = []
        self.connections: dict[str, dict[str, list[list[dict[str, Any]]]]] = {}
        self._column: dict[str, int] = {}
        self._rows: dict[int, int] = {}

    def add(self, node: dict[str, Any], *after: str, output: int = 0) -> str:
        name: str = node["name"]
        column = 1 + max((self._column[a] for a in after), default=-1)
        row = self._rows.get(column, 0)
        self._rows[column] = row + 1
        self._column[name] = column
        node = {
            **node,
            "id": str(uuid.uuid5(_NAMESPACE, f"{self.key}/{name}")),
            "position": [column * 240, row * 180],
        }
        self.nodes.append(node)
        for source in after:
            self.link(source, name, output)
        return name

    def link(self, source: str, target: str, output: int = 0) -> None:
        outputs = self.connections.setdefault(source, {"main": []})["main"]
        while len(outputs) <= output:
            outputs.append([])
        outputs[output].append({"node": target, "type": "main", "index": 0})

    def to_json(self) -> dict[str, Any]:
        return {
            "id": IDS[self.key],
            "name": self.name,
            "nodes": self.nodes,
            "connections": self.connections,
            "settings": {"executionOrder": "v1", "saveManualExecutions": True},
            "staticData": None,
            "pinData": {},
            "meta": {"ragrec": {"group": self.group, "description": self.description}},
            "active": False,
        }


def _triggers(flow: Flow, cron: str) -> tuple[str, str]:
    return flow.add(n.schedule("Schedule", cron)), flow.add(n.manual())


def _alert(flow: Flow, after: str) -> str:
    return flow.add(n.call_workflow("Alert", IDS["slack_alerts"]), after)


def _report(flow: Flow, after: str, subject: str) -> str:
    """Email `$json.text` (and `$json.html`) to the team address."""
    return flow.add(
        n.email(
            "Email report",
            "={{ $env.RAGREC_N8N_REPORT_TO }}",
            subject,
            "={{ $json.text }}",
            "={{ $json.html || ('<pre>' + $json.text + '</pre>') }}",
        ),
        after,
    )


SUMMARY_JS = """// one report item from the previous node's JSON answer
const body = $input.first().json;
const text = %s + '\\n\\n' + JSON.stringify(body, null, 2);
return [{ json: { text, body } }];"""


def _summary(title: str) -> str:
    return SUMMARY_JS % json.dumps(title)


# -- etl ---------------------------------------------------------------------------------


def daily_product_sync() -> Flow:
    f = Flow(
        "daily_product_sync",
        "etl",
        "RagRec · daily product sync",
        "Daily catalogue checks (missing fields, categories, embeddings, new and out-of-stock "
        "products); a report by email, an alert when something needs fixing.",
    )
    s, m = _triggers(f, "0 4 * * *")
    q = f.add(
        n.cypher(
            "Sync checks",
            "daily_product_sync_check",
            "{ since: $now.minus({ days: 1 }).toISO(), sample: 10 }",
        ),
        s,
        m,
    )
    r = f.add(n.rows(), q)
    c = f.add(
        n.code(
            "Summarise",
            """const checks = $input.all().map(i => i.json);
const problems = checks.filter(c => c.count > 0 &&
  ['missing_name_or_price', 'no_category', 'no_text_embedding'].includes(c.check));
const text = 'RagRec product sync\\n\\n' +
  checks.map(c => `${c.check}: ${c.count} ${c.sample.length ? '(e.g. ' + c.sample.join(', ') + ')' : ''}`).join('\\n');
const alert = problems.length ? 'Product sync: ' + problems.map(p => `${p.check}=${p.count}`).join(', ') : '';
return [{ json: { text, alert, problems: problems.length } }];""",
        ),
        r,
    )
    _report(f, c, "RagRec product sync {{ $now.toISODate() }}")
    i = f.add(n.if_true("Problems?", "={{ $json.problems > 0 }}"), c)
    a = f.add(n.code("Alert text", "return [{ json: { text: $json.alert } }];"), i)
    _alert(f, a)
    return f


def weekly_full_reindex() -> Flow:
    f = Flow(
        "weekly_full_reindex",
        "etl",
        "RagRec · weekly full reindex",
        "Sunday night: re-embed every product into every vector store and rebuild the derived "
        "structure (a RagRec job through the API); the summary by email.",
    )
    s, m = _triggers(f, "0 2 * * 0")
    j = f.add(n.api("Full reindex", "POST", "jobs/full_reindex", "{}", timeout_ms=3_600_000), s, m)
    c = f.add(n.code("Summarise", _summary("RagRec weekly full reindex")), j)
    _report(f, c, "RagRec full reindex {{ $now.toISODate() }}")
    return f


def import_hm_dataset() -> Flow:
    f = Flow(
        "import_hm_dataset",
        "etl",
        "RagRec · import H&M dataset",
        "Load a folder in the H&M schema (POST {path} to the webhook, or run by hand with the "
        "default folder), then refresh the derived structure; the summary by email.",
    )
    w = f.add(n.webhook("Webhook", "ragrec/import-hm", "import_hm_dataset"))
    m = f.add(n.manual())
    p = f.add(
        n.code(
            "Folder",
            "const body = $input.first().json.body || {};\n"
            "return [{ json: { path: body.path || 'data/sample' } }];",
        ),
        w,
        m,
    )
    j = f.add(
        n.api(
            "Load data",
            "POST",
            "jobs/import_hm_dataset",
            "{ path: $json.path }",
            timeout_ms=3_600_000,
        ),
        p,
    )
    r = f.add(n.api("Refresh", "POST", "jobs/refresh", "{}", timeout_ms=3_600_000), j)
    c = f.add(n.code("Summarise", _summary("RagRec H&M import")), r)
    _report(f, c, "RagRec import {{ $now.toISODate() }}")
    return f


# -- realtime ----------------------------------------------------------------------------


def new_product_webhook() -> Flow:
    f = Flow(
        "new_product_webhook",
        "realtime",
        "RagRec · new product",
        "POST a product (or {products: [...]}) to /webhook/ragrec/new-product: it is stored, "
        "linked to its category and colour, embedded and indexed in every vector store.",
    )
    w = f.add(n.webhook("Webhook", "ragrec/new-product", "new_product_webhook"))
    a = f.add(
        n.api(
            "Create product",
            "POST",
            "products",
            "{ products: $json.body.products || [$json.body], embed: true }",
            timeout_ms=600_000,
        ),
        w,
    )
    f.add(
        n.code(
            "Answer",
            "const r = $input.first().json;\n"
            "return [{ json: { ok: true, products: r.products, embedded: r.embedded } }];",
        ),
        a,
    )
    return f


def purchase_event() -> Flow:
    f = Flow(
        "purchase_event",
        "realtime",
        "RagRec · purchase event",
        "POST {customer_id, items: [{product_id, price, qty}], ts} to "
        "/webhook/ragrec/purchase: the purchase is stored and bought-together links of the "
        "bought products are refreshed (cypher/n8n/refresh_co_purchase_changed) and the "
        "cached answers dropped.",
    )
    w = f.add(n.webhook("Webhook", "ragrec/purchase", "purchase_event"))
    a = f.add(
        n.api(
            "Record purchase",
            "POST",
            "purchases",
            "{ purchases: ($json.body.items || []).map(i => ({ customer_id: $json.body.customer_id, "
            "product_id: i.product_id, price: i.price, qty: i.qty || 1, ts: $json.body.ts })) }",
        ),
        w,
    )
    q = f.add(
        n.cypher(
            "Refresh co-purchase",
            "refresh_co_purchase_changed",
            "{ product_ids: $json.product_ids, since: null, max_basket: 50, top_n: 50, "
            "batch_size: 100 }",
        ),
        a,
    )
    r = f.add(n.rows(), q)
    x = f.add(n.api("Clear cached answers", "POST", "cache/clear", "{}"), r)
    f.add(
        n.code(
            "Answer",
            "const rec = $('Record purchase').first().json;\n"
            "const refreshed = $('Rows').first().json;\n"
            "return [{ json: { ok: true, recorded: rec.recorded, product_ids: rec.product_ids, "
            "refreshed } }];",
        ),
        x,
    )
    return f


def product_update_webhook() -> Flow:
    f = Flow(
        "product_update_webhook",
        "realtime",
        "RagRec · product update",
        "POST a changed product to /webhook/ragrec/product-update: its fields are updated "
        "(a product coming back in stock is stamped for the back-in-stock campaign) and it "
        "is re-embedded when its text or picture changed.",
    )
    w = f.add(n.webhook("Webhook", "ragrec/product-update", "product_update_webhook"))
    a = f.add(
        n.api(
            "Update product",
            "POST",
            "products",
            "{ products: $json.body.products || [$json.body], embed: true }",
            timeout_ms=600_000,
        ),
        w,
    )
    f.add(n.code("Answer", "return [{ json: { ok: true, ...$input.first().json } }];"), a)
    return f


# -- personas ----------------------------------------------------------------------------


def daily_persona_refresh() -> Flow:
    f = Flow(
        "daily_persona_refresh",
        "personas",
        "RagRec · daily persona refresh",
        "Every morning: place new customers and customers with new events on the current "
        "personas; the report by email.",
    )
    s, m = _triggers(f, "0 5 * * *")
    a = f.add(n.api("Assign personas", "POST", "personas/refresh", "{ mode: 'assign' }"), s, m)
    c = f.add(n.code("Summarise", _summary("RagRec daily persona refresh")), a)
    _report(f, c, "RagRec persona refresh {{ $now.toISODate() }}")
    return f


def weekly_persona_discovery() -> Flow:
    f = Flow(
        "weekly_persona_discovery",
        "personas",
        "RagRec · weekly persona discovery",
        "Monday night: re-run GDS and clustering to discover the personas again; the report "
        "by email.",
    )
    s, m = _triggers(f, "0 3 * * 1")
    a = f.add(
        n.api(
            "Discover personas",
            "POST",
            "personas/refresh",
            "{ mode: 'discover' }",
            timeout_ms=3_600_000,
        ),
        s,
        m,
    )
    c = f.add(n.code("Summarise", _summary("RagRec weekly persona discovery")), a)
    _report(f, c, "RagRec persona discovery {{ $now.toISODate() }}")
    return f


def persona_drift_alert() -> Flow:
    f = Flow(
        "persona_drift_alert",
        "personas",
        "RagRec · persona drift alert",
        "Daily: per persona, the share of last week's purchases outside its top categories "
        "(cypher/n8n/persona_drift); an alert when a persona drifts past the threshold "
        "(RAGREC_N8N_DRIFT_THRESHOLD, default 0.6) or many members are stale.",
    )
    s, m = _triggers(f, "0 6 * * *")
    q = f.add(
        n.cypher(
            "Persona drift", "persona_drift", "{ since: $now.minus({ days: 7 }).toISODate() }"
        ),
        s,
        m,
    )
    r = f.add(n.rows(), q)
    c = f.add(
        n.code(
            "Drifted",
            """const limit = Number($env.RAGREC_N8N_DRIFT_THRESHOLD || 0.6);
const drifted = $input.all().map(i => i.json).filter(p =>
  p.recent_items > 0 && (p.off_profile_share > limit || p.stale_members > 0.5 * p.members));
if (!drifted.length) return [];
const text = 'Persona drift:\\n' + drifted.map(p =>
  `${p.name} (${p.persona_id}): ${(100 * p.off_profile_share).toFixed(0)}% off profile, ` +
  `${p.stale_members}/${p.members} stale`).join('\\n');
return [{ json: { text } }];""",
        ),
        r,
    )
    _alert(f, c)
    return f


# -- benchmark ---------------------------------------------------------------------------


def weekly_vectorstore_bench() -> Flow:
    f = Flow(
        "weekly_vectorstore_bench",
        "benchmark",
        "RagRec · weekly vector-store benchmark",
        "Saturday night: `ragrec benchmark vectorstores` (through the API's jobs endpoint); "
        "the table by email, an alert when a store's recall falls below 0.9.",
    )
    s, m = _triggers(f, "0 1 * * 6")
    j = f.add(
        n.api("Benchmark", "POST", "jobs/vectorstore_bench", "{}", timeout_ms=3_600_000), s, m
    )
    c = f.add(
        n.code(
            "Summarise",
            """const job = $input.first().json;
const rows = (job.result && job.result.results) || [];
const low = rows.filter(r => typeof r.recall === 'number' && r.recall < 0.9);
const text = 'RagRec vector-store benchmark\\n\\n' + (job.output_tail || '');
return [{ json: { text, alert: low.length ? 'Vector store recall below 0.9: ' +
  low.map(r => `${r.store}=${r.recall}`).join(', ') : '' } }];""",
        ),
        j,
    )
    _report(f, c, "RagRec vector-store benchmark {{ $now.toISODate() }}")
    i = f.add(n.if_true("Low recall?", "={{ $json.alert !== '' }}"), c)
    a = f.add(n.code("Alert text", "return [{ json: { text: $json.alert } }];"), i)
    _alert(f, a)
    return f


def recommendation_quality() -> Flow:
    f = Flow(
        "recommendation_quality",
        "benchmark",
        "RagRec · recommendation quality",
        "Weekly: run the offline evaluation (`ragrec evaluate` through the jobs endpoint), "
        "compare NDCG with the last run and alert on a drop of more than 5%.",
    )
    s, m = _triggers(f, "0 2 * * 6")
    j = f.add(n.api("Evaluate", "POST", "jobs/evaluate", "{}", timeout_ms=3_600_000), s, m)
    c = f.add(
        n.code(
            "Compare",
            """const job = $input.first().json;
const metric = job.result && (job.result.ndcg ?? job.result.ndcg_at_10 ?? null);
const memory = $getWorkflowStaticData('global');
const previous = memory.ndcg ?? null;
if (typeof metric === 'number') memory.ndcg = metric;
const dropped = typeof metric === 'number' && previous !== null && metric < 0.95 * previous;
const text = `RagRec recommendation quality: ndcg ${metric} (previous ${previous})\\n\\n` +
  (job.output_tail || '');
return [{ json: { text, dropped, alert: dropped ?
  `Recommendation quality dropped: ndcg ${metric} < 95% of ${previous}` : '' } }];""",
        ),
        j,
    )
    _report(f, c, "RagRec recommendation quality {{ $now.toISODate() }}")
    i = f.add(n.if_true("Dropped?", "={{ $json.dropped }}"), c)
    a = f.add(n.code("Alert text", "return [{ json: { text: $json.alert } }];"), i)
    _alert(f, a)
    return f


# -- integrations ------------------------------------------------------------------------


def export_to_crm() -> Flow:
    f = Flow(
        "export_to_crm",
        "integrations",
        "RagRec · export persona segments to the CRM",
        "Nightly: customers' persona segments (pseudonymous ids) as CSV pages of 5,000 rows "
        "(cypher/n8n/persona_segments, keyset-paged), each POSTed to the CRM webhook "
        "(RAGREC_N8N_CRM_URL) with the 'RagRec CRM' token.",
    )
    s, m = _triggers(f, "30 1 * * *")
    start = f.add(n.code("Start", "return [{ json: { after: '' } }];"), s, m)
    q = f.add(
        n.cypher("Segment page", "persona_segments", "{ after: $json.after, limit: 5000 }"), start
    )
    r = f.add(n.rows(), q)
    c = f.add(
        n.code(
            "CSV page",
            """const rows = $input.all().map(i => i.json);
if (!rows.length) return [];
const esc = v => '"' + String(v ?? '').replace(/"/g, '""') + '"';
const csv = 'customer_id,persona_id,persona_name,age_bracket\\n' + rows.map(r =>
  [r.customer_id, r.persona_id, r.persona_name, r.age_bracket].map(esc).join(',')).join('\\n');
return [{ json: { csv, after: rows[rows.length - 1].customer_id, more: rows.length === 5000 } }];""",
        ),
        r,
    )
    p = f.add(n.http_post_csv("Post to CRM"), c)
    more = f.add(n.if_true("More?", "={{ $('CSV page').item.json.more }}"), p)
    nxt = f.add(
        n.code("Next page", "return [{ json: { after: $('CSV page').first().json.after } }];"),
        more,
    )
    f.link(nxt, q)
    return f


def slack_alerts() -> Flow:
    f = Flow(
        "slack_alerts",
        "integrations",
        "RagRec · Slack alerts",
        "Called by the other workflows with {text}: posts it to the Slack channel "
        "RAGREC_N8N_SLACK_CHANNEL with the 'RagRec Slack' token, and emails it to the team.",
    )
    t = f.add(n.called_by_workflow("Called with {text}"))
    f.add(n.slack("Post to Slack"), t)
    f.add(
        n.email(
            "Email alert",
            "={{ $env.RAGREC_N8N_REPORT_TO }}",
            "RagRec alert",
            "={{ $json.text }}",
            "={{ '<pre>' + $json.text + '</pre>' }}",
        ),
        t,
    )
    return f


def email_persona_report() -> Flow:
    f = Flow(
        "email_persona_report",
        "integrations",
        "RagRec · persona report by email",
        "Monday morning: the personas with their size, last week's purchases and drift "
        "(cypher/n8n/persona_drift) as an HTML table by email.",
    )
    s, m = _triggers(f, "0 7 * * 1")
    q = f.add(
        n.cypher("Personas", "persona_drift", "{ since: $now.minus({ days: 7 }).toISODate() }"),
        s,
        m,
    )
    r = f.add(n.rows(), q)
    c = f.add(
        n.code(
            "Table",
            """const rows = $input.all().map(i => i.json);
const esc = s => String(s ?? '').replace(/[&<>]/g, c => ({'&': '&amp;', '<': '&lt;', '>': '&gt;'}[c]));
const html = '<h2>RagRec personas</h2><table><tr><th>persona</th><th>members</th>' +
  '<th>items last 7 days</th><th>off profile</th><th>stale</th></tr>' +
  rows.map(p => `<tr><td>${esc(p.name)}</td><td>${p.members}</td><td>${p.recent_items}</td>` +
  `<td>${(100 * p.off_profile_share).toFixed(0)}%</td><td>${p.stale_members}</td></tr>`).join('') +
  '</table>';
const text = rows.map(p => `${p.name}: ${p.members} members, ${p.recent_items} items, ` +
  `${(100 * p.off_profile_share).toFixed(0)}% off profile`).join('\\n');
return [{ json: { text: text || 'no personas yet', html } }];""",
        ),
        r,
    )
    _report(f, c, "RagRec personas, week of {{ $now.toISODate() }}")
    return f


# -- campaigns ---------------------------------------------------------------------------

COMPOSE_JS = """// one email per recipient: their personalised items, from the campaign endpoint
const subject = %s;
const headline = %s;
const esc = s => String(s ?? '').replace(/[&<>]/g, c => ({'&': '&amp;', '<': '&lt;', '>': '&gt;'}[c]));
const price = p => (typeof p === 'number' ? ' - ' + p.toFixed(4) : '');
const out = [];
for (const item of $input.all()) {
  for (const r of item.json.recipients || []) {
    const lines = r.items.map(i => `- ${i.name} (${i.category || 'product'})${price(i.price)} [${i.product_id}]`);
    const html = `<p>${esc(headline)}</p><ul>` + r.items.map(i =>
      `<li>${esc(i.name)} <small>${esc(i.category)}</small></li>`).join('') + '</ul>';
    out.push({ json: { customer_id: r.customer_id, subject, text: `${headline}\\n\\n${lines.join('\\n')}\\n`,
                       html, product_ids: r.items.map(i => i.product_id) } });
  }
}
return out;"""


def _campaign(
    key: str, name: str, description: str, cron: str, body: str, subject: str, headline: str
) -> Flow:
    f = Flow(key, "campaigns", name, description)
    s, m = _triggers(f, cron)
    a = f.add(n.api("Recipients", "POST", f"campaigns/{key}", body), s, m)
    c = f.add(n.code("Compose", COMPOSE_JS % (json.dumps(subject), json.dumps(headline))), a)
    e = f.add(
        n.email(
            "Email",
            "={{ $json.customer_id }}@{{ $env.RAGREC_N8N_RECIPIENT_DOMAIN }}",
            "={{ $json.subject }}",
            "={{ $json.text }}",
            "={{ $json.html }}",
        ),
        c,
    )
    d = f.add(
        n.code(
            "Sent to",
            "return [{ json: { customer_ids: $('Compose').all().map(i => i.json.customer_id) } }];",
        ),
        e,
    )
    f.add(
        n.api("Mark sent", "POST", f"campaigns/{key}/sent", "{ customer_ids: $json.customer_ids }"),
        d,
    )
    return f


def cart_abandonment() -> Flow:
    return _campaign(
        "cart_abandonment",
        "RagRec · cart abandonment",
        "Every 15 minutes: customers with no activity 2 hours after a cart add get their cart "
        "and what goes with it (cypher/n8n/cart_abandonment_candidates + the cart "
        "recommender), then are marked as reminded.",
        "*/15 * * * *",
        "{ idle_minutes: 120, lookback_hours: 48, limit: 500, items: 6 }",
        "Still thinking it over?",
        "You left these in your cart - and picked a few things that go with them:",
    )


def new_arrivals() -> Flow:
    return _campaign(
        "new_arrivals",
        "RagRec · new arrivals",
        "Thursday 10:00: active customers get the newest products that fit their taste.",
        "0 10 * * 4",
        "{ days: 14, active_days: 90, limit: 1000, items: 6 }",
        "New in, picked for you",
        "Just arrived, chosen for you:",
    )


def weekly_digest() -> Flow:
    return _campaign(
        "weekly_digest",
        "RagRec · weekly digest",
        "Sunday 09:00: active customers get their personal homepage picks of the week.",
        "0 9 * * 0",
        "{ active_days: 30, limit: 1000, items: 8 }",
        "Your week at the shop",
        "Your picks of the week:",
    )


def back_in_stock() -> Flow:
    return _campaign(
        "back_in_stock",
        "RagRec · back in stock",
        "Hourly: customers who wished for or carted a product that came back in stock "
        "(cypher/n8n/back_in_stock_watchers) are told.",
        "5 * * * *",
        "{ since_hours: 24, interest_days: 60, limit: 1000, items: 6 }",
        "Back in stock",
        "Good news - these are back in stock:",
    )


BUILDERS: list[Callable[[], Flow]] = [
    daily_product_sync,
    weekly_full_reindex,
    import_hm_dataset,
    new_product_webhook,
    purchase_event,
    product_update_webhook,
    daily_persona_refresh,
    weekly_persona_discovery,
    persona_drift_alert,
    weekly_vectorstore_bench,
    recommendation_quality,
    export_to_crm,
    slack_alerts,
    email_persona_report,
    cart_abandonment,
    new_arrivals,
    weekly_digest,
    back_in_stock,
]


def build_all() -> dict[Path, dict[str, Any]]:
    """Relative path (`<group>/<key>.json`) -> workflow JSON, for every workflow."""
    out: dict[Path, dict[str, Any]] = {}
    for builder in BUILDERS:
        flow = builder()
        out[Path(flow.group) / f"{flow.key}.json"] = flow.to_json()
    return out


def render(workflow: dict[str, Any]) -> str:
    return json.dumps(workflow, indent=2, ensure_ascii=False) + "\n"


def write_all(root: Path = WORKFLOWS_DIR) -> list[Path]:
    written = []
    for rel, workflow in build_all().items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        text = render(workflow)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
        written.append(path)
    return written
