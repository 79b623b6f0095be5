"""Row-level validation: every bad row is rejected with one reason, never raised.

Each `validate_*` function takes an opened `Source` and returns the clean rows and
the rejected rows. A rejected row keeps its `__line`, a `reason` (the first failed
check, in the order the checks are listed below) and its raw known columns;
`ragrec.etl.pipeline` turns those into the final rejects frame (with keys and raw
JSON, customer data redacted).

Rules, per file:

* text: tabs and line breaks become a space; other control characters (C0, DEL,
  C1) and invisible bidi/zero-width format characters are removed; surrounding
  whitespace is stripped; an empty string is null. Free text longer than
  `MAX_FIELD_CHARS` (2,000) characters is **truncated** to it, not rejected. Ids
  (article, customer) longer than that are **rejected** (truncating an id would
  merge distinct ids). Quotes, backslashes and Cypher-looking text are kept
  as-is: they are data, and the loader binds them as parameters.
* articles: `article_id` must be an integer of at most 10 digits (int, `"108775015"`,
  `"0108775015"` or `"108775015.0"`), normalised to a 10-digit string;
  `prod_name`, `product_type_name`, `product_group_name` must be non-empty;
  `in_stock`, when given, must be a boolean (true/false/1/0/yes/no/t/f).
  Identical rows (after cleaning, over the known columns) are silently
  deduplicated; a later row with the same `article_id` and different values is
  rejected ("conflicting duplicate"), the first row is kept.
* customers: `customer_id` must be non-empty; `age`, when given, must be a number
  (`"49.0"` is fine; `"abc"` is rejected); duplicates as for articles. Ages
  outside 16..120 are kept but give the bracket "unknown".
* transactions: `t_dat` must be `YYYY-MM-DD` (a real date); `price` a finite
  number >= 0; `sales_channel_id`, when given, an integer; `article_id` as above
  and known (in this load's valid articles or in `known_article_ids`);
  `customer_id` known likewise. Identical valid rows are aggregated later
  (`qty`); they are not rejects.

Only the columns RagRec uses are type-checked; the other H&M columns (codes and
numbers such as `product_type_no`) are read but not validated.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from ragrec.etl.readers import LINE, Source, collect, polars_errors

MAX_FIELD_CHARS = 2000

REASON = "reason"
BATCH_ROWS = 500_000
CUSTOMER_KEY = "__customer_id"  # cleaned raw customer id, kept beside a rejected row
CUSTOMER_INDEX = "__cidx"  # row number of the customer in the customer map

ARTICLE_TEXT = (
    "prod_name",
    "product_type_name",
    "product_group_name",
    "graphical_appearance_name",
    "colour_group_name",
    "perceived_colour_value_name",
    "perceived_colour_master_name",
    "department_name",
    "index_code",
    "index_name",
    "index_group_name",
    "section_name",
    "garment_group_name",
    "detail_desc",
)
_WHITESPACE_CONTROLS = r"[\t\n\r\x0B\x0C\x{85}\x{2028}\x{2029}]+"
_INVISIBLE = r"[\p{Cc}\x{200B}-\x{200F}\x{202A}-\x{202E}\x{2066}-\x{2069}\x{FEFF}]"
_ID_NOISE = (
    r"[\p{Cc}\x{85}\x{2028}\x{2029}\x{200B}-\x{200F}\x{202A}-\x{202E}\x{2066}-\x{2069}\x{FEFF}]+"
)
_TRUE = ("true", "t", "1", "yes", "y")
_FALSE = ("false", "f", "0", "no", "n")


def validate_articles(source: Source) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """Clean articles (`article_id` 10-digit string, `article_num`, cleaned text,
    `in_stock`), rejected rows (with a `key`) and the number of rows read."""
    df = collect(source, source.frame)
    schema = source.schema
    article_num, article_bad = parse_article_id("article_id", schema["article_id"])
    in_stock, in_stock_bad = _parse_bool("in_stock", schema["in_stock"])
    df = df.with_columns(
        article_num.alias("article_num"),
        article_bad.alias("__article_bad"),
        in_stock.alias("__in_stock"),
        in_stock_bad.alias("__in_stock_bad"),
        *[clean_text(_text(c, schema[c])).alias(f"__{c}") for c in ARTICLE_TEXT],
    )
    reason = first_reason(
        [
            (_missing("article_id", schema["article_id"]), "missing article_id"),
            (pl.col("__article_bad"), "invalid article_id (not an integer of up to 10 digits)"),
            *[
                (pl.col(f"__{c}").is_null(), f"missing {c}")
                for c in ("prod_name", "product_type_name", "product_group_name")
            ],
            (pl.col("__in_stock_bad"), "invalid in_stock (expected true/false)"),
        ]
    )
    key = pl.coalesce(
        pl.col("article_num").cast(pl.String).str.zfill(10),
        clean_text(_text("article_id", schema["article_id"])),
    )
    df = df.with_columns(reason.alias(REASON), key.alias("key"))
    rejects = df.filter(pl.col(REASON).is_not_null())
    valid = df.filter(pl.col(REASON).is_null()).select(
        LINE,
        pl.col("article_num").cast(pl.String).str.zfill(10).alias("article_id"),
        "article_num",
        *[pl.col(f"__{c}").alias(c) for c in ARTICLE_TEXT],
        pl.col("__in_stock").alias("in_stock"),
    )
    valid, conflicts = split_duplicates(valid, "article_id", "conflicting duplicate article_id")
    raw_cols = ["key", *schema]
    conflict_raw = df.drop(REASON).join(conflicts, on=LINE)
    rejects = pl.concat(
        [_reject_frame(rejects, raw_cols), _reject_frame(conflict_raw, raw_cols)]
    ).sort(LINE)
    return valid, rejects, df.height


def validate_customers(source: Source) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """Clean customers (`customer_id` cleaned raw id, `age` Int64 or null), rejected
    rows and the number of rows read.

    Rejected rows keep `__customer_id` (cleaned raw id) so that the pipeline can
    pseudonymise the key; their raw columns must be redacted before output.
    """
    df = collect(source, source.frame)
    schema = source.schema
    age, age_bad = parse_float("age", schema["age"])
    others = [c for c in schema if c not in ("customer_id", "age")]
    df = df.with_columns(
        clean_id(_text("customer_id", schema["customer_id"])).alias(CUSTOMER_KEY),
        age.alias("__age"),
        age_bad.alias("__age_bad"),
        *[clean_text(_text(c, schema[c])).alias(f"__{c}") for c in others],
    )
    reason = first_reason(
        [
            (pl.col(CUSTOMER_KEY).is_null(), "missing customer_id"),
            (
                pl.col(CUSTOMER_KEY).str.len_chars() > MAX_FIELD_CHARS,
                f"customer_id longer than {MAX_FIELD_CHARS} characters",
            ),
            (pl.col("__age_bad"), "non-numeric age"),
        ]
    )
    df = df.with_columns(reason.alias(REASON))
    rejects = df.filter(pl.col(REASON).is_not_null())
    age_int = (
        pl.when(pl.col("__age").is_finite())
        .then(pl.col("__age").clip(-1, 1000).floor())
        .cast(pl.Int64)
    )
    valid = df.filter(pl.col(REASON).is_null()).select(
        LINE,
        pl.col(CUSTOMER_KEY).alias("customer_id"),
        age_int.alias("age"),
        *[pl.col(f"__{c}") for c in others],
    )
    valid, conflicts = split_duplicates(valid, "customer_id", "conflicting duplicate customer_id")
    valid = valid.select(LINE, "customer_id", "age")
    raw_cols = [*schema, CUSTOMER_KEY]
    conflict_raw = df.drop(REASON).join(conflicts, on=LINE)
    rejects = pl.concat(
        [_reject_frame(rejects, raw_cols), _reject_frame(conflict_raw, raw_cols)]
    ).sort(LINE)
    return valid, rejects, df.height


def validate_transactions(
    source: Source, article_nums: pl.Series, customer_ids: pl.Series
) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """Check every transaction row, one pass over the file in batches of `BATCH_ROWS`.

    `article_nums` (Int64) are the known article ids; `customer_ids` the known
    (cleaned raw, unique) customer ids: a row's `__cidx` is its customer's position
    there. Returns the valid rows (`__line`, `t_dat` Date, `__cidx` UInt32,
    `article_num` Int64, `price` Float64, `channel` Int16 or null), the rejected rows
    (`__line`, `reason`, the raw columns, `__customer_id`) and the number of rows read.

    Batches run on the in-memory engine: a single streaming query with all these
    expressions held ~200 bytes per input row (its parallel branches buffer when
    they run at different speeds); batch by batch, memory is the output plus one
    batch.
    """
    known_customers = CustomerLookup(customer_ids)
    valid: list[pl.DataFrame] = []
    rejected: list[pl.DataFrame] = []
    rows = 0
    with polars_errors(source.path, source.error_reason):
        for batch in source.frame.collect_batches(chunk_size=BATCH_ROWS):
            good, bad = _check_transactions(batch, source.schema, article_nums, known_customers)
            rows += batch.height
            valid.append(good)
            if bad.height:
                rejected.append(bad)
    if not valid or not rejected:  # typed empty frames
        empty = source.frame.clear().collect()
        no_valid, no_rejects = _check_transactions(
            empty, source.schema, article_nums, known_customers
        )
        valid = valid or [no_valid]
        rejected = rejected or [no_rejects]
    return pl.concat(valid, rechunk=False), pl.concat(rejected), rows


class CustomerLookup:
    """Exact, vectorised lookup of raw customer ids -> their position in `ids`.

    Built once per load: the ids' 64-bit hashes, sorted. A lookup binary-searches the
    hash, then compares the id strings, so a hash collision can never match the wrong
    customer. (Joining each batch against 1.4M string ids, or casting to an Enum of
    them, rebuilds a hash table per batch and is several times slower.)
    """

    def __init__(self, ids: pl.Series) -> None:
        self.ids = ids.cast(pl.String)
        for seed in range(1, 100):  # ids' hashes must be unique; re-seed on a collision
            hashes = self.ids.hash(seed=seed)
            if hashes.n_unique() == hashes.len():
                break
        else:
            raise ValueError("customer ids are not unique")
        self.seed = seed
        self.order = hashes.arg_sort().cast(pl.UInt32)
        self.sorted_hashes = hashes.gather(self.order)

    def positions(self, keys: pl.Series) -> pl.Series:
        """Position (UInt32) of each key in `ids`, null where absent or null."""
        if self.ids.len() == 0 or keys.len() == 0:
            return pl.Series(keys.name, [None] * keys.len(), dtype=pl.UInt32)
        hashes = keys.hash(seed=self.seed)
        at = self.sorted_hashes.search_sorted(hashes, side="left").clip(0, self.ids.len() - 1)
        candidate = self.order.gather(at)
        same = (self.sorted_hashes.gather(at) == hashes) & (self.ids.gather(candidate) == keys)
        return pl.select(pl.when(same).then(candidate)).to_series().alias(keys.name)


def split_duplicates(df: pl.DataFrame, key: str, reason: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Drop exact duplicate rows (ignoring `__line`); reject later rows whose `key`
    repeats with other values. Returns (kept rows, rejected `__line` + `reason`)."""
    values = [c for c in df.columns if c != LINE]
    df = df.sort(LINE).unique(subset=values, keep="first", maintain_order=True)
    first = pl.col(key).is_first_distinct()
    conflicts = df.filter(~first).select(LINE, pl.lit(reason).alias(REASON))
    return df.filter(first), conflicts


