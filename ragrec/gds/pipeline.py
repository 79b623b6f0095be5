"""Run the GDS specs of `gds_projections/` through the `graphdatascience` client.

Per spec: optional prepare step, projection, memory estimate of the algorithm on the
projected graph (refused when it exceeds the free heap), `pre` Cypher templates that
clear what the previous run wrote (only now, so a refused run loses nothing), the
algorithm, `post` templates, drop of the in-memory graph (also on failure), and a
`(:GdsRun)` record of which version wrote which properties. Re-running a spec
replaces its previous results, so runs are idempotent.
"""

from __future__ import annotations

import inspect
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, TypeVar

import numpy as np
from graphdatascience import GraphDataScience
from neo4j import Driver, Record

from ragrec.cypher import query, run_autocommit
from ragrec.gds.bought_together import write_bought_together
from ragrec.gds.features import write_product_features
from ragrec.gds.specs import GdsSpec, Weights, load_specs

Progress = Callable[[str], None]
T = TypeVar("T")
log = logging.getLogger(__name__)

#: algorithm config keys that only matter for writing results, not for `.estimate`
_NOT_ESTIMATED = {
    "write_property",
    "mutate_property",
    "write_relationship_type",
    "write_concurrency",
}


class GdsPipelineError(RuntimeError):
    """A GDS run that cannot go ahead (no data, not enough memory); the message says why."""


@dataclass
class StepResult:
    spec: str
    version: int
    run_id: str
    algorithm: str
    properties: list[str]
    node_count: int = 0
    relationship_count: int = 0
    estimate: str | None = None
    estimate_bytes_max: int | None = None
    result: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return round(sum(self.timings.values()), 3)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "seconds": self.seconds}


def run_specs(
    gds: GraphDataScience,
    driver: Driver,
    database: str,
    specs: list[GdsSpec] | None = None,
    *,
    seed: int | None = None,
    progress: Progress | None = None,
) -> list[StepResult]:
    """Run `specs` (default: all, in their `order`); return one result per spec."""
    return [
        run_spec(gds, driver, database, spec, seed=seed, progress=progress)
        for spec in (specs if specs is not None else load_specs())
    ]


def run_spec(
    gds: GraphDataScience,
    driver: Driver,
    database: str,
    spec: GdsSpec,
    *,
    seed: int | None = None,
    progress: Progress | None = None,
) -> StepResult:
    """Run one spec end to end. `seed` overrides the algorithm's `random_seed` if it has one."""
    say = progress or (lambda _msg: None)
    step = StepResult(
        spec=spec.name,
        version=spec.version,
        run_id=spec.run_id,
        algorithm=spec.algorithm.procedure if spec.algorithm else "cypher_template",
        properties=[str(w) for w in spec.writes],
    )
    # stamp: this run, for templates that switch results in after the run (retire the rest)
    params: dict[str, Any] = {
        "run_id": spec.run_id,
        "spec": spec.name,
        "version": spec.version,
        "stamp": uuid.uuid4().hex,
    }
    reference = reference_date(driver, database)
    clock = _Clock(step.timings)

    if spec.kind == "cypher_template":
        assert spec.template is not None
        say(f"{spec.run_id}: baskets -> BOUGHT_TOGETHER")
        with clock("template"):
            step.result = write_bought_together(driver, database, spec)
        step.relationship_count = int(step.result.get("pairs", 0))
    else:
        assert spec.projection is not None and spec.algorithm is not None
        feature_dim = 0
        if spec.prepare is not None:
            say(f"{spec.run_id}: product features")
            with clock("prepare"):
                feature_dim = write_product_features(driver, database, spec.prepare)
        config = _algorithm_config(spec, seed)
        step.result = _project_and_run(
            gds, driver, database, spec, config, reference, feature_dim, params, step, clock, say
        )
        with clock("post"):
            for name in spec.post:
                run_autocommit(driver, database, name, params)
        dims = (spec.algorithm.config or {}).get("embedding_dimension")
        if dims:
            with clock("vector_index"):
                ensure_customer_vector_index(driver, database, int(dims))
    record_run(driver, database, spec, step, reference, seed)
    say(f"{spec.run_id}: done in {step.seconds:.1f}s")
    return step


