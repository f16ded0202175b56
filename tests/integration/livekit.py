"""A live API over real HTTP for clients that must be run as they are (ODK Collect's protocol, pyodk).

`live` serves app.py with Chalice's own local server (what `make run` starts) on a free port, in a
thread of this process, against the test's database and the moto server of `ingest_stack`. The
server's thread has its own database connection, so tests using it are marked `commits`: what the
test sets up through `client` is committed and seen by the server.

    pytestmark = pytest.mark.commits

    def test_x(live):
        tenant = live.tenant("alpha")           # an account with an admin, logged in
        requests.get(f"{live.url}/api/health")
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import ThreadingHTTPServer

import pytest
from chalice.local import LocalDevServer

from chalicelib.platform import db
from devstack.chunked_requests import ChunkedRequestHandler
from devstack.postgres import free_port
from tests.integration.helpers import Tenant, make_tenant


class _Server(ThreadingHTTPServer):
    """A thread per connection, as `chalice local` serves: clients keep connections alive, so one
    thread for all would wait on the first client's idle connection."""

    daemon_threads = True


class ThreadTidy:
    """Mixed into a request handler: no log line per request, and the thread's database connection
    closed when the thread ends (the app's connections are per thread)."""

    def handle(self) -> None:
        try:
            super().handle()
        finally:
            db.close()

    def log_message(self, format, *args) -> None:  # noqa: A002 (the base class's name)
        pass  # pytest shows the test's own output; one line per request is noise


class _Handler(ThreadTidy, ChunkedRequestHandler):
    pass


@dataclass
class Live:
    url: str
    client: object  # the in-process chalice.test.Client on the same database, for set-up

    def tenant(self, name: str, roles: tuple[str, ...] = ()) -> Tenant:
        return make_tenant(self.client, name, roles)


@contextmanager
def serving(client, handler_cls) -> Iterator[str]:
    """app.py on a free port, with the test stage's config as the in-process `client` uses it; yields
    the base URL and stops the server at the end."""
    from app import app

    port = free_port()
    server = LocalDevServer(
        app, client._chalice_config, "127.0.0.1", port, handler_cls=handler_cls, server_cls=_Server
    )
    thread = threading.Thread(target=server.server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server.server_close()


@pytest.fixture
def live(client, ingest_stack):
    with serving(client, _Handler) as url:
        yield Live(url, client)
