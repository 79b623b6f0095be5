"""Persona discovery, incremental assignment and lookup, on the graph.

`discover()` runs the GDS specs (FastRP, Louvain, node similarity, BOUGHT_TOGETHER),
embeds the customers a second time with another FastRP seed, clusters the behaviour
embeddings crossed with the Louvain communities, choosing the settings that give
several stable, usable segments (`ragrec.personas.clustering`), replaces the Persona
nodes and BELONGS_TO links, names the personas from their purchases, and reports the
size distribution, silhouette, seed stability and drift against the previous discovery.
When the data has no structure the report says so (`structureless`, with the reason)
and no persona is written, rather than one persona for everyone.

`assign()` places new or changed customers on the nearest persona centroid without
re-clustering: their embedding is folded in from the products they interacted with
(each product's vector = weighted mean of its buyers' embeddings, written at discovery).
"""

from __future__ import annotations

import csv
import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from graphdatascience import GraphDataScience
from neo4j import Driver, Record
from sklearn.metrics import adjusted_rand_score

from ragrec.config import get_settings
from ragrec.cypher import query
from ragrec.etl.pseudonymise import pseudonymise_customer_id
from ragrec.gds.pipeline import (
    GdsPipelineError,
    StepResult,
    estimate_before_projecting,
    project,
    read_streamed,
    recorded_runs,
    reference_date,
    run_autocommit,
    run_specs,
)
from ragrec.gds.specs import GdsSpec, Weights, load_spec, load_specs
from ragrec.personas.clustering import (
    ClusteringConfig,
    PersonaClustering,
    find_personas,
    l2_normalise,
    nearest_centroid,
)
from ragrec.personas.drift import PersonaShare, drift_report
from ragrec.personas.naming import PersonaProfile, name_persona, price_label, unique_names

PERSONA_VERSION = 1
EMBEDDING_SPEC = "behavior_embeddings"
WRITE_BATCH = 5_000
READ_BLOCK = 10_000
STABILITY_PROPERTY = "persona_stability_embedding"
Progress = Callable[[str], None]

NO_HISTORY = (
    "no persona: the customer has no purchases or interactions yet; personas are derived "
    "from behaviour, so one is assigned by `ragrec assign-personas` after the first purchase"
)
NOT_ASSIGNED = (
    "no persona yet: the customer has history but arrived after the last discovery; "
    "run `ragrec assign-personas`"
)