def ensure_customer_vector_index(driver: Driver, database: str, dims: int) -> None:
    """The customer vector index with the embedding's dimension: the schema migration
    creates it at 256, a spec may write another size (queries would then fail)."""
    name = "customer_behavior_embedding"
    existing, _, _ = driver.execute_query(
        query("recommend/vector_index_dimensions"), index_name=name, database_=database
    )
    if existing and existing[0]["dimensions"] == dims:
        return
    if existing:
        driver.execute_query(query("recommend/drop_customer_vector_index"), database_=database)
    driver.execute_query(
        query("recommend/create_customer_vector_index"), dimensions=dims, database_=database
    )
    driver.execute_query(
        query("recommend/await_vector_index"), index_name=name, seconds=300, database_=database
    )


def reference_date(driver: Driver, database: str) -> date:
    """The latest purchase date in the graph: `now` of the recency decay."""
    records, _, _ = driver.execute_query(query("gds/reference_date"), database_=database)
    value = records[0]["reference"] if records else None
    if value is None:
        raise GdsPipelineError(
            "the graph has no purchases: load data first (`ragrec load-data DIR`)"
        )
    return date(value.year, value.month, value.day)


#: tries of an auto-commit batch template on an error the driver calls retryable
def read_streamed(
    driver: Driver,
    database: str,
    name: str,
    params: dict[str, Any],
    consume: Callable[[Iterable[Record]], T],
) -> T:
    """Stream a read template's records into `consume` inside a managed transaction: the
    driver retries transient errors (`consume` then starts over, so it must build its
    result from scratch). Routed to the writer, as `driver.execute_query` is by default, so
    it sees what this job has just written; records are not all held at once."""
    with driver.session(database=database) as session:
        return session.execute_write(lambda tx: consume(tx.run(query(name), params)))


def record_run(
    driver: Driver,
    database: str,
    spec: GdsSpec,
    step: StepResult,
    reference: date | None,
    seed: int | None,
) -> None:
    params = spec.params()
    if seed is not None:
        params["seed_override"] = seed
    driver.execute_query(
        query("gds/record_run"),
        id=spec.run_id,
        spec=spec.name,
        version=spec.version,
        properties=step.properties,
        params=json.dumps(params, sort_keys=True),
        algorithm=step.algorithm,
        node_count=step.node_count,
        relationship_count=step.relationship_count,
        seconds=step.seconds,
        estimate_bytes_max=step.estimate_bytes_max,
        result=json.dumps(_jsonable(step.result), sort_keys=True),
        reference=reference,
        database_=database,
    )


def recorded_runs(driver: Driver, database: str) -> list[dict[str, Any]]:
    records, _, _ = driver.execute_query(query("gds/runs"), database_=database)
    return [r.data() for r in records]


def estimate_at_scale(
    gds: GraphDataScience,
    specs: list[GdsSpec],
    *,
    customers: int,
    products: int,
    purchases: int,
) -> list[dict[str, Any]]:
    """GDS memory estimates of each algorithm on a fictive graph of the given size.

    Undirected projections hold each customer-product pair twice; `purchases` is
    used as the (upper bound of the) number of distinct pairs. GDS counts a node
    property of a fictive graph as one number per node, so array features (FastRP's
    `features`) are under-counted by (dimension - 1) x 8 bytes per node.
    """
    rows = []
    for spec in specs:
        if spec.kind != "gds" or spec.projection is None or spec.algorithm is None:
            continue
        undirected = any(r.orientation == "UNDIRECTED" for r in spec.projection.relationships)
        weights = sorted(
            {r.weight_property for r in spec.projection.relationships if r.weight_property}
        )
        nodes, rels = _bounded(spec, customers + products, purchases * (2 if undirected else 1))
        fictive: dict[str, Any] = {
            "nodeCount": nodes,
            "relationshipCount": rels,
            "nodeProjection": "*",
            "relationshipProjection": {"R": {"type": "*", "properties": weights}}
            if weights
            else "*",
        }
        if spec.projection.node_properties:
            fictive["nodeProperties"] = spec.projection.node_properties
        endpoint = getattr(gds, spec.algorithm.procedure)
        config = _estimate_config(endpoint, _algorithm_config(spec, None))
        estimate = endpoint.estimate(fictive, **config)
        rows.append(
            {
                "spec": spec.run_id,
                "algorithm": spec.algorithm.procedure,
                "node_count": fictive["nodeCount"],
                "relationship_count": fictive["relationshipCount"],
                "required_memory": estimate.required_memory,
                "bytes_min": estimate.bytes_min,
                "bytes_max": estimate.bytes_max,
            }
        )
    return rows


