import psycopg2
import pytest

from chalicelib.platform import migrate

pytestmark = pytest.mark.commits  # migrations commit, each in its own transaction


@pytest.fixture
def empty_database(postgres):
    cluster, _ = postgres
    conn = psycopg2.connect(cluster.dsn())
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP DATABASE IF EXISTS migration_check")
        cur.execute("CREATE DATABASE migration_check")
    conn.close()
    target = psycopg2.connect(cluster.dsn("migration_check"))
    yield target
    target.close()
    conn = psycopg2.connect(cluster.dsn())
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP DATABASE migration_check")
    conn.close()


def _columns(conn, table: str) -> dict[str, str]:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s", (table,)
        )
        return dict(cur.fetchall())


def test_all_migrations_apply_to_an_empty_database_and_rerunning_changes_nothing(empty_database):
    # Given an empty database, when every migration is applied
    applied = migrate.migrate(empty_database, 25_000, 60_000)
    # Then all of them ran, in order, and a second run applies none
    assert applied == [path.name for path in migrate.available()]
    assert migrate.migrate(empty_database, 25_000, 60_000) == []
    assert migrate.applied(empty_database) == set(applied)


def test_schema_has_postgis_and_tenancy_tables(empty_database):
    migrate.migrate(empty_database, 25_000, 60_000)
    with empty_database.cursor() as cur:
        cur.execute("SELECT postgis_version()")
        assert cur.fetchone()[0].startswith("3.")
        cur.execute("SELECT extname FROM pg_extension")
        assert {"postgis", "pg_trgm", "unaccent"} <= {name for (name,) in cur.fetchall()}
    assert _columns(empty_database, "users")["password_hash"] == "text"
    assert _columns(empty_database, "api_keys")["secret_sha256"] == "bytea"
    assert {"account_id", "role"} <= set(_columns(empty_database, "profiles"))
    assert _columns(empty_database, "projects")["app_id"] == "text"


def test_role_level_timeouts_apply_to_new_sessions(postgres):
    cluster, dsn = postgres
    conn = psycopg2.connect(dsn)
    with conn.cursor() as cur:
        cur.execute("SHOW statement_timeout")
        assert cur.fetchone()[0] == "25s"
        cur.execute("SHOW idle_in_transaction_session_timeout")
        assert cur.fetchone()[0] == "1min"
    conn.close()


def test_every_foreign_key_is_indexed(postgres):
    """An unindexed foreign key makes deletes on the parent scan the child table (central's rule)."""
    _, dsn = postgres
    conn = psycopg2.connect(dsn)
    with conn.cursor() as cur:
        cur.execute(
            """
            SELECT c.conrelid::regclass::text, c.conname
            FROM pg_constraint c
            WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
              AND NOT EXISTS (
                SELECT 1 FROM pg_index i
                WHERE i.indrelid = c.conrelid
                  AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] @> c.conkey
                  AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] <@ c.conkey)
            """
        )
        unindexed = cur.fetchall()
    conn.close()
    assert unindexed == []


def test_misnamed_migration_files_are_refused(tmp_path, monkeypatch):
    (tmp_path / "0001_ok.sql").write_text("SELECT 1")
    (tmp_path / "2-bad name.sql").write_text("SELECT 1")
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", tmp_path)
    with pytest.raises(RuntimeError, match="2-bad name.sql"):
        migrate.available()
