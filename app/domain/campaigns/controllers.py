from __future__ import annotations

from typing import Annotated

from litestar import Controller, post
from litestar.params import JSONBody, Parameter

from app.domain.campaigns import services
from app.domain.campaigns.schemas import (
    BackInStock,
    Campaign,
    CampaignRecipients,
    CartAbandonment,
    NewArrivals,
    SentIn,
    SentOut,
    WeeklyDigest,
)
from app.lib.errors import error_specs
from app.lib.resources import ResourcesDep

CampaignName = Annotated[Campaign, Parameter(description="the campaign whose emails went out")]
_WHO = " Customers are pseudonymous ids; the shop's mail relay maps them to addresses."


class CampaignController(Controller):
    """Recipients with personalised items for n8n's campaign workflows."""

    path = "/campaigns"
    tags = ["campaigns"]

    @post(
        "/cart_abandonment",
        sync_to_thread=True,
        status_code=200,
        summary="Cart abandonment: idle carts, their items and what goes with them",
        description="Customers whose last cart add is between `lookback_hours` and "
        "`idle_minutes` ago, with no event or purchase since, not reminded since." + _WHO,
        responses=error_specs(),
    )
    def cart_abandonment(
        self, resources: ResourcesDep, data: JSONBody[CartAbandonment]
    ) -> CampaignRecipients:
        return services.cart_abandonment(resources, data)

    @post(
        "/new_arrivals",
        sync_to_thread=True,
        status_code=200,
        summary="New arrivals that fit each active customer",
        responses=error_specs(),
    )
    def new_arrivals(
        self, resources: ResourcesDep, data: JSONBody[NewArrivals]
    ) -> CampaignRecipients:
        return services.new_arrivals(resources, data)

    @post(
        "/weekly_digest",
        sync_to_thread=True,
        status_code=200,
        summary="Weekly digest: each active customer's homepage picks",
        responses=error_specs(),
    )
    def weekly_digest(
        self, resources: ResourcesDep, data: JSONBody[WeeklyDigest]
    ) -> CampaignRecipients:
        return services.weekly_digest(resources, data)

    @post(
        "/back_in_stock",
        sync_to_thread=True,
        status_code=200,
        summary="Back in stock: products customers wished for or carted are available again",
        responses=error_specs(),
    )
    def back_in_stock(
        self, resources: ResourcesDep, data: JSONBody[BackInStock]
    ) -> CampaignRecipients:
        return services.back_in_stock(resources, data)

    @post(
        "/{campaign:str}/sent",
        sync_to_thread=True,
        status_code=200,
        summary="Record that a campaign's emails went out to these customers",
        responses=error_specs(),
    )
    def sent(
        self, resources: ResourcesDep, campaign: CampaignName, data: JSONBody[SentIn]
    ) -> SentOut:
        return services.mark_sent(resources, campaign, data)
