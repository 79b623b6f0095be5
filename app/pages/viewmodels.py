"""View models of the explorer pages: plain data the templates render, built from what
the API's services and the pages' Cypher queries return. Pure functions (no I/O), so
each page's shape is unit-tested without a server.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: colours of personas / series (colour-blind friendly, Okabe-Ito + extras)
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
    "#999999",
    "#8C564B",
)
STORES = ("pgvector", "qdrant", "neo4j")


def product_image_url(product_id: str, width: int = 320) -> str:
    return f"/media/products/{product_id}?w={width}"


@dataclass
class ProductCard:
    """A product as one tile of a grid."""

    id: str
    name: str | None = None
    product_type: str | None = None
    price: float | None = None
    has_image: bool = False
    score: float | None = None
    position: int | None = None
    reasons: list[str] = field(default_factory=list)
    colour: str | None = None

    @property
    def title(self) -> str:
        return self.name or f"product {self.id}"

    @property
    def image_url(self) -> str | None:
        return product_image_url(self.id) if self.has_image else None

    @property
    def alt(self) -> str:
        parts = [self.title, self.colour, self.product_type]
        return ", ".join(p for p in parts if p)

    @property
    def score_pct(self) -> int:
        """The score as a 0..100 bar width (cosine similarity and fused scores alike)."""
        if self.score is None or not math.isfinite(self.score):
            return 0
        return max(0, min(100, round(self.score * 100)))


def cards(
    items: Iterable[Mapping[str, Any]], details: Mapping[str, Mapping[str, Any]]
) -> list[ProductCard]:
    """Grid cards of ranked items (`product_id`, `score`, `position`, `reasons`, ...)
    completed with the product details found (`has_image`, names, types)."""
    out = []
    for item in items:
        pid = str(item["product_id"])
        d = details.get(pid, {})
        out.append(
            ProductCard(
                id=pid,
                name=item.get("name") or d.get("name"),
                product_type=item.get("product_type")
                or item.get("category")
                or d.get("product_type"),
                price=_float(
                    item.get("price") if item.get("price") is not None else d.get("price")
                ),
                has_image=bool(d.get("has_image")),
                score=_float(item.get("score")),
                position=item.get("position"),
                reasons=list(item.get("reasons") or []),
                colour=item.get("colour") or d.get("colour"),
            )
        )
    return out


# -- visual search -----------------------------------------------------------------------


@dataclass
class StoreRun:
    """How one vector store did on the same query."""

    store: str
    ms: float | None = None
    answered_by: str | None = None
    results: int = 0
    error: str | None = None

    @property
    def fell_back(self) -> bool:
        return self.answered_by is not None and self.answered_by != self.store

    @property
    def status(self) -> str:
        if self.error:
            return f"failed: {self.error}"
        if self.fell_back:
            return f"unavailable, answered by {self.answered_by}"
        return f"{self.results} results"


def store_bars(runs: Sequence[StoreRun]) -> list[tuple[StoreRun, int]]:
    """Each store with its time as a bar width (0..100, relative to the slowest)."""
    slowest = max((r.ms for r in runs if r.ms is not None and not r.error), default=0.0)
    return [
        (r, round(100 * r.ms / slowest) if slowest and r.ms is not None and not r.error else 0)
        for r in runs
    ]


# -- personas ----------------------------------------------------------------------------


@dataclass
class MapPoint:
    x: float
    y: float
    persona: str
    colour: str
    label: str


@dataclass
class PersonaMap:
    points: list[MapPoint]
    legend: list[tuple[str, str, int]]  # (persona name, colour, customers shown)
    width: int
    height: int
    explained: tuple[float, float]  # share of variance on each axis
    total: int


def pca_2d(vectors: np.ndarray) -> tuple[np.ndarray, tuple[float, float]]:
    """Project rows onto their first two principal components; returns the coordinates
    and the share of variance each axis explains."""
    if vectors.ndim != 2 or len(vectors) == 0:
        return np.zeros((0, 2)), (0.0, 0.0)
    centred = vectors - vectors.mean(axis=0)
    if len(vectors) == 1 or not np.any(centred):
        return np.zeros((len(vectors), 2)), (0.0, 0.0)
    # eigenvectors of the d x d covariance: much cheaper than an SVD of the n x d data
    values, vectors = np.linalg.eigh(centred.T @ centred)
    order = np.argsort(values)[::-1][:2]
    comps = vectors[:, order]
    coords = centred @ comps
    if coords.shape[1] < 2:
        coords = np.hstack([coords, np.zeros((len(coords), 2 - coords.shape[1]))])
    var = np.clip(values, 0, None)
    total = float(var.sum())
    top = var[order] / total if total else np.zeros(len(order))
    return coords, (float(top[0]), float(top[1]) if len(top) > 1 else 0.0)


def persona_map(
    rows: Sequence[Mapping[str, Any]],
    persona_names: Mapping[str, str],
    *,
    width: int = 640,
    height: int = 420,
    pad: int = 16,
    jitter: float = 3.0,
) -> PersonaMap:
    """The customers' behaviour embeddings on a 2-D PCA map, one colour per persona
    (customers without one are grey). Rows: `id`, `persona_id`, `embedding`. Customers
    with the same behaviour share a point; a small stable jitter (by id, at most
    `jitter` pixels) keeps a crowd visible as a crowd."""
    rows = [r for r in rows if r.get("embedding")]
    dims = {len(r["embedding"]) for r in rows}
    if len(dims) > 1:  # a half-finished re-embedding: keep the most common dimension
        common = max(dims, key=lambda d: sum(len(r["embedding"]) == d for r in rows))
        rows = [r for r in rows if len(r["embedding"]) == common]
    if not rows:
        return PersonaMap([], [], width, height, (0.0, 0.0), 0)
    coords, explained = pca_2d(np.asarray([r["embedding"] for r in rows], dtype=np.float64))
    colours = persona_colours([r.get("persona_id") for r in rows], persona_names)
    lo, hi = coords.min(axis=0), coords.max(axis=0)
    span = np.where(hi - lo > 0, hi - lo, 1.0)
    points: list[MapPoint] = []
    counts: dict[str, int] = {}
    for r, (x, y) in zip(rows, coords, strict=True):
        pid = r.get("persona_id")
        name = persona_names.get(str(pid), f"persona {pid}") if pid is not None else "no persona"
        counts[name] = counts.get(name, 0) + 1
        jx, jy = _jitter(str(r["id"]), jitter)
        points.append(
            MapPoint(
                x=round(
                    min(
                        max(pad + (x - lo[0]) / span[0] * (width - 2 * pad) + jx, pad), width - pad
                    ),
                    1,
                ),
                y=round(
                    min(
                        max(pad + (1 - (y - lo[1]) / span[1]) * (height - 2 * pad) + jy, pad),
                        height - pad,
                    ),
                    1,
                ),
                persona=name,
                colour=colours.get(pid, PALETTE[-2]),
                label=f"a customer of {name}",
            )
        )
    legend = sorted(
        (
            (name, next(p.colour for p in points if p.persona == name), n)
            for name, n in counts.items()
        ),
        key=lambda t: -t[2],
    )
    return PersonaMap(points, legend, width, height, explained, len(points))


def persona_colours(persona_ids: Iterable[Any], persona_names: Mapping[str, str]) -> dict[Any, str]:
    """A stable colour per persona: the order of `persona_names` (biggest first), then any
    other id met; no persona = grey."""
    order = [*persona_names]
    for pid in persona_ids:
        if pid is not None and str(pid) not in order:
            order.append(str(pid))
    out: dict[Any, str] = {None: PALETTE[-2]}
    for i, pid in enumerate(order):
        colour = PALETTE[i % (len(PALETTE) - 2)] if i < len(PALETTE) - 2 else _hsl(i)
        out[pid] = colour
        out[_maybe_int(pid)] = colour
    return out


@dataclass
class PersonaCard:
    id: str
    name: str
    description: str | None
    size: int
    share_pct: float
    top_categories: list[str]
    age_mix: list[tuple[str, int]]  # (bracket, percent), biggest first
    price_label: str | None
    price_level: float | None
    colour: str


def persona_cards(personas: Sequence[Mapping[str, Any]]) -> list[PersonaCard]:
    total = sum(int(p.get("size") or 0) for p in personas) or 1
    names = {str(p["id"]): p.get("name") or f"persona {p['id']}" for p in personas}
    colours = persona_colours([], names)
    out = []
    for p in personas:
        pid = str(p["id"])
        mix = p.get("age_mix") or {}
        age = sorted(((k, round(100 * float(v))) for k, v in mix.items()), key=lambda t: -t[1])
        out.append(
            PersonaCard(
                id=pid,
                name=names[pid],
                description=p.get("description"),
                size=int(p.get("size") or 0),
                share_pct=round(100 * int(p.get("size") or 0) / total, 1),
                top_categories=list(p.get("top_categories") or [])[:5],
                age_mix=age,
                price_label=p.get("price_label"),
                price_level=_float(p.get("price_level")),
                colour=colours[pid],
            )
        )
    return out


# -- graph explorer ----------------------------------------------------------------------

EDGE_TYPES = ("BOUGHT_TOGETHER", "SIMILAR_TO", "PURCHASED", "IN_CATEGORY", "BELONGS_TO")
NODE_COLOURS = {
    "Product": "#0072B2",
    "Customer": "#E69F00",
    "Category": "#009E73",
    "Persona": "#CC79A7",
}
EDGE_COLOURS = {
    "BOUGHT_TOGETHER": "#D55E00",
    "SIMILAR_TO": "#56B4E9",
    "PURCHASED": "#E69F00",
    "IN_CATEGORY": "#009E73",
    "BELONGS_TO": "#CC79A7",
    "INTERACTED": "#999999",
    "PARENT_OF": "#009E73",
}


def rel_filter(types: Iterable[str]) -> str:
    """APOC's relationshipFilter for the chosen edge types (unknown ones dropped)."""
    return "|".join(t for t in EDGE_TYPES if t in set(types))


