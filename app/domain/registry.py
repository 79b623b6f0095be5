"""Which controllers the API serves, by access level (see `app.main.create_app`)."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler


def open_handlers() -> list[ControllerRouterHandler]:
    """Served without an API key (monitoring)."""
    from app.domain.monitoring.controllers import MetricsController

    return [MetricsController]


def public_handlers() -> list[ControllerRouterHandler]:
    """Recommendation reads; behind a read/widget key only when `api_keys_public` is set."""
    from app.domain.benchmark.controllers import BenchmarkController
    from app.domain.products.controllers import ProductController
    from app.domain.recommendations.controllers import (
        RecommendationShortcutController,
        RecommendController,
    )
    from app.domain.similar.controllers import SimilarController

    return [
        RecommendController,
        RecommendationShortcutController,
        ProductController,
        BenchmarkController,
        SimilarController,
    ]


def private_handlers() -> list[ControllerRouterHandler]:
    """Private data and ingestion: each controller (or handler) carries its scope guard
    (`app.lib.security.requires`)."""
    from app.domain.analytics.controllers import AnalyticsController
    from app.domain.interactions.controllers import InteractionController
    from app.domain.personas.controllers import PersonaController
    from app.domain.privacy.controllers import PrivacyController

    return [InteractionController, AnalyticsController, PrivacyController, PersonaController]


def internal_handlers() -> list[ControllerRouterHandler]:
    """Automation endpoints under /internal; always behind an API key."""
    from app.domain.automation.controllers import AutomationController
    from app.domain.campaigns.controllers import CampaignController
    from app.domain.internal.controllers import InternalController

    return [InternalController, AutomationController, CampaignController]
