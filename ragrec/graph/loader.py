"""Load an H&M-format folder into Neo4j: validated frames from `ragrec.etl`, then either
batched idempotent `UNWIND ... MERGE` (the `cypher/etl/*` files) or, for a large initial
load into an empty graph, `neo4j-admin database import`.

Batched loads are resumable: each batch commits in the same transaction as a
`(:LoadJob)` checkpoint, so after a crash the next run of the same files skips what is
already written and finishes the job. Everything is MERGE, so a second run of a
finished job changes no counts.
"""

from __future__ import annotations

import csv
import hashlib
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import polars as pl
from neo4j import Driver, ManagedTransaction
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from ragrec.config import Settings
from ragrec.cypher import query
from ragrec.etl.errors import EtlError
from ragrec.etl.pipeline import Prepared, prepare, write_rejects
from ragrec.etl.readers import find_sources
from ragrec.graph.schema import migrate
from ragrec.services import neo4j as neo4j_service

#: above this many transactions, a load into an empty local graph uses the bulk importer
BULK_THRESHOLD_ROWS = 2_000_000

PRODUCT_PROPS = (
    "name",
    "description",
    "product_type",
    "product_group",
    "colour",
    "perceived_colour",
    "department",
    "index_name",
    "index_group",
    "section",
    "garment_group",
    "price",
    "image_path",
    "created_at",
    "in_stock",
)