def node_label(node: Mapping[str, Any]) -> str:
    kind = _kind(node)
    if kind == "Customer":
        return "customer"  # never the pseudonym
    if kind == "Persona":
        return str(node.get("name") or f"persona {node.get('id')}")
    name = node.get("name") or node.get("id")
    return str(name)[:28]


def _kind(node: Mapping[str, Any]) -> str:
    labels = node.get("labels") or []
    return next((k for k in NODE_COLOURS if k in labels), labels[0] if labels else "Node")


def network_data(
    nodes: Sequence[Mapping[str, Any]], rels: Sequence[Mapping[str, Any]], start_key: str | None
) -> dict[str, Any]:
    """The neighbourhood as a pyvis network: products with pictures show them, other
    nodes are coloured dots by label, edges carry their type and weight. Returns vis.js
    `nodes`, `edges` and `options` (JSON-ready) plus counts for the page."""
    from pyvis.network import Network

    net = Network(height="560px", width="100%", directed=True, cdn_resources="local")
    for n in nodes:
        kind = _kind(n)
        title = "\n".join(
            f"{k}: {v}"
            for k, v in (
                ("type", kind),
                ("id", n.get("id") if kind != "Customer" else None),
                ("name", n.get("name")),
                ("product type", n.get("product_type")),
                ("level", n.get("level")),
                ("size", n.get("size")),
            )
            if v is not None
        )
        style: dict[str, Any] = {"color": NODE_COLOURS.get(kind, "#999999")}
        if kind == "Product" and n.get("has_image"):
            style = {"shape": "image", "image": product_image_url(str(n["id"]), 160), "size": 28}
        elif kind in ("Category", "Persona"):
            style["shape"] = "box" if kind == "Category" else "diamond"
            style["font"] = {"color": "#ffffff" if kind == "Category" else "#000000"}
        if n["key"] == start_key:
            style["borderWidth"] = 4
            style.setdefault("size", 32)
        net.add_node(n["key"], label=node_label(n), title=title, **style)
    keys = {n["key"] for n in nodes}
    for r in rels:
        if r["source"] not in keys or r["target"] not in keys:
            continue
        weight = _float(r.get("weight"))
        label = r["type"] if weight is None else f"{r['type']} {weight:.2f}"
        if r.get("source_name"):
            label += f" ({r['source_name']})"
        net.add_edge(
            r["source"],
            r["target"],
            title=label,
            color=EDGE_COLOURS.get(r["type"], "#999999"),
            value=max(weight or 1.0, 0.1),
            arrows="to",
        )
    net.set_options(
        '{"physics": {"solver": "forceAtlas2Based", "stabilization": {"iterations": 150}},'
        ' "interaction": {"hover": true, "navigationButtons": false, "keyboard": true},'
        ' "edges": {"smooth": false, "scaling": {"min": 1, "max": 6}},'
        ' "nodes": {"font": {"size": 12}}}'
    )
    vis_nodes, vis_edges, _, _, _, options = net.get_network_data()
    kinds: dict[str, int] = {}
    for n in nodes:
        kinds[_kind(n)] = kinds.get(_kind(n), 0) + 1
    return {
        "nodes": vis_nodes,
        "edges": vis_edges,
        "options": options,
        "counts": kinds,
        "edge_count": len(vis_edges),
    }