@dataclass
class DiscoverReport:
    version: int
    seed: int
    customers: int
    personas: list[dict[str, Any]]
    method: str
    modularity: float | None
    silhouette: float | None
    stability_ari: float | None
    stability_seed: int | None
    noise: int
    merged: int
    gds_steps: list[dict[str, Any]]
    timings: dict[str, float]
    drift: dict[str, Any]
    planted_ari: float | None = None
    clustering: dict[str, int] = field(default_factory=dict)
    structureless: bool = False
    reason: str = ""
    size_distribution: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    candidates: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class AssignReport:
    candidates: int
    assigned: int
    changed: int
    without_embedding: int
    seconds: float
    by_persona: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def discover(
    gds: GraphDataScience,
    driver: Driver,
    database: str,
    *,
    seed: int = 42,
    config: ClusteringConfig | None = None,
    stability: bool = True,
    run_gds: bool = True,
    specs: list[GdsSpec] | None = None,
    progress: Progress | None = None,
) -> DiscoverReport:
    """Discover personas end to end (see the module docstring) and write them."""
    say = progress or (lambda _msg: None)
    config = config or ClusteringConfig.from_settings(get_settings(), seed=seed)
    timings: dict[str, float] = {}
    steps: list[StepResult] = []
    if run_gds:
        steps = run_specs(
            gds, driver, database, specs if specs is not None else load_specs(), seed=seed,
            progress=say,
        )  # fmt: skip
        for step in steps:
            timings[f"gds:{step.spec}"] = step.seconds
        _align_vector_index(driver, database, get_settings().rec_customer_vector_index)

    started = time.perf_counter()
    say("personas: reading embeddings and communities")
    ids, embeddings, communities = _read_customers(driver, database)
    if not ids:
        raise ValueError(
            "no customer has a behaviour embedding: load purchases, then run "
            "`ragrec discover-personas` (it runs the GDS specs first)"
        )
    other = None
    stability_seed = seed + 1 if stability else None
    if stability_seed is not None:
        say(f"personas: second FastRP embedding with seed {stability_seed} (stability)")
        other = _embeddings_for_seed(
            gds, driver, database, ids, stability_seed, sample=config.max_fit_points
        )
    timings["read"] = round(time.perf_counter() - started, 3)
    started = time.perf_counter()
    say(f"personas: choosing HDBSCAN x Louvain settings on {len(ids):,} customers")
    clustering = find_personas(
        embeddings,
        communities,
        config,
        other=None if other is None else other[1],
        other_rows=None if other is None else other[0],
    )
    timings["cluster"] = round(time.perf_counter() - started, 3)

    started = time.perf_counter()
    previous = _previous_snapshot(driver, database)
    profiles: dict[str, dict[str, Any]] = {}
    if clustering.structureless:
        say(f"personas: structureless data, no persona written ({clustering.reason})")
        _clear_personas(driver, database)
        persona_ids: list[str] = []
    else:
        say(f"personas: writing {clustering.k} personas")
        persona_ids = _write_personas(driver, database, ids, clustering, seed)
        profiles = _write_profiles(driver, database)
        _write_product_basis(driver, database, ids, embeddings)
    timings["write"] = round(time.perf_counter() - started, 3)

    modularity = next(
        (float(s.result["modularity"]) for s in steps if "modularity" in s.result), None
    )
    if modularity is None:
        modularity = _recorded_modularity(driver, database)
    rows = _persona_rows(persona_ids, clustering, profiles) if persona_ids else []
    current = [
        PersonaShare(r["id"], r["name"], r["size"], profiles.get(r["id"], {}).get("profile", {}))
        for r in rows
    ]
    snapshot_id = f"personas:v{PERSONA_VERSION}@{time.strftime('%Y-%m-%dT%H:%M:%S')}"
    drift = drift_report(
        current,
        previous[1] if previous else None,
        current_version=snapshot_id,
        previous_version=previous[0] if previous else None,
    )
    report = DiscoverReport(
        version=PERSONA_VERSION,
        seed=seed,
        customers=len(ids),
        personas=rows,
        method="structureless" if clustering.structureless else clustering.method,
        modularity=modularity,
        silhouette=clustering.silhouette,
        stability_ari=clustering.stability_ari,
        stability_seed=stability_seed if clustering.stability_ari is not None else None,
        noise=clustering.stats["noise"],
        merged=clustering.stats["merged"],
        gds_steps=[s.to_dict() for s in steps],
        timings=timings,
        drift=drift.to_dict(),
        clustering=clustering.stats,
        structureless=clustering.structureless,
        reason=clustering.reason,
        size_distribution=size_distribution(clustering),
        settings=_chosen_settings(clustering, config),
        candidates=[c.to_dict() for c in clustering.candidates],
    )
    _save_snapshot(driver, database, snapshot_id, seed, current, report)
    return report


def planted_ari(driver: Driver, database: str, truth: dict[str, int]) -> tuple[float, int]:
    """ARI between current personas and planted segments {pseudonym: segment}; (ari, n)."""
    records, _, _ = driver.execute_query(query("personas/memberships"), database_=database)
    pairs = [(truth[r["id"]], r["persona_id"]) for r in records if r["id"] in truth]
    if not pairs:
        return 0.0, 0
    planted, found = zip(*pairs, strict=True)
    return float(adjusted_rand_score(planted, found)), len(pairs)


def load_planted_segments(path: Path, key: bytes) -> dict[str, int]:
    """`segments_ground_truth.csv` of the generator as {graph customer id: segment}."""
    with path.open(newline="") as fh:
        return {
            pseudonymise_customer_id(row["customer_id"], key): int(row["segment"])
            for row in csv.DictReader(fh)
        }


