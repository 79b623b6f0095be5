"""A thin, typed adapter over Qdrant Edge (`qdrant-edge-py`, import name `qdrant_edge`).

Qdrant Edge is Qdrant's own storage and search engine (segments, WAL, HNSW, payload
indexes) running inside this Python process; there is no server. One collection here
is one Edge *shard*: a directory at ``root / name``.

Things worth knowing about the engine (checked against qdrant-edge-py 0.9.0):

* **No background optimizer.** Upserts land in an appendable segment that is searched by
  brute force. The HNSW graph (``m``, ``ef_construct``) is built only when `optimize()` is
  called *and* the segment is larger than the optimizer's ``indexing_threshold`` (KB;
  Qdrant's default is 10 000 KB, about 6 500 vectors of 384 floats). Call `optimize()`
  after a bulk load.
* **One open handle per shard.** An open shard holds an exclusive ``flock`` on
  ``<shard>/wal``. A second open of the same shard, from another process or from the
  same one, fails with "Can't init WAL: Kind(WouldBlock)"; it is raised here as
  `CollectionLockedError`, and the handle that holds the lock is not affected. The lock
  is released by `close()`, by garbage collection of the handle, or when the process
  dies (``kill -9`` included). Searches from several threads on one handle are fine.
* **Point ids** must be unsigned integers or UUIDs. Our ids are strings (article ids
  such as ``"0108775015"``), so each is mapped to ``uuid5(ID_NAMESPACE, id)`` and the
  original is kept in the payload under `ID_FIELD`.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple, TypedDict

import numpy as np
import numpy.typing as npt

try:
    import qdrant_edge as qe
except ImportError as exc:  # pragma: no cover - exercised only without the package
    raise ImportError(
        "ragrec.vectorstores.qdrant_edge needs the `qdrant-edge-py` package "
        "(import name `qdrant_edge`): pip install 'qdrant-edge-py>=0.9,<0.10'"
    ) from exc

ENGINE = "qdrant-edge (Qdrant engine in-process)"
PACKAGE = "qdrant-edge-py"

# uuid5(NAMESPACE_OID, "ragrec.item"); fixed forever, or stored ids stop resolving.
ID_NAMESPACE = uuid.UUID("a1774357-d98f-5cb2-abf5-72418a600166")
ID_FIELD = "id"
CATEGORY_FIELD = "category"
PRICE_FIELD = "price"

# Payload indexes created with a new collection: they serve the filters of `search`.
DEFAULT_PAYLOAD_INDEXES: Mapping[str, str] = {CATEGORY_FIELD: "keyword", PRICE_FIELD: "float"}

_DISTANCES: dict[str, qe.Distance] = {
    "cosine": qe.Distance.Cosine,
    "dot": qe.Distance.Dot,
    "euclid": qe.Distance.Euclid,
    "manhattan": qe.Distance.Manhattan,
}
_SCHEMA_TYPES: dict[str, qe.PayloadSchemaType] = {
    "keyword": qe.PayloadSchemaType.Keyword,
    "integer": qe.PayloadSchemaType.Integer,
    "float": qe.PayloadSchemaType.Float,
    "bool": qe.PayloadSchemaType.Bool,
    "text": qe.PayloadSchemaType.Text,
    "datetime": qe.PayloadSchemaType.Datetime,
    "uuid": qe.PayloadSchemaType.Uuid,
}
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
_CONFIG_FILE = "edge_config.json"  # written by the engine in every shard directory
_UPSERT_BATCH = 1_000
_FILTER_KEYS = ("category", "min_price", "max_price")

VectorsLike = npt.ArrayLike


class EdgeError(RuntimeError):
    """The Qdrant Edge engine refused an operation."""


class CollectionLockedError(EdgeError):
    """The shard is open elsewhere (this or another process holds its WAL lock)."""


class CollectionNotFoundError(EdgeError):
    """No shard exists at the collection's path."""


class CollectionExistsError(EdgeError):
    """A shard already exists at the collection's path."""


class SearchFilter(TypedDict, total=False):
    category: str
    min_price: float
    max_price: float


class SearchHit(NamedTuple):
    id: str
    score: float
    payload: dict[str, Any]


def engine_version() -> str:
    """The installed qdrant-edge-py version (the package exposes no ``__version__``)."""
    return metadata.version(PACKAGE)


def point_id(item_id: str) -> uuid.UUID:
    """Deterministic Qdrant point id for one of our string ids."""
    return uuid.uuid5(ID_NAMESPACE, item_id)


def list_collections(root: str | Path) -> list[str]:
    """Names of the shards under `root` (directories the engine wrote a config into)."""
    base = Path(root)
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir() if (p / _CONFIG_FILE).is_file())