# -- recommendation explainer -----------------------------------------------------------


@dataclass
class Source:
    """One generator's part in an item's rank."""

    generator: str
    rank: int
    score: float
    reason: str
    share_pct: int = 0  # of the item's fused score (RRF) or 0 when not additive


@dataclass
class PathStep:
    kind: str
    label: str
    rel: str | None = None  # relationship to the next step
    forward: bool = True


@dataclass
class ExplainedItem:
    card: ProductCard
    generators: list[str]
    sources: list[Source]
    path: list[PathStep]


def sources_of(
    product_id: str,
    lists: Mapping[str, Sequence[Any]],
    *,
    rrf_k: float | None = None,
) -> list[Source]:
    """Where every candidate generator ranked this product (1-based), with its score and
    reason; with `rrf_k`, each source's share of the item's reciprocal-rank sum."""
    found = []
    for generator, candidates in lists.items():
        for rank, c in enumerate(candidates, start=1):
            if c.product_id == product_id:
                found.append(Source(generator, rank, float(c.score), c.reason))
                break
    if rrf_k is not None and found:
        parts = [1.0 / (rrf_k + s.rank) for s in found]
        total = sum(parts)
        for s, part in zip(found, parts, strict=True):
            s.share_pct = round(100 * part / total)
    return sorted(found, key=lambda s: (s.rank, s.generator))


