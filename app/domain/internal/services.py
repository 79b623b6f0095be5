"""Automation (n8n): run a named script from cypher/n8n/, refresh personas, ingest events."""

from __future__ import annotations

import re
from typing import Any

from neo4j import RoutingControl
from neo4j.exceptions import ClientError

from app.domain.internal.schemas import (
    PersonaRefresh,
    PersonaRefreshResult,
    ReindexRequest,
    ReindexResult,
    ScriptResult,
    ScriptRun,
)
from app.lib.errors import ApiError, NotFound, Unavailable, Unprocessable
from app.lib.graph import jsonable, write
from app.lib.resources import Resources
from ragrec.config import PROJECT_ROOT
from ragrec.cypher import CypherNotFound, query, query_path

SCRIPT_NAME = re.compile(r"^[a-z0-9_]{1,64}$")
MAX_ROWS = 1_000


def run_script(resources: Resources, name: str, run: ScriptRun) -> ScriptResult:
    if not SCRIPT_NAME.match(name):
        raise ApiError("script names are lower-case letters, digits and '_'", field="name")
    try:
        text = query(f"n8n/{name}")
        path = query_path(f"n8n/{name}")
    except CypherNotFound as exc:
        raise NotFound(f"unknown script {name!r}: no cypher/n8n/{name}.vN.cypher") from exc
    try:
        records, _, _ = resources.driver.execute_query(
            text, run.params, database_=resources.database, routing_=RoutingControl.WRITE
        )
    except ClientError as exc:
        raise Unprocessable(f"script {name!r} failed: {exc.message}", field="params") from exc
    rows = [jsonable(r.data()) for r in records[:MAX_ROWS]]
    return ScriptResult(
        script=name,
        file=str(path.relative_to(PROJECT_ROOT)),
        count=len(records),
        truncated=len(records) > MAX_ROWS,
        rows=rows,
    )


def refresh_personas(resources: Resources, req: PersonaRefresh) -> PersonaRefreshResult:
    from ragrec.personas import service

    report: Any
    try:
        if req.mode == "assign":
            report = service.assign(resources.driver, resources.database)
        else:
            from ragrec.gds import gds_client

            gds = gds_client(resources.driver, resources.settings)
            report = service.discover(gds, resources.driver, resources.database, seed=req.seed)
    except ValueError as exc:  # e.g. no personas yet to assign to
        raise Unprocessable(str(exc), field="mode") from exc
    resources.cache.clear()
    return PersonaRefreshResult(mode=req.mode, report=jsonable(report.to_dict()))


def reindex_product(resources: Resources, product_id: str, req: ReindexRequest) -> ReindexResult:
    """Re-embed one product (image and/or text) into Neo4j, pgvector and Qdrant."""
    from dataclasses import asdict

    from ragrec.embeddings.base import EncoderError
    from ragrec.embeddings.pipeline import generate_embeddings
    from ragrec.vectorstores.base import VectorStoreError

    if not write(resources, "api/mark_for_reindex", id=product_id):
        raise NotFound(f"unknown product id {product_id!r}", field="product_id")
    try:
        summary = generate_embeddings(
            resources.settings, resources.driver, image=req.image, text=req.text
        )
    except (VectorStoreError, EncoderError) as exc:
        raise Unavailable(f"re-embedding failed: {exc}") from exc
    resources.cache.clear()
    return ReindexResult(product_id=product_id, summary=jsonable(asdict(summary)))