def _wrap(exc: Exception, path: Path) -> EdgeError:
    text = str(exc)
    if "WouldBlock" in text:
        return CollectionLockedError(f"{path} is open elsewhere (WAL lock held): {text}")
    if "does not exist" in text or "no segments were loaded" in text:
        return CollectionNotFoundError(f"no Qdrant Edge collection at {path}: {text}")
    if "already contains segment data" in text:
        return CollectionExistsError(f"a Qdrant Edge collection already exists at {path}")
    return EdgeError(f"{path}: {text}")


def _collection_path(root: str | Path, name: str) -> Path:
    if not _NAME_RE.match(name):
        raise ValueError(f"invalid collection name {name!r}: use letters, digits, '_' or '-'")
    return Path(root) / name


def _to_filter(flt: Mapping[str, Any] | None) -> qe.Filter | None:
    if not flt:
        return None
    unknown = set(flt) - set(_FILTER_KEYS)
    if unknown:
        raise ValueError(f"unsupported filter keys {sorted(unknown)}; use {list(_FILTER_KEYS)}")
    must: list[Any] = []
    if flt.get("category") is not None:
        must.append(
            qe.FieldCondition(key=CATEGORY_FIELD, match=qe.MatchValue(str(flt["category"])))
        )
    lo, hi = flt.get("min_price"), flt.get("max_price")
    if lo is not None or hi is not None:
        rng = qe.RangeFloat(
            gte=None if lo is None else float(lo), lte=None if hi is None else float(hi)
        )
        must.append(qe.FieldCondition(key=PRICE_FIELD, range=rng))
    return qe.Filter(must=must) if must else None


