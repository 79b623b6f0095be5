"""The Neo4j Browser guide (`:play http://localhost:8000/guides/ragrec.html`), built
from the saved explorations in `cypher/browser/`: each file's header comment becomes
the slide's text, the statement becomes a runnable block."""

from __future__ import annotations

from dataclasses import dataclass

from ragrec.cypher import CYPHER_DIR

BROWSER_DIR = CYPHER_DIR / "browser"
#: slide order and titles (files not listed here come after, titled by name)
TITLES = {
    "customer_journey": "A customer's journey",
    "persona_top_products": "A persona's top products",
    "co_purchase_neighbourhood": "A co-purchase neighbourhood",
    "communities": "Communities",
    "recommendation_funnel": "Recommendations the shop showed",
    "schema": "The shape of the graph",
}


@dataclass(frozen=True)
class SavedQuery:
    file: str
    name: str
    title: str
    description: str
    cypher: str


def saved_queries() -> list[SavedQuery]:
    out = []
    for path in sorted(BROWSER_DIR.glob("*.cypher")):
        name = path.name.split(".")[0]
        lines = path.read_text().splitlines()
        comments = [
            line.lstrip("/").strip()
            for line in lines
            if line.startswith("//") and not line.lstrip("/ ").startswith("returns:")
        ]
        body = "\n".join(line for line in lines if not line.startswith("//")).strip()
        out.append(
            SavedQuery(
                file=path.name,
                name=name,
                title=TITLES.get(name, name.replace("_", " ")),
                description=" ".join(comments),
                cypher=body,
            )
        )
    order = list(TITLES)
    return sorted(out, key=lambda q: (order.index(q.name) if q.name in order else 99, q.name))