def first_reason(checks: Sequence[tuple[pl.Expr, str]]) -> pl.Expr:
    """The reason of the first check that is true for a row, else null."""
    expr = pl.lit(None, dtype=pl.String)
    for condition, reason in reversed(checks):
        expr = pl.when(condition.fill_null(False)).then(pl.lit(reason)).otherwise(expr)
    return expr


def clean_text(expr: pl.Expr) -> pl.Expr:
    """Control characters out, whitespace stripped, empty -> null, capped length."""
    return _strip_controls(expr).str.slice(0, MAX_FIELD_CHARS)


def clean_id(expr: pl.Expr) -> pl.Expr:
    """Ids: every control/invisible character removed (one regex pass), whitespace
    stripped, empty -> null; never truncated (long ids are rejected instead)."""
    text = expr.str.replace_all(_ID_NOISE, "").str.strip_chars()
    return pl.when(text != "").then(text)


def parse_article_id(name: str, dtype: pl.DataType) -> tuple[pl.Expr, pl.Expr]:
    """(Int64 article number or null, True where a present value is not an id)."""
    col = pl.col(name)
    if dtype.is_integer():
        value = col.cast(pl.Int64, strict=False)
        ok = value.is_between(0, 9_999_999_999)
    elif dtype.is_float():
        value = col.cast(pl.Int64, strict=False)
        ok = (col == col.floor()) & col.is_between(0, 9_999_999_999)
    else:
        text = _trimmed(_text(name, dtype))
        ok = text.str.contains(r"^\d{1,10}(\.0+)?$")
        value = pl.when(ok).then(text.str.extract(r"^(\d+)", 1).cast(pl.Int64, strict=False))
    bad = col.is_not_null() & ~_missing(name, dtype) & ~ok.fill_null(False)
    return pl.when(ok.fill_null(False)).then(value), bad


