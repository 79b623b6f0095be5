"""Synthetic H&M-schema data at any size, seeded, with structure planted to be found.

`generate()` writes `articles`, `customers` and `transactions_train` (CSV like H&M,
or Parquet) plus ground truth, streaming the transactions to disk in chunks so
that H&M's full size (105K articles, 1.37M customers, 31.8M transactions) needs
about 2 GiB of memory. What is planted:

* **segments**: every customer belongs to one of up to 8 segments (`vocab.SEGMENTS`,
  e.g. "young_divided", "menswear"); each segment owns a disjoint part of the
  catalogue (index group/index, sections, 4 product groups), a price level and an
  age-bracket distribution. `segment_share` (default 0.85) of a member's items come
  from the segment's own products, the rest from the whole catalogue by global
  popularity. Ground truth: `segments_ground_truth.csv` (raw `customer_id`,
  `segment` number, `segment_name`).
* **popularity**: Zipf-like (weight 1/rank^0.9 over a random ranking of products).
* **repeat customers and baskets**: each customer has a geometric number of
  purchase days (mean chosen so the transaction count comes out exactly as asked);
  a visit buys 1 + Poisson items (mean `basket_mean`, 2.5 by default), the first from
  a preferred product group, the others (70%) from a complementary group
  (`vocab.COMPLEMENTS`: top -> trousers/shoes, dress -> shoes/bag, ...); 4% of
  later items repeat the previous one (identical H&M rows = a quantity of 2+).
* **seasonality**: visit days follow (1 + 0.15 sin(weekly)) * (1 + 0.3 cos(yearly,
  peak late June)).
* **new arrivals**: 8% of products become available late in the period (60-95% of
  the way through); nobody buys them before. **Out of stock**: 3% of products
  have `in_stock = false` (an extra articles column) and sell nothing in the
  last part of the period after they sold out.
  Ground truth per product: `products_ground_truth.csv` (article_id, segment,
  available_from, sold_out_from, popularity).
* **channels**: each customer leans online or in-store (Beta(3, 1.3): ~70% online);
  one channel per visit.

Deterministic for the same arguments (the chunk size included).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl
import pyarrow.parquet as pq
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from ragrec.etl import vocab
from ragrec.etl.vocab import SEGMENTS, Segment

Format = Literal["csv", "parquet"]
GROUND_TRUTH_FILE = "segments_ground_truth.csv"
PRODUCTS_TRUTH_FILE = "products_ground_truth.csv"
SUMMARY_FILE = "generation_summary.json"

ZIPF_EXPONENT = 0.9
COMPLEMENT_SHARE = 0.7
REPEAT_ITEM_SHARE = 0.04
NEW_ARRIVAL_SHARE = 0.08
OUT_OF_STOCK_SHARE = 0.03
DISCOUNT_SHARE = 0.15
MAX_BASKET = 40


def generate(
    out_dir: Path,
    products: int = 2_000,
    customers: int = 5_000,
    transactions: int = 60_000,
    seed: int = 0,
    start_date: date = date(2019, 9, 23),
    days: int = 365,
    *,
    fmt: Format = "csv",
    n_segments: int = 8,
    segment_share: float = 0.85,
    basket_mean: float = 2.5,
    max_basket: int = MAX_BASKET,
    bulk_share: float = 0.0,
    chunk_rows: int = 1_000_000,
    progress: bool = True,
) -> dict[str, Any]:
    """Write an H&M-schema data set to `out_dir`; return (and write) a summary dict.

    Files: `articles.{csv|parquet}`, `customers.*`, `transactions_train.*`,
    `segments_ground_truth.csv`, `products_ground_truth.csv`,
    `generation_summary.json`. Exactly `transactions` transaction rows are written.

    Dense data (the shape that breaks naive pair counting): few customers and many
    transactions give customers hundreds of purchases; `bulk_share` of the visits are
    bulk orders of `max_basket` items (e.g. 300).
    """
    if not 1 <= n_segments <= len(SEGMENTS):
        raise ValueError(f"n_segments must be 1..{len(SEGMENTS)}")
    if products < 1 or customers < 1 or transactions < 0 or days < 1:
        raise ValueError("products and customers must be >= 1, transactions >= 0, days >= 1")
    if not 0.0 <= segment_share <= 1.0:
        raise ValueError("segment_share must be within 0..1")
    if max_basket < 1 or not 0.0 <= bulk_share <= 1.0:
        raise ValueError("max_basket must be >= 1 and bulk_share within 0..1")
    started = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    segments = SEGMENTS[:n_segments]

    catalogue = _make_catalogue(rng, products, segments, days)
    people = _make_customers(rng, customers, segments)
    visits = _make_visits(
        rng, people, transactions, start_date, days, basket_mean, max_basket, bulk_share
    )
    sampler = _Sampler(catalogue, segments, segment_share)

    suffix = "csv" if fmt == "csv" else "parquet"
    _write_frame(catalogue.articles, out / f"articles.{suffix}", fmt)
    _write_frame(people.frame, out / f"customers.{suffix}", fmt)
    people.frame.select(
        "customer_id",
        pl.Series("segment", people.segment, dtype=pl.Int32),
        pl.Series("segment_name", [s.name for s in segments])
        .gather(people.segment)
        .alias("segment_name"),
    ).write_csv(out / GROUND_TRUTH_FILE)
    catalogue.truth(start_date).write_csv(out / PRODUCTS_TRUTH_FILE)

    tx_path = out / f"transactions_train.{suffix}"
    written, identical = _write_transactions(
        tx_path, fmt, visits, people, catalogue, sampler, seed, start_date, chunk_rows, progress
    )
    seconds = time.perf_counter() - started
    buyers = int(np.unique(visits.customer).size) if visits.customer.size else 0
    summary: dict[str, Any] = {
        "out_dir": str(out),
        "format": fmt,
        "seed": seed,
        "start_date": start_date.isoformat(),
        "end_date": (start_date + timedelta(days=days - 1)).isoformat(),
        "products": products,
        "customers": customers,
        "transactions": written,
        "visits": int(visits.customer.size),
        "customers_with_purchases": buyers,
        "mean_items_per_buyer": round(written / buyers, 3) if buyers else 0.0,
        "mean_basket_size": round(written / visits.customer.size, 3) if visits.customer.size else 0,
        "identical_repeat_rows": identical,
        "segments": {s.name: int((people.segment == i).sum()) for i, s in enumerate(segments)},
        "segment_share": segment_share,
        "new_arrivals": int((catalogue.available_from > 0).sum()),
        "out_of_stock": int((~catalogue.in_stock).sum()),
        "files": sorted(p.name for p in out.iterdir() if p.is_file()),
        "seconds": round(seconds, 3),
        "rows_per_second": round(written / seconds) if seconds else 0,
    }
    summary["files"] = sorted({*summary["files"], SUMMARY_FILE})
    (out / SUMMARY_FILE).write_text(json.dumps(summary, indent=2))
    return summary


@dataclass
class _Catalogue:
    articles: pl.DataFrame
    article_id: np.ndarray  # int64
    segment: np.ndarray  # home segment per product
    group: np.ndarray  # index into vocab.GROUPS
    weight: np.ndarray  # popularity weight (Zipf)
    price_sek: np.ndarray
    available_from: np.ndarray  # first day (offset) it can sell
    sold_out_from: np.ndarray  # first day it can no longer sell (days if never)
    in_stock: np.ndarray  # bool

    def truth(self, start: date) -> pl.DataFrame:
        epoch = (start - date(1970, 1, 1)).days
        return pl.DataFrame(
            {
                "article_id": pl.Series(self.article_id).cast(pl.String).str.zfill(10),
                "segment": self.segment.astype(np.int32),
                "available_from": pl.Series(self.available_from.astype(np.int32) + epoch).cast(
                    pl.Date
                ),
                "sold_out_from": pl.Series(self.sold_out_from.astype(np.int32) + epoch).cast(
                    pl.Date
                ),
                "popularity": self.weight / self.weight.sum(),
            }
        )


@dataclass
class _Customers:
    frame: pl.DataFrame  # H&M customers columns
    ids: pl.Series  # raw customer ids
    segment: np.ndarray
    p_online: np.ndarray


@dataclass
class _Visits:
    customer: np.ndarray  # int32, sorted by (day, customer)
    day: np.ndarray  # int32 day offset
    size: np.ndarray  # int32 items


def _make_catalogue(
    rng: np.random.Generator, n: int, segments: tuple[Segment, ...], days: int
) -> _Catalogue:
    """Products grouped in product codes (1-4 colour variants sharing name stem and type)."""
    seg_weight = np.array([s.weight for s in segments])
    # product codes with 1..4 variants, enough to cover n articles
    variants = np.minimum(rng.geometric(0.55, size=n), 4)
    n_codes = int(np.searchsorted(np.cumsum(variants), n) + 1)
    variants = variants[:n_codes]
    variants[-1] -= int(variants.sum() - n)
    code_of = np.repeat(np.arange(n_codes), variants)
    variant_no = np.arange(n) - np.repeat(np.cumsum(variants) - variants, variants) + 1
    codes = rng.choice(np.arange(108_775, 959_999), size=n_codes, replace=False)

    code_seg = rng.choice(len(segments), size=n_codes, p=seg_weight / seg_weight.sum())
    slot = rng.choice(4, size=n_codes, p=[0.35, 0.3, 0.2, 0.15])
    group_names = [[s.groups[k] for k in range(4)] for s in segments]
    code_group = np.array(
        [vocab.GROUPS.index(group_names[s][k]) for s, k in zip(code_seg, slot, strict=True)],
        dtype=np.int64,
    )
    code_type = np.array(
        [rng.integers(len(vocab.PRODUCT_TYPES[vocab.GROUPS[g]])) for g in code_group],
        dtype=np.int64,
    )
    code_section = np.array([rng.integers(len(segments[s].sections)) for s in code_seg])
    code_adj = rng.integers(0, 1_000_000, size=n_codes)
    code_desc = rng.integers(0, 1_000_000, size=(n_codes, 3))
    code_appearance = rng.choice(
        len(vocab.APPEARANCES), size=n_codes, p=_norm([w for _, w in vocab.APPEARANCES])
    )
    price_noise = rng.lognormal(0.0, 0.25, size=n_codes)

    colour = rng.choice(len(vocab.COLOURS), size=n, p=_norm([c[3] for c in vocab.COLOURS]))
    rank = rng.permutation(n) + 1
    weight = 1.0 / rank.astype(np.float64) ** ZIPF_EXPONENT
    new = rng.random(n) < NEW_ARRIVAL_SHARE
    available_from = np.where(new, rng.uniform(0.6, 0.95, size=n) * days, 0).astype(np.int32)
    in_stock = rng.random(n) >= OUT_OF_STOCK_SHARE
    sold_out_from = np.where(
        in_stock, days, np.maximum(available_from + 1, rng.uniform(0.8, 1.0, size=n) * days)
    ).astype(np.int32)

    seg = code_seg[code_of]
    group = code_group[code_of]
    article_id = codes[code_of].astype(np.int64) * 1000 + variant_no

    rows = []
    for i in range(n):
        c = code_of[i]
        s = segments[seg[i]]
        gname = vocab.GROUPS[group[i]]
        ptype, garment, base = vocab.PRODUCT_TYPES[gname][code_type[c]]
        cname, cvalue, cmaster, _ = vocab.COLOURS[colour[i]]
        adjectives = vocab.ADJECTIVES[gname]
        adj = adjectives[code_adj[c] % len(adjectives)]
        desc = code_desc[c]
        material = vocab.MATERIALS[desc[0] % len(vocab.MATERIALS)]
        f1 = vocab.FEATURES[desc[1] % len(vocab.FEATURES)]
        f2 = vocab.FEATURES[
            (desc[1] + 1 + desc[2] % (len(vocab.FEATURES) - 1)) % len(vocab.FEATURES)
        ]
        section = s.sections[code_section[c]]
        rows.append(
            (
                article_id[i],
                codes[c],
                f"{cname.capitalize()} {adj} {ptype.lower()}",
                ptype,
                gname,
                vocab.APPEARANCES[code_appearance[c]][0],
                cname,
                cvalue,
                cmaster,
                f"{s.department_prefix} {garment}",
                s.index_code,
                s.index_name,
                s.index_group,
                section,
                garment,
                f"{adj.capitalize()} {ptype.lower()} in {material} with {f1} and {f2}.",
                base * s.price_level * price_noise[c],
            )
        )
    names = (
        "article_id", "product_code", "prod_name", "product_type_name", "product_group_name",
        "graphical_appearance_name", "colour_group_name", "perceived_colour_value_name",
        "perceived_colour_master_name", "department_name", "index_code", "index_name",
        "index_group_name", "section_name", "garment_group_name", "detail_desc", "__price",
    )  # fmt: skip
    df = pl.DataFrame(rows, schema=list(names), orient="row")
    points = np.array(vocab.PRICE_POINTS_SEK)
    raw_price = df["__price"].to_numpy()
    price_sek = points[np.abs(points[None, :] - raw_price[:, None]).argmin(axis=1)]
    articles = _with_codes(df.drop("__price")).with_columns(pl.Series("in_stock", in_stock))
    return _Catalogue(
        articles=articles,
        article_id=article_id,
        segment=seg,
        group=group,
        weight=weight,
        price_sek=price_sek,
        available_from=available_from,
        sold_out_from=sold_out_from,
        in_stock=in_stock,
    )


def _with_codes(df: pl.DataFrame) -> pl.DataFrame:
    """Add H&M's numeric code columns (one code per distinct name, consistent within the
    file) and put the columns in H&M's order."""

    def code(name: str, alias: str, base: int) -> pl.Expr:
        return (pl.col(name).rank("dense").cast(pl.Int64) + base).alias(alias)

    return df.select(
        "article_id",
        "product_code",
        "prod_name",
        code("product_type_name", "product_type_no", 60),
        "product_type_name",
        "product_group_name",
        code("graphical_appearance_name", "graphical_appearance_no", 1010000),
        "graphical_appearance_name",
        code("colour_group_name", "colour_group_code", 0),
        "colour_group_name",
        code("perceived_colour_value_name", "perceived_colour_value_id", 0),
        "perceived_colour_value_name",
        code("perceived_colour_master_name", "perceived_colour_master_id", 0),
        "perceived_colour_master_name",
        code("department_name", "department_no", 1000),
        "department_name",
        "index_code",
        "index_name",
        code("index_group_name", "index_group_no", 0),
        "index_group_name",
        code("section_name", "section_no", 10),
        "section_name",
        code("garment_group_name", "garment_group_no", 1000),
        "garment_group_name",
        "detail_desc",
    )


