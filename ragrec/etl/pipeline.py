"""`prepare()`: an H&M-schema folder -> clean, typed, pseudonymised Polars frames + rejects.

The frames are what the Neo4j loader MERGEs; nothing here talks to a database.

Category ids (the hierarchy index_group > index > section > product_group >
product_type) are `"{level}:{path}"`, where `path` is the names of the levels
from index_group down to this one, joined by `|`, each name escaped (`\\` ->
`\\\\`, `|` -> `\\|`), a missing (null) level written as an empty segment::

    index_group:Ladieswear
    index:Ladieswear|Lingeries/Tights
    section:Ladieswear|Lingeries/Tights|Womens Lingerie
    product_group:Ladieswear|Lingeries/Tights|Womens Lingerie|Underwear
    product_type:Ladieswear|Lingeries/Tights|Womens Lingerie|Underwear|Bra
    product_type:||Womens Lingerie|Underwear|Bra      (no index_group, no index)

So the same name under two parents gives two categories (a tree by construction),
ids are stable across loads, and the level is readable from the id. No node is
made for a null level; `parent_id` is the nearest non-null ancestor (null for a
root). Every product links to exactly one leaf: its `product_type` category.

Memory: articles and customers are read eagerly (H&M full: 105K and 1.37M rows);
transactions are read once, in batches of 500K rows (`validate.BATCH_ROWS`), and
kept as compact typed rows (customer index, article number: ~36 bytes a row)
until the final `purchases` frame. One more batched pass looks for customers
named only by transactions when `known_customer_ids` or
`unknown_customers="create"` asks for it. At H&M's full size (31.8M rows) the
`purchases` frame itself is ~3.5 GB (64-character pseudonyms).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import polars as pl

from ragrec.etl.errors import EtlError
from ragrec.etl.pseudonymise import (
    UNKNOWN_AGE,
    pseudonymise_customers,
    pseudonymise_series,
)
from ragrec.etl.readers import (
    LINE,
    Source,
    find_sources,
    index_images,
    normalise_article_id,
    open_source,
    polars_errors,
)
from ragrec.etl.validate import (
    BATCH_ROWS,
    CUSTOMER_INDEX,
    CUSTOMER_KEY,
    REASON,
    CustomerLookup,
    clean_id,
    validate_articles,
    validate_customers,
    validate_transactions,
)

CATEGORY_LEVELS = ("index_group", "index", "section", "product_group", "product_type")
REDACTED = "<redacted>"

PRODUCTS_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.String(),
    "name": pl.String(),
    "description": pl.String(),
    "product_type": pl.String(),
    "product_group": pl.String(),
    "colour": pl.String(),
    "perceived_colour": pl.String(),
    "department": pl.String(),
    "index_name": pl.String(),
    "index_group": pl.String(),
    "section": pl.String(),
    "garment_group": pl.String(),
    "price": pl.Float64(),
    "image_path": pl.String(),
    "created_at": pl.Date(),
    "in_stock": pl.Boolean(),
}
PURCHASES_SCHEMA: dict[str, pl.DataType] = {
    "customer_id": pl.String(),
    "article_id": pl.String(),
    "t_dat": pl.Date(),
    "price": pl.Float64(),
    "channel": pl.Int16(),
    "qty": pl.Int32(),
}
REJECTS_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.String(),
    "line": pl.Int64(),
    "key": pl.String(),
    "reason": pl.String(),
    "raw": pl.String(),
}


@dataclass
class Prepared:
    """Everything one load produces. All customer ids are pseudonyms."""

    products: pl.DataFrame  # PRODUCTS_SCHEMA
    categories: pl.DataFrame  # id, name, level, parent_id (all String)
    product_categories: pl.DataFrame  # product_id, category_id (leaf product_type)
    product_colours: pl.DataFrame  # product_id, colour, perceived_colour, perceived_colour_value
    product_attributes: (
        pl.DataFrame
    )  # product_id, name, value (garment_group, graphical_appearance)
    customers: pl.DataFrame  # id, age_bracket
    purchases: pl.DataFrame  # PURCHASES_SCHEMA
    rejects: pl.DataFrame  # REJECTS_SCHEMA
    counts: dict[str, int]  # data rows read, by source file name
    seconds: float = 0.0
    duplicates_dropped: dict[str, int] = field(default_factory=dict)  # exact duplicate rows

    def summary(self) -> dict[str, Any]:
        """Counts in, counts out, rejects by source and reason, time."""
        by_reason = self.rejects.group_by("source", "reason").len().sort("source", "reason").rows()
        return {
            "read": dict(self.counts),
            "out": {
                "products": self.products.height,
                "categories": self.categories.height,
                "customers": self.customers.height,
                "purchases": self.purchases.height,
                "purchased_items": int(self.purchases["qty"].sum() or 0),
            },
            "duplicates_dropped": dict(self.duplicates_dropped),
            "rejects": self.rejects.height,
            "rejects_by_reason": [{"source": s, "reason": r, "rows": n} for s, r, n in by_reason],
            "seconds": round(self.seconds, 3),
        }


def prepare(
    folder: Path,
    key: bytes,
    known_article_ids: set[str] | None = None,
    known_customer_ids: set[str] | None = None,
    *,
    unknown_customers: Literal["reject", "create"] = "reject",
    images_dir: Path | None = None,
) -> Prepared:
    """Read, validate and pseudonymise the H&M-schema files of `folder`.

    `known_article_ids`: article ids already loaded (any of `108775015`,
    `"0108775015"`); `known_customer_ids`: customer **pseudonyms** already loaded
    (the `Customer.id` values in the graph). Transactions naming an id that is
    neither in this load nor known are rejected; with `unknown_customers="create"`
    such customers are created instead (age bracket "unknown"). `images_dir`
    defaults to `folder/images`. Raises `EtlError` for an unusable file.
    """
    started = time.perf_counter()
    folder = Path(folder)
    if not key:
        raise EtlError(folder, "empty pseudonymisation key")
    paths = find_sources(folder)
    sources = {kind: open_source(path, kind) for kind, path in paths.items()}

    articles, article_rejects, n_articles = validate_articles(sources["articles"])
    customers_clean, customer_rejects, n_customers = validate_customers(sources["customers"])
    customers = pseudonymise_customers(customers_clean, key)
    customer_map = pl.DataFrame(
        {"customer_id": customers_clean["customer_id"], "pseudonym": customers["id"]}
    )

    tx = sources["transactions"]
    if known_customer_ids or unknown_customers == "create":
        # customers named only by transactions: already stored (known) or to be created
        extra = _unmatched_customers(tx, customer_map, key)
        is_known = pl.col("pseudonym").is_in(list(known_customer_ids or ()))
        created = extra.filter(~is_known) if unknown_customers == "create" else extra.clear()
        customers = pl.concat(
            [
                customers,
                created.select(pl.col("pseudonym").alias("id"), age_bracket=pl.lit(UNKNOWN_AGE)),
            ]
        )
        customer_map = pl.concat([customer_map, extra.filter(is_known), created])

    article_nums = _known_article_nums(articles, known_article_ids)
    valid, tx_rejects, n_tx = validate_transactions(tx, article_nums, customer_map["customer_id"])

    products = _products(articles, valid, images_dir or folder / "images")
    grouped = _aggregate(valid)
    del valid  # the biggest frames are built one at a time (H&M full: ~1 GB each)
    purchases = _purchases(grouped, customer_map)
    del grouped
    categories, product_categories = build_categories(products)
    rejects = pl.concat(
        [
            _article_rejects(article_rejects, sources["articles"]),
            _customer_rejects(customer_rejects, sources["customers"], key),
            _transaction_rejects(tx_rejects, tx, key),
        ]
    )
    counts = {
        sources["articles"].name: n_articles,
        sources["customers"].name: n_customers,
        tx.name: n_tx,
    }
    duplicates = {
        sources["articles"].name: n_articles - articles.height - article_rejects.height,
        sources["customers"].name: n_customers - customers_clean.height - customer_rejects.height,
    }
    return Prepared(
        products=products,
        categories=categories,
        product_categories=product_categories,
        product_colours=_colours(articles),
        product_attributes=_attributes(articles),
        customers=customers,
        purchases=purchases,
        rejects=rejects,
        counts=counts,
        seconds=time.perf_counter() - started,
        duplicates_dropped=duplicates,
    )


def write_rejects(rejects: pl.DataFrame, path: Path) -> Path:
    """Write the rejects frame to `path`: Parquet for `.parquet`, CSV for `.csv`."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise EtlError(path, "rejects file must end in .parquet or .csv")
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".parquet":
        rejects.write_parquet(path)
    else:
        rejects.write_csv(path)
    return path


