"""The console in Firefox too: Debian's firefox-esr, driven over WebDriver BiDi by puppeteer-core
(console/e2e/firefox.mjs), on a virtual screen (Xvfb) where Mesa gives it the WebGL the map needs.
The walk: log in, search the registry and see the map draw tiles, watch a task's page reach done,
reload without losing the session, log out."""

import json
import subprocess

import pytest

from tests.e2e.conftest import ARTIFACTS, ROOT
from tests.integration.helpers import PASSWORD
from tests.integration.registrykit import build_registry

pytestmark = [pytest.mark.e2e, pytest.mark.commits]

WALK = ROOT / "console" / "e2e" / "firefox.mjs"


def test_the_console_works_in_firefox_map_and_task_page_included(console, task_runner):
    tenant = console.tenant("firefox")
    build_registry(console.client, tenant.tokens["admin"])
    task = console.api("POST", "/api/tasks/demo", tenant.tokens["admin"], {"n": 3})
    artifacts = ARTIFACTS / "firefox"

    command = ["xvfb-run", "-a", "node", str(WALK), console.url, tenant.admin_email, PASSWORD,
               str(task["id"]), "Pikine", str(artifacts)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT / "console")
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])

    assert seen["failed"] is None, f"{seen['failed']}\n(see {artifacts})"
    assert seen["version"].startswith("firefox/")
    assert seen["who"].endswith("· firefox")  # the account's name in the header
    assert sorted(seen["listed"]) == ["Centre de Santé Pikine", "Pikine"]
    assert seen["features"] > 0, "Firefox's map drew no feature from the tiles"
    assert seen["progress"] == [3, 3]
    assert seen["loggedOut"] is True
    assert seen["pageErrors"] == []
