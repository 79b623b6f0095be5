from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import msgspec

Id = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class ProductIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A product as the shop knows it (H&M's fields). New products need name, product_type
    and product_group; an update may send only what changed."""

    id: Id
    name: Text | None = None
    product_type: Text | None = None
    product_group: Text | None = None
    description: Annotated[str, msgspec.Meta(max_length=5_000)] | None = None
    colour: Text | None = None
    perceived_colour: Text | None = None
    department: Text | None = None
    index_name: Text | None = None
    index_group: Text | None = None
    section: Text | None = None
    garment_group: Text | None = None
    price: Annotated[float, msgspec.Meta(ge=0)] | None = None
    image_path: Annotated[str, msgspec.Meta(max_length=1_000)] | None = None
    created_at: date | None = None
    in_stock: bool | None = None


class ProductBatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    products: Annotated[list[ProductIn], msgspec.Meta(min_length=1, max_length=1_000)]
    embed: bool = True


class ProductsUpserted(msgspec.Struct, kw_only=True):
    products: list[str]
    created: list[str]
    restocked: list[str]
    reembedded: list[str]
    embedded: dict[str, Any] | None


class PurchaseIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    customer_id: Annotated[
        str,
        msgspec.Meta(
            min_length=1,
            max_length=128,
            description="the shop's own customer id (pseudonymised, never stored)",
        ),
    ]
    product_id: Id
    price: Annotated[float, msgspec.Meta(ge=0)] | None = None
    qty: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 1
    ts: datetime | None = None
    channel: Annotated[int, msgspec.Meta(ge=0, le=9)] = 0


class PurchaseBatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    purchases: Annotated[list[PurchaseIn], msgspec.Meta(min_length=1, max_length=10_000)]


class PurchasesRecorded(msgspec.Struct, kw_only=True):
    recorded: int
    product_ids: list[str]
    customers: int
    new_customers: int


class JobRun(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    path: Annotated[str, msgspec.Meta(min_length=1, max_length=1_000)] | None = None


class JobResult(msgspec.Struct, kw_only=True):
    job: str
    command: list[str]
    exit_code: int
    seconds: float
    output_tail: str
    result: dict[str, Any] | None
