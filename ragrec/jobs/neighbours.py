"""NEIGHBOUR {model, score, rank, version}: item-to-item lists of the collaborative models.

The models are `ragrec.evaluation.baselines` `ItemKNN`, `RP3beta` and `EASE` (the
evaluation's baselines): `fit(X)` on the customers x items 0/1 matrix, then
`item_neighbours(top_n)` gives items x items with at most top_n scores per row. EASE
inverts an items x items Gram matrix, so it is fitted on the `neighbours_ease_max_items`
most bought items only (memory M^2 x 8 bytes: 200 MB at 5,000). Each model is its own
version (`neighbours:<model>`), switched in when its relationships are all written.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp
from neo4j import Driver

from ragrec.config import Settings
from ragrec.jobs import versions
from ragrec.jobs.export import PurchaseExport

Say = Callable[[str], None]


def user_item_matrix(export: PurchaseExport) -> sp.csr_matrix:
    pairs = export.purchases.select("customer", "item").unique()
    return sp.csr_matrix(
        (
            np.ones(pairs.height, np.float32),
            (pairs["customer"].to_numpy(), pairs["item"].to_numpy()),
        ),
        shape=(export.n_customers, export.n_items),
    )


def derive(
    driver: Driver,
    settings: Settings,
    export: PurchaseExport,
    *,
    say: Say | None = None,
    on_batch: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    log = say or (lambda _m: None)
    try:
        from ragrec.evaluation import baselines
    except ImportError as exc:  # pragma: no cover - the package ships with ragrec
        return {"skipped": True, "reason": str(exc)}
    x = user_item_matrix(export)
    out: dict[str, Any] = {}
    for model in settings.neighbours_models:
        cls = {"itemknn": "ItemKNN", "rp3beta": "RP3beta", "ease": "EASE"}.get(model)
        if cls is None or not hasattr(baselines, cls):
            out[model] = "not available"
            log(f"{model}: not available in ragrec.evaluation.baselines")
            continue
        t = time.perf_counter()
        cols = np.arange(export.n_items)
        if model == "ease":  # dense M x M on the M most bought items only
            estimator = baselines.EASE(max_items=settings.neighbours_ease_max_items)
        else:
            estimator = getattr(baselines, cls)()
        estimator.fit(x)
        nb = sp.csr_matrix(estimator.item_neighbours(settings.neighbours_top_n))
        fitted = time.perf_counter() - t
        result = _write(driver, settings, model, nb, cols, export.items, on_batch)
        out[model] = {**result, "fit_seconds": round(fitted, 2)}
        log(f"{model}: {result['pairs']:,} neighbours, fit {fitted:.1f}s")
    return out


def _write(
    driver: Driver,
    settings: Settings,
    model: str,
    nb: sp.csr_matrix,
    cols: np.ndarray,
    items: list[str],
    on_batch: Callable[[int, int], None] | None,
) -> dict[str, Any]:
    database = settings.neo4j_database
    batch = settings.jobs_write_batch
    # one row per product with its whole list: one lookup of the product per list, and
    # batches of about `batch` relationships
    rows: list[dict[str, Any]] = []
    for r in range(nb.shape[0]):
        lo, hi = nb.indptr[r], nb.indptr[r + 1]
        idx, val = nb.indices[lo:hi], nb.data[lo:hi]
        keep = (val > 0) & (idx != r)
        idx, val = idx[keep], val[keep]
        order = np.lexsort((idx, -val))[: settings.neighbours_top_n]
        if len(order):
            rows.append(
                {
                    "a": items[int(cols[r])],
                    "nbs": [
                        {"b": items[int(cols[idx[j]])], "score": float(val[j]), "rank": k}
                        for k, j in enumerate(order, start=1)
                    ],
                }
            )
    per_batch = max(1, batch // max(settings.neighbours_top_n, 1))
    batches = [rows[i : i + per_batch] for i in range(0, len(rows), per_batch)]

    def write(version: str) -> dict[str, Any]:
        versions.write_batches(
            driver,
            database,
            "jobs/write_neighbours",
            batches,
            on_batch=on_batch,
            model=model,
            version=version,
        )
        return {"pairs": sum(len(r["nbs"]) for r in rows), "products": len(rows)}

    version, _, stats = versions.publish(
        driver,
        database,
        f"neighbours:{model}",
        write,
        cleanup="jobs/delete_neighbours_except",
        model=model,
        batch=batch,
    )
    return {**stats, "version": version}