def _make_customers(rng: np.random.Generator, n: int, segments: tuple[Segment, ...]) -> _Customers:
    weights = _norm([s.weight for s in segments])
    segment = rng.choice(len(segments), size=n, p=weights)
    brackets = np.empty(n, dtype=np.int64)
    for i, s in enumerate(segments):
        members = segment == i
        brackets[members] = rng.choice(6, size=int(members.sum()), p=_norm(s.ages))
    low = np.array([r[0] for r in vocab.AGE_BRACKET_RANGES])[brackets]
    high = np.array([r[1] for r in vocab.AGE_BRACKET_RANGES])[brackets]
    age = rng.integers(low, high + 1)
    age_missing = rng.random(n) < 0.01
    ids = _hex_ids(rng, n)
    member = rng.random(n) < 0.35
    club = rng.choice(3, size=n, p=[0.93, 0.065, 0.005])
    news = rng.choice(3, size=n, p=[0.64, 0.355, 0.005])
    frame = pl.DataFrame(
        {
            "customer_id": ids,
            "FN": pl.Series(np.where(member, 1.0, np.nan)).fill_nan(None),
            "Active": pl.Series(np.where(member & (rng.random(n) < 0.97), 1.0, np.nan)).fill_nan(
                None
            ),
            "club_member_status": pl.Series(["ACTIVE", "PRE-CREATE", "LEFT CLUB"]).gather(club),
            "fashion_news_frequency": pl.Series(["NONE", "Regularly", "Monthly"]).gather(news),
            "age": age,
            "postal_code": _hex_ids(rng, n),
        }
    ).with_columns(pl.when(pl.Series(age_missing)).then(None).otherwise(pl.col("age")).alias("age"))
    p_online = rng.beta(3.0, 1.3, size=n)
    return _Customers(frame=frame, ids=ids, segment=segment, p_online=p_online)


