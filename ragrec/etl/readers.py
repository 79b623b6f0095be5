"""Find and open H&M-schema source files (CSV or Parquet) and product images.

A source folder holds one file each named `articles*`, `customers*` and
`transactions*` (`.csv` or `.parquet`), and optionally an `images/` folder, either
flat (`images/0108775015.jpg`) or H&M's nested layout (`images/010/0108775015.jpg`).

Readers only check what makes a whole file unusable (empty, unreadable, malformed,
a required column missing) and raise `EtlError` for it. They return lazy frames
with every known column present (missing optional columns are null), the source
dtypes kept as they are (CSV: all strings), plus `__line`: the 1-based data row
number (header excluded; for Parquet the row index + 1). Row-level checks live in
`ragrec.etl.validate`.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import polars as pl

from ragrec.etl.errors import EtlError

Kind = Literal["articles", "customers", "transactions"]
LINE = "__line"

ARTICLE_REQUIRED = ("article_id", "prod_name", "product_type_name", "product_group_name")
ARTICLE_OPTIONAL = (
    "product_code",
    "product_type_no",
    "graphical_appearance_no",
    "graphical_appearance_name",
    "colour_group_code",
    "colour_group_name",
    "perceived_colour_value_id",
    "perceived_colour_value_name",
    "perceived_colour_master_id",
    "perceived_colour_master_name",
    "department_no",
    "department_name",
    "index_code",
    "index_name",
    "index_group_no",
    "index_group_name",
    "section_no",
    "section_name",
    "garment_group_no",
    "garment_group_name",
    "detail_desc",
    "in_stock",  # not H&M: written by ragrec.etl.generator
)
CUSTOMER_REQUIRED = ("customer_id",)
CUSTOMER_OPTIONAL = (
    "FN",
    "Active",
    "club_member_status",
    "fashion_news_frequency",
    "age",
    "postal_code",
)
TRANSACTION_REQUIRED = ("t_dat", "customer_id", "article_id", "price")
TRANSACTION_OPTIONAL = ("sales_channel_id",)

COLUMNS: dict[Kind, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "articles": (ARTICLE_REQUIRED, ARTICLE_OPTIONAL),
    "customers": (CUSTOMER_REQUIRED, CUSTOMER_OPTIONAL),
    "transactions": (TRANSACTION_REQUIRED, TRANSACTION_OPTIONAL),
}
_KNOWN = {c for required, optional in COLUMNS.values() for c in (*required, *optional)}
SUFFIXES = (".csv", ".parquet")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


@dataclass(frozen=True)
class Source:
    """One opened source file: `frame` has `__line` + all known columns of `kind`."""

    kind: Kind
    path: Path
    format: Literal["csv", "parquet"]
    frame: pl.LazyFrame
    schema: dict[str, pl.DataType]  # dtypes of the known columns (null-filled ones: String)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def error_reason(self) -> str:
        """How a read error of this file is described in `EtlError`."""
        return "malformed CSV" if self.format == "csv" else "unreadable Parquet data"


def find_sources(folder: Path) -> dict[Kind, Path]:
    """The articles, customers and transactions files of `folder` (all three required)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise EtlError(folder, "not a folder")
    found: dict[Kind, Path] = {}
    for kind in COLUMNS:
        matches = sorted(
            p
            for p in folder.iterdir()
            if p.is_file() and p.name.startswith(kind) and p.suffix.lower() in SUFFIXES
        )
        if not matches:
            raise EtlError(folder, f"no {kind} file ({kind}*.csv or {kind}*.parquet)")
        if len(matches) > 1:
            names = ", ".join(p.name for p in matches)
            raise EtlError(folder, f"several {kind} files ({names}); keep exactly one")
        found[kind] = matches[0]
    return found


