from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from app.domain.analytics.schemas import (
    Performance,
    RecommendationPerformance,
    TopProduct,
    TopProducts,
    Window,
)
from app.lib.errors import ApiError
from app.lib.graph import read
from app.lib.resources import Resources

METRICS = {
    "top-viewed": "view",
    "top-recommended": "recommendation_impression",
    "top-purchased": "purchase",
}


def window(since: date | None, until: date | None, days: int | None) -> Window:
    """`since` inclusive, `until` exclusive; `days` counts back from `until` (or today)."""
    if days is not None:
        if since is not None:
            raise ApiError("give either `since` or `days`, not both", field="days")
        end = until or datetime.now(UTC).date() + timedelta(days=1)
        try:
            since = end - timedelta(days=days)
        except OverflowError:
            raise ApiError("`days` reaches before year 1", field="days") from None
    if since and until and since >= until:
        raise ApiError("`since` must be before `until`", field="since")
    return Window(since=since, until=until)


def top_products(resources: Resources, metric: str, win: Window, limit: int) -> TopProducts:
    if metric == "top-purchased":
        rows = read(resources, "analytics/top_purchased", limit=limit, **_dates(win))
    else:
        rows = read(
            resources,
            "analytics/top_interacted",
            type=METRICS[metric],
            limit=limit,
            **_datetimes(win),
        )
    return TopProducts(
        metric=metric,
        window=win,
        items=[
            TopProduct(
                position=i,
                product_id=r["product_id"],
                name=r["name"],
                events=int(r["events"]),
                customers=int(r["customers"]),
            )
            for i, r in enumerate(rows, start=1)
        ],
    )


def performance(resources: Resources, win: Window) -> RecommendationPerformance:
    rows = read(resources, "analytics/recommendation_performance", **_datetimes(win))
    by_context = [_perf(r["context"], r) for r in rows]
    totals = {
        k: sum(int(r[k]) for r in rows)
        for k in ("requests", "impressions", "clicks", "conversions")
    }
    return RecommendationPerformance(window=win, total=_perf("all", totals), by_context=by_context)


def _perf(context: str, row: dict[str, Any]) -> Performance:
    impressions, clicks, conversions = (
        int(row["impressions"]),
        int(row["clicks"]),
        int(row["conversions"]),
    )
    return Performance(
        context=context,
        requests=int(row["requests"]),
        impressions=impressions,
        clicks=clicks,
        conversions=conversions,
        ctr=round(clicks / impressions, 6) if impressions else 0.0,
        conversion_rate=round(conversions / impressions, 6) if impressions else 0.0,
    )


def _dates(win: Window) -> dict[str, date | None]:
    return {"since": win.since, "until": win.until}


def _datetimes(win: Window) -> dict[str, datetime | None]:
    def at(day: date | None) -> datetime | None:
        return datetime.combine(day, time.min, tzinfo=UTC) if day else None

    return {"since": at(win.since), "until": at(win.until)}