def _make_visits(
    rng: np.random.Generator,
    people: _Customers,
    total: int,
    start: date,
    days: int,
    basket_mean: float,
    max_basket: int = MAX_BASKET,
    bulk_share: float = 0.0,
) -> _Visits:
    """Visits (customer, day, basket size) summing to exactly `total` items; `bulk_share`
    of them are bulk orders of `max_basket` items."""
    n = people.segment.size
    per_customer = total / n
    basket = max(1.0, min(basket_mean, per_customer))
    mean_visits = max(1.0, per_customer / basket)
    counts = rng.geometric(1.0 / mean_visits, size=n)
    customer = np.repeat(np.arange(n, dtype=np.int32), counts)
    sizes = np.minimum(1 + rng.poisson(basket - 1.0, size=customer.size), max_basket)
    if bulk_share > 0:
        sizes[rng.random(sizes.size) < bulk_share] = max_basket
    while int(sizes.sum()) < total:  # top up with extra visits of already active customers
        more = max(1, int((total - sizes.sum()) / basket) + 1)
        extra = (
            customer[rng.integers(0, customer.size, size=more)]
            if customer.size
            else (rng.integers(0, n, size=more).astype(np.int32))
        )
        customer = np.concatenate([customer, extra])
        sizes = np.concatenate(
            [sizes, np.minimum(1 + rng.poisson(basket - 1.0, size=more), max_basket)]
        )
    order = rng.permutation(customer.size)
    customer, sizes = customer[order], sizes[order]
    offset = np.cumsum(sizes) - sizes
    keep = offset < total
    customer, sizes, offset = customer[keep], sizes[keep], offset[keep]
    if sizes.size:
        sizes[-1] = total - offset[-1]
    day = rng.choice(days, size=customer.size, p=_season(start, days))
    order = np.lexsort((customer, day))
    return _Visits(
        customer=customer[order].astype(np.int32),
        day=day[order].astype(np.int32),
        size=sizes[order].astype(np.int32),
    )


