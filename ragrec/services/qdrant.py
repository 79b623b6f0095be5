"""Qdrant: the embedded engine (Qdrant Edge under `settings.qdrant_path`) or a server.

* **embedded** (``RAGREC_QDRANT_URL`` unset): Qdrant's engine runs inside the RagRec
  process through `qdrant-edge-py`; each collection is a shard directory under
  `settings.qdrant_path`. Nothing runs in the background, so `install` and `start` only
  make sure the directory exists and the engine opens it, and `stop` has nothing to do.
* **external** (``RAGREC_QDRANT_URL`` set): a Qdrant server reached with `qdrant-client`;
  `install`, `start` and `stop` leave it alone.

A shard can be open in one place at a time (an exclusive lock on its WAL). `status`
therefore opens each collection only briefly and, if a running app holds it, reports it
as in use instead of failing; the app's handle is not disturbed. While `status` holds a
shard (milliseconds), an app opening it at that moment gets a lock error:
`EdgeCollection.open(..., lock_timeout=...)` waits that out.
"""

from __future__ import annotations

import importlib
import shutil
import tempfile
from importlib import metadata
from pathlib import Path

from ragrec.config import Settings
from ragrec.services.base import ServiceError, ServiceStatus

NAME = "qdrant"
EMBEDDED_MODE = "qdrant-edge (Qdrant engine in-process)"
EXTERNAL_MODE = "qdrant server (external, via qdrant-client)"
EXTERNAL_TIMEOUT_S = 5


def _require_edge() -> None:
    """Raise a ServiceError naming the missing package if the embedded engine can't load.

    The adapter is imported lazily (here and in the functions below) so that this module,
    and `ragrec services` with it, still works in external mode without qdrant-edge-py.
    """
    try:
        importlib.import_module("ragrec.vectorstores.qdrant_edge")
    except ImportError as exc:
        raise ServiceError(
            NAME,
            f"the embedded engine is unavailable ({exc}); install `qdrant-edge-py>=0.9,<0.10` "
            "or set RAGREC_QDRANT_URL to use a Qdrant server",
        ) from exc


def _pkg_version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


# -- status --------------------------------------------------------------------------------


def status(settings: Settings) -> ServiceStatus:
    if settings.local_qdrant:
        return _embedded_status(settings)
    return _external_status(settings)


def _embedded_status(settings: Settings) -> ServiceStatus:
    path = settings.qdrant_path
    st = ServiceStatus(
        name=NAME,
        reachable=False,
        mode="embedded",
        listen=str(path),
        version={
            "qdrant": f"qdrant-edge-py {_pkg_version('qdrant-edge-py')}",
            "mode": EMBEDDED_MODE,
        },
    )
    try:
        _require_edge()
    except ServiceError as exc:
        st.detail = exc.message
        return st
    if not path.is_dir():
        st.detail = f"{path} does not exist: run `ragrec services up`"
        return st
    from ragrec.vectorstores.qdrant_edge import (
        CollectionLockedError,
        EdgeCollection,
        EdgeError,
        list_collections,
    )

    parts: list[str] = []
    broken: list[str] = []
    for name in list_collections(path):
        try:
            with EdgeCollection.open(path, name) as coll:
                parts.append(f"{name}: {coll.count()} points")
        except CollectionLockedError:
            parts.append(f"{name}: in use (opened by a running process)")
        except EdgeError as exc:
            broken.append(f"{name}: {exc}")
    st.reachable = not broken
    if broken:
        st.detail = "cannot open " + "; ".join(broken)
    elif parts:
        st.detail = "; ".join(parts)
    else:
        st.detail = "no collections yet"
    return st


def _external_status(settings: Settings) -> ServiceStatus:
    url = settings.qdrant_url or ""
    st = ServiceStatus(
        name=NAME,
        reachable=False,
        mode="external",
        listen=url,
        version={"qdrant-client": _pkg_version("qdrant-client"), "mode": EXTERNAL_MODE},
    )
    try:
        from qdrant_client import QdrantClient
    except ImportError as exc:
        st.detail = f"qdrant-client is not installed: {exc}"
        return st
    client = QdrantClient(
        url=url,
        api_key=settings.qdrant_api_key,
        timeout=EXTERNAL_TIMEOUT_S,
        check_compatibility=False,
    )
    try:
        names = [c.name for c in client.get_collections().collections]
        st.reachable = True
        st.detail = f"collections: {', '.join(names) or 'none'}"
        try:
            st.version["qdrant"] = client.info().version
        except Exception:  # older servers lack the root info endpoint
            st.version["qdrant"] = "unknown"
    except Exception as exc:
        st.detail = f"cannot reach {url}: {type(exc).__name__}: {exc}"
    finally:
        client.close()
    return st


# -- lifecycle -----------------------------------------------------------------------------


def install(settings: Settings) -> None:
    """Embedded: check the engine imports and create `qdrant_path`. External: nothing."""
    if not settings.local_qdrant:
        return
    _require_edge()
    try:
        settings.qdrant_path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ServiceError(NAME, f"cannot create {settings.qdrant_path}: {exc}") from exc


def start(settings: Settings) -> None:
    """Embedded: prove the engine opens the collections at `qdrant_path`.

    Each existing collection is opened and closed again (one held by a running app counts
    as fine). With no collections yet, a throw-away shard is created, written, searched
    and removed, so a broken engine or an unusable directory shows up now, not later.
    External: nothing.
    """
    if not settings.local_qdrant:
        return
    install(settings)
    from ragrec.vectorstores.qdrant_edge import (
        CollectionLockedError,
        EdgeCollection,
        EdgeError,
        list_collections,
    )

    path: Path = settings.qdrant_path
    names = list_collections(path)
    for name in names:
        try:
            EdgeCollection.open(path, name).close()
        except CollectionLockedError:
            continue
        except EdgeError as exc:
            raise ServiceError(NAME, f"cannot open collection {name!r}: {exc}") from exc
    if not names:
        _probe(path)


def _probe(path: Path) -> None:
    from ragrec.vectorstores.qdrant_edge import EdgeCollection, EdgeError

    probe_root = Path(tempfile.mkdtemp(prefix=".probe-", dir=path))
    try:
        with EdgeCollection.create(probe_root, "probe", dim=4, payload_indexes=None) as coll:
            coll.upsert(["probe"], [[1.0, 0.0, 0.0, 0.0]], [{"category": "probe"}])
            hits = coll.search([1.0, 0.0, 0.0, 0.0], top_k=1)
            if [h.id for h in hits] != ["probe"]:
                raise ServiceError(NAME, f"engine self-test returned {hits!r}")
    except EdgeError as exc:
        raise ServiceError(NAME, f"engine self-test in {path} failed: {exc}") from exc
    finally:
        shutil.rmtree(probe_root, ignore_errors=True)


def stop(settings: Settings) -> None:
    """Nothing runs in the background in either mode; handles close with their process."""
    return None