@dataclass
class LoadSummary:
    source: str
    mode: str  # "batched" | "bulk"
    job_id: str
    rows_read: dict[str, int]
    written: dict[str, int]
    rejected: int
    rejects_by_reason: dict[str, int]
    rejects_by_source: dict[str, int]
    rejects_file: str | None
    seconds: float
    rows_per_second: float
    resumed_from: str | None = None
    counts_after: dict[str, dict[str, int]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_data(
    folder: Path,
    settings: Settings,
    driver: Driver,
    *,
    rejects_file: Path | None = None,
    bulk: bool | None = None,
    batch_size: int = 5_000,
    show_progress: bool = True,
    unknown_customers: Literal["create", "reject"] = "create",
    replace: bool = False,
) -> LoadSummary:
    """Validate, pseudonymise and load `folder` (H&M schema). See the module docstring.

    A transaction whose customer is in neither the customers file nor the graph creates
    that customer (pseudonymous id, age bracket unknown) by default: the purchase is a
    fact, only the demographics are missing. `unknown_customers="reject"` rejects such
    rows instead. Transactions naming an unknown article are always rejected.

    `replace=True` (with `bulk=True`; scratch graphs of the benchmarks) lets the bulk import
    replace a database that holds data: deleting a full-size graph relationship by
    relationship takes longer than importing it.
    """
    began = time.perf_counter()
    database = settings.neo4j_database
    migrate(driver, database)
    job_id = _job_id(folder, settings)
    prepared = prepare(
        folder,
        settings.effective_pseudonym_key(),
        known_article_ids=_ids(driver, database, "graph/product_ids"),
        known_customer_ids=_ids(driver, database, "graph/customer_ids"),
        unknown_customers=unknown_customers,
    )
    rejects_path = None
    if prepared.rejects.height:
        rejects_path = rejects_file or settings.home / "rejects" / f"{job_id}.csv"
        rejects_path.parent.mkdir(parents=True, exist_ok=True)
        write_rejects(prepared.rejects, rejects_path)
    stages = _stages(prepared)
    use_bulk = bulk if bulk is not None else _bulk_by_default(prepared, settings, driver)
    if use_bulk:
        written = _bulk_import(stages, settings, driver, replace=replace)
        resumed = None
        mode = "bulk"
    else:
        written, resumed = _batched(stages, driver, database, job_id, batch_size, show_progress)
        mode = "batched"
    if use_bulk:
        # the import replaced the database: the caller's driver holds bookmarks of the
        # old one, so counts come through a fresh driver
        with neo4j_service.driver(settings) as fresh:
            counts = graph_stats(fresh, database)
    else:
        counts = graph_stats(driver, database)
    seconds = time.perf_counter() - began
    total = sum(prepared.counts.values())
    return LoadSummary(
        source=str(folder),
        mode=mode,
        job_id=job_id,
        rows_read=dict(prepared.counts),
        written=written,
        rejected=prepared.rejects.height,
        rejects_by_reason=dict(
            Counter(prepared.rejects.get_column("reason").to_list()).most_common()
        ),
        rejects_by_source=dict(
            Counter(prepared.rejects.get_column("source").to_list()).most_common()
        ),
        rejects_file=str(rejects_path) if rejects_path else None,
        seconds=round(seconds, 2),
        rows_per_second=round(total / seconds, 1) if seconds else 0.0,
        resumed_from=resumed,
        counts_after=counts,
    )


def graph_stats(driver: Driver, database: str) -> dict[str, dict[str, int]]:
    """Counts of every node label and relationship type."""
    records, _, _ = driver.execute_query(query("graph/stats"), database_=database)
    row = records[0]
    return {
        "nodes": {k: int(v) for k, v in sorted(row["labels"].items())},
        "relationships": {k: int(v) for k, v in sorted(row["relationships"].items())},
    }


# -- stages ------------------------------------------------------------------------------


@dataclass
class Stage:
    name: str
    cypher: str  # name of the cypher/etl file
    frame: pl.DataFrame
    to_rows: Callable[[pl.DataFrame], list[dict[str, Any]]]


def _stages(p: Prepared) -> list[Stage]:
    level_order = {lvl: i for i, lvl in enumerate(_LEVELS)}
    categories = p.categories.with_columns(
        pl.col("level").replace_strict(level_order, default=99).alias("_order")
    ).sort("_order", "id")
    products = p.products.select("id", *PRODUCT_PROPS)
    purchases = p.purchases.with_columns(pl.col("channel").fill_null(0))
    return [
        Stage("categories", "etl/categories", categories.drop("_order"), _plain),
        Stage("products", "etl/products", products, _product_rows),
        Stage("product_categories", "etl/product_categories", p.product_categories, _plain),
        Stage(
            "product_colours",
            "etl/product_colours",
            p.product_colours.filter(pl.col("colour").is_not_null()),
            _plain,
        ),
        Stage(
            "product_attributes",
            "etl/product_attributes",
            p.product_attributes.filter(pl.col("value").is_not_null()),
            _plain,
        ),
        Stage("customers", "etl/customers", p.customers, _plain),
        Stage("purchases", "etl/purchases", purchases, _plain),
    ]


_LEVELS = ("index_group", "index", "section", "product_group", "product_type")


def _plain(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dicts()


def _product_rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return [{"id": row.pop("id"), "props": row} for row in frame.to_dicts()]


# -- batched path ------------------------------------------------------------------------


def _batched(
    stages: list[Stage],
    driver: Driver,
    database: str,
    job_id: str,
    batch_size: int,
    show_progress: bool,
) -> tuple[dict[str, int], str | None]:
    done, current, offset = _checkpoint(driver, database, job_id)
    resumed = None
    if done or offset:
        resumed = f"{len(done)} stages done" + (f", {current} at row {offset}" if offset else "")
    written: dict[str, int] = {}
    total = sum(s.frame.height for s in stages)
    progress = Progress(
        TextColumn("[bold]{task.description:<20}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TimeRemainingColumn(),
        disable=not show_progress,
        transient=False,
    )
    with progress, driver.session(database=database) as session:
        task = progress.add_task("loading", total=total)
        for stage in stages:
            progress.update(task, description=stage.name)
            if stage.name in done:
                progress.advance(task, stage.frame.height)
                written[stage.name] = stage.frame.height
                continue
            start = offset if stage.name == current else 0
            progress.advance(task, start)
            statement = query(stage.cypher)
            for batch_start, batch in _batches(stage.frame, start, batch_size):
                rows = stage.to_rows(batch)
                next_offset = batch_start + batch.height
                session.execute_write(
                    _write_batch, statement, rows, job_id, done, stage.name, next_offset
                )
                progress.advance(task, batch.height)
            done = [*done, stage.name]
            session.execute_write(_save_checkpoint, job_id, done, None, 0, "running")
            written[stage.name] = stage.frame.height
            offset = 0
        session.execute_write(_save_checkpoint, job_id, done, None, 0, "finished")
    return written, resumed


def _batches(frame: pl.DataFrame, start: int, size: int) -> Iterator[tuple[int, pl.DataFrame]]:
    for begin in range(start, frame.height, size):
        yield begin, frame.slice(begin, size)


def _write_batch(
    tx: ManagedTransaction,
    statement: str,
    rows: list[dict[str, Any]],
    job_id: str,
    done: list[str],
    stage: str,
    offset: int,
) -> None:
    tx.run(statement, rows=rows).consume()
    _save_checkpoint(tx, job_id, done, stage, offset, "running")


def _save_checkpoint(
    tx: ManagedTransaction,
    job_id: str,
    done: list[str],
    stage: str | None,
    offset: int,
    status: str,
) -> None:
    tx.run(
        query("etl/load_job_set"),
        id=job_id,
        done=done,
        stage=stage,
        offset=offset,
        status=status,
    ).consume()


def _checkpoint(driver: Driver, database: str, job_id: str) -> tuple[list[str], str | None, int]:
    records, _, _ = driver.execute_query(query("etl/load_job_get"), id=job_id, database_=database)
    if not records:
        return [], None, 0
    row = records[0]
    return list(row["done"] or []), row["stage"], int(row["offset"] or 0)


def _job_id(folder: Path, settings: Settings) -> str:
    """Same files (names, sizes, mtimes) + same pseudonym key -> same job."""
    digest = hashlib.sha256()
    for kind in ("articles", "customers", "transactions"):
        path = find_sources(folder).get(kind)
        if path is not None:
            stat = path.stat()
            digest.update(f"{path.name}:{stat.st_size}:{int(stat.st_mtime)}".encode())
    digest.update(hashlib.sha256(settings.effective_pseudonym_key()).digest())
    return digest.hexdigest()[:20]


def _ids(driver: Driver, database: str, cypher_name: str) -> set[str]:
    records, _, _ = driver.execute_query(query(cypher_name), database_=database)
    return {r["id"] for r in records}


# -- bulk path ---------------------------------------------------------------------------


def _bulk_by_default(prepared: Prepared, settings: Settings, driver: Driver) -> bool:
    if prepared.purchases.height < BULK_THRESHOLD_ROWS or not settings.local_neo4j:
        return False
    return _graph_is_empty(driver, settings.neo4j_database)


def _graph_is_empty(driver: Driver, database: str) -> bool:
    stats = graph_stats(driver, database)
    data_labels = {k: v for k, v in stats["nodes"].items() if k not in ("Migration", "LoadJob")}
    return sum(data_labels.values()) == 0


_NODE_HEADERS: dict[str, dict[str, str]] = {
    "Product": {
        "id": "id:ID(Product)",
        **{p: p for p in PRODUCT_PROPS},
        "price": "price:double",
        "created_at": "created_at:date",
        "in_stock": "in_stock:boolean",
    },
    "Customer": {"id": "id:ID(Customer)", "age_bracket": "age_bracket"},
    "Category": {"id": "id:ID(Category)", "name": "name", "level": "level"},
}


def _bulk_import(
    stages: list[Stage], settings: Settings, driver: Driver, *, replace: bool = False
) -> dict[str, int]:
    """Write the frames as neo4j-admin CSVs and import them into the (empty) database.

    The server is stopped for the import and started again afterwards; schema
    migrations are re-applied because the import replaces the database.
    """
    if not settings.local_neo4j:
        raise EtlError(
            settings.effective_neo4j_uri(),
            "bulk import needs the local Neo4j server; run without --bulk",
        )
    if not replace and not _graph_is_empty(driver, settings.neo4j_database):
        raise EtlError(
            settings.effective_neo4j_uri(),
            "bulk import replaces the database and the graph is not empty; "
            "run without --bulk for an incremental load",
        )
    by_name = {s.name: s.frame for s in stages}
    folder = settings.home / "neo4j" / "import" / "bulk"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    args: list[str] = []

    def write(name: str, frame: pl.DataFrame, header: list[str], option: str) -> None:
        header_path = folder / f"{name}.header.csv"
        with header_path.open("w", newline="") as fh:
            csv.writer(fh).writerow(header)
        data_path = folder / f"{name}.csv"
        frame.write_csv(data_path, include_header=False)
        args.append(f"{option}={header_path},{data_path}")

    for label, stage in (
        ("Product", "products"),
        ("Customer", "customers"),
        ("Category", "categories"),
    ):
        headers = _NODE_HEADERS[label]
        frame = by_name[stage].select(list(headers))
        write(label, frame, [headers[c] for c in frame.columns], f"--nodes={label}")
    colours = by_name["product_colours"]
    write(
        "Colour",
        colours.group_by("colour").agg(
            pl.col("perceived_colour").first().alias("perceived"),
            pl.col("perceived_colour_value").first().alias("value"),
        ),
        ["name:ID(Colour)", "perceived", "value"],
        "--nodes=Colour",
    )
    attrs = by_name["product_attributes"].with_columns(
        (pl.col("name") + ":" + pl.col("value")).alias("aid")
    )
    write(
        "Attribute",
        attrs.group_by("aid").agg(pl.col("name").first(), pl.col("value").first()),
        ["id:ID(Attribute)", "kind", "value"],
        "--nodes=Attribute",
    )
    cats = by_name["categories"].filter(pl.col("parent_id").is_not_null())
    write(
        "PARENT_OF",
        cats.select("parent_id", "id"),
        [":START_ID(Category)", ":END_ID(Category)"],
        "--relationships=PARENT_OF",
    )
    write(
        "IN_CATEGORY",
        by_name["product_categories"].select("product_id", "category_id"),
        [":START_ID(Product)", ":END_ID(Category)"],
        "--relationships=IN_CATEGORY",
    )
    write(
        "HAS_COLOUR",
        colours.select("product_id", "colour"),
        [":START_ID(Product)", ":END_ID(Colour)"],
        "--relationships=HAS_COLOUR",
    )
    write(
        "HAS_ATTRIBUTE",
        attrs.select("product_id", "aid"),
        [":START_ID(Product)", ":END_ID(Attribute)"],
        "--relationships=HAS_ATTRIBUTE",
    )
    write(
        "PURCHASED",
        by_name["purchases"].select(
            "customer_id", "article_id", "t_dat", "price", "channel", "qty"
        ),
        [
            ":START_ID(Customer)",
            ":END_ID(Product)",
            "ts:date",
            "price:double",
            "channel:int",
            "qty:int",
        ],
        "--relationships=PURCHASED",
    )
    neo4j_service.stop(settings)
    result = neo4j_service.admin(
        settings,
        "database",
        "import",
        "full",
        settings.neo4j_database,
        "--overwrite-destination=true",
        "--multiline-fields=true",
        "--skip-bad-relationships=false",
        "--threads=2",
        *args,
    )
    neo4j_service.start(settings)
    if result.returncode != 0:
        tail = " | ".join((result.stdout + result.stderr).strip().splitlines()[-5:])
        raise EtlError(folder, f"neo4j-admin database import failed: {tail}")
    with neo4j_service.driver(settings) as fresh:
        migrate(fresh, settings.neo4j_database)
    shutil.rmtree(folder, ignore_errors=True)
    return {s.name: s.frame.height for s in stages}