def assign(driver: Driver, database: str, *, progress: Progress | None = None) -> AssignReport:
    """Assign new or changed customers to the nearest persona centroid (no re-clustering)."""
    say = progress or (lambda _msg: None)
    started = time.perf_counter()
    personas = current_personas(driver, database)
    if not personas:
        raise ValueError("there are no personas yet: run `ragrec discover-personas` first")
    centroids = np.array([p["centroid"] for p in personas], dtype=np.float64)
    records, _, _ = driver.execute_query(query("personas/customers_to_assign"), database_=database)
    todo = [r.data() for r in records]
    say(f"assign: {len(todo):,} new or changed customers")
    spec = load_spec(EMBEDDING_SPEC)
    weights = spec.weights or Weights()
    reference = reference_date(driver, database)
    as_of = _latest_event(driver, database) or reference
    by_persona: Counter[str] = Counter()
    assigned = without = changed = 0
    for start in range(0, len(todo), WRITE_BATCH):
        batch = todo[start : start + WRITE_BATCH]
        ids = [r["id"] for r in batch]
        vectors = _fold_in(driver, database, ids, reference, weights)
        rows, folds = [], []
        for r in batch:
            vector = vectors.get(r["id"])
            if vector is None:
                without += 1
                continue
            best, sim = nearest_centroid(vector[None, :], centroids)
            persona_id = personas[int(best[0])]["id"]
            rows.append(
                {"customer_id": r["id"], "persona_id": persona_id, "via": "fold_in",
                 "similarity": float(sim[0])}
            )  # fmt: skip
            folds.append({"customer_id": r["id"], "embedding": vector.tolist()})
            by_persona[persona_id] += 1
            changed += int(r["persona_id"] is not None and r["persona_id"] != persona_id)
        if rows:
            driver.execute_query(query("personas/write_fold_in"), rows=folds, database_=database)
            driver.execute_query(
                query("personas/write_memberships"),
                rows=rows,
                version=PERSONA_VERSION,
                as_of=as_of,
                database_=database,
            )
        assigned += len(rows)
    driver.execute_query(query("personas/refresh_sizes"), database_=database)
    return AssignReport(
        candidates=len(todo),
        assigned=assigned,
        changed=changed,
        without_embedding=without,
        seconds=round(time.perf_counter() - started, 3),
        by_persona=dict(by_persona.most_common()),
    )


def current_personas(driver: Driver, database: str) -> list[dict[str, Any]]:
    records, _, _ = driver.execute_query(query("personas/current_personas"), database_=database)
    return [r.data() for r in records]


def customer_persona(driver: Driver, database: str, customer_id: str) -> dict[str, Any] | None:
    """A customer's persona, community and categories; `reason` says why there is no persona.

    `customer_id` is the graph id (pseudonym). None if the customer is unknown.
    """
    records, _, _ = driver.execute_query(
        query("personas/customer_persona"), id=customer_id, database_=database
    )
    if not records:
        return None
    out = records[0].data()
    history = out["purchases"] + out["interactions"]
    out["reason"] = None if out["persona"] else (NOT_ASSIGNED if history else NO_HISTORY)
    cats, _, _ = driver.execute_query(
        query("personas/customer_categories"), id=customer_id, limit=5, database_=database
    )
    out["categories"] = [r.data() for r in cats]
    out["community_categories"] = []
    if out["community_id"] is not None:
        comm, _, _ = driver.execute_query(
            query("personas/community_categories"),
            community=out["community_id"],
            limit=5,
            database_=database,
        )
        out["community_categories"] = [r.data() for r in comm]
    return out


# -- helpers ---------------------------------------------------------------------------


