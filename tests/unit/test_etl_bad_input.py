"""Bad input: every case ends in a clear EtlError or a rejects entry with a reason."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from ragrec.etl import EtlError, prepare, pseudonymise_customer_id, write_rejects
from ragrec.etl.pipeline import build_categories
from ragrec.etl.validate import MAX_FIELD_CHARS

KEY = b"unit-test-pseudonym-key-0123456789"
SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"

ARTICLES = """\
article_id,prod_name,product_type_name,product_group_name,index_group_name,colour_group_name
108775015,Strap top,Vest top,Garment Upper body,Ladieswear,Black
108775044,Strap top,Vest top,Garment Upper body,Ladieswear,White
110065001,OP T-shirt (Idro),Bra,Underwear,Ladieswear,Black
"""
CUSTOMERS = """customer_id,FN,Active,club_member_status,fashion_news_frequency,age,postal_code
c1,1.0,1.0,ACTIVE,Regularly,49.0,p1
c2,,,ACTIVE,NONE,25,p2
c3,,,ACTIVE,NONE,,p3
"""
TRANSACTIONS = """t_dat,customer_id,article_id,price,sales_channel_id
2018-09-20,c1,108775015,0.0508,2
2018-09-20,c1,0108775044,0.0305,2
2018-09-21,c2,110065001,0.0152,1
2018-09-21,c2,110065001,0.0152,1
"""


def make_folder(
    root: Path,
    articles: str = ARTICLES,
    customers: str = CUSTOMERS,
    transactions: str = TRANSACTIONS,
) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "articles.csv").write_text(articles)
    (root / "customers.csv").write_text(customers)
    (root / "transactions.csv").write_text(transactions)
    return root


def reasons(prepared_rejects: pl.DataFrame) -> dict[tuple[str, int], str]:
    return {(s, n): r for s, n, r in prepared_rejects.select("source", "line", "reason").rows()}


def test_clean_folder(tmp_path: Path) -> None:
    prepared = prepare(make_folder(tmp_path), KEY)
    assert prepared.rejects.height == 0
    assert prepared.counts["transactions.csv"] == 4
    assert prepared.purchases.height == 3  # the two identical rows -> qty 2
    assert prepared.purchases["qty"].to_list() == [1, 1, 2]
    assert prepared.purchases["article_id"].to_list() == [
        "0108775015",
        "0108775044",
        "0110065001",
    ]
    assert prepared.customers["age_bracket"].to_list() == ["45-54", "25-34", "unknown"]
    assert prepared.categories["id"].to_list()[:1] == ["index_group:Ladieswear"]
    # index and section are absent: empty path segments, parent = nearest present level
    group = "product_group:Ladieswear|||Garment Upper body"
    assert prepared.categories.filter(pl.col("id") == group)["parent_id"].item() == (
        "index_group:Ladieswear"
    )


def test_zero_byte_file(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, customers="")
    with pytest.raises(EtlError, match=r"customers\.csv: file is empty \(0 bytes\)"):
        prepare(folder, KEY)


def test_missing_file(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    (folder / "transactions.csv").unlink()
    with pytest.raises(EtlError, match="no transactions file"):
        prepare(folder, KEY)


def test_two_candidate_files(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    (folder / "articles_old.csv").write_text(ARTICLES)
    with pytest.raises(EtlError, match="several articles files"):
        prepare(folder, KEY)


def test_wrong_delimiter(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, transactions=TRANSACTIONS.replace(",", ";"))
    with pytest.raises(EtlError) as info:
        prepare(folder, KEY)
    message = str(info.value)
    assert "transactions.csv" in message
    assert "missing required column(s): t_dat, customer_id, article_id, price" in message
    assert "';'-separated" in message


def test_truncated_mid_row(tmp_path: Path) -> None:
    cut = TRANSACTIONS.rstrip("\n") + "\n2018-09-22,c3,1087"  # last row cut short
    cut = cut[: cut.rindex(",")]  # ... in the middle of the customer id field
    prepared = prepare(make_folder(tmp_path, transactions=cut), KEY)
    assert reasons(prepared.rejects) == {("transactions.csv", 5): "missing article_id"}
    assert prepared.purchases["qty"].sum() == 4


def test_truncated_inside_quotes(tmp_path: Path) -> None:
    cut = ARTICLES + '120129001,"Unfinished name'
    with pytest.raises(EtlError, match=r"articles\.csv: malformed CSV"):
        prepare(make_folder(tmp_path, articles=cut), KEY)


def test_ragged_row(tmp_path: Path) -> None:
    ragged = TRANSACTIONS + "2018-09-22,c3,108775015,0.01,1,extra,fields\n"
    with pytest.raises(EtlError, match=r"transactions\.csv: malformed CSV"):
        prepare(make_folder(tmp_path, transactions=ragged), KEY)


def test_unreadable_parquet(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    (folder / "articles.csv").unlink()
    (folder / "articles.parquet").write_bytes(b"PAR1 this is not parquet at all")
    with pytest.raises(EtlError, match=r"articles\.parquet: not a readable Parquet file"):
        prepare(folder, KEY)


def test_truncated_parquet(tmp_path: Path) -> None:
    folder = tmp_path / "sample"
    shutil.copytree(SAMPLE, folder, ignore=shutil.ignore_patterns("images", "day_slice", "*.md"))
    data = (folder / "transactions_sample.parquet").read_bytes()
    (folder / "transactions_sample.parquet").write_bytes(data[: len(data) // 2])
    with pytest.raises(EtlError, match=r"transactions_sample\.parquet: not a readable Parquet"):
        prepare(folder, KEY)


def test_wrong_types_are_rejected_with_reasons(tmp_path: Path) -> None:
    customers = CUSTOMERS + "c4,,,ACTIVE,NONE,abc,p4\n"
    transactions = TRANSACTIONS + (
        "20/09/2018,c1,108775015,0.05,2\n"  # line 5
        "2018-02-30,c1,108775015,0.05,2\n"  # 6: not a date
        "2018-09-20,c1,108775015,abc,2\n"  # 7
        "2018-09-20,c1,108775015,-0.01,2\n"  # 8
        "2018-09-20,c1,108775015,0.05,online\n"  # 9
        "2018-09-20,c1,10877x015,0.05,2\n"  # 10
        "2018-09-20,,108775015,0.05,2\n"  # 11
        "2018-09-20,c1,108775015,,2\n"  # 12
        ",c1,108775015,0.05,2\n"  # 13
        "2018-09-20,c1,108775015,inf,2\n"  # 14
        "2018-09-20,c1,108775015,0.05,\n"  # 15: channel is optional: valid
    )
    prepared = prepare(make_folder(tmp_path, customers=customers, transactions=transactions), KEY)
    got = reasons(prepared.rejects)
    assert got == {
        ("customers.csv", 4): "non-numeric age",
        ("transactions.csv", 5): "unparsable t_dat (expected YYYY-MM-DD)",
        ("transactions.csv", 6): "unparsable t_dat (expected YYYY-MM-DD)",
        ("transactions.csv", 7): "non-numeric price",
        ("transactions.csv", 8): "negative price",
        ("transactions.csv", 9): "non-integer sales_channel_id",
        ("transactions.csv", 10): "invalid article_id (not an integer of up to 10 digits)",
        ("transactions.csv", 11): "missing customer_id",
        ("transactions.csv", 12): "missing price",
        ("transactions.csv", 13): "missing t_dat",
        ("transactions.csv", 14): "non-numeric price",
    }
    assert prepared.counts == {"articles.csv": 3, "customers.csv": 4, "transactions.csv": 15}
    assert prepared.purchases["qty"].sum() == 5
    row7 = json.loads(prepared.rejects.filter(pl.col("line") == 7)["raw"].item())
    assert row7["price"] == "abc"
    assert row7["article_id"] == "108775015"
    assert row7["customer_id"] == pseudonymise_customer_id("c1", KEY)


def test_unknown_articles_and_customers(tmp_path: Path) -> None:
    transactions = TRANSACTIONS + (
        "2018-09-22,c1,999999001,0.05,2\n"  # 5: unknown article
        "2018-09-22,c9,108775015,0.05,2\n"  # 6: unknown customer
    )
    folder = make_folder(tmp_path, transactions=transactions)
    prepared = prepare(folder, KEY)
    assert reasons(prepared.rejects) == {
        ("transactions.csv", 5): "unknown article_id",
        ("transactions.csv", 6): "unknown customer_id",
    }
    key = prepared.rejects.filter(pl.col("line") == 5)["key"].item()
    assert key == f"2018-09-22|{pseudonymise_customer_id('c1', KEY)}|999999001"
    # already-known ids (from an earlier load) make them valid: articles by id, customers
    # by pseudonym (the only form stored)
    known = prepare(
        folder,
        KEY,
        known_article_ids={"0999999001"},
        known_customer_ids={pseudonymise_customer_id("c9", KEY)},
    )
    assert known.rejects.height == 0
    assert known.purchases["qty"].sum() == 6
    assert known.customers.height == 3  # c9 is already stored, not re-created
    created = prepare(folder, KEY, known_article_ids={"999999001"}, unknown_customers="create")
    assert created.customers.height == 4


def test_duplicate_articles(tmp_path: Path) -> None:
    articles = ARTICLES + (
        "108775015,Strap top,Vest top,Garment Upper body,Ladieswear,Black\n"  # 4: identical
        "108775044,Other name,Vest top,Garment Upper body,Ladieswear,White\n"  # 5: conflicting
        "0108775044,Strap top,Vest top,Garment Upper body,Ladieswear,White\n"  # 6: same as 2
    )
    customers = CUSTOMERS + "c1,1.0,1.0,ACTIVE,Regularly,50,p1\n"  # 4: conflicting age
    prepared = prepare(make_folder(tmp_path, articles=articles, customers=customers), KEY)
    assert reasons(prepared.rejects) == {
        ("articles.csv", 5): "conflicting duplicate article_id",
        ("customers.csv", 4): "conflicting duplicate customer_id",
    }
    assert prepared.duplicates_dropped == {"articles.csv": 2, "customers.csv": 0}
    assert prepared.products.height == 3
    kept = prepared.products.filter(pl.col("id") == "0108775044")["name"].item()
    assert kept == "Strap top"  # the first row wins
    assert prepared.customers["age_bracket"].to_list()[0] == "45-54"


def test_hostile_strings_are_data(tmp_path: Path) -> None:
    cypher = "'}) DETACH DELETE n //"
    articles = ARTICLES + (
        f'120129001,"Top ""quoted"" \\ {cypher}",Top,Garment Upper body,Ladieswear,Red\n'
        "120129002,Name\x00with\x1bcontrols\x7f,Top,Garment Upper body,Ladieswear,Red\n"
        '120129003,"Multi\nline\tname\u202e",Top,Garment Upper body,Ladieswear,Red\n'
        f"120129004,Long,Top,Garment Upper body,Ladieswear,{'x' * 5000}\n"
        f"'}}) MATCH (n) DETACH DELETE n //,Evil id,Top,Garment Upper body,Ladieswear,Red\n"
    )
    evil_customer = f'"{cypher} ""c"" \\"'
    customers = CUSTOMERS + f"{evil_customer},,,ACTIVE,NONE,30,p9\n"
    transactions = TRANSACTIONS + f"2018-09-22,{evil_customer},120129001,0.05,2\n"
    prepared = prepare(
        make_folder(tmp_path, articles=articles, customers=customers, transactions=transactions),
        KEY,
    )
    names = dict(prepared.products.select("id", "name").iter_rows())
    assert names["0120129001"] == f'Top "quoted" \\ {cypher}'
    assert names["0120129002"] == "Namewithcontrols"
    assert names["0120129003"] == "Multi line name"
    colour = prepared.products.filter(pl.col("id") == "0120129004")["colour"].item()
    assert colour == "x" * MAX_FIELD_CHARS  # free text is truncated, not rejected
    assert reasons(prepared.rejects) == {
        ("articles.csv", 8): "invalid article_id (not an integer of up to 10 digits)"
    }
    evil = pseudonymise_customer_id(f'{cypher} "c" \\', KEY)
    assert evil in set(prepared.customers["id"])
    bought = prepared.purchases.filter(pl.col("article_id") == "0120129001")
    assert bought["customer_id"].to_list() == [evil]
    raw = json.loads(prepared.rejects["raw"].item())
    assert raw["article_id"] == "'}) MATCH (n) DETACH DELETE n //"


def test_overlong_customer_id_rejected(tmp_path: Path) -> None:
    long_id = "c" * (MAX_FIELD_CHARS + 1)
    prepared = prepare(make_folder(tmp_path, customers=CUSTOMERS + f"{long_id},,,,,30,p\n"), KEY)
    assert reasons(prepared.rejects) == {
        ("customers.csv", 4): f"customer_id longer than {MAX_FIELD_CHARS} characters"
    }


def test_write_rejects(tmp_path: Path) -> None:
    transactions = TRANSACTIONS + "2018-09-22,c1,999999001,0.05,2\n"
    rejects = prepare(make_folder(tmp_path / "in", transactions=transactions), KEY).rejects
    assert rejects.height == 1
    parquet = write_rejects(rejects, tmp_path / "out" / "rejects.parquet")
    assert pl.read_parquet(parquet).equals(rejects)
    csv = write_rejects(rejects, tmp_path / "out" / "rejects.csv")
    assert pl.read_csv(csv, schema=dict(rejects.schema)).equals(rejects)
    with pytest.raises(EtlError, match=r"must end in \.parquet or \.csv"):
        write_rejects(rejects, tmp_path / "out" / "rejects.txt")


def test_bom_and_crlf(tmp_path: Path) -> None:
    (tmp_path / "articles.csv").write_bytes(
        b"\xef\xbb\xbf" + ARTICLES.replace("\n", "\r\n").encode()
    )
    (tmp_path / "customers.csv").write_bytes(CUSTOMERS.replace("\n", "\r\n").encode())
    (tmp_path / "transactions.csv").write_bytes(TRANSACTIONS.replace("\n", "\r\n").encode())
    prepared = prepare(tmp_path, KEY)
    assert prepared.rejects.height == 0
    assert prepared.products["colour"].to_list() == ["Black", "White", "Black"]
    assert prepared.purchases["qty"].sum() == 4


def test_header_only_transactions(tmp_path: Path) -> None:
    prepared = prepare(
        make_folder(tmp_path, transactions="t_dat,customer_id,article_id,price\n"), KEY
    )
    assert prepared.counts["transactions.csv"] == 0
    assert prepared.purchases.height == 0
    assert prepared.products["price"].null_count() == 3


def test_parquet_with_other_dtypes(tmp_path: Path) -> None:
    """Typed Parquet columns: string ids with leading zeros, Date t_dat, float ages."""
    pl.DataFrame(
        {
            "article_id": ["0108775015", "0108775044"],
            "prod_name": ["Strap top", "Strap top"],
            "product_type_name": ["Vest top", "Vest top"],
            "product_group_name": ["Garment Upper body", "Garment Upper body"],
            "in_stock": [True, False],
        }
    ).write_parquet(tmp_path / "articles.parquet")
    pl.DataFrame({"customer_id": ["c1", "c2"], "age": [49.0, float("nan")]}).write_parquet(
        tmp_path / "customers.parquet"
    )
    pl.DataFrame(
        {
            "t_dat": [date(2018, 9, 20), date(2018, 9, 21), None],
            "customer_id": ["c1", "c2", "c2"],
            "article_id": [108775015, 108775044, 108775044],
            "price": [0.05, float("nan"), 0.01],
            "sales_channel_id": [2, 1, 1],
        }
    ).write_parquet(tmp_path / "transactions.parquet")
    prepared = prepare(tmp_path, KEY)
    assert prepared.products["in_stock"].to_list() == [True, False]
    assert prepared.customers["age_bracket"].to_list() == ["45-54", "unknown"]
    assert reasons(prepared.rejects) == {
        ("transactions.parquet", 2): "non-numeric price",
        ("transactions.parquet", 3): "missing t_dat",
    }
    assert prepared.purchases.row(0) == (
        pseudonymise_customer_id("c1", KEY),
        "0108775015",
        date(2018, 9, 20),
        0.05,
        2,
        1,
    )


def test_category_ids_escape_separators() -> None:
    products = pl.DataFrame(
        {
            "id": ["0000000001"],
            "index_group": ["A|B"],
            "index_name": [None],
            "section": ["C\\D"],
            "product_group": ["Group"],
            "product_type": ["Type"],
        },
        schema_overrides={"index_name": pl.String},
    )
    categories, links = build_categories(products)
    assert categories.rows() == [
        ("index_group:A\\|B", "A|B", "index_group", None),
        ("section:A\\|B||C\\\\D", "C\\D", "section", "index_group:A\\|B"),
        ("product_group:A\\|B||C\\\\D|Group", "Group", "product_group", "section:A\\|B||C\\\\D"),
        (
            "product_type:A\\|B||C\\\\D|Group|Type",
            "Type",
            "product_type",
            "product_group:A\\|B||C\\\\D|Group",
        ),
    ]
    assert links.rows() == [("0000000001", "product_type:A\\|B||C\\\\D|Group|Type")]
