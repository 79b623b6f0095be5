"""Builders of the n8n nodes the workflows use, one way per kind of task.

* a Cypher script from `cypher/n8n/`: `cypher()` posts it to Neo4j's HTTP query API
  (`/db/<database>/query/v2`) with the "RagRec Neo4j" HTTP Basic credential, and
  `rows()` turns the answer (`data.fields`, `data.values`) into one item per row;
* an operation of RagRec (ingest, embed, personas, campaigns, jobs): `api()` calls an
  internal endpoint with the "RagRec API key" `X-API-Key` header credential;
* an email: `email()` with the "RagRec SMTP" credential.

Where Neo4j and the API are comes from `$env.RAGREC_N8N_*` (set by `ragrec services up
n8n`); secrets only ever come from credentials, referenced by id and name.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from ragrec.cypher import query

Node = dict[str, Any]

#: credential type -> (id, name) the workflows reference; `ragrec n8n import` creates them
CREDENTIALS: dict[str, tuple[str, str, str]] = {
    "neo4j": ("httpBasicAuth", "RagRecNeo4jHttp1", "RagRec Neo4j"),
    "api": ("httpHeaderAuth", "RagRecApiKey0001", "RagRec API key"),
    "smtp": ("smtp", "RagRecSmtp000001", "RagRec SMTP"),
    "slack": ("slackApi", "RagRecSlack00001", "RagRec Slack"),
    "crm": ("httpHeaderAuth", "RagRecCrmToken01", "RagRec CRM"),
}

_NAMESPACE = uuid.UUID("5b0c6f38-3f6e-4a57-9a53-8d8f8f6b2e11")


def credential(kind: str) -> dict[str, dict[str, str]]:
    ctype, cid, name = CREDENTIALS[kind]
    return {ctype: {"id": cid, "name": name}}


def _node(name: str, ntype: str, version: float, params: dict[str, Any], **extra: Any) -> Node:
    return {"parameters": params, "name": name, "type": ntype, "typeVersion": version, **extra}


def schedule(name: str, cron: str) -> Node:
    rule = {"interval": [{"field": "cronExpression", "expression": cron}]}
    return _node(name, "n8n-nodes-base.scheduleTrigger", 1.2, {"rule": rule})


def manual() -> Node:
    return _node("Run now", "n8n-nodes-base.manualTrigger", 1, {})


def webhook(name: str, path: str, workflow: str) -> Node:
    """A POST webhook that answers with the last node's first item once the run ends."""
    return _node(
        name,
        "n8n-nodes-base.webhook",
        2,
        {"httpMethod": "POST", "path": path, "responseMode": "lastNode", "options": {}},
        webhookId=str(uuid.uuid5(_NAMESPACE, f"{workflow}/{path}")),
    )


def called_by_workflow(name: str) -> Node:
    return _node(name, "n8n-nodes-base.executeWorkflowTrigger", 1.1, {"inputSource": "passthrough"})


def cypher(name: str, script: str, params_js: str) -> Node:
    """POST `cypher/n8n/<script>` (newest version) with parameters from a JS object literal.

    The statement is embedded as a JS string literal whose braces are escaped, so Cypher
    maps never clash with n8n's `{{ }}` expression delimiters.
    """
    statement = json.dumps(query(f"n8n/{script}")).replace("{", "\\u007b").replace("}", "\\u007d")
    body = f"={{{{ JSON.stringify({{ statement: {statement}, parameters: {params_js} }}) }}}}"
    return _node(
        name,
        "n8n-nodes-base.httpRequest",
        4.2,
        {
            "method": "POST",
            "url": "={{ $env.RAGREC_N8N_NEO4J_URL }}/db/{{ $env.RAGREC_N8N_NEO4J_DATABASE }}"
            "/query/v2",
            "authentication": "genericCredentialType",
            "genericAuthType": "httpBasicAuth",
            "sendHeaders": True,
            "headerParameters": {"parameters": [{"name": "Accept", "value": "application/json"}]},
            "sendBody": True,
            "specifyBody": "json",
            "jsonBody": body,
            "options": {"timeout": 600_000},
        },
        credentials=credential("neo4j"),
        notes=f"cypher/n8n/{script} via Neo4j's query API",
    )


