"""Browser tests of the web console: Debian's Chromium, driven by Playwright, against the real API.

`console` serves app.py and the built console (devstack/console.py, as `make run` does) over real
HTTP on a free port, against the test's own committed database and the moto server, with a worker
thread that runs queued tasks as the tasks Lambda would. `page` is a fresh browser context (no
storage shared between tests); when a test fails, its screenshot and the browser's console log are
kept under test-artifacts/e2e/<test>/. `check_accessibility(page)` runs axe-core in the page.

Run them alone with `pytest -m e2e`; `make test` runs them with the rest.
"""

import contextlib
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from playwright.sync_api import sync_playwright

import app as app_module
from chalicelib.platform import db
from devstack import console as console_files
from devstack.worker import Worker
from tests.integration import conftest as integration
from tests.integration import ingestkit
from tests.integration.helpers import PASSWORD, Tenant, make_tenant
from tests.integration.livekit import ThreadTidy, serving

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
CHROMIUM = "/usr/bin/chromium"
# As root on a closed network: no sandbox, and none of the background connections Chromium tries.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage",
                 # WebGL for MapLibre without a GPU: SwiftShader (Chromium stops falling back to it unasked).
                 "--enable-unsafe-swiftshader"]  # fmt: skip
AXE = ROOT / "console" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = ("critical", "serious")

# The integration tests' database, moto server and in-process client, shared with this folder.
postgres, clones, janitor = integration.postgres, integration.clones, integration.janitor
database, client = integration.database, integration.client
moto_server, ingest_stack = ingestkit.moto_server, ingestkit.ingest_stack


def pytest_configure(config):
    config.addinivalue_line("markers", "e2e: drives the web console in headless Chromium")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.e2e_failed = report.failed
    return report


class _Handler(ThreadTidy, console_files.ConsoleRequestHandler):
    pass


@dataclass
class Console:
    url: str
    client: object
    tenants: list[Tenant] = field(default_factory=list)

    def tenant(self, name: str, roles: tuple[str, ...] = ()) -> Tenant:
        return make_tenant(self.client, name, roles)

    def api(self, method: str, path: str, token: str, body=None) -> dict:
        response = requests.request(
            method, f"{self.url}{path}", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        assert response.ok, response.text
        return response.json()


@pytest.fixture(scope="session")
def console_build():
    """Built once per run, when its sources changed (as `make run` does)."""
    return console_files.ensure_built()


@pytest.fixture
def console(client, ingest_stack, console_build):
    with serving(client, _Handler) as url:
        yield Console(url, client)


@pytest.fixture
def task_runner(ingest_stack):
    """Runs the tasks queue's messages as they come, in a thread, as the tasks Lambda would."""
    stopping = threading.Event()
    worker = Worker(app_module, ingest_stack.sqs)
    arn = ingest_stack.sqs.get_queue_attributes(QueueUrl=ingest_stack.tasks_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]

    def loop():
        try:
            while not stopping.is_set():
                worker.poll_once(ingest_stack.tasks_url, arn, app_module.run_task, "run_task", wait_seconds=1)
        finally:
            db.close()

    thread = threading.Thread(target=loop, daemon=True, name="e2e-task-runner")
    thread.start()
    yield
    stopping.set()
    thread.join(timeout=30)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, console, request):
    context = browser.new_context(base_url=console.url, viewport={"width": 1280, "height": 860})
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    lines: list[str] = []
    opened.on("console", lambda message: lines.append(f"{message.type}: {message.text}"))
    opened.on("pageerror", lambda error: lines.append(f"pageerror: {error}"))
    opened.console_lines = lines
    yield opened
    failed = getattr(request.node, "e2e_failed", True)
    # An exception the page did not catch is a bug even when the test's assertions held.
    uncaught = [line for line in lines if line.startswith("pageerror:")]
    if failed or uncaught:
        keep_artifacts(opened, request.node.name, lines)
    context.close()
    if uncaught and not failed:
        pytest.fail(f"uncaught errors in the page: {uncaught}")


def keep_artifacts(page, test_name: str, lines: list[str]) -> None:
    folder = ARTIFACTS / test_name
    folder.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(Exception):  # a crashed page has no screenshot to give
        page.screenshot(path=str(folder / "screenshot.png"), full_page=True)
    (folder / "console.log").write_text("\n".join([f"url: {page.url}", *lines]) + "\n")


def check_accessibility(page) -> None:
    """axe-core (from console/node_modules) on the page as it is: no critical or serious violation."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text() + "\n;true")
    violations = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations.map((v) =>
               ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(" "))}))"""
    )
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"axe-core on {page.url}: {blocking}"


def log_in(page, email: str, password: str = PASSWORD) -> None:
    page.goto("/console/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Log out").wait_for()
