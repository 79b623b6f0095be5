from __future__ import annotations

from datetime import date

import msgspec


class CategoryRef(msgspec.Struct):
    id: str
    name: str
    level: str


class Attribute(msgspec.Struct):
    kind: str
    value: str


class ProductDetail(msgspec.Struct, kw_only=True):
    id: str
    name: str | None = None
    description: str | None = None
    product_type: str | None = None
    product_group: str | None = None
    colour: str | None = None
    perceived_colour: str | None = None
    department: str | None = None
    index_name: str | None = None
    index_group: str | None = None
    section: str | None = None
    garment_group: str | None = None
    price: float | None = None
    in_stock: bool | None = None
    created_at: date | None = None
    has_image: bool = False
    categories: list[CategoryRef] = msgspec.field(default_factory=list)
    colours: list[str] = msgspec.field(default_factory=list)
    attributes: list[Attribute] = msgspec.field(default_factory=list)