def _read_customers(driver: Driver, database: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Ids, embeddings (float32, built in blocks: no list of Python floats for all
    customers) and communities of the customers with a behaviour embedding."""

    def consume(records: Iterable[Record]) -> tuple[list[str], list[np.ndarray], list[int]]:
        ids: list[str] = []
        blocks: list[np.ndarray] = []
        block: list[list[float]] = []
        communities: list[int] = []
        for record in records:
            ids.append(record["id"])
            block.append(record["embedding"])
            communities.append(int(record["community"]))
            if len(block) == READ_BLOCK:
                blocks.append(np.array(block, dtype=np.float32))
                block = []
        if block:
            blocks.append(np.array(block, dtype=np.float32))
        return ids, blocks, communities

    ids, blocks, communities = read_streamed(
        driver, database, "personas/customers_for_clustering", {}, consume
    )
    if not ids:
        return [], np.zeros((0, 0), dtype=np.float32), np.zeros(0, dtype=np.int64)
    return ids, np.vstack(blocks), np.array(communities, dtype=np.int64)


def size_distribution(clustering: PersonaClustering) -> dict[str, Any]:
    """Persona shares of the customers: largest, smallest, median, and all (largest first)."""
    sizes = np.sort(clustering.sizes())[::-1] if not clustering.structureless else np.zeros(0)
    n = int(clustering.labels.size) or 1
    shares = [round(int(v) / n, 4) for v in sizes]
    return {
        "personas": len(shares),
        "largest_share": shares[0] if shares else 0.0,
        "smallest_share": shares[-1] if shares else 0.0,
        "median_share": float(np.median(shares)) if shares else 0.0,
        "shares": shares,
    }


def _chosen_settings(clustering: PersonaClustering, config: ClusteringConfig) -> dict[str, Any]:
    spec = load_spec(EMBEDDING_SPEC)
    fastrp = spec.algorithm.config if spec.algorithm else {}
    return {
        "min_cluster_size": clustering.min_cluster_size,
        "crossing": clustering.method,
        "reduce_dims": config.reduce_dims,
        "max_share": config.max_share,
        "min_silhouette": config.min_silhouette,
        "fastrp_dimension": fastrp.get("embedding_dimension"),
        "fastrp_property_ratio": fastrp.get("property_ratio"),
    }


def _align_vector_index(driver: Driver, database: str, index_name: str) -> None:
    """Recreate the customer vector index when FastRP's dimension changed (a new spec
    version): Neo4j leaves vectors of another length out of the index silently."""
    records, _, _ = driver.execute_query(
        query("recommend/embedding_dimensions"), database_=database
    )
    if not records:
        return
    dims = int(records[0]["dimensions"])
    existing, _, _ = driver.execute_query(
        query("recommend/vector_index_dimensions"), index_name=index_name, database_=database
    )
    if existing and existing[0]["dimensions"] == dims:
        return
    if existing:
        driver.execute_query(query("recommend/drop_customer_vector_index"), database_=database)
    driver.execute_query(
        query("recommend/create_customer_vector_index"), dimensions=dims, database_=database
    )


def _clear_personas(driver: Driver, database: str) -> None:
    for name in (
        "personas/clear_memberships",
        "personas/clear_customer_personas",
        "personas/delete_personas",
    ):
        run_autocommit(driver, database, name, {})


def _write_personas(
    driver: Driver, database: str, ids: list[str], clustering: PersonaClustering, seed: int
) -> list[str]:
    _clear_personas(driver, database)
    persona_ids = [f"persona-v{PERSONA_VERSION}-{k:02d}" for k in range(clustering.k)]
    sizes = np.bincount(clustering.labels, minlength=clustering.k)
    driver.execute_query(
        query("personas/create_personas"),
        rows=[
            {
                "id": persona_ids[k],
                "props": {
                    "version": PERSONA_VERSION,
                    "size": int(sizes[k]),
                    "centroid_embedding": clustering.centroids[k].tolist(),
                    "community_id": clustering.persona_keys[k][0],
                    "cluster_id": clustering.persona_keys[k][1],
                    "method": clustering.method,
                    "seed": seed,
                    "name": persona_ids[k],
                },
            }
            for k in range(clustering.k)
        ],
        database_=database,
    )
    as_of = _latest_event(driver, database)
    rows = [
        {
            "customer_id": cid,
            "persona_id": persona_ids[int(clustering.labels[i])],
            "via": clustering.via[i],
            "similarity": round(float(clustering.similarity[i]), 6),
        }
        for i, cid in enumerate(ids)
    ]
    for start in range(0, len(rows), WRITE_BATCH):
        driver.execute_query(
            query("personas/write_memberships"),
            rows=rows[start : start + WRITE_BATCH],
            version=PERSONA_VERSION,
            as_of=as_of,
            database_=database,
        )
    return persona_ids


def _write_profiles(driver: Driver, database: str) -> dict[str, dict[str, Any]]:
    def mix(records: Iterable[Record]) -> dict[str, PersonaProfile]:
        profiles: dict[str, PersonaProfile] = defaultdict(PersonaProfile)
        for r in records:
            prof = profiles[r["persona"]]
            items = int(r["items"])
            if r["index_group"]:
                prof.index_groups[r["index_group"]] += items
            if r["product_type"]:
                prof.product_types[r["product_type"]] += items
            if r["price_level"] is not None:
                prof.price_level_sum += float(r["price_level"]) * items
                prof.price_level_items += items
        return profiles

    def ages(records: Iterable[Record]) -> list[tuple[str, str, int]]:
        return [(r["persona"], r["age"], int(r["customers"])) for r in records]

    profiles = read_streamed(driver, database, "personas/purchase_mix", {}, mix)
    for persona, age, customers in read_streamed(driver, database, "personas/age_mix", {}, ages):
        profiles[persona].ages[age] += customers
    ordered = sorted(profiles)
    named = [name_persona(profiles[pid]) for pid in ordered]
    names = unique_names([n for n, _ in named])
    out: dict[str, dict[str, Any]] = {}
    for pid, name, (_, description) in zip(ordered, names, named, strict=True):
        prof = profiles[pid]
        total_age = sum(prof.ages.values()) or 1
        out[pid] = {
            "id": pid,
            "name": name,
            "description": description,
            "top_categories": [t for t, _ in prof.top(prof.product_types, 5)],
            "top_index_groups": [t for t, _ in prof.top(prof.index_groups, 3)],
            "age_mix": json.dumps(
                {a: round(c / total_age, 3) for a, c in sorted(prof.ages.items())}
            ),
            "price_level": prof.price_level,
            "price_label": price_label(prof.price_level, prof.price_levels),
        }
    driver.execute_query(
        query("personas/set_profiles"), rows=list(out.values()), database_=database
    )
    for pid, prof in profiles.items():
        out[pid]["profile"] = {
            **{f"type:{t}": round(s, 4) for t, s in prof.top(prof.product_types, 30)},
            **{f"group:{g}": round(s, 4) for g, s in prof.top(prof.index_groups, 10)},
        }
    return out


def _write_product_basis(
    driver: Driver, database: str, ids: list[str], embeddings: np.ndarray
) -> None:
    """Product vectors in customer-embedding space, for folding new customers in."""
    spec = load_spec(EMBEDDING_SPEC)
    weights = spec.weights or Weights()
    index = {cid: i for i, cid in enumerate(ids)}
    x = l2_normalise(embeddings)

    def weigh(records: Iterable[Record]) -> dict[str, np.ndarray]:
        sums: dict[str, np.ndarray] = {}
        for r in records:
            i = index.get(r["customer"])
            if i is None:
                continue
            vec = sums.get(r["product"])
            contribution = x[i] * float(r["weight"])
            sums[r["product"]] = contribution if vec is None else vec + contribution
        return sums

    params = {
        "customer_ids": None,
        "reference": reference_date(driver, database),
        "decay_days": float(weights.decay_days),
        "weights": weights.by_type(),
    }
    sums = read_streamed(driver, database, "personas/interaction_weights", params, weigh)
    rows = [
        {"id": pid, "vector": (v / (np.linalg.norm(v) or 1.0)).tolist()} for pid, v in sums.items()
    ]
    for start in range(0, len(rows), WRITE_BATCH):
        driver.execute_query(
            query("personas/write_product_basis"),
            rows=rows[start : start + WRITE_BATCH],
            version=PERSONA_VERSION,
            database_=database,
        )


def _fold_in(
    driver: Driver, database: str, ids: list[str], reference: date, weights: Weights
) -> dict[str, np.ndarray]:
    """Embeddings of `ids` = normalised weighted sum of their products' behaviour vectors."""
    records, _, _ = driver.execute_query(
        query("personas/interaction_weights"),
        customer_ids=ids,
        reference=reference,
        decay_days=float(weights.decay_days),
        weights=weights.by_type(),
        database_=database,
    )
    pairs = [(r["customer"], r["product"], float(r["weight"])) for r in records]
    products = sorted({p for _, p, _ in pairs})
    basis_records, _, _ = driver.execute_query(
        query("personas/product_basis"), ids=products, database_=database
    )
    basis = {r["id"]: np.array(r["vector"], dtype=np.float64) for r in basis_records}
    out: dict[str, np.ndarray] = {}
    for customer, product, weight in pairs:
        vec = basis.get(product)
        if vec is None:  # a product nobody with a persona bought yet
            continue
        out[customer] = out[customer] + weight * vec if customer in out else weight * vec
    return {c: v / (np.linalg.norm(v) or 1.0) for c, v in out.items() if np.linalg.norm(v) > 0}


