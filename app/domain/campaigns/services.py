"""Campaign recipients: who gets which personalised items, by pseudonymous id.

Candidates come from Cypher (`cypher/n8n/*_candidates`, `*_watchers`,
`cypher/campaigns/`); items are personalised with the recommender (cart completion for
cart abandonment, the homepage picks for the weekly digest) or by the customer's own
purchase mix (new arrivals). n8n sends the emails and then calls `.../sent`, which stamps
the customers so that the next run skips them until something new happens.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from app.domain.campaigns.schemas import (
    BackInStock,
    CampaignItem,
    CampaignRecipients,
    CartAbandonment,
    NewArrivals,
    Recipient,
    SentIn,
    SentOut,
    WeeklyDigest,
)
from app.lib.engines import recommender
from app.lib.graph import read, write
from app.lib.resources import Resources
from ragrec.recommender.errors import InvalidRequest, UnknownCustomer, UnknownProduct

log = logging.getLogger("ragrec.api")
RECOMMENDER_ERRORS = (InvalidRequest, UnknownCustomer, UnknownProduct)


def stamp_property(campaign: str) -> str:
    return f"campaign_{campaign}_at"


def cart_abandonment(resources: Resources, req: CartAbandonment) -> CampaignRecipients:
    now = req.now or datetime.now(UTC)
    rows = read(
        resources,
        "n8n/cart_abandonment_candidates",
        now=now.isoformat(),
        idle_minutes=req.idle_minutes,
        lookback_hours=req.lookback_hours,
        limit=req.limit,
        max_items=req.items,
    )
    rec = recommender(resources)

    def items_for(row: dict[str, Any]) -> list[tuple[str, str]]:
        cart = [(pid, "left in your cart") for pid in row["items"]]
        extra: list[tuple[str, str]] = []
        room = req.items - len(cart)
        if room > 0 and row["items"]:
            try:
                answer = rec.cart(row["items"], row["customer_id"], k=room)
                extra = [(i.product_id, "goes with your cart") for i in answer.items]
            except RECOMMENDER_ERRORS as exc:
                log.info("cart completion skipped for a recipient: %s", exc)
        return cart + extra

    return _recipients(resources, "cart_abandonment", rows, items_for)


def new_arrivals(resources: Resources, req: NewArrivals) -> CampaignRecipients:
    ids = _active(resources, "new_arrivals", req.active_days, req.quiet_days, req.limit)
    since = (datetime.now(UTC) - timedelta(days=req.days)).date().isoformat()
    rows = read(
        resources, "campaigns/new_arrivals_for_customers", ids=ids, since=since, items=req.items
    )
    return _recipients(
        resources,
        "new_arrivals",
        [r for r in rows if r["items"]],
        lambda row: [(pid, "new, and like what you buy") for pid in row["items"]],
    )


def weekly_digest(resources: Resources, req: WeeklyDigest) -> CampaignRecipients:
    ids = _active(resources, "weekly_digest", req.active_days, req.quiet_days, req.limit)
    rec = recommender(resources)

    def items_for(row: dict[str, Any]) -> list[tuple[str, str]]:
        try:
            answer = rec.homepage(row["customer_id"], k=req.items)
        except RECOMMENDER_ERRORS as exc:
            log.info("digest skipped for a recipient: %s", exc)
            return []
        return [(i.product_id, "picked for you") for i in answer.items]

    return _recipients(resources, "weekly_digest", [{"customer_id": i} for i in ids], items_for)


def back_in_stock(resources: Resources, req: BackInStock) -> CampaignRecipients:
    since = datetime.now(UTC) - timedelta(hours=req.since_hours)
    rows = read(
        resources,
        "n8n/back_in_stock_watchers",
        since=since.isoformat(),
        interest_days=req.interest_days,
        limit=req.limit,
        max_items=req.items,
    )
    return _recipients(
        resources,
        "back_in_stock",
        rows,
        lambda row: [(pid, "back in stock") for pid in row["items"]],
    )


def mark_sent(resources: Resources, campaign: str, req: SentIn) -> SentOut:
    rows = write(
        resources, "campaigns/mark_sent", ids=req.customer_ids, campaign=stamp_property(campaign)
    )
    return SentOut(campaign=campaign, marked=int(rows[0]["marked"]) if rows else 0)


# -- helpers ---------------------------------------------------------------------------


def _active(
    resources: Resources, campaign: str, active_days: int, quiet_days: int, limit: int
) -> list[str]:
    since = datetime.now(UTC) - timedelta(days=active_days)
    rows = read(
        resources,
        "campaigns/active_customers",
        since=since.isoformat(),
        campaign=stamp_property(campaign),
        quiet_days=quiet_days,
        limit=limit,
    )
    return [r["customer_id"] for r in rows]


def _recipients(
    resources: Resources,
    campaign: str,
    rows: Iterable[dict[str, Any]],
    items_for: Callable[[dict[str, Any]], list[tuple[str, str]]],
) -> CampaignRecipients:
    chosen = [(row["customer_id"], _unique(items_for(row))) for row in rows]
    wanted = sorted({pid for _, items in chosen for pid, _ in items})
    details = {r["product_id"]: r for r in read(resources, "recommend/products_by_ids", ids=wanted)}
    recipients = []
    for customer, items in chosen:
        shown = [
            CampaignItem(
                product_id=pid,
                name=details[pid]["name"],
                category=details[pid]["category"],
                price=details[pid]["price"],
                why=why,
            )
            for pid, why in items
            if pid in details
        ]
        if shown:
            recipients.append(Recipient(customer_id=customer, items=shown))
    return CampaignRecipients(
        campaign=campaign, generated_at=datetime.now(UTC), recipients=recipients
    )


def _unique(items: list[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: set[str] = set()
    out = []
    for pid, why in items:
        if pid not in seen:
            seen.add(pid)
            out.append((pid, why))
    return out