def path_steps(row: Mapping[str, Any] | None) -> list[PathStep]:
    """A path from `explain_paths` as steps to draw: each node with the relationship that
    leads to the next one."""
    if not row or not row.get("steps"):
        return []
    steps = row["steps"]
    rels = row.get("rels") or []
    out = []
    for i, node in enumerate(steps):
        rel = rels[i] if i < len(rels) else None
        kind = _kind(node)
        label = node_label({**node, "name": node.get("name")}) if kind != "Customer" else "customer"
        out.append(
            PathStep(
                kind=kind,
                label=label,
                rel=rel["type"] if rel else None,
                forward=bool(rel["forward"]) if rel else True,
            )
        )
    return out


# -- analytics ----------------------------------------------------------------------------


@dataclass
class Series:
    name: str
    colour: str
    points: str  # SVG polyline points
    values: list[int]


@dataclass
class TimeChart:
    days: list[str]
    series: list[Series]
    width: int
    height: int
    max_value: int

    @property
    def empty(self) -> bool:
        return not self.days


def daily_chart(
    rows: Sequence[Mapping[str, Any]],
    metrics: Sequence[str] = ("impressions", "clicks", "carts", "purchases"),
    *,
    width: int = 640,
    height: int = 220,
    pad: int = 24,
) -> TimeChart:
    """Per-day totals (summed over contexts) of each metric as SVG polylines."""
    days = sorted({str(r["day"]) for r in rows})
    totals = {m: dict.fromkeys(days, 0) for m in metrics}
    for r in rows:
        for m in metrics:
            totals[m][str(r["day"])] += int(r.get(m) or 0)
    top = max((v for m in metrics for v in totals[m].values()), default=0) or 1
    step = (width - 2 * pad) / max(len(days) - 1, 1)
    series = []
    for i, m in enumerate(metrics):
        values = [totals[m][d] for d in days]
        pts = " ".join(
            f"{pad + j * step:.1f},{height - pad - v / top * (height - 2 * pad):.1f}"
            for j, v in enumerate(values)
        )
        series.append(Series(m, PALETTE[i], pts, values))
    return TimeChart(days, series, width, height, top)


@dataclass
class ContextRate:
    context: str
    impressions: int
    clicks: int
    carts: int
    purchases: int

    @property
    def ctr(self) -> float:
        return self.clicks / self.impressions if self.impressions else 0.0

    @property
    def conversion(self) -> float:
        return self.carts / self.clicks if self.clicks else 0.0


def context_rates(rows: Sequence[Mapping[str, Any]]) -> list[ContextRate]:
    """Totals per context over the window, most impressions first."""
    acc: dict[str, ContextRate] = {}
    for r in rows:
        c = acc.setdefault(str(r["context"]), ContextRate(str(r["context"]), 0, 0, 0, 0))
        c.impressions += int(r.get("impressions") or 0)
        c.clicks += int(r.get("clicks") or 0)
        c.carts += int(r.get("carts") or 0)
        c.purchases += int(r.get("purchases") or 0)
    return sorted(acc.values(), key=lambda c: (-c.impressions, c.context))


