"""PostgreSQL + pgvector: an HNSW index builds and answers a nearest-neighbour query; the
app's role is not a superuser and logs in with its password; an older cluster (the app
role as superuser, trust logins) is migrated by `start`.

Needs the services the test session starts (`ragrec services up`); fails, never skips, when
PostgreSQL cannot be reached.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ragrec.config import PROJECT_ROOT, Settings, get_settings
from ragrec.services import postgres
from ragrec.services.sandbox import free_port

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def conn() -> Iterator[psycopg.Connection]:
    settings = get_settings()
    state = postgres.status(settings)
    if not state.reachable:
        pytest.fail(
            f"PostgreSQL ({state.mode}, {state.listen}): {state.detail}. "
            "Start it with `ragrec services up` or set RAGREC_PG_DSN.",
            pytrace=False,
        )
    with psycopg.connect(settings.effective_pg_dsn(), autocommit=True) as connection:
        yield connection


def test_hnsw_nearest_neighbour(conn: psycopg.Connection) -> None:
    row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
    assert row is not None, "extension vector is not created in the database"

    conn.execute("CREATE TEMP TABLE nn_items (id int PRIMARY KEY, embedding vector(3))")
    # 2000 decoys point away from the query; row 0 points almost exactly along it.
    conn.execute(
        "INSERT INTO nn_items SELECT i, ARRAY[-random(), random(), random()]::vector"
        " FROM generate_series(1, 2000) AS i"
    )
    conn.execute("INSERT INTO nn_items VALUES (0, '[1, 0.05, 0.02]')")
    conn.execute(
        "CREATE INDEX nn_items_hnsw ON nn_items USING hnsw (embedding vector_cosine_ops)"
        " WITH (m = 16, ef_construction = 128)"
    )
    am = conn.execute(
        "SELECT am.amname FROM pg_class c JOIN pg_am am ON am.oid = c.relam"
        " WHERE c.relname = 'nn_items_hnsw'"
    ).fetchone()
    assert am == ("hnsw",)

    conn.execute("SET enable_seqscan = off")
    query = "SELECT id FROM nn_items ORDER BY embedding <=> '[1, 0, 0]' LIMIT 1"
    plan = "\n".join(r[0] for r in conn.execute(f"EXPLAIN {query}").fetchall())
    assert "nn_items_hnsw" in plan, plan
    assert conn.execute(query).fetchone() == (0,)


def test_app_role_is_not_a_superuser_and_needs_its_password() -> None:
    settings = get_settings()
    with psycopg.connect(settings.effective_pg_dsn(), autocommit=True) as conn:
        row = conn.execute(
            "SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        assert row == (False, False, False)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("ALTER SYSTEM SET work_mem = '1GB'")
    secret = settings.home / "secrets" / "pg_password"
    assert secret.stat().st_mode & 0o077 == 0, "the password file must be private"
    info = conninfo_to_dict(settings.effective_pg_dsn())
    for password in (None, "wrong-password"):
        attempt = (
            {**info, "password": password}
            if password
            else {k: v for k, v in info.items() if k != "password"}
        )
        with pytest.raises(psycopg.OperationalError, match="password"):
            psycopg.connect(make_conninfo("", **attempt)).close()


def test_a_trust_cluster_with_a_superuser_app_role_is_migrated_on_start() -> None:
    """A cluster made before least privilege (app role = bootstrap superuser, trust
    logins) keeps its data, and after `start` the app role is an ordinary role with a
    password, owning its tables; TCP logins need the password."""
    home = PROJECT_ROOT / f".ragrec-test-{uuid.uuid4().hex[:8]}"
    settings = Settings(home=home, pg_port=free_port())
    try:
        # the old layout, as `initdb` made it before this change
        root = settings.pg_data_dir.parent
        data = str(settings.pg_data_dir)
        initdb, pg_ctl = (str(settings.pg_bin_dir / tool) for tool in ("initdb", "pg_ctl"))
        owner = postgres._owner(settings)
        pw = pwd.getpwnam(owner)
        for sub in (root, root / "run", root / "log"):
            sub.mkdir(parents=True, exist_ok=True)
            os.chown(sub, pw.pw_uid, pw.pw_gid)
        postgres._run_owner(
            settings,
            [initdb, "-D", data, "-U", "ragrec", "--auth=trust", "--locale=C.UTF-8"],
            owner=owner,
        )
        conf = settings.pg_data_dir / "postgresql.conf"
        conf.write_text(conf.read_text() + f"\ninclude_if_exists = '{postgres.CONF_FILE}'\n")
        (settings.pg_data_dir / postgres.MARKER).write_text(
            json.dumps({"superuser": "ragrec", "owner": owner, "postgresql": "15"})
        )
        postgres._write_config(settings)
        (settings.pg_data_dir / "pg_hba.conf").write_text(
            "local all all trust\nhost all all 127.0.0.1/32 trust\n"
        )
        postgres._run_owner(
            settings,
            [pg_ctl, "start", "-D", data, "-l", str(root / "log" / "pg.log"), "-w", "-s"],
            start_new_session=True,
        )
        old_dsn = f"postgresql://ragrec@127.0.0.1:{settings.pg_port}/postgres"
        with psycopg.connect(old_dsn, autocommit=True) as conn:
            assert conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = 'ragrec'").fetchone()
            conn.execute("CREATE DATABASE ragrec OWNER ragrec")
        with psycopg.connect(old_dsn.replace("/postgres", "/ragrec"), autocommit=True) as conn:
            conn.execute("CREATE TABLE kept (id int PRIMARY KEY)")
            conn.execute("INSERT INTO kept VALUES (1), (2)")

        postgres.start(settings)  # what `ragrec services up` runs

        with psycopg.connect(settings.effective_pg_dsn(), autocommit=True) as conn:
            assert conn.execute(
                "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
            ).fetchone() == (False,)
            assert conn.execute("SELECT count(*) FROM kept").fetchone() == (2,)
            conn.execute("INSERT INTO kept VALUES (3)")
            conn.execute("DROP TABLE kept")  # it owns its tables
        with pytest.raises(psycopg.OperationalError, match="password"):
            psycopg.connect(old_dsn).close()
        assert json.loads((settings.pg_data_dir / postgres.MARKER).read_text())["superuser"] == (
            settings.pg_admin_user
        )
        postgres.start(settings)  # a second start changes nothing
        assert postgres.status(settings).reachable
    finally:
        postgres.stop(settings)
        shutil.rmtree(home, ignore_errors=True)