def parse_float(name: str, dtype: pl.DataType) -> tuple[pl.Expr, pl.Expr]:
    """(Float64 value or null, True where a present value is not a number).

    "nan" counts as missing (pandas-written CSVs), not as a wrong type."""
    col = pl.col(name)
    if dtype.is_numeric():
        value = col.cast(pl.Float64)
        return pl.when(~value.is_nan()).then(value), pl.lit(False)
    text = _trimmed(_text(name, dtype))
    value = text.cast(pl.Float64, strict=False)
    bad = text.is_not_null() & value.is_null()
    return pl.when(~value.is_nan()).then(value), bad


def _parse_int16(name: str, dtype: pl.DataType) -> tuple[pl.Expr, pl.Expr]:
    if dtype.is_integer():
        value = pl.col(name).cast(pl.Int16, strict=False)
        return value, pl.col(name).is_not_null() & value.is_null()
    text = _trimmed(_text(name, dtype))
    value = text.cast(pl.Int16, strict=False)
    as_float = pl.when(value.is_null()).then(text.cast(pl.Float64, strict=False))
    whole = pl.when(as_float == as_float.floor()).then(as_float.cast(pl.Int16, strict=False))
    parsed = pl.coalesce(value, whole)  # "2" fast; "2.0" (pandas-written) also fine
    return parsed, text.is_not_null() & parsed.is_null()