class EdgeCollection:
    """One Qdrant Edge shard used as a collection. Open it with `create` or `open`."""

    def __init__(self, shard: qe.EdgeShard, path: Path, dim: int | None = None) -> None:
        self._shard: qe.EdgeShard | None = shard
        self.path = path
        self.name = path.name
        self.dim = dim

    # -- lifecycle ---------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        root: str | Path,
        name: str,
        dim: int,
        distance: str = "cosine",
        m: int = 16,
        ef_construct: int = 128,
        *,
        full_scan_threshold: int = 10_000,
        indexing_threshold_kb: int | None = None,
        payload_indexes: Mapping[str, str] | None = DEFAULT_PAYLOAD_INDEXES,
        exist_ok: bool = False,
    ) -> EdgeCollection:
        """Create the shard ``root/name`` (dense vectors of `dim`, HNSW `m`/`ef_construct`).

        `full_scan_threshold` (KB) and `indexing_threshold_kb` are Qdrant's knobs: below
        them a segment is searched by brute force / not indexed (None = Qdrant default).
        With `exist_ok`, an existing shard is opened instead; the engine checks that its
        dim and distance match, and its HNSW settings are kept as they are.
        """
        if dim <= 0:
            raise ValueError("dim must be positive")
        try:
            dist = _DISTANCES[distance.lower()]
        except KeyError:
            raise ValueError(
                f"unknown distance {distance!r}; use one of {list(_DISTANCES)}"
            ) from None
        path = _collection_path(root, name)
        vectors = qe.EdgeVectorParams(size=dim, distance=dist)
        if (path / _CONFIG_FILE).exists():
            if not exist_ok:
                raise CollectionExistsError(f"a Qdrant Edge collection already exists at {path}")
            try:
                return cls(qe.EdgeShard.load(str(path), qe.EdgeConfig(vectors=vectors)), path, dim)
            except Exception as exc:
                raise _wrap(exc, path) from exc
        optimizers = (
            None
            if indexing_threshold_kb is None
            else qe.EdgeOptimizersConfig(indexing_threshold=indexing_threshold_kb)
        )
        config = qe.EdgeConfig(
            vectors=vectors,
            hnsw_config=qe.HnswIndexConfig(
                m=m, ef_construct=ef_construct, full_scan_threshold=full_scan_threshold
            ),
            optimizers=optimizers,
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            shard = qe.EdgeShard.create(str(path), config)
        except Exception as exc:
            raise _wrap(exc, path) from exc
        coll = cls(shard, path, dim)
        for field, kind in (payload_indexes or {}).items():
            coll.create_payload_index(field, kind)
        return coll

    @classmethod
    def open(cls, root: str | Path, name: str, *, lock_timeout: float = 0.0) -> EdgeCollection:
        """Open the existing shard ``root/name``; wait up to `lock_timeout` s for its lock."""
        path = _collection_path(root, name)
        if not (path / _CONFIG_FILE).is_file():
            raise CollectionNotFoundError(f"no Qdrant Edge collection at {path}")
        deadline = time.monotonic() + lock_timeout
        while True:
            try:
                return cls(qe.EdgeShard.load(str(path)), path)
            except Exception as exc:
                err = _wrap(exc, path)
                if isinstance(err, CollectionLockedError) and time.monotonic() < deadline:
                    time.sleep(0.1)
                    continue
                raise err from exc

    @property
    def closed(self) -> bool:
        return self._shard is None

    def _handle(self) -> qe.EdgeShard:
        if self._shard is None:
            raise EdgeError(f"collection {self.name!r} is closed")
        return self._shard

    def flush(self) -> None:
        self._handle().flush()

    def close(self) -> None:
        """Flush and release the shard (and its WAL lock). Idempotent."""
        if self._shard is not None:
            shard, self._shard = self._shard, None
            shard.close()

    def __enter__(self) -> EdgeCollection:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- writes ------------------------------------------------------------------------

    def create_payload_index(self, field: str, kind: str) -> None:
        try:
            schema = _SCHEMA_TYPES[kind.lower()]
        except KeyError:
            raise ValueError(
                f"unknown payload index type {kind!r}; use {list(_SCHEMA_TYPES)}"
            ) from None
        self._handle().update(qe.UpdateOperation.create_field_index(field, schema))

    def upsert(
        self,
        ids: Sequence[str],
        vectors: VectorsLike,
        payloads: Sequence[Mapping[str, Any]] | None = None,
    ) -> int:
        """Insert or replace points; each payload gets ``ID_FIELD = id``. Returns the count."""
        matrix = np.asarray(vectors, dtype=np.float32)
        if matrix.ndim != 2 or matrix.shape[0] != len(ids):
            raise ValueError(f"vectors must be ({len(ids)}, dim); got shape {matrix.shape}")
        if self.dim is not None and matrix.shape[1] != self.dim:
            raise ValueError(f"vectors have dim {matrix.shape[1]}, collection has {self.dim}")
        if payloads is not None and len(payloads) != len(ids):
            raise ValueError(f"{len(payloads)} payloads for {len(ids)} ids")
        if not np.isfinite(matrix).all():
            raise ValueError("vectors contain NaN or inf")
        shard = self._handle()
        for start in range(0, len(ids), _UPSERT_BATCH):
            stop = start + _UPSERT_BATCH
            points = []
            for i, row in enumerate(matrix[start:stop].tolist(), start):
                item_id = str(ids[i])
                payload = dict(payloads[i]) if payloads is not None else {}
                payload[ID_FIELD] = item_id
                points.append(qe.Point(point_id(item_id), row, payload))
            try:
                shard.update(qe.UpdateOperation.upsert_points(points))
            except Exception as exc:
                raise _wrap(exc, self.path) from exc
        return len(ids)

    def delete(self, ids: Sequence[str]) -> None:
        if ids:
            pids: list[int | uuid.UUID | str] = [point_id(str(i)) for i in ids]
            self._handle().update(qe.UpdateOperation.delete_points(pids))

    def optimize(self) -> bool:
        """Run Qdrant's segment optimizers now (builds HNSW above the indexing threshold)."""
        return self._handle().optimize()

    # -- reads -------------------------------------------------------------------------

    def search(
        self,
        vector: VectorsLike,
        top_k: int = 10,
        filter: Mapping[str, Any] | SearchFilter | None = None,
        *,
        hnsw_ef: int | None = None,
        exact: bool = False,
    ) -> list[SearchHit]:
        """Nearest points to `vector`, best first, optionally filtered.

        `filter` keys: ``category`` (payload equality), ``min_price`` / ``max_price``
        (inclusive range on the ``price`` payload field). `exact` forces brute force.
        """
        query = np.asarray(vector, dtype=np.float32)
        if query.ndim != 1:
            raise ValueError(f"query must be one vector; got shape {query.shape}")
        params = qe.SearchParams(hnsw_ef=hnsw_ef, exact=exact) if (hnsw_ef or exact) else None
        request = qe.SearchRequest(
            query=qe.Query.Nearest(query.tolist()),
            limit=top_k,
            filter=_to_filter(filter),
            params=params,
            with_payload=True,
            with_vector=False,
        )
        try:
            points = self._handle().search(request)
        except Exception as exc:
            raise _wrap(exc, self.path) from exc
        hits = []
        for p in points:
            payload = dict(p.payload or {})
            hits.append(SearchHit(str(payload.get(ID_FIELD, p.id)), float(p.score), payload))
        return hits

    def count(self, filter: Mapping[str, Any] | SearchFilter | None = None) -> int:
        return self._handle().count(qe.CountRequest(exact=True, filter=_to_filter(filter)))

    def info(self) -> dict[str, Any]:
        info = self._handle().info()
        return {
            "points": info.points_count,
            "indexed_vectors": info.indexed_vectors_count,
            "segments": info.segments_count,
            "payload_indexes": {
                # pyo3 enums have no `.name`; str() gives "PayloadSchemaType.Keyword"
                k: str(v.data_type).rsplit(".", 1)[-1]
                for k, v in info.payload_schema.items()
            },
        }