def estimate_before_projecting(
    gds: GraphDataScience, spec: GdsSpec, config: dict[str, Any], feature_dim: int = 0
) -> dict[str, Any]:
    """Memory of the projection plus the algorithm, estimated before projecting anything.

    The node and relationship counts come from `gds.graph.project.estimate` over the
    spec's labels and relationship types (the store's counts, nothing is read); the
    algorithm's `.estimate` then runs on a fictive graph of that size (an upper bound
    for a Cypher projection, which aggregates pairs). Array node properties (FastRP's
    `features`) are added as `feature_dim` doubles per node, which GDS's fictive graph
    counts as one.
    """
    projection, algorithm = spec.projection, spec.algorithm
    assert projection is not None and algorithm is not None
    relationships = {
        f"{r.type}_{t}": {"type": t, "orientation": r.orientation}
        for r in projection.relationships
        for t in r.from_
    }
    counts = gds.graph.project.estimate(projection.node_labels, relationships)
    nodes, rels = _bounded(spec, int(counts.node_count), int(counts.relationship_count))
    weights = sorted({r.weight_property for r in projection.relationships if r.weight_property})
    fictive: dict[str, Any] = {
        "nodeCount": max(nodes, 1),
        "relationshipCount": rels,
        "nodeProjection": "*",
        "relationshipProjection": {"R": {"type": "*", "properties": weights}} if weights else "*",
    }
    if projection.node_properties:
        fictive["nodeProperties"] = projection.node_properties
    endpoint = getattr(gds, algorithm.procedure)
    estimate = endpoint.estimate(fictive, **_estimate_config(endpoint, config))
    arrays = max(feature_dim - 1, 0) * 8 * nodes * len(projection.node_properties)
    bytes_min, bytes_max = int(estimate.bytes_min) + arrays, int(estimate.bytes_max) + arrays
    readable = (
        f"{bytes_min / 2**20:,.1f} MiB"
        if bytes_min == bytes_max
        else f"{bytes_min / 2**20:,.1f}-{bytes_max / 2**20:,.1f} MiB"
    )
    return {
        "node_count": nodes,
        "relationship_count": rels,
        "bytes_min": bytes_min,
        "bytes_max": bytes_max,
        "required_memory": readable,
    }


def project(
    gds: GraphDataScience, spec: GdsSpec, reference: date, feature_dim: int = 0
) -> tuple[Any, Any]:
    """Project the spec's graph (dropping a leftover of the same name); (graph, result)."""
    projection = spec.projection
    assert projection is not None
    if gds.graph.exists(projection.graph_name):  # left over by an interrupted run
        gds.graph.drop(projection.graph_name)
    if projection.kind == "cypher":
        assert projection.query is not None
        weights = spec.weights or Weights()
        return gds.graph.project.cypher(
            query(projection.query),
            graph_name=projection.graph_name,
            reference=reference,
            decay_days=float(weights.decay_days),
            weights=weights.by_type(),
            zero=[0.0] * feature_dim,
            **projection.params,
        )
    return gds.graph.project.native(
        projection.graph_name, projection.node_projection, projection.relationship_projection
    )


def stream_customer_embeddings(
    gds: GraphDataScience, driver: Driver, database: str, spec: GdsSpec, seed: int
) -> tuple[list[str], np.ndarray]:
    """FastRP embeddings of customers for `seed`, streamed, nothing written (stability check).

    Uses the product features already on the graph (run the spec once first).
    """
    assert spec.algorithm is not None and spec.algorithm.procedure == "fast_rp"
    records, _, _ = driver.execute_query(query("gds/feature_dimension"), database_=database)
    dim = int(records[0]["dim"] or 0) if records else 0
    graph, _ = project(gds, spec, reference_date(driver, database), dim)
    try:
        config = _algorithm_config(spec, seed)
        config["mutate_property"] = "stability_embedding"
        gds.fast_rp.mutate(graph, **config)
        frame = gds.graph.node_properties.stream(
            graph, ["stability_embedding"], node_labels=["Customer"], db_node_properties=["id"]
        )
    finally:
        gds.graph.drop(graph)
    frame = frame.sort_values("id")
    ids = [str(v) for v in frame["id"].tolist()]
    return ids, np.array(frame["stability_embedding"].tolist(), dtype=np.float64)


# -- helpers ---------------------------------------------------------------------------


class _Clock:
    """`with clock("project"):` adds the elapsed seconds to timings["project"]."""

    def __init__(self, timings: dict[str, float]) -> None:
        self.timings = timings
        self._name = ""
        self._start = 0.0

    def __call__(self, name: str) -> _Clock:
        self._name = name
        return self

    def __enter__(self) -> None:
        self._start = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        elapsed = time.perf_counter() - self._start
        self.timings[self._name] = round(self.timings.get(self._name, 0.0) + elapsed, 3)