def _embeddings_for_seed(
    gds: GraphDataScience,
    driver: Driver,
    database: str,
    ids: list[str],
    seed: int,
    *,
    sample: int,
) -> tuple[np.ndarray, np.ndarray] | None:
    """FastRP embeddings with another seed for a seeded sample of `ids` (at most
    `sample`, so memory is bounded by the setting, not by the customer count):
    (row indices into `ids`, their embeddings). The graph is projected after the same
    memory check as the GDS steps and dropped afterwards; nothing is written. None if
    a sampled customer got no embedding (the graph changed meanwhile)."""
    spec = load_spec(EMBEDDING_SPEC)
    assert spec.algorithm is not None and spec.projection is not None
    rng = np.random.default_rng(seed)
    rows = np.arange(len(ids))
    if len(ids) > sample:
        rows = np.sort(rng.choice(len(ids), size=sample, replace=False))
    records, _, _ = driver.execute_query(query("gds/feature_dimension"), database_=database)
    dim = int(records[0]["dim"] or 0) if records else 0
    config = dict(spec.algorithm.config)
    config["random_seed"] = seed
    early = estimate_before_projecting(gds, spec, config, dim)
    free, _, _ = driver.execute_query(query("gds/free_heap"), database_=database)
    heap = int(free[0]["free_heap"]) if free else 0
    if heap and early["bytes_min"] > heap:
        raise GdsPipelineError(
            f"persona stability run: GDS estimates {early['required_memory']} but only "
            f"{heap / 2**20:,.0f} MiB heap is free; raise RAGREC_NEO4J_HEAP, or run "
            "`ragrec discover-personas --no-stability`"
        )
    graph, _ = project(gds, spec, reference_date(driver, database), dim)
    try:
        config.pop("write_property", None)
        config["mutate_property"] = STABILITY_PROPERTY
        gds.fast_rp.mutate(graph, **config)
        params = {
            "graph_name": spec.projection.graph_name,
            "property": STABILITY_PROPERTY,
            "ids": [ids[i] for i in rows.tolist()],
        }
        found = read_streamed(
            driver,
            database,
            "personas/stability_embeddings",
            params,
            lambda records: {r["id"]: r["embedding"] for r in records},
        )
    finally:
        gds.graph.drop(graph)
    if len(found) < rows.size:
        return None
    return rows, np.array([found[ids[i]] for i in rows.tolist()], dtype=np.float32)