class _Sampler:
    """Samples products by popularity from a segment's product group (or everywhere)."""

    def __init__(self, catalogue: _Catalogue, segments: tuple[Segment, ...], share: float) -> None:
        self.catalogue = catalogue
        self.share = share
        n_groups = len(vocab.GROUPS)
        self.n_groups = n_groups
        self.pools: dict[int, tuple[np.ndarray, np.ndarray]] = {-1: self._pool(None)}
        for s in range(len(segments)):
            in_segment = catalogue.segment == s
            seg_pool = self._pool(in_segment) if in_segment.any() else self.pools[-1]
            for g in range(n_groups):
                mask = in_segment & (catalogue.group == g)
                self.pools[s * n_groups + g] = self._pool(mask) if mask.any() else seg_pool
        # per segment: preferred groups (cumulative weights) and complements within it
        self.seg_groups = np.array(
            [[vocab.GROUPS.index(g) for g in s.groups] for s in segments], dtype=np.int64
        )
        self.complements = np.full((len(segments), n_groups, 4), -1, dtype=np.int64)
        for s, seg in enumerate(segments):
            for g, name in enumerate(vocab.GROUPS):
                allowed = [
                    vocab.GROUPS.index(c) for c in vocab.COMPLEMENTS[name] if c in seg.groups
                ]
                self.complements[s, g, : len(allowed)] = allowed[:4]
        self.group_cdf = np.cumsum([0.35, 0.3, 0.2, 0.15])

    def _pool(self, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        idx = np.arange(self.catalogue.weight.size) if mask is None else np.flatnonzero(mask)
        cdf = np.cumsum(self.catalogue.weight[idx])
        return idx, cdf / cdf[-1]

    def groups(self, rng: np.random.Generator, seg: np.ndarray) -> np.ndarray:
        """A preferred product group of each row's segment (35/30/20/15%)."""
        slot = np.minimum(np.searchsorted(self.group_cdf, rng.random(seg.size), side="right"), 3)
        return self.seg_groups[seg, slot]

    def sample(self, rng: np.random.Generator, pool_key: np.ndarray, day: np.ndarray) -> np.ndarray:
        """One product per row from pool `pool_key`, available on `day` (resampling)."""
        product = np.empty(pool_key.size, dtype=np.int64)
        todo = np.arange(pool_key.size)
        keys = pool_key.copy()
        for attempt in range(12):
            if not todo.size:
                break
            if attempt == 6:  # the pool has (almost) nothing on sale that day: any product
                keys[todo] = -1
            self._draw(rng, keys, todo, product)
            todo = todo[~self._available(product[todo], day[todo])]
        c = self.catalogue
        for row in todo:  # rare: the most popular product on sale that day (else any)
            ok = np.flatnonzero((c.available_from <= day[row]) & (c.sold_out_from > day[row]))
            product[row] = ok[np.argmax(c.weight[ok])] if ok.size else product[row]
        return product

    def _draw(
        self, rng: np.random.Generator, pool_key: np.ndarray, rows: np.ndarray, out: np.ndarray
    ) -> None:
        keys = pool_key[rows]
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        bounds = np.flatnonzero(np.diff(sorted_keys)) + 1
        for chunk in np.split(order, bounds):
            if not chunk.size:
                continue
            idx, cdf = self.pools[int(keys[chunk[0]])]
            pick = np.minimum(
                np.searchsorted(cdf, rng.random(chunk.size), side="right"), idx.size - 1
            )
            out[rows[chunk]] = idx[pick]

    def _available(self, product: np.ndarray, day: np.ndarray) -> np.ndarray:
        c = self.catalogue
        return (c.available_from[product] <= day) & (c.sold_out_from[product] > day)


def _write_transactions(
    path: Path,
    fmt: Format,
    visits: _Visits,
    people: _Customers,
    catalogue: _Catalogue,
    sampler: _Sampler,
    seed: int,
    start: date,
    chunk_rows: int,
    progress: bool,
) -> tuple[int, int]:
    """Stream transactions to `path` chunk by chunk; return (rows, identical repeat rows)."""
    total = int(visits.size.sum())
    ends = np.cumsum(visits.size)
    chunk_of_visit = (ends - visits.size) // max(1, chunk_rows)
    bounds = np.flatnonzero(np.diff(chunk_of_visit)) + 1
    starts = np.concatenate([[0], bounds]) if visits.size.size else np.array([], dtype=np.int64)
    stops = np.concatenate([bounds, [visits.size.size]]) if visits.size.size else starts
    epoch = (start - date(1970, 1, 1)).days
    columns = Progress(
        TextColumn("[bold]generating transactions"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,} rows"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        disable=not progress,
    )
    written = identical = 0
    writer: pq.ParquetWriter | None = None
    with columns as bar, path.open("wb") as fh:
        task = bar.add_task("transactions", total=total)
        if fmt == "csv":
            fh.write(b"t_dat,customer_id,article_id,price,sales_channel_id\n")
        for chunk_no, (lo, hi) in enumerate(zip(starts, stops, strict=True)):
            rng = np.random.default_rng([seed, 7919, chunk_no])
            frame, dup = _chunk(rng, visits, int(lo), int(hi), people, catalogue, sampler, epoch)
            if fmt == "csv":
                frame.write_csv(fh, include_header=False)
            else:
                table = frame.to_arrow()
                if writer is None:
                    writer = pq.ParquetWriter(fh, table.schema)
                writer.write_table(table)
            written += frame.height
            identical += dup
            bar.advance(task, frame.height)
        if fmt == "parquet":
            if writer is None:
                writer = pq.ParquetWriter(fh, _empty_transactions().to_arrow().schema)
            writer.close()
    return written, identical


def _chunk(
    rng: np.random.Generator,
    visits: _Visits,
    lo: int,
    hi: int,
    people: _Customers,
    catalogue: _Catalogue,
    sampler: _Sampler,
    epoch: int,
) -> tuple[pl.DataFrame, int]:
    """Items of visits lo..hi: products, prices, channels."""
    sizes = visits.size[lo:hi]
    visit = np.repeat(np.arange(lo, hi), sizes)
    n = visit.size
    first_row = np.repeat(np.cumsum(sizes) - sizes, sizes)
    pos = np.arange(n) - first_row
    cust = visits.customer[visit]
    day = visits.day[visit]
    seg = people.segment[cust]

    # product group: preferred for the first item, mostly complementary for the others
    group = sampler.groups(rng, seg)
    first_group = group[first_row]
    comp_slot = rng.integers(0, 4, size=n)
    n_comp = (sampler.complements[seg, first_group] >= 0).sum(axis=1)
    comp = sampler.complements[seg, first_group, comp_slot % np.maximum(n_comp, 1)]
    use_comp = (pos > 0) & (n_comp > 0) & (rng.random(n) < COMPLEMENT_SHARE)
    group = np.where(use_comp, comp, group)
    in_segment = rng.random(n) < sampler.share
    pool_key = np.where(in_segment, seg * sampler.n_groups + group, -1)
    product = sampler.sample(rng, pool_key, day)

    # identical repeat rows: copy the previous item (same product, same price)
    repeat = (pos > 0) & (rng.random(n) < REPEAT_ITEM_SHARE)
    source = np.maximum.accumulate(np.where(repeat, -1, np.arange(n)))
    factor = np.where(rng.random(n) < DISCOUNT_SHARE, rng.choice([0.5, 0.6, 0.7], size=n), 1.0)
    product = product[source]
    factor = factor[source]
    price = np.round(catalogue.price_sek[product] * factor, 2) / vocab.PRICE_SCALE
    online = rng.random(hi - lo) < people.p_online[visits.customer[lo:hi]]
    channel = np.where(online, 2, 1).astype(np.int8)[visit - lo]

    frame = pl.DataFrame(
        {
            "t_dat": pl.Series(day + epoch, dtype=pl.Int32).cast(pl.Date).cast(pl.String),
            "customer_id": people.ids.gather(cust),
            "article_id": catalogue.article_id[product],
            "price": price,
            "sales_channel_id": channel,
        }
    )
    return frame, int(repeat.sum())


def _empty_transactions() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "t_dat": pl.String,
            "customer_id": pl.String,
            "article_id": pl.Int64,
            "price": pl.Float64,
            "sales_channel_id": pl.Int8,
        }
    )


def _write_frame(df: pl.DataFrame, path: Path, fmt: Format) -> None:
    if fmt == "csv":
        df.write_csv(path)
    else:
        df.write_parquet(path)


def _season(start: date, days: int) -> np.ndarray:
    """Visit-day distribution: weekly sine (peak Friday-Saturday) times yearly sine
    (peak around 21 June)."""
    d = np.arange(days)
    weekday = (start.weekday() + d) % 7
    day_of_year = start.timetuple().tm_yday - 1 + d
    weekly = 1 + 0.15 * np.sin(2 * np.pi * (weekday - 3.25) / 7)
    yearly = 1 + 0.3 * np.cos(2 * np.pi * (day_of_year - 171) / 365.25)
    return _norm(weekly * yearly)


def _hex_ids(rng: np.random.Generator, n: int) -> pl.Series:
    """n random 64-hex-character ids (like H&M's customer ids)."""
    raw = np.frombuffer(rng.bytes(32 * n), dtype=np.uint8).reshape(n, 32)
    lut = np.array([f"{i:02x}".encode() for i in range(256)], dtype="S2")
    return pl.Series(lut[raw].view("S64").ravel()).cast(pl.String)


def _norm(weights: Any) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)
    return w / w.sum()
