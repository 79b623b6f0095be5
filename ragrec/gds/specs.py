"""GDS run specifications: the YAML files of `gds_projections/`, validated.

A spec names one projection and one algorithm run (or a Cypher template), with a
version. See `gds_projections/README.md` for the fields.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ragrec.config import PROJECT_ROOT

SPEC_DIR = PROJECT_ROOT / "gds_projections"


#: INTERACTED.type values as stored by ragrec.graph.interactions -> weight names here
TYPE_ALIASES = {
    "wishlist_add": "wishlist",
    "recommendation_click": "rec_click",
    "recommendation_impression": "rec_impression",
}


#: the parameters every Cypher projection template gets from the pipeline itself
RESERVED_PARAMS = frozenset({"graph_name", "reference", "decay_days", "weights", "zero"})


class SpecError(ValueError):
    """A spec file that is missing or invalid; the message names the file and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RelationshipSpec(_Strict):
    type: str
    from_: list[str] = Field(alias="from")
    orientation: Literal["NATURAL", "REVERSE", "UNDIRECTED"]
    weight_property: str | None = None


class ProjectionSpec(_Strict):
    graph_name: str
    kind: Literal["cypher", "native"]
    query: str | None = None  # cypher/ template for kind=cypher
    node_labels: list[str]
    node_properties: list[str] = Field(default_factory=list)
    node_projection: Any = None  # kind=native: passed to gds.graph.project
    relationship_projection: Any = None
    relationships: list[RelationshipSpec]
    #: kind=cypher: more parameters of the template (bounds such as window_days)
    params: dict[str, Any] = Field(default_factory=dict)


class Weights(_Strict):
    """Interaction weights with recency decay exp(-days / decay_days)."""

    purchase: float = 5.0
    cart_add: float = 3.0
    wishlist: float = 2.0
    rec_click: float = 1.5
    view: float = 1.0
    rec_impression: float = 0.5
    cart_remove: float = -1.0
    decay_days: float = 30.0
    reference: Literal["latest_purchase"] = "latest_purchase"

    def by_type(self) -> dict[str, float]:
        """Weight per event type, under the issue's names and the stored type names."""
        weights: dict[str, float] = self.model_dump(exclude={"decay_days", "reference"})
        for alias, name in TYPE_ALIASES.items():
            weights[alias] = weights[name]
        return weights


class NodePropertiesWrite(_Strict):
    property: str
    labels: list[str]


class AlgorithmSpec(_Strict):
    procedure: str  # attribute of the GraphDataScience client: louvain, fast_rp, ...
    mode: Literal["write", "mutate", "stream", "stats"]
    config: dict[str, Any] = Field(default_factory=dict)
    write_node_properties: NodePropertiesWrite | None = None  # after mutate


class PrepareSpec(_Strict):
    step: Literal["product_features"]
    fields: list[str]
    max_values_per_field: int = 24
    price_levels: int = 3
    feature_scale: float = 1.0


class TemplateSpec(_Strict):
    min_count: int = 2
    batch_size: int = 10_000


class WriteSpec(_Strict):
    label: str
    property: str
    relationship: str | None = None

    def __str__(self) -> str:
        if self.relationship:
            return f"({self.label})-[:{self.relationship}].{self.property}"
        return f"{self.label}.{self.property}"


class GdsSpec(_Strict):
    name: str
    version: int = Field(ge=1)
    order: int = 100
    description: str = ""
    kind: Literal["gds", "cypher_template"] = "gds"
    prepare: PrepareSpec | None = None
    projection: ProjectionSpec | None = None
    weights: Weights | None = None
    algorithm: AlgorithmSpec | None = None
    template: TemplateSpec | None = None
    pre: list[str] = Field(default_factory=list)
    post: list[str] = Field(default_factory=list)
    writes: list[WriteSpec] = Field(default_factory=list)

    @property
    def run_id(self) -> str:
        return f"{self.name}:v{self.version}"

    def params(self) -> dict[str, Any]:
        """Everything that determines the result (recorded on the GdsRun node)."""
        return self.model_dump(
            mode="json", exclude={"description", "order", "writes"}, exclude_none=True
        )


def load_spec(name_or_path: str | Path) -> GdsSpec:
    """A spec by name (`louvain_communities`) or path to a YAML file."""
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml", ".json"):
        path = SPEC_DIR / f"{name_or_path}.yaml"
    if not path.exists():
        known = ", ".join(s.name for s in load_specs())
        raise SpecError(f"no GDS spec {name_or_path!r} (known: {known})")
    try:
        data = yaml.safe_load(path.read_text())
        spec = GdsSpec.model_validate(data)
    except (yaml.YAMLError, ValidationError) as exc:
        raise SpecError(f"{path}: {exc}") from exc
    if spec.kind == "gds" and (spec.projection is None or spec.algorithm is None):
        raise SpecError(f"{path}: a gds spec needs `projection` and `algorithm`")
    if spec.kind == "cypher_template" and spec.template is None:
        raise SpecError(f"{path}: a cypher_template spec needs `template`")
    if spec.projection and spec.projection.kind == "cypher" and not spec.projection.query:
        raise SpecError(f"{path}: projection.query is required for kind: cypher")
    if spec.projection and spec.projection.kind == "native" and spec.projection.params:
        raise SpecError(f"{path}: projection.params is for kind: cypher (template parameters)")
    taken = sorted(set(spec.projection.params) & RESERVED_PARAMS) if spec.projection else []
    if taken:
        raise SpecError(f"{path}: projection.params.{taken[0]} is set by the pipeline itself")
    return spec


def load_specs(names: list[str] | None = None) -> list[GdsSpec]:
    """The named specs (default: all in `gds_projections/`), in run order."""
    if names:
        specs = [load_spec(n) for n in names]
    else:
        specs = [load_spec(p) for p in sorted(SPEC_DIR.glob("*.yaml"))]
    return sorted(specs, key=lambda s: (s.order, s.name))
