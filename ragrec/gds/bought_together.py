"""BOUGHT_TOGETHER {count, lift, score, rank, version} from baskets (same customer, same
day): the pipeline step of `gds_projections/bought_together.yaml` and the evaluation's
derivation, both through the bounded-memory job `ragrec.jobs.bought_together` (sparse
pair counts in scipy over a paged purchases export, written as a new version and switched
in). `as_of` limits the baskets to those before a date, so evaluation can derive them
from training data only.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from neo4j import Driver

from ragrec.config import get_settings
from ragrec.gds.specs import GdsSpec
from ragrec.jobs import bought_together as job
from ragrec.jobs import versions
from ragrec.jobs.export import FAR_FUTURE as FAR_FUTURE
from ragrec.jobs.export import export_purchases


def write_bought_together(driver: Driver, database: str, spec: GdsSpec) -> dict[str, Any]:
    """The pipeline step of `gds_projections/bought_together.yaml`."""
    assert spec.template is not None
    return derive_bought_together(driver, database, min_count=spec.template.min_count)


def derive_bought_together(
    driver: Driver,
    database: str,
    *,
    as_of: date | None = None,
    min_count: int | None = None,
    max_basket: int | None = None,
) -> dict[str, Any]:
    """(Re)write BOUGHT_TOGETHER from baskets before `as_of`; returns counts and seconds.

    Baskets larger than `max_basket` items (default `bt_basket_cap`) are down-weighted or
    dropped (`bt_big_baskets`)."""
    settings = get_settings()
    versions.ensure_indexes(driver, database)
    export = export_purchases(driver, database, batch=settings.jobs_read_batch, as_of=as_of)
    opts = job.PairOptions(
        basket_cap=max_basket or settings.bt_basket_cap,
        big_baskets=settings.bt_big_baskets,
        min_count=float(min_count or settings.bt_min_count),
        top_n=settings.bt_top_n,
        pair_budget=settings.jobs_pair_budget,
    )
    result = job.derive(driver, database, export, opts, write_batch=settings.jobs_write_batch)
    return {
        "baskets": result["baskets"],
        "pairs": result["pairs"],
        "max_lift": result["max_lift"],
        "version": result["version"],
        "seconds": round(result["seconds"] + export.seconds, 2),
    }
