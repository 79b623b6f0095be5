"""Offline jobs that build the derived graph structure the request path reads.

Each job exports what it needs from Neo4j in pages, computes in numpy/scipy/Polars with
memory bounded by settings (`jobs_*`, `bt_*`, `lists_*`, `neighbours_*`), writes a new
*version* beside the live one in batches, then switches the `(:DerivedVersion {name})`
pointer in one write and deletes the old version in batches. A request reads only the
live version, so it never sees a half-written structure; an interrupted job leaves the
live version as it was, and the next run deletes the partial one and starts again.

`ragrec refresh [--only NAME]` runs them (see `ragrec.jobs.refresh`).
"""
