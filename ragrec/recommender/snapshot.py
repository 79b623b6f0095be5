"""The item snapshot: the live item-side structure, held in the API process.

What `ragrec refresh` and the GDS jobs write about *items* (the live ranked lists, the
NEIGHBOUR lists of each model, BOUGHT_TOGETHER, SIMILAR_TO, the catalogue and its sales
counters) changes only when a job switches a version. Reading it again with Cypher for
every request made the candidates read cost 30-70 ms on a 1M-purchase graph (10-12
sources, 300-7,500 relationships, product details for every candidate). The snapshot
reads it once per live version (`cypher/recommend/snapshot/`: streamed, one row per
product), as compressed sparse rows (numpy), and answers the same sources with the same
scores, order and explanations as the branch templates in `cypher/recommend/sources/`
(`tests/integration/test_jobs.py` compares the two). A request then costs one round trip
for the customer's own profile, plus numpy.

- Rebuilt in the background when a live version or the SIMILAR_TO count changes
  (`stamp`); requests use the Cypher path (`precomputed.CandidateReader`) until the first
  build is done, and the previous snapshot while the next one builds.
- The catalogue (stock, price) is re-read every `rec_snapshot_poll_s` for the products
  written since the last read (`Product.updated_at`, indexed).
- A part that fails to load (its template missing, a timeout) leaves its sources out of
  every answer, named in `degraded`, as a failing branch does on the Cypher path.
- Memory is bounded by the job settings, not by the traffic: per product at most
  `neighbours_top_n` per model, `bt_top_n` partners, and the lists' `lists_top_n`; about
  16 bytes an entry in arrays, plus the catalogue's details as dicts (measured at H&M
  size: 105,542 products, 12.7M entries, built in 189 s; the benchmark process peaked at
  1.9 GiB RSS with it; at `1m`: 2.4M entries in 29 s).
"""

from __future__ import annotations

import logging
import threading
import time
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
from neo4j import READ_ACCESS, Driver, Query

from ragrec.cypher import query
from ragrec.recommender.generators import GeneratorResult
from ragrec.recommender.precomputed import _reason  # one wording for both paths
from ragrec.recommender.types import Candidate, ProductInfo

log = logging.getLogger(__name__)
Row = dict[str, Any]

#: snapshot part -> (its template, the sources that read it)
PARTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "products": ("recommend/snapshot/products", ()),
    "ranked_lists": (
        "recommend/snapshot/ranked_lists",
        (
            "popularity",
            "new_arrivals",
            "persona_favourites",
            "community_trending",
            "category_affinity",
            "trending",
        ),
    ),
    "neighbours": ("recommend/snapshot/neighbours", ("behaviour_neighbours", "model_neighbours")),
    "bought_together": ("recommend/snapshot/bought_together", ("co_purchase",)),
    "similar_to": ("recommend/snapshot/similar_to", ("similar_items",)),
}
SIMILAR_SOURCES = ("gds_node_similarity", "visual", "text")
#: a relation's key prefix per part
PREFIX = {"neighbours": "nb", "bought_together": "bt", "similar_to": "sim"}
LOAD_TIMEOUT_S = 3600.0