def _latest_event(driver: Driver, database: str) -> date | None:
    records, _, _ = driver.execute_query(query("personas/latest_event_date"), database_=database)
    value = records[0]["latest"] if records else None
    return None if value is None else date(value.year, value.month, value.day)


def _persona_rows(
    persona_ids: list[str], clustering: PersonaClustering, profiles: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    sizes = np.bincount(clustering.labels, minlength=clustering.k)
    total = int(sizes.sum()) or 1
    via = Counter(
        (int(label), how) for label, how in zip(clustering.labels, clustering.via, strict=True)
    )
    rows = []
    for k, pid in enumerate(persona_ids):
        prof = profiles.get(pid, {})
        rows.append(
            {
                "id": pid,
                "name": prof.get("name", pid),
                "description": prof.get("description", ""),
                "size": int(sizes[k]),
                "share": round(int(sizes[k]) / total, 4),
                "community_id": clustering.persona_keys[k][0],
                "cluster_id": clustering.persona_keys[k][1],
                "noise_assigned": via[(k, "noise")],
                "merged": via[(k, "merged_small_intersection")],
                "top_categories": prof.get("top_categories", []),
                "top_index_groups": prof.get("top_index_groups", []),
                "age_mix": json.loads(prof.get("age_mix", "{}")),
                "price_level": prof.get("price_label", "price n/a"),
            }
        )
    return rows


def _previous_snapshot(driver: Driver, database: str) -> tuple[str, list[PersonaShare]] | None:
    records, _, _ = driver.execute_query(query("personas/previous_snapshot"), database_=database)
    if not records:
        return None
    data = json.loads(records[0]["personas"] or "[]")
    return records[0]["id"], [
        PersonaShare(p["id"], p["name"], int(p["size"]), p.get("profile") or {}) for p in data
    ]


def _save_snapshot(
    driver: Driver,
    database: str,
    snapshot_id: str,
    seed: int,
    personas: list[PersonaShare],
    report: DiscoverReport,
) -> None:
    metrics = {
        "customers": report.customers,
        "modularity": report.modularity,
        "silhouette": report.silhouette,
        "stability_ari": report.stability_ari,
        "noise": report.noise,
        "merged": report.merged,
        "method": report.method,
        "drift_total_variation": report.drift["total_variation"],
    }
    driver.execute_query(
        query("personas/save_snapshot"),
        id=snapshot_id,
        version=PERSONA_VERSION,
        seed=seed,
        personas=json.dumps([asdict(p) for p in personas]),
        metrics=json.dumps(metrics),
        database_=database,
    )


def _recorded_modularity(driver: Driver, database: str) -> float | None:
    for run in recorded_runs(driver, database):
        result = json.loads(run.get("result") or "{}")
        if "modularity" in result:
            return float(result["modularity"])
    return None
