from __future__ import annotations

from datetime import date
from typing import Annotated

from litestar import Controller, get
from litestar.params import Parameter

from app.domain.analytics.schemas import RecommendationPerformance, TopProducts
from app.domain.analytics.services import performance, top_products, window
from app.lib.errors import error_specs
from app.lib.resources import ResourcesDep
from app.lib.security import SECURITY, requires

Since = Annotated[
    date | None, Parameter(description="window start (inclusive), ISO date", required=False)
]
Until = Annotated[
    date | None, Parameter(description="window end (exclusive), ISO date", required=False)
]
Days = Annotated[
    int | None,
    Parameter(
        description="window length in days, back from `until` (or today)",
        ge=1,
        le=36500,
        required=False,
    ),
]
Limit = Annotated[int, Parameter(description="number of products (1..100)", ge=1, le=100)]


class AnalyticsController(Controller):
    path = "/analytics"
    tags = ["analytics"]
    guards = [requires("read")]
    security = SECURITY

    @get(
        "/products/top-viewed",
        sync_to_thread=True,
        summary="Most viewed products",
        responses=error_specs(403),
    )
    def top_viewed(
        self,
        resources: ResourcesDep,
        since: Since = None,
        until: Until = None,
        days: Days = None,
        limit: Limit = 10,
    ) -> TopProducts:
        return top_products(resources, "top-viewed", window(since, until, days), limit)

    @get(
        "/products/top-recommended",
        sync_to_thread=True,
        summary="Most recommended products (impressions)",
        responses=error_specs(403),
    )
    def top_recommended(
        self,
        resources: ResourcesDep,
        since: Since = None,
        until: Until = None,
        days: Days = None,
        limit: Limit = 10,
    ) -> TopProducts:
        return top_products(resources, "top-recommended", window(since, until, days), limit)

    @get(
        "/products/top-purchased",
        sync_to_thread=True,
        summary="Best sellers (units bought)",
        responses=error_specs(403),
    )
    def top_purchased(
        self,
        resources: ResourcesDep,
        since: Since = None,
        until: Until = None,
        days: Days = None,
        limit: Limit = 10,
    ) -> TopProducts:
        return top_products(resources, "top-purchased", window(since, until, days), limit)

    @get(
        "/recommendations/performance",
        sync_to_thread=True,
        summary="Recommendation performance",
        description="Impressions, clicks, CTR and conversions (cart/wishlist adds carrying a "
        "recommendation's request_id) per context, attributed by request_id.",
        responses=error_specs(403),
    )
    def recommendation_performance(
        self,
        resources: ResourcesDep,
        since: Since = None,
        until: Until = None,
        days: Days = None,
    ) -> RecommendationPerformance:
        return performance(resources, window(since, until, days))