@dataclass
class Relation:
    """Compressed sparse rows of one kind of item-item relationship: the partners of
    product row i are indices[indptr[i]:indptr[i+1]] with data (and counts) alongside."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    counts: np.ndarray | None = None

    @property
    def nnz(self) -> int:
        return int(self.indices.size)


@dataclass
class RankedList:
    label: str | None
    rows: np.ndarray  # product rows in rank order
    ranks: np.ndarray
    scores: np.ndarray
    ns: list[Any]
    reasons: dict[str, list[str]] = field(default_factory=dict)  # per source, item by item


@dataclass
class Snapshot:
    """One immutable build (the catalogue's details may be replaced product by product)."""

    stamp: tuple[Any, ...]
    ids: list[str]
    index: dict[str, int]
    details: dict[str, Row]
    infos: dict[str, ProductInfo]
    lists: dict[tuple[str, str], RankedList] = field(default_factory=dict)
    relations: dict[str, Relation] = field(default_factory=dict)  # model / source / bt
    codes: dict[str, np.ndarray] = field(default_factory=dict)  # product code -> rows
    failed: set[str] = field(default_factory=set)  # sources whose part did not load
    seconds: float = 0.0

    def rows_of(self, ids: Iterable[str]) -> np.ndarray:
        return np.fromiter(
            (i for pid in ids if (i := self.index.get(pid)) is not None), dtype=np.int64
        )

    @property
    def entries(self) -> int:
        return sum(r.nnz for r in self.relations.values()) + sum(
            len(lst.rows) for lst in self.lists.values()
        )


class SnapshotClosed(RuntimeError):
    """The snapshot was closed while it was reading (the API is shutting down)."""


class ItemSnapshot:
    """Builds, keeps and answers from the live `Snapshot` (thread-safe: a build replaces
    the reference in one assignment)."""

    def __init__(
        self,
        driver: Driver,
        database: str,
        *,
        poll_s: float = 10.0,
        templates: dict[str, str] | None = None,
        timeout_s: float = LOAD_TIMEOUT_S,
    ) -> None:
        self.driver = driver
        self.database = database
        self.poll_s = poll_s
        self.timeout_s = timeout_s
        self.templates = {name: t for name, (t, _) in PARTS.items()} | (templates or {})
        self.current: Snapshot | None = None
        self._building = False
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._checked = -1e9
        self._since: Any = None  # newest Product.updated_at seen

    # -- building -----------------------------------------------------------------------

    def stamp(self) -> tuple[Any, ...]:
        with self._session() as s:
            r = s.run(Query(query("recommend/snapshot/stamp"), timeout=30.0)).single()
        return (tuple(r["versions"]), r["similar"]) if r else ((), 0)

    def build(self) -> Snapshot:
        """Read every part now (one streamed query each) and make it the live snapshot."""
        began = time.perf_counter()
        stamp = self.stamp()
        since = self._now()
        ids, details = self._products()
        index = {pid: i for i, pid in enumerate(ids)}
        snap = Snapshot(
            stamp=stamp,
            ids=ids,
            index=index,
            details=details,
            infos={pid: _info(pid, d) for pid, d in details.items()},
        )
        codes: dict[str, list[int]] = {}
        for i, pid in enumerate(ids):
            if len(pid) > 3:
                codes.setdefault(pid[:-3], []).append(i)
        snap.codes = {c: np.asarray(rows, dtype=np.int64) for c, rows in codes.items()}
        for part in ("ranked_lists", "neighbours", "bought_together", "similar_to"):
            try:
                if part == "ranked_lists":
                    snap.lists = self._lists(index)
                else:
                    params = {"sources": list(SIMILAR_SOURCES)} if part == "similar_to" else {}
                    snap.relations.update(self._relations(part, params, index))
            except SnapshotClosed:
                raise
            except Exception as exc:  # its sources are named in every answer's `degraded`
                log.warning("item snapshot: %s did not load (%s); its sources are left out",
                            part, exc)  # fmt: skip
                snap.failed.update(PARTS[part][1])
        snap.seconds = time.perf_counter() - began
        self.current = snap
        self._since = since
        self._checked = time.monotonic()
        log.info(
            "item snapshot built in %.1f s: %d products, %d entries%s",
            snap.seconds,
            len(ids),
            snap.entries,
            f", left out: {sorted(snap.failed)}" if snap.failed else "",
        )
        return snap

    def build_now(self) -> Snapshot:
        """The live snapshot, built now when it is missing or out of date. A background
        build already running is waited for, not run a second time beside it."""
        while True:
            with self._lock:
                if not self._building:
                    self._building = True
                    break
                running = self._thread
            if running is not None and running.is_alive():
                running.join()
            else:  # another build_now() holds it
                time.sleep(0.05)
        try:
            snap = self.current
            if snap is None or self.stamp() != snap.stamp:
                snap = self.build()
            return snap
        finally:
            with self._lock:
                self._building = False

    def state(self) -> dict[str, Any]:
        """What `/api/v1/ready` reports: `ready` once a build is live (the previous one stays
        live while the next builds), with its size and what was left out."""
        snap = self.current
        out: dict[str, Any] = {"state": "ready" if snap is not None else "building"}
        if snap is not None:
            out |= {
                "built_s": round(snap.seconds, 1),
                "products": len(snap.ids),
                "entries": snap.entries,
                "left_out": sorted(snap.failed),
            }
        return out

    def maybe_rebuild(self) -> None:
        """Called by the engine every few seconds (never waits): rebuild in the background
        when the live versions changed; re-read the products written since the last read."""
        if time.monotonic() - self._checked < self.poll_s:
            return
        self._checked = time.monotonic()

        def work() -> None:
            try:
                snap = self.current
                if snap is None or self.stamp() != snap.stamp:
                    self.build()
                else:
                    self._refresh_products(snap)
            except SnapshotClosed:  # shutting down
                pass
            except Exception as exc:
                log.warning("item snapshot not rebuilt: %s", exc)
            finally:
                with self._lock:
                    self._building = False

        with self._lock:  # one at a time, and none once closed
            if self._building or self._closed.is_set():
                return
            self._building = True
            self._thread = threading.Thread(target=work, daemon=True, name="rec-snapshot")
            self._thread.start()

    def close(self, timeout_s: float = 10.0) -> None:
        """Stop the background work before the driver closes: a read in progress stops at
        its next row (closing the driver under it would fail the close)."""
        with self._lock:
            self._closed.set()
            thread = self._thread
        if thread is not None and thread.is_alive():
            thread.join(timeout_s)

    def _rows(self, result: Iterable[Any]) -> Iterable[Any]:
        """A streamed result's records, until `close()`."""
        for record in result:
            if self._closed.is_set():
                raise SnapshotClosed("the item snapshot was closed")
            yield record

    def _session(self) -> Any:
        return self.driver.session(database=self.database, default_access_mode=READ_ACCESS)

    def _now(self) -> Any:
        with self._session() as s:
            return s.run("RETURN datetime() AS now").single(strict=True)["now"]

    def _products(self) -> tuple[list[str], dict[str, Row]]:
        ids: list[str] = []
        details: dict[str, Row] = {}
        with self._session() as s:
            result = s.run(Query(query(self.templates["products"]), timeout=self.timeout_s))
            for record in self._rows(result):
                pid, row = _product(record["row"])
                ids.append(pid)
                details[pid] = row
        return ids, details

    def _refresh_products(self, snap: Snapshot) -> None:
        since = self._since
        if since is None:
            return
        with self._session() as s:
            rows = list(s.run(Query(query("recommend/snapshot/products_changed"), timeout=30.0),
                              since=since))  # fmt: skip
        for record in rows:
            pid, row = _product(record["row"])
            if pid in snap.index:  # a new product joins at the next build
                snap.details[pid] = row
                snap.infos[pid] = _info(pid, row)
            if since is None or record["updated_at"] > since:
                since = record["updated_at"]
        self._since = since

    def _lists(self, index: dict[str, int]) -> dict[tuple[str, str], RankedList]:
        out: dict[tuple[str, str], RankedList] = {}
        with self._session() as s:
            result = s.run(Query(query(self.templates["ranked_lists"]), timeout=self.timeout_s))
            for r in self._rows(result):
                items = [it for it in r["items"] if it[0] in index]
                out[(r["list"], str(r["key"]))] = RankedList(
                    label=r["label"],
                    rows=np.asarray([index[it[0]] for it in items], dtype=np.int64),
                    ranks=np.asarray([it[1] for it in items], dtype=np.int64),
                    scores=np.asarray([float(it[2] or 0.0) for it in items], dtype=np.float64),
                    ns=[it[3] for it in items],
                )
        return out

    def _relations(self, part: str, params: Row, index: dict[str, int]) -> dict[str, Relation]:
        """Stream one part's rows into per-kind coordinate arrays, then sort them by row;
        keyed `<prefix>:<kind>` (nb:ease, bt:bought_together, sim:visual)."""
        prefix = PREFIX[part]
        coo: dict[str, tuple[array[int], array[int], array[float], array[int]]] = {}
        with self._session() as s:
            result = s.run(Query(query(self.templates[part]), timeout=self.timeout_s), params)
            for r in self._rows(result):
                a = index.get(r["anchor"])
                if a is None:
                    continue
                rows, cols, data, counts = coo.setdefault(
                    f"{prefix}:{r['kind']}", (array("q"), array("q"), array("d"), array("q"))
                )
                c = r["counts"]
                for j, (pid, score) in enumerate(zip(r["ids"], r["scores"], strict=True)):
                    b = index.get(pid)
                    if b is None:
                        continue
                    rows.append(a)
                    cols.append(b)
                    data.append(float(score or 0.0))
                    counts.append(int(c[j] or 0) if c is not None else 0)
        n = len(index)
        out = {}
        for kind, (rows, cols, data, counts) in coo.items():
            out[kind] = _csr(
                np.frombuffer(rows, dtype=np.int64),
                np.frombuffer(cols, dtype=np.int64),
                np.frombuffer(data, dtype=np.float64),
                np.frombuffer(counts, dtype=np.int64) if part == "bought_together" else None,
                n,
                both_ways=part == "similar_to",
            )
        return out

    # -- answering ----------------------------------------------------------------------

    def read(
        self, sources: Sequence[str], params: Row, labels: Row
    ) -> tuple[list[GeneratorResult], list[str], dict[str, Row]] | None:
        """The sources' candidates, as `CandidateReader.read` gives them; None before the
        first build."""
        snap = self.current
        if snap is None:
            return None
        reader = _Answer(snap, params, labels)
        results: list[GeneratorResult] = []
        degraded: list[str] = []
        for source in sources:
            if source in snap.failed:
                degraded.append(source)
                continue
            try:
                results.extend(reader.source(source))
            except Exception as exc:  # one source failing never fails the request
                log.warning("source %s dropped: %s", source, exc)
                degraded.append(source)
        stats: dict[str, Row] = {}
        for res in results:
            for c in res.candidates:
                sales = snap.details.get(c.product_id, {}).get("stats")
                if sales:
                    stats[c.product_id] = sales
        return [r for r in results if r.candidates], degraded, stats


class _Answer:
    """One request's sources over a snapshot (the branch templates' semantics)."""

    def __init__(self, snap: Snapshot, params: Row, labels: Row) -> None:
        self.snap = snap
        self.p = params
        self.labels = labels
        self.limit = int(params["limit"])
        n = len(snap.ids)
        self.excluded = np.zeros(n, dtype=bool)  # masks over the snapshot's rows
        self.excluded[snap.rows_of(params.get("exclude_ids") or ())] = True
        self.bought = np.zeros(n, dtype=bool)
        self.bought[snap.rows_of(params.get("bought") or ())] = True
        self._reasons: dict[tuple[str, tuple[Any, ...]], str] = {}

    def source(self, name: str) -> list[GeneratorResult]:
        p = self.p
        if name == "popularity":
            return self._ranked(name, ("popular", p["popular_key"]))
        if name == "trending":
            return self._ranked(name, ("popular", p["trending_key"]), by_n=True)
        if name == "new_arrivals":
            return self._ranked(name, ("new_arrivals", "all"))
        if name == "persona_favourites":
            key = p.get("persona_key")
            return [] if key is None else self._ranked(name, ("persona_favourites", str(key)))
        if name == "community_trending":
            key = p.get("community_key")
            return [] if key is None else self._ranked(name, ("community_trending", str(key)))
        if name == "category_affinity":
            return self._category_affinity()
        if name == "co_purchase":
            return self._co_purchase()
        if name == "similar_items":
            return self._similar_items()
        if name == "behaviour_neighbours":
            return self._behaviour_neighbours()
        if name == "model_neighbours":
            return self._model_neighbours()
        if name == "siblings":
            return self._siblings()
        raise KeyError(f"no snapshot answer for source {name!r}")

    # -- list sources ---------------------------------------------------------------------

    @staticmethod
    def _details(source: str, lst: RankedList) -> list[Row]:
        """The branch templates' detail map of each list item."""
        if source in ("popularity", "persona_favourites"):
            return [{"n": n, "label": lst.label} for n in lst.ns]
        return [{"n": n} for n in lst.ns]

    def _ranked(self, source: str, key: tuple[str, str], *, by_n: bool = False) -> list[Any]:
        lst = self.snap.lists.get(key)
        if lst is None:
            return []
        positions = np.flatnonzero(~self.excluded[lst.rows])
        if by_n:  # ORDER BY r.n DESC, p.id (rows are in id order)
            ns = np.asarray([float(lst.ns[i] or 0) for i in positions])
            positions = positions[np.lexsort((lst.rows[positions], -ns))]
        positions = positions[: self.limit]
        # a list's reasons do not depend on the request (but persona_favourites' persona
        # name): worded once per list and source, kept with the list
        cached = lst.reasons.get(source)
        if cached is None:
            cached = [_reason({"source": source, "detail": d}, self.labels)
                      for d in self._details(source, lst)]  # fmt: skip
            if source != "persona_favourites":
                lst.reasons[source] = cached
        scores = lst.ns if source == "trending" else lst.scores.tolist()
        out = [(int(lst.rows[i]), float(scores[i] or 0), cached[i]) for i in positions.tolist()]
        return [self._result(source, out)]

    def _category_affinity(self) -> list[GeneratorResult]:
        per_category = int(self.p["per_category"])
        best: dict[int, tuple[float, str]] = {}
        for cat in self.p.get("categories") or []:
            lst = self.snap.lists.get(("category_best", str(cat["name"])))
            if lst is None:
                continue
            keep = (lst.ranks <= per_category) & ~self.excluded[lst.rows]
            for row, score in zip(lst.rows[keep], lst.scores[keep] * float(cat["weight"]),
                                  strict=True):  # fmt: skip
                row = int(row)
                old = best.get(row)
                if old is None:
                    best[row] = (float(score), str(cat["name"]))
                elif score > old[0]:
                    best[row] = (float(score), old[1])  # collect(cat.name)[0]: the first
        ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], kv[0]))[: self.limit]
        return [
            self._result(
                "category_affinity",
                [(row, score, {"category": name}) for row, (score, name) in ranked],
            )
        ]

    # -- relation sources -----------------------------------------------------------------

    def _gather(
        self, kinds: Sequence[str], anchors: Sequence[tuple[int, float]]
    ) -> tuple[np.ndarray, ...]:
        """Every (partner, weighted score, anchor position, count, kind position) of the
        anchors' rows in the kinds' relations: anchors first, then kinds, then stored order."""
        present = [
            (k, rel)
            for k, kind in enumerate(kinds)
            if (rel := self.snap.relations.get(kind)) is not None
        ]
        rows = np.fromiter((a for a, _ in anchors), dtype=np.int64, count=len(anchors))
        weights = np.fromiter((w for _, w in anchors), dtype=np.float64, count=len(anchors))
        cols, scores, who, counts, kind_of = [], [], [], [], []
        for k, rel in present:
            starts = rel.indptr[rows]
            lengths = rel.indptr[rows + 1] - starts
            total = int(lengths.sum())
            if not total:
                continue
            # the entries' positions in the relation, anchor after anchor (one pass, no
            # Python loop over the anchors)
            j = np.repeat(np.arange(rows.size), lengths)
            pos = np.arange(total) + np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
            cols.append(rel.indices[pos])
            scores.append(rel.data[pos] * weights[j])
            who.append(j)
            kind_of.append(np.full(total, k, dtype=np.int64))
            if rel.counts is not None:
                counts.append(rel.counts[pos])
        if not cols:  # no anchors, no relation of these kinds, or no entries
            empty = np.zeros(0, dtype=np.int64)
            return empty, np.zeros(0), empty, np.zeros(0), empty
        out = [
            np.concatenate(cols),
            np.concatenate(scores),
            np.concatenate(who),
            np.concatenate(counts) if counts else np.zeros(0),
            np.concatenate(kind_of),
        ]
        if len(cols) > 1:  # kinds were gathered one after the other: back to anchor order
            order = np.argsort(out[2] * len(kinds) + out[4], kind="stable")
            out = [a[order] if a.size else a for a in out]
        return tuple(out)

    def _top(
        self, cols: np.ndarray, scores: np.ndarray, drop: np.ndarray, best_by: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sum the scores per partner, drop the masked rows, keep the `limit` best (score
        desc, then id). Returns (partners, sums, each kept partner's evidence entry: the
        one with the largest `best_by`, or the first in match order)."""
        uniq, inverse = np.unique(cols, return_inverse=True)
        sums = np.bincount(inverse, weights=scores, minlength=uniq.size)
        kept = np.flatnonzero(~drop[uniq])
        if kept.size > self.limit:  # only those that can reach the top (ties included)
            floor = np.partition(sums[kept], kept.size - self.limit)[kept.size - self.limit]
            kept = kept[sums[kept] >= floor]
        order = kept[np.lexsort((uniq[kept], -sums[kept]))][: self.limit]
        # the evidence entry of each kept partner, among its own entries only
        chosen = np.zeros(uniq.size, dtype=bool)
        chosen[order] = True
        entries = np.flatnonzero(chosen[inverse])
        if best_by is None:
            grouped = entries[np.argsort(inverse[entries], kind="stable")]
        else:
            grouped = entries[np.lexsort((-best_by[entries], inverse[entries]))]
        first = np.searchsorted(inverse[grouped], order)
        return uniq[order], sums[order], grouped[first]

    def _anchors(self) -> list[tuple[int, float]]:
        out = []
        for a in self.p.get("anchors") or []:
            row = self.snap.index.get(a["id"])
            if row is not None:
                out.append((row, float(a["weight"])))
        return out

    def _name(self, row: int) -> str:
        pid = self.snap.ids[row]
        return str(self.snap.details.get(pid, {}).get("name") or pid)

    def _why(self, source: str, key: tuple[Any, ...], detail: Any) -> str:
        """The reason of the branch templates (`precomputed._reason`), once per request for
        each (source, evidence): most candidates of a source share a few anchors."""
        hit = self._reasons.get((source, key))
        if hit is None:
            hit = _reason({"source": source, "detail": detail()}, self.labels)
            self._reasons[(source, key)] = hit
        return hit

    def _co_purchase(self) -> list[GeneratorResult]:
        anchors = self._anchors()
        cols, scores, who, counts, _ = self._gather(("bt:bought_together",), anchors)
        if not cols.size:
            return []
        rows, sums, best = self._top(cols, scores, self.excluded, counts)
        out = []
        for row, score, e in zip(rows.tolist(), sums.tolist(), best.tolist(), strict=True):
            a, n = anchors[who[e]][0], int(counts[e])
            why = self._why("co_purchase", (a, n), lambda a=a, n=n: {
                "evidence": [{"anchor": self._name(a), "count": n}]})  # fmt: skip
            out.append((row, score, why))
        return [self._result("co_purchase", out)]

    def _similar_items(self) -> list[GeneratorResult]:
        anchors = self._anchors()
        kinds = list(self.p.get("sources") or SIMILAR_SOURCES)
        # per (partner, anchor, kind) the max similarity (both ways were merged at load)
        cols, sims, who, _, kind_of = self._gather(
            [f"sim:{k}" for k in kinds], [(a, 1.0) for a, _ in anchors]
        )
        if not cols.size:
            return []
        weights = np.asarray([w for _, w in anchors])[who]
        rows, sums, best = self._top(cols, sims * weights, self.excluded, sims)
        out = []
        for row, score, e in zip(rows.tolist(), sums.tolist(), best.tolist(), strict=True):
            a, kind = anchors[who[e]][0], kinds[kind_of[e]]
            why = self._why("similar_items", (a, kind), lambda a=a, kind=kind: {
                "evidence": [{"anchor": self._name(a), "source": kind}]})  # fmt: skip
            out.append((row, score, why))
        return [self._result("similar_items", out)]

    def _behaviour_neighbours(self) -> list[GeneratorResult]:
        anchors = self._anchors()
        models = [m for m in self.p.get("models") or [] if f"nb:{m}" in self.snap.relations]
        cols, scores, who, _, _ = self._gather([f"nb:{m}" for m in models], anchors)
        if not cols.size:
            return []
        rows, sums, best = self._top(cols, scores, self.excluded, None)
        return [self._result("behaviour_neighbours", self._by_anchor(
            "behaviour_neighbours", rows, sums, best, who, [a for a, _ in anchors]))]  # fmt: skip

    def _model_neighbours(self) -> list[GeneratorResult]:
        rows_of = self.snap.rows_of(self.p.get("items") or ()).tolist()
        items = [(row, 1.0) for row in rows_of]
        drop = self.excluded | self.bought
        results = []
        for model in sorted(k[3:] for k in self.snap.relations if k.startswith("nb:")):
            cols, scores, who, _, _ = self._gather((f"nb:{model}",), items)
            if not cols.size:
                continue
            rows, sums, best = self._top(cols, scores, drop, None)
            results.append(
                self._result(model, self._by_anchor(model, rows, sums, best, who, rows_of))
            )
        return results

    def _by_anchor(
        self,
        source: str,
        rows: np.ndarray,
        sums: np.ndarray,
        best: np.ndarray,
        who: np.ndarray,
        anchor_rows: list[int],
    ) -> list[tuple[int, float, str]]:
        out = []
        for row, score, e in zip(rows.tolist(), sums.tolist(), best.tolist(), strict=True):
            a = anchor_rows[who[e]]
            why = self._why(source, (a,), lambda a=a: {"evidence": [{"anchor": self._name(a)}]})
            out.append((row, score, why))
        return out

    def _siblings(self) -> list[GeneratorResult]:
        codes = self.p.get("codes") or []
        found = [self.snap.codes[c] for c in codes if c in self.snap.codes]
        if not found:
            return []
        rows, shared = np.unique(np.concatenate(found), return_counts=True)
        keep = ~(self.excluded[rows] | self.bought[rows])
        rows, shared = rows[keep], shared[keep]
        max_sales = float(self.p.get("max_sales") or 0.0)
        sales = np.asarray(
            [float(self.snap.details[self.snap.ids[r]].get("sales_all") or 0) for r in rows]
        )
        scores = shared + sales / (max_sales + 1.0)
        order = np.lexsort((rows, -scores))[: self.limit]
        return [
            self._result(
                "siblings", [(int(rows[i]), float(scores[i]), {"n": int(shared[i])}) for i in order]
            )
        ]

    # -- results --------------------------------------------------------------------------

    def _result(self, source: str, scored: Sequence[tuple[int, float, Any]]) -> GeneratorResult:
        """Candidates from (row, score, the reason or the template's detail map)."""
        ids, known, labels = self.snap.ids, self.snap.infos, self.labels
        candidates, infos = [], []
        for row, score, detail in scored:
            pid = ids[row]
            reason = (
                detail
                if type(detail) is str
                else _reason({"source": source, "detail": detail}, labels)
            )
            candidates.append(Candidate(pid, score, source, reason))
            infos.append(known[pid])
        return GeneratorResult(source, candidates, infos)


def _csr(
    rows: np.ndarray,
    cols: np.ndarray,
    data: np.ndarray,
    counts: np.ndarray | None,
    n: int,
    *,
    both_ways: bool,
) -> Relation:
    """Sort coordinates into rows (stable: a row keeps its stored order). Both ways: each
    pair in either direction once, with the larger score (max over the duplicates)."""
    if both_ways:
        rows, cols = np.concatenate([rows, cols]), np.concatenate([cols, rows])
        data = np.concatenate([data, data])
        keys = rows * n + cols
        order = np.lexsort((-data, keys))
        keys, data = keys[order], data[order]
        first = np.ones(keys.size, dtype=bool)
        first[1:] = keys[1:] != keys[:-1]
        keys, data = keys[first], data[first]
        rows, cols = keys // n, keys % n
        counts = None
    order = np.argsort(rows, kind="stable")
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return Relation(
        indptr=indptr,
        indices=cols[order],
        data=data[order],
        counts=None if counts is None else counts[order],
    )


def _product(row: list[Any]) -> tuple[str, Row]:
    pid, name, category, price, in_stock, created, colour, *counts, last = row
    stats = None
    if counts[0] is not None:
        stats = dict(zip(("sales", "sales_1d", "sales_7d", "sales_28d"), counts, strict=True))
        stats["last_sale"] = _date(last)
    return str(pid), {
        "name": name,
        "category": category,
        "price": price,
        "in_stock": in_stock,
        "created_at": _date(created),
        "colour": colour,
        "stats": stats,
        "sales_all": counts[0],
    }


def _info(pid: str, d: Row) -> ProductInfo:
    return ProductInfo(
        product_id=pid,
        name=d["name"],
        category=d["category"],
        price=d["price"],
        in_stock=d["in_stock"],
        created_at=d["created_at"],
        colour=d["colour"],
    )


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text[:10]) if text else None