def build_categories(products: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(categories: id, name, level, parent_id; product_categories: product_id, category_id)."""
    columns = ("index_group", "index_name", "section", "product_group", "product_type")
    ids: list[pl.Expr] = []
    frames = []
    for depth, (level, column) in enumerate(zip(CATEGORY_LEVELS, columns, strict=True)):
        path = pl.concat_str(
            [_escape(pl.col(c)).fill_null("") for c in columns[: depth + 1]], separator="|"
        )
        category_id = pl.when(pl.col(column).is_not_null()).then(pl.lit(f"{level}:") + path)
        parent = pl.coalesce(*reversed(ids)) if ids else pl.lit(None, dtype=pl.String)
        frames.append(
            products.select(
                category_id.alias("id"),
                pl.col(column).alias("name"),
                pl.lit(level).alias("level"),
                parent.alias("parent_id"),
                pl.lit(depth, dtype=pl.Int8).alias("__depth"),
            )
            .filter(pl.col("id").is_not_null())
            .unique()
        )
        ids.append(category_id)
    categories = pl.concat(frames).sort("__depth", "id").drop("__depth")
    links = products.select(pl.col("id").alias("product_id"), ids[-1].alias("category_id"))
    return categories, links


def _unmatched_customers(tx: Source, customer_map: pl.DataFrame, key: bytes) -> pl.DataFrame:
    """Distinct transaction customer ids not in `customer_map`, with their pseudonyms.

    One extra pass over the transactions, batch by batch."""
    lookup = CustomerLookup(customer_map["customer_id"])
    found: list[pl.Series] = []
    with polars_errors(tx.path, tx.error_reason):
        for batch in tx.frame.select("customer_id").collect_batches(chunk_size=BATCH_ROWS):
            ids = batch.select(clean_id(pl.col("customer_id").cast(pl.String)))["customer_id"]
            found.append(ids.filter(lookup.positions(ids).is_null()).drop_nulls().unique())
    raw = pl.concat(found).unique().sort() if found else pl.Series("customer_id", [], pl.String)
    return pl.DataFrame({"customer_id": raw, "pseudonym": pseudonymise_series(raw, key)})


def _known_article_nums(articles: pl.DataFrame, known: set[str] | None) -> pl.Series:
    extra = [n for n in (normalise_article_id(a) for a in known or ()) if n is not None]
    return pl.concat(
        [articles["article_num"], pl.Series([int(n) for n in extra], dtype=pl.Int64)]
    ).unique()


def _aggregate(valid: pl.DataFrame) -> pl.DataFrame:
    """Identical valid rows -> one row with `qty`, in first-occurrence order."""
    keys = ["t_dat", CUSTOMER_INDEX, "article_num", "price", "channel"]
    return (
        valid.lazy()
        .group_by(keys)
        .agg(pl.len().cast(pl.Int32).alias("qty"), pl.col(LINE).min().alias(LINE))
        .sort(LINE)
        .collect(engine="streaming")
    )


def _purchases(grouped: pl.DataFrame, customer_map: pl.DataFrame) -> pl.DataFrame:
    """The output purchases: customer pseudonyms and 10-digit article ids."""
    return grouped.select(
        customer_map["pseudonym"].gather(grouped[CUSTOMER_INDEX]).alias("customer_id"),
        pl.col("article_num").cast(pl.String).str.zfill(10).alias("article_id"),
        "t_dat",
        "price",
        "channel",
        "qty",
    )


def _products(articles: pl.DataFrame, valid: pl.DataFrame, images_dir: Path) -> pl.DataFrame:
    stats = valid.group_by("article_num").agg(
        pl.col("price").median().alias("price"), pl.col("t_dat").min().alias("created_at")
    )
    images = index_images(images_dir)
    image_frame = pl.DataFrame(
        {
            "article_id": list(images),
            "image_path": [str(p.resolve()) for p in images.values()],
        },
        schema={"article_id": pl.String, "image_path": pl.String},
    )
    return (
        articles.join(stats, on="article_num", how="left", maintain_order="left")
        .join(image_frame, on="article_id", how="left", maintain_order="left")
        .select(
            pl.col("article_id").alias("id"),
            pl.col("prod_name").alias("name"),
            pl.col("detail_desc").alias("description"),
            pl.col("product_type_name").alias("product_type"),
            pl.col("product_group_name").alias("product_group"),
            pl.col("colour_group_name").alias("colour"),
            pl.col("perceived_colour_master_name").alias("perceived_colour"),
            pl.col("department_name").alias("department"),
            "index_name",
            pl.col("index_group_name").alias("index_group"),
            pl.col("section_name").alias("section"),
            pl.col("garment_group_name").alias("garment_group"),
            "price",
            "image_path",
            "created_at",
            "in_stock",
        )
        .cast(PRODUCTS_SCHEMA)  # type: ignore[arg-type]
    )


def _colours(articles: pl.DataFrame) -> pl.DataFrame:
    return articles.select(
        pl.col("article_id").alias("product_id"),
        pl.col("colour_group_name").alias("colour"),
        pl.col("perceived_colour_master_name").alias("perceived_colour"),
        pl.col("perceived_colour_value_name").alias("perceived_colour_value"),
    ).filter(pl.col("colour").is_not_null() | pl.col("perceived_colour").is_not_null())


def _attributes(articles: pl.DataFrame) -> pl.DataFrame:
    names = {
        "garment_group": "garment_group_name",
        "graphical_appearance": "graphical_appearance_name",
    }
    frames = [
        articles.select(
            pl.col("article_id").alias("product_id"),
            pl.lit(name).alias("name"),
            pl.col(column).alias("value"),
        ).filter(pl.col("value").is_not_null())
        for name, column in names.items()
    ]
    return pl.concat(frames).sort("product_id", "name")


def _article_rejects(rejects: pl.DataFrame, source: Source) -> pl.DataFrame:
    raw = [c for c in rejects.columns if c not in (LINE, REASON, "key")]
    return _finish(rejects, source, pl.col("key"), raw)


def _customer_rejects(rejects: pl.DataFrame, source: Source, key: bytes) -> pl.DataFrame:
    """Customer rejects carry the pseudonym; every other customer value is redacted."""
    pseudonym = pseudonymise_series(rejects[CUSTOMER_KEY], key)
    rejects = rejects.with_columns(pseudonym.alias("customer_id"))
    raw = [c for c in rejects.columns if c not in (LINE, REASON, CUSTOMER_KEY)]
    redacted = rejects.with_columns(
        pl.when(pl.col(c).is_not_null()).then(pl.lit(REDACTED)).alias(c)
        for c in raw
        if c != "customer_id"
    )
    return _finish(redacted, source, pl.col("customer_id"), raw)


def _transaction_rejects(rejects: pl.DataFrame, source: Source, key: bytes) -> pl.DataFrame:
    """Transaction rejects carry the customer pseudonym instead of the raw id."""
    if rejects.height == 0:
        return pl.DataFrame(schema=REJECTS_SCHEMA)
    pseudonym = pseudonymise_series(rejects[CUSTOMER_KEY], key)
    rejects = rejects.with_columns(pseudonym.alias("customer_id"))
    raw = [c for c in rejects.columns if c not in (LINE, REASON, CUSTOMER_KEY)]
    text = {c: pl.col(c).cast(pl.String).fill_null("") for c in ("t_dat", "article_id")}
    composite = pl.concat_str(
        [text["t_dat"], pl.col("customer_id").fill_null(""), text["article_id"]], separator="|"
    )
    return _finish(rejects, source, composite, raw)


def _finish(rejects: pl.DataFrame, source: Source, key: pl.Expr, raw: list[str]) -> pl.DataFrame:
    if rejects.height == 0:
        return pl.DataFrame(schema=REJECTS_SCHEMA)
    return rejects.select(
        pl.lit(source.name).alias("source"),
        pl.col(LINE).alias("line"),
        key.cast(pl.String).alias("key"),
        pl.col(REASON).alias("reason"),
        pl.struct(raw).struct.json_encode().alias("raw"),
    ).cast(REJECTS_SCHEMA)  # type: ignore[arg-type]


def _escape(name: pl.Expr) -> pl.Expr:
    return name.str.replace_all("\\", "\\\\", literal=True).str.replace_all(
        "|", "\\|", literal=True
    )
