from __future__ import annotations

from typing import Annotated

from litestar import Controller, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, JSONBody

from app.domain.similar.schemas import SimilarImageForm, SimilarRequest, SimilarResponse
from app.domain.similar.services import similar_to_image, similar_to_product
from app.lib.errors import error_specs
from app.lib.resources import ResourcesDep


class SimilarController(Controller):
    path = "/similar"
    tags = ["similar"]

    @post(
        "/",
        sync_to_thread=True,
        status_code=200,
        summary="Products that look like a product",
        description="Nearest neighbours of the product's image embedding (its text embedding "
        "when it has no image) in the first vector store that answers, expanded through the "
        "graph. For a picture, POST it to /similar/image.",
        responses=error_specs(404, 503),
    )
    def by_product(
        self, resources: ResourcesDep, data: JSONBody[SimilarRequest]
    ) -> SimilarResponse:
        return similar_to_product(resources, data)

    @post(
        "/image",
        status_code=200,
        summary="Products that look like an uploaded picture",
        description="multipart/form-data with `image` (JPEG, PNG or WebP, at most "
        "RAGREC_API_MAX_UPLOAD_BYTES) and optional top_k, category, min_price, max_price.",
        responses=error_specs(413, 415, 503),
    )
    async def by_image(
        self,
        resources: ResourcesDep,
        data: Annotated[SimilarImageForm, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> SimilarResponse:
        return await similar_to_image(resources, data)