def top_lists(
    recommended: Sequence[Mapping[str, Any]], bought: Sequence[Mapping[str, Any]]
) -> list[tuple[Mapping[str, Any] | None, Mapping[str, Any] | None, bool, bool]]:
    """Top recommended beside top bought, row by row; the flags mark products that are on
    both lists."""
    rec_ids = {r["product_id"] for r in recommended}
    bought_ids = {b["product_id"] for b in bought}
    rows = []
    for i in range(max(len(recommended), len(bought))):
        r = recommended[i] if i < len(recommended) else None
        b = bought[i] if i < len(bought) else None
        rows.append(
            (
                r,
                b,
                r is not None and r["product_id"] in bought_ids,
                b is not None and b["product_id"] in rec_ids,
            )
        )
    return rows


# -- benchmarks ---------------------------------------------------------------------------

#: metric columns charted first when a table has them (latency, throughput, quality)
PREFERRED_METRICS = (
    "p95_ms",
    "p50_ms",
    "qps",
    "rows_per_s",
    "rows_per_second",
    "items_per_s",
    "per_s",
    "recall@10",
    "ndcg@10",
    "metrics.ndcg@10",
    "metrics.recall@10",
    "metrics.hr@10",
    "peak_rss_mb",
)
LABEL_KEYS = ("name", "store", "system", "endpoint", "path", "encoder", "model", "mode")


@dataclass
class Bar:
    label: str
    value: float
    pct: int


@dataclass
class BarChart:
    metric: str
    bars: list[Bar]


@dataclass
class BenchTable:
    title: str
    columns: list[str]
    rows: list[list[str]]
    charts: list[BarChart]


@dataclass
class BenchFile:
    name: str
    modified: str
    summary: list[tuple[str, str]]
    tables: list[BenchTable]
    error: str | None = None


def bench_file(name: str, modified: str, data: Any, *, max_charts: int = 2) -> BenchFile:
    """One benchmark JSON as tables (every list of records in it, nested dicts flattened
    one level) with bar charts of the preferred metric columns; top-level scalars become
    the summary."""
    if not isinstance(data, dict):
        return BenchFile(name, modified, [], [], error="not a JSON object")
    summary = [(k, _fmt(v)) for k, v in data.items() if _scalar(v)][:12]
    tables = []
    for key, value in data.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            tables.append(_bench_table(key, [_flatten(v) for v in value], max_charts))
    return BenchFile(name, modified, summary, tables)


def _bench_table(title: str, records: list[dict[str, Any]], max_charts: int) -> BenchTable:
    columns: list[str] = []
    for r in records:
        columns += [k for k, v in r.items() if _scalar(v) and k not in columns]
    label_key = next((k for k in LABEL_KEYS if k in columns), None) or next(
        (k for k in columns if isinstance(records[0].get(k), str)), None
    )
    labels = [
        str(r.get(label_key, i + 1)) if label_key else str(i + 1) for i, r in enumerate(records)
    ]
    numeric = [c for c in columns if all(_number(r.get(c)) for r in records if c in r)]
    chosen = [m for m in PREFERRED_METRICS if m in numeric][:max_charts] or numeric[:1]
    charts = []
    for metric in chosen:
        values = [float(r[metric]) if _number(r.get(metric)) else 0.0 for r in records]
        top = max(values, default=0.0) or 1.0
        charts.append(
            BarChart(
                metric,
                [
                    Bar(label, v, max(0, round(100 * v / top)))
                    for label, v in zip(labels, values, strict=True)
                ],
            )
        )
    rows = [[_fmt(r.get(c)) for c in columns] for r in records]
    return BenchTable(title, columns, rows, charts)


# -- helpers -------------------------------------------------------------------------------


def _flatten(record: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in record.items():
        if isinstance(v, dict):
            out.update({f"{k}.{k2}": v2 for k2, v2 in v.items() if _scalar(v2)})
        else:
            out[k] = v
    return out


def _scalar(v: Any) -> bool:
    return v is None or isinstance(v, str | int | float | bool)


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _fmt(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if v != 0 and abs(v) < 0.01:
            return f"{v:.2e}"
        return f"{v:,.4f}" if abs(v) < 1 else f"{v:,.2f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def _float(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _maybe_int(v: Any) -> Any:
    try:
        return int(v)
    except (TypeError, ValueError):
        return v


def _jitter(key: str, size: float) -> tuple[float, float]:
    h = zlib.crc32(key.encode())
    return ((h & 0xFFFF) / 0xFFFF - 0.5) * 2 * size, ((h >> 16) / 0xFFFF - 0.5) * 2 * size


def _hsl(i: int) -> str:
    return f"hsl({(i * 47) % 360}, 60%, 45%)"
