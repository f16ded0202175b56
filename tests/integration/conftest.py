"""Real PostgreSQL + PostGIS for the integration tests.

One throwaway cluster per test session (initdb in a temp dir, a free port), migrated once. Tests
commit for real, as the Lambdas do; after each test every table is truncated.
"""

import shutil
import tempfile
from pathlib import Path

import psycopg2
import pytest
from chalice.test import Client

from chalicelib import aws, config, db, migrate
from devstack.postgres import Cluster, free_port
from tests.integration.formkit import forms_s3  # noqa: F401 (a fixture for the form tests)
from tests.integration.ingestkit import ingest_stack, moto_server  # noqa: F401 (fixtures for submissions)
from tests.integration.registrykit import build_registry
from tests.integration.taskkit import task_aws  # noqa: F401 (a fixture for the task tests)

KEEP = {"schema_migrations", "spatial_ref_sys"}


@pytest.fixture(scope="session")
def postgres():
    root = Path(tempfile.mkdtemp(prefix="georegistry-test-"))
    root.chmod(0o755)  # the server may run as the postgres user (when the tests run as root)
    cluster = Cluster(root / "data", free_port(), durable=False)
    cluster.start()
    try:
        dsn = cluster.create_database("georegistry")
        conn = psycopg2.connect(dsn)
        migrate.migrate(conn, statement_timeout_ms=25_000, idle_timeout_ms=60_000)
        conn.close()
        yield cluster, dsn
    finally:
        db.close()
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def database(postgres, monkeypatch):
    """DATABASE_URL pointing at the migrated test database; emptied after the test."""
    _, dsn = postgres
    monkeypatch.setenv("DATABASE_URL", dsn)
    config.reset()
    aws.reset()
    yield dsn
    db.close()
    _truncate_all(dsn)
    config.reset()
    aws.reset()


def _truncate_all(dsn: str) -> None:
    conn = psycopg2.connect(dsn)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = [name for (name,) in cur.fetchall() if name not in KEEP]
        if tables:
            cur.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        # Version partitions come and go with versions, whose ids restart: drop them too.
        for parent in ("org_unit_groups", "org_units"):  # the memberships refer to the units
            cur.execute("SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = %s::regclass",
                        (parent,))  # fmt: skip
            for (partition,) in cur.fetchall():
                cur.execute(f"ALTER TABLE {parent} DETACH PARTITION {partition}")
                cur.execute(f"DROP TABLE {partition}")
    conn.close()


@pytest.fixture
def client(database):
    from app import app

    with Client(app, stage_name="test", project_dir=str(Path(__file__).parents[2])) as test_client:
        yield test_client


@pytest.fixture
def cur(database):
    with db.transaction() as cursor:
        yield cursor


@pytest.fixture
def tree(client, alpha):
    """A small registry (see registrykit) built by the `alpha` tenant of the requesting module."""
    return build_registry(client, alpha.tokens["admin"])