def _parse_date(name: str, dtype: pl.DataType) -> tuple[pl.Expr, pl.Expr]:
    col = pl.col(name)
    if dtype == pl.Date:
        return col, pl.lit(False)
    if isinstance(dtype, pl.Datetime):
        return col.dt.date(), pl.lit(False)
    text = _trimmed(_text(name, dtype))
    value = pl.when(text.str.contains(r"^\d{4}-\d{2}-\d{2}$")).then(
        text.str.to_date("%Y-%m-%d", strict=False)
    )
    return value, text.is_not_null() & value.is_null()


def _parse_bool(name: str, dtype: pl.DataType) -> tuple[pl.Expr, pl.Expr]:
    col = pl.col(name)
    if dtype == pl.Boolean:
        return col, pl.lit(False)
    text = _trimmed(_text(name, dtype)).str.to_lowercase()
    value = (
        pl.when(text.is_in(_TRUE))
        .then(pl.lit(True))
        .when(text.is_in(_FALSE))
        .then(pl.lit(False))
        .otherwise(pl.lit(None, dtype=pl.Boolean))
    )
    return value, text.is_not_null() & value.is_null()


def _missing(name: str, dtype: pl.DataType) -> pl.Expr:
    if dtype == pl.String:
        return _trimmed(pl.col(name)).is_null()
    return pl.col(name).is_null()