def open_source(path: Path, kind: Kind) -> Source:
    """Open `path` lazily as a `kind` file; raise `EtlError` if it is unusable."""
    path = Path(path)
    if not path.is_file():
        raise EtlError(path, "file not found")
    if path.stat().st_size == 0:
        raise EtlError(path, "file is empty (0 bytes)")
    required, optional = COLUMNS[kind]
    if path.suffix.lower() == ".parquet":
        fmt: Literal["csv", "parquet"] = "parquet"
        with polars_errors(path, "not a readable Parquet file"):
            file_schema = dict(pl.read_parquet_schema(path))
        lf = pl.scan_parquet(path).with_row_index(LINE, offset=1)
    else:
        fmt = "csv"
        header = _csv_header(path)
        file_schema = {name: pl.String() for name in header}
        lf = pl.scan_csv(
            path, infer_schema=False, encoding="utf8-lossy", new_columns=list(header)
        ).with_row_index(LINE, offset=1)
    missing = [c for c in required if c not in file_schema]
    if missing:
        raise EtlError(path, _missing_columns_reason(missing, list(file_schema), fmt))
    present = [c for c in (*required, *optional) if c in file_schema]
    absent = [c for c in optional if c not in file_schema]
    lf = lf.select(
        pl.col(LINE).cast(pl.Int64),
        *[pl.col(c) for c in present],
        *[pl.lit(None, dtype=pl.String).alias(c) for c in absent],
    )
    schema = {c: file_schema[c] for c in present} | {c: pl.String() for c in absent}
    return Source(kind=kind, path=path, format=fmt, frame=lf, schema=schema)


def collect(source: Source, lf: pl.LazyFrame, *, streaming: bool = False) -> pl.DataFrame:
    """Collect a query over `source`, turning Polars read errors into `EtlError`."""
    with polars_errors(source.path, source.error_reason):
        return lf.collect(engine="streaming" if streaming else "auto")


def find_image(images_dir: Path, article_id: str | int) -> Path | None:
    """The image of `article_id` in `images_dir` (flat or H&M-nested layout), or None."""
    aid = normalise_article_id(article_id)
    if aid is None:
        return None
    for folder in (Path(images_dir), Path(images_dir) / aid[:3]):
        for suffix in IMAGE_SUFFIXES:
            candidate = folder / f"{aid}{suffix}"
            if candidate.is_file():
                return candidate
    return None


def index_images(images_dir: Path) -> dict[str, Path]:
    """All images of `images_dir` by 10-digit article id, scanning the folder once."""
    found: dict[str, Path] = {}
    root = Path(images_dir)
    if not root.is_dir():
        return found
    for entry in _scan(root):
        if entry.is_dir() and re.fullmatch(r"\d{3}", entry.name):
            for inner in _scan(Path(entry.path)):
                _add_image(found, inner)
        else:
            _add_image(found, entry)
    return found


def normalise_article_id(value: str | int) -> str | None:
    """`108775015`, `"108775015"`, `"0108775015"` -> `"0108775015"`; None if not an id."""
    text = str(value).strip()
    if not re.fullmatch(r"\d{1,10}", text):
        return None
    return text.zfill(10)


@contextmanager
def polars_errors(path: Path, reason: str) -> Iterator[None]:
    """Re-raise Polars/IO errors as `EtlError(path, reason: first line of the error)`."""
    try:
        yield
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise EtlError(path, f"{reason}: {detail}") from None


def _csv_header(path: Path) -> list[str]:
    """Column names from the first line (read alone: cheap for a 3.5 GB file)."""
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as fh:
        first = fh.readline(1_000_000)
    header = [name.strip() for name in next(csv.reader([first]), [])]
    if not any(header):
        raise EtlError(path, "not a readable CSV file: no header line")
    seen: dict[str, int] = {}
    names = []
    for name in header:  # unknown repeated columns are renamed; known ones must be unique
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name}__{seen[name]}")
    repeated = [n for n, count in seen.items() if count > 1 and n in _KNOWN]
    if repeated:
        raise EtlError(path, f"column(s) appear more than once: {', '.join(repeated)}")
    return names


def _missing_columns_reason(missing: Sequence[str], found: Sequence[str], fmt: str) -> str:
    reason = f"missing required column(s): {', '.join(missing)}"
    shown = ", ".join(repr(c[:60]) for c in found[:8])
    reason += f"; found: {shown or 'none'}"
    if fmt == "csv" and len(found) == 1:
        sep = next((s for s in (";", "\t", "|") if s in found[0]), None)
        if sep is not None:
            reason += f" (the header looks {sep!r}-separated; expected comma-separated CSV)"
    return reason


def _scan(folder: Path) -> list[os.DirEntry[str]]:
    with os.scandir(folder) as entries:
        return list(entries)


def _add_image(found: dict[str, Path], entry: os.DirEntry[str]) -> None:
    stem, dot, suffix = entry.name.rpartition(".")
    is_image = dot and f".{suffix.lower()}" in IMAGE_SUFFIXES
    if is_image and re.fullmatch(r"\d{10}", stem) and entry.is_file():
        found.setdefault(stem, Path(entry.path))