ROWS_JS = """// Neo4j query API answer -> one item per row (columns as fields)
const out = [];
for (const item of $input.all()) {
  const data = item.json.data || { fields: [], values: [] };
  for (const values of data.values) {
    out.push({ json: Object.fromEntries(data.fields.map((f, i) => [f, values[i]])) });
  }
}
return out;"""


def rows(name: str = "Rows") -> Node:
    return code(name, ROWS_JS)


def api(
    name: str, method: str, path: str, body_js: str | None = None, timeout_ms: int = 120_000
) -> Node:
    """Call `<api>/api/v1/internal/<path>` with the API-key credential."""
    params: dict[str, Any] = {
        "method": method,
        "url": "={{ $env.RAGREC_N8N_API_URL }}/api/v1/internal/" + path,
        "authentication": "genericCredentialType",
        "genericAuthType": "httpHeaderAuth",
        "options": {"timeout": timeout_ms},
    }
    if body_js is not None:
        params.update(
            {
                "sendBody": True,
                "specifyBody": "json",
                "jsonBody": f"={{{{ JSON.stringify({body_js}) }}}}",
            }
        )
    return _node(name, "n8n-nodes-base.httpRequest", 4.2, params, credentials=credential("api"))


def code(name: str, js: str) -> Node:
    return _node(name, "n8n-nodes-base.code", 2, {"jsCode": js})


def email(name: str, to: str, subject: str, text: str, html: str) -> Node:
    """Send one email per item (fields are n8n expressions)."""
    return _node(
        name,
        "n8n-nodes-base.emailSend",
        2.1,
        {
            "fromEmail": "={{ $env.RAGREC_N8N_MAIL_FROM }}",
            "toEmail": to,
            "subject": subject,
            "emailFormat": "both",
            "text": text,
            "html": html,
            "options": {"appendAttribution": False},
        },
        credentials=credential("smtp"),
    )


def call_workflow(name: str, workflow_id: str) -> Node:
    return _node(
        name,
        "n8n-nodes-base.executeWorkflow",
        1.2,
        {
            "workflowId": {"__rl": True, "value": workflow_id, "mode": "id"},
            "options": {"waitForSubWorkflow": True},
        },
    )


def slack(name: str) -> Node:
    return _node(
        name,
        "n8n-nodes-base.slack",
        2.3,
        {
            "authentication": "accessToken",
            "select": "channel",
            "channelId": {
                "__rl": True,
                "value": "={{ $env.RAGREC_N8N_SLACK_CHANNEL }}",
                "mode": "name",
            },
            "text": "={{ $json.text }}",
            "otherOptions": {},
        },
        credentials=credential("slack"),
    )


def http_post_csv(name: str) -> Node:
    """POST `$json.csv` to the CRM webhook (`RAGREC_N8N_CRM_URL`) with its token."""
    return _node(
        name,
        "n8n-nodes-base.httpRequest",
        4.2,
        {
            "method": "POST",
            "url": "={{ $env.RAGREC_N8N_CRM_URL }}",
            "authentication": "genericCredentialType",
            "genericAuthType": "httpHeaderAuth",
            "sendBody": True,
            "contentType": "raw",
            "rawContentType": "text/csv",
            "body": "={{ $json.csv }}",
            "options": {"timeout": 120_000},
        },
        credentials=credential("crm"),
    )


def if_true(name: str, expression: str) -> Node:
    """Two outputs: items where `expression` (boolean) holds, then the others."""
    return _node(
        name,
        "n8n-nodes-base.if",
        2.2,
        {
            "conditions": {
                "options": {
                    "caseSensitive": True,
                    "leftValue": "",
                    "typeValidation": "loose",
                    "version": 2,
                },
                "conditions": [
                    {
                        "id": str(uuid.uuid5(_NAMESPACE, name + expression)),
                        "leftValue": expression,
                        "rightValue": "",
                        "operator": {"type": "boolean", "operation": "true", "singleValue": True},
                    }
                ],
                "combinator": "and",
            },
            "looseTypeValidation": True,
            "options": {},
        },
    )