def _trimmed(expr: pl.Expr) -> pl.Expr:
    """Whitespace stripped, empty -> null. Enough for numbers, dates and article ids:
    any other stray character makes the value fail its parse, as it should."""
    text = expr.str.strip_chars()
    return pl.when(text != "").then(text)


def _text(name: str, dtype: pl.DataType) -> pl.Expr:
    return pl.col(name) if dtype == pl.String else pl.col(name).cast(pl.String)


def _strip_controls(expr: pl.Expr) -> pl.Expr:
    text = (
        expr.str.replace_all(_WHITESPACE_CONTROLS, " ")
        .str.replace_all(_INVISIBLE, "")
        .str.strip_chars()
    )
    return pl.when(text != "").then(text)


def _cap(name: str, dtype: pl.DataType) -> pl.Expr:
    """A raw column for the rejects output: strings capped at MAX_FIELD_CHARS."""
    if dtype == pl.String:
        return pl.col(name).str.slice(0, MAX_FIELD_CHARS)
    return pl.col(name)


def _reject_frame(df: pl.DataFrame, raw_cols: Sequence[str]) -> pl.DataFrame:
    schema = dict(df.schema)
    return df.select(
        LINE,
        REASON,
        *[
            _cap(c, schema[c]) if c in schema else pl.lit(None, dtype=pl.String).alias(c)
            for c in raw_cols
        ],
    )


def _check_transactions(
    batch: pl.DataFrame,
    schema: dict[str, pl.DataType],
    article_nums: pl.Series,
    known_customers: CustomerLookup,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(valid rows, rejected rows) of one batch of raw transaction rows."""
    article_num, article_bad = parse_article_id("article_id", schema["article_id"])
    t_dat, date_bad = _parse_date("t_dat", schema["t_dat"])
    price, price_bad = parse_float("price", schema["price"])
    channel, channel_bad = _parse_int16("sales_channel_id", schema["sales_channel_id"])
    df = batch.with_columns(
        clean_id(_text("customer_id", schema["customer_id"])).alias(CUSTOMER_KEY),
        article_num.alias("article_num"),
        article_bad.alias("__article_bad"),
        t_dat.alias("t_dat_parsed"),
        date_bad.alias("__date_bad"),
        price.alias("price_parsed"),
        price_bad.alias("__price_bad"),
        channel.alias("channel"),
        channel_bad.alias("__channel_bad"),
    )
    df = df.with_columns(known_customers.positions(df[CUSTOMER_KEY]).alias(CUSTOMER_INDEX))
    reason = first_reason(
        [
            (pl.col(CUSTOMER_KEY).is_null(), "missing customer_id"),
            (_missing("article_id", schema["article_id"]), "missing article_id"),
            (pl.col("__article_bad"), "invalid article_id (not an integer of up to 10 digits)"),
            (_missing("t_dat", schema["t_dat"]), "missing t_dat"),
            (pl.col("__date_bad"), "unparsable t_dat (expected YYYY-MM-DD)"),
            (_missing("price", schema["price"]), "missing price"),
            (
                pl.col("price_parsed").is_null() | ~pl.col("price_parsed").is_finite(),
                "non-numeric price",
            ),
            (pl.col("price_parsed") < 0, "negative price"),
            (pl.col("__channel_bad"), "non-integer sales_channel_id"),
            (~pl.col("article_num").is_in(article_nums.implode()), "unknown article_id"),
            (pl.col(CUSTOMER_INDEX).is_null(), "unknown customer_id"),
        ]
    )
    df = df.with_columns(reason.alias(REASON))
    valid = df.filter(pl.col(REASON).is_null()).select(
        LINE,
        pl.col("t_dat_parsed").alias("t_dat"),
        CUSTOMER_INDEX,
        "article_num",
        pl.col("price_parsed").alias("price"),
        "channel",
    )
    rejected = df.filter(pl.col(REASON).is_not_null()).select(
        LINE, REASON, *[_cap(c, schema[c]) for c in schema], CUSTOMER_KEY
    )
    return valid, rejected
