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

    # API
    api_host: str = "127.0.0.1"
    api_port: int = 8000

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
