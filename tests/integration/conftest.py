"""Real PostgreSQL + PostGIS for the integration tests.

One throwaway cluster per test session (initdb in a temp dir, a free port) with a migrated template
database. A test runs in one transaction of a database made from it, rolled back at its end
(db.enclosed). A test marked `commits` (task progress seen by other connections, concurrent
workers, COPY and ATTACH, other processes) gets a database of its own, cloned from the template
while the previous test ran, and dropped after it.
"""

import queue
import shutil
import tempfile
import threading
from pathlib import Path

import psycopg2
import pytest
from chalice.test import Client

from chalicelib.platform import aws, config, db, migrate
from devstack.postgres import Cluster, free_port
from tests.integration.formkit import forms_s3  # noqa: F401 (a fixture for the form tests)
from tests.integration.ingestkit import ingest_stack, moto_server  # noqa: F401 (fixtures for submissions)
from tests.integration.livekit import live  # noqa: F401 (a real HTTP server, for Collect and pyodk)
from tests.integration.registrykit import build_registry
from tests.integration.taskkit import task_aws  # noqa: F401 (a fixture for the task tests)

TEMPLATE = "georegistry_template"


class Clones:
    """Databases cloned from the template one step ahead (CREATE DATABASE takes ~60 ms) and dropped
    behind (~20 ms), on a thread of their own while the tests run."""

    def __init__(self, cluster: Cluster):
        self.cluster = cluster
        self.ready: queue.Queue[str | BaseException] = queue.Queue()
        self.requests: queue.Queue[tuple[str, str] | None] = queue.Queue()
        self.count = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        self._order_next()

    def _order_next(self) -> None:
        self.count += 1
        self.requests.put(("create", f"georegistry_{self.count}"))

    def take(self) -> str:
        name = self.ready.get(timeout=60)
        if isinstance(name, BaseException):
            raise RuntimeError("could not clone the template database") from name
        self._order_next()
        return name

    def drop(self, name: str) -> None:
        self.requests.put(("drop", name))

    def close(self) -> None:
        self.requests.put(None)
        self.thread.join(timeout=60)

    def _serve(self) -> None:
        conn = psycopg2.connect(self.cluster.dsn())
        conn.autocommit = True
        with conn.cursor() as cur:
            while (request := self.requests.get()) is not None:
                action, name = request
                try:
                    if action == "create":
                        cur.execute(f'CREATE DATABASE "{name}" TEMPLATE {TEMPLATE} STRATEGY FILE_COPY')
                        self.ready.put(name)
                    else:
                        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                except psycopg2.Error as error:
                    self.ready.put(error)
        conn.close()


@pytest.fixture(scope="session")
def postgres():
    root = Path(tempfile.mkdtemp(prefix="georegistry-test-"))
    root.chmod(0o755)  # the server may run as the postgres user (when the tests run as root)
    cluster = Cluster(root / "data", free_port(), durable=False)
    cluster.start()
    try:
        conn = psycopg2.connect(cluster.create_database(TEMPLATE))
        migrate.migrate(conn, statement_timeout_ms=25_000, idle_timeout_ms=60_000)
        conn.close()
        yield cluster, cluster.create_database("georegistry", template=TEMPLATE)
    finally:
        db.close()
        cluster.remove()  # also where it was moved to, when the server's user could not enter `root`
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def clones(postgres):
    made = Clones(postgres[0])
    yield made
    made.close()


@pytest.fixture(scope="session")
def janitor(postgres):
    """A connection to the shared database for what tests commit there despite their rollback: the
    failed logins counted on the side connection (they would throttle the next tests' logins)."""
    conn = psycopg2.connect(postgres[1])
    conn.autocommit = True
    yield conn
    conn.close()


@pytest.fixture
def database(postgres, clones, janitor, monkeypatch, request):
    """DATABASE_URL pointing at a migrated database that the test leaves as it found it."""
    cluster, shared = postgres
    commits = request.node.get_closest_marker("commits") is not None
    name = clones.take() if commits else None
    dsn = cluster.dsn(name) if commits else shared
    monkeypatch.setenv("DATABASE_URL", dsn)
    config.reset()
    aws.reset()
    try:
        if commits:
            yield dsn
        else:
            with db.enclosed():
                yield dsn
    finally:
        db.close()
        if commits:
            clones.drop(name)
        else:
            with janitor.cursor() as cur:
                cur.execute("DELETE FROM login_failures")
        config.reset()
        aws.reset()


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
