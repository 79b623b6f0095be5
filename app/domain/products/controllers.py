from __future__ import annotations

from litestar import Controller, get

from app.domain.products.schemas import ProductDetail
from app.domain.products.services import get_product
from app.lib.errors import error_specs
from app.lib.params import ProductId
from app.lib.resources import ResourcesDep


class ProductController(Controller):
    path = "/products"
    tags = ["products"]

    @get(
        "/{product_id:str}",
        sync_to_thread=True,
        summary="One product",
        description="The product's properties, category path (root first), colours and "
        "attributes. 404 naming the id when it is unknown.",
        responses=error_specs(404),
    )
    def product(self, resources: ResourcesDep, product_id: ProductId) -> ProductDetail:
        return get_product(resources, product_id)
