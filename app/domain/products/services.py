from __future__ import annotations

from typing import Any

from app.domain.products.schemas import Attribute, CategoryRef, ProductDetail
from app.lib.errors import NotFound
from app.lib.graph import read
from app.lib.resources import Resources

_TEXT_FIELDS = (
    "name",
    "description",
    "product_type",
    "product_group",
    "colour",
    "perceived_colour",
    "department",
    "index_name",
    "index_group",
    "section",
    "garment_group",
)


def get_product(resources: Resources, product_id: str) -> ProductDetail:
    rows = read(resources, "api/product", id=product_id)
    if not rows:
        raise NotFound(f"unknown product id {product_id!r}", field="product_id")
    row = rows[0]
    props: dict[str, Any] = row["product"]
    created = props.get("created_at")
    return ProductDetail(
        id=props["id"],
        **{f: _text(props.get(f)) for f in _TEXT_FIELDS},
        price=_float(props.get("price")),
        in_stock=props.get("in_stock"),
        created_at=created.to_native() if created is not None else None,
        has_image=bool(props.get("image_path")),
        categories=[CategoryRef(**c) for c in row["categories"] if c.get("id")],
        colours=[c for c in row["colours"] if c],
        attributes=[Attribute(**a) for a in row["attributes"] if a.get("kind")],
    )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)