def _bounded(spec: GdsSpec, nodes: int, relationships: int) -> tuple[int, int]:
    """Node and relationship counts capped by a bounded projection's settings
    (`max_products` items with at most `max_buyers` links each), else as given."""
    params = spec.projection.params if spec.projection else {}
    if "max_products" in params and "max_buyers" in params:
        most = int(params["max_products"]) * int(params["max_buyers"])
        return min(nodes, int(params["max_products"]) + most), min(relationships, most)
    return nodes, relationships


def _algorithm_config(spec: GdsSpec, seed: int | None) -> dict[str, Any]:
    assert spec.algorithm is not None
    config = dict(spec.algorithm.config)
    if seed is not None and "random_seed" in config:
        config["random_seed"] = seed
    return config


def _estimate_config(endpoint: Any, config: dict[str, Any]) -> dict[str, Any]:
    accepted = inspect.signature(endpoint.estimate).parameters
    return {k: v for k, v in config.items() if k in accepted and k not in _NOT_ESTIMATED}


def _project_and_run(
    gds: GraphDataScience,
    driver: Driver,
    database: str,
    spec: GdsSpec,
    config: dict[str, Any],
    reference: date,
    feature_dim: int,
    params: dict[str, Any],
    step: StepResult,
    clock: _Clock,
    say: Progress,
) -> dict[str, Any]:
    """Project, estimate, check memory, clear the previous results (`pre`), run, drop.

    The previous results are cleared only once the estimate fits, so a run refused for
    memory leaves what is stored untouched."""
    assert spec.projection is not None and spec.algorithm is not None
    with clock("estimate"):
        early = estimate_before_projecting(gds, spec, config, feature_dim)
    step.estimate, step.estimate_bytes_max = early["required_memory"], early["bytes_max"]
    _check_memory(
        driver,
        database,
        spec,
        early["bytes_min"],
        f"{early['required_memory']} for {early['node_count']:,} nodes and "
        f"{early['relationship_count']:,} relationships (estimated before projecting)",
    )
    say(f"{spec.run_id}: projecting {spec.projection.graph_name} ({early['required_memory']})")
    with clock("project"):
        graph, projected = project(gds, spec, reference, feature_dim)
    try:
        step.node_count = int(projected.node_count)
        step.relationship_count = int(projected.relationship_count)
        endpoint = getattr(gds, spec.algorithm.procedure)
        with clock("estimate"):
            estimate = endpoint.estimate(graph, **_estimate_config(endpoint, config))
        step.estimate = str(estimate.required_memory)
        step.estimate_bytes_max = int(estimate.bytes_max)
        _check_memory(driver, database, spec, int(estimate.bytes_min), step.estimate)
        with clock("pre"):
            for name in spec.pre:
                run_autocommit(driver, database, name, params)
        say(f"{spec.run_id}: {spec.algorithm.procedure}.{spec.algorithm.mode} ({step.estimate})")
        with clock("algorithm"):
            # a GDS procedure (through the GDS client, auto-commit): it writes in its own
            # transactions; a re-run rewrites the same properties
            result = getattr(endpoint, spec.algorithm.mode)(graph, **config)
        out = _result_dict(result)
        target = spec.algorithm.write_node_properties
        if target is not None:
            with clock("write"):
                written = gds.graph.node_properties.write(
                    graph, [target.property], node_labels=target.labels
                )
            out["properties_written"] = int(written.properties_written)
        return out
    finally:
        gds.graph.drop(graph)


def _check_memory(
    driver: Driver, database: str, spec: GdsSpec, bytes_min: int, readable: str
) -> None:
    records, _, _ = driver.execute_query(query("gds/free_heap"), database_=database)
    free = int(records[0]["free_heap"]) if records else 0
    if free and bytes_min > free:
        raise GdsPipelineError(
            f"{spec.run_id}: GDS estimates {readable} but only {free / 2**20:,.0f} MiB heap is "
            "free; raise RAGREC_NEO4J_HEAP (then `ragrec services down` and `up`), or lower "
            f"the memory the spec needs in gds_projections/{spec.name}.yaml (FastRP: "
            "embedding_dimension; every algorithm: concurrency) under a new version"
        )


def _result_dict(result: Any) -> dict[str, Any]:
    if hasattr(result, "model_dump"):
        data = result.model_dump()
        data.pop("configuration", None)
        return dict(data)
    return {}


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))
