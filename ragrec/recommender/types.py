"""Typed values that flow through the pipeline: candidates in, recommendations out."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Literal

Context = Literal["homepage", "product", "cart", "search"]


def product_code(product_id: str) -> str | None:
    """H&M's product code from a 10-digit article id (`0` + code + 3-digit variant): the
    articles that share it are the same garment in other colours / variants."""
    return product_id[:-3] if len(product_id) == 10 and product_id.isdigit() else None


# Candidate and Scored are built some 600 and 400 times a request: slotted and not frozen,
# their __init__ costs a quarter of a frozen dataclass's (nothing hashes or mutates them)
@dataclass(slots=True)
class Candidate:
    """One generator's proposal: a product, the generator's score and why."""

    product_id: str
    score: float
    generator: str
    reason: str


@dataclass(frozen=True)
class ProductInfo:
    product_id: str
    name: str | None = None
    category: str | None = None
    price: float | None = None
    in_stock: bool | None = None
    created_at: date | None = None
    description: str | None = None
    colour: str | None = None  # the learned ranker's colour affinity


@dataclass
class Profile:
    """What the graph knows about the customer before `as_of`."""

    customer_id: str | None
    age_bracket: str | None = None
    persona_id: str | None = None
    persona_name: str | None = None
    community_id: int | None = None
    has_embedding: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)
    bought: list[str] = field(default_factory=list)
    ref_date: date | None = None

    @property
    def cold_start(self) -> bool:
        return not self.history

    @property
    def mean_price(self) -> float | None:
        prices = [h["price"] for h in self.history if h.get("price")]
        return sum(prices) / len(prices) if prices else None

    def category_shares(self) -> dict[str, float]:
        counts: dict[str, float] = {}
        for h in self.history:
            if h.get("category"):
                counts[h["category"]] = counts.get(h["category"], 0.0) + 1.0
        total = sum(counts.values()) or 1.0
        return {k: v / total for k, v in counts.items()}


@dataclass
class CandidatePool:
    """Every generator's ranked list for one request, before fusion."""

    context: Context
    profile: Profile
    lists: dict[str, list[Candidate]]
    products: dict[str, ProductInfo]
    exclude: set[str]
    as_of: date | None
    query: str | None = None
    seconds: float = 0.0
    stats: dict[str, dict[str, Any]] | None = None  # product sales, for the learned ranker
    degraded: list[str] = field(default_factory=list)  # sources that failed or timed out


@dataclass(slots=True)
class Scored:
    product_id: str
    score: float
    generators: tuple[str, ...]


@dataclass
class RecommendedItem:
    product_id: str
    name: str | None
    score: float
    position: int
    generators: list[str]
    reasons: list[str]
    category: str | None = None
    price: float | None = None


@dataclass
class Recommendation:
    request_id: str
    context: Context
    strategy: str
    customer_id: str | None
    items: list[RecommendedItem]
    timings: dict[str, float]
    cold_start: bool = False
    reranked: bool = False
    persona: str | None = None
    degraded: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
