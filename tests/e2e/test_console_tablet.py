"""Every page of the console on a tablet's screen (800 × 1180, portrait): nothing wider than the
screen but the tables themselves (they scroll inside their box), and the navigation in reach.
Each page's picture is kept in test-artifacts/e2e/tablet/."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, check_accessibility, log_in
from tests.e2e.submissionskit import surveys
from tests.integration.registrykit import point

pytestmark = [pytest.mark.e2e, pytest.mark.commits]

TABLET = {"width": 800, "height": 1180}
SECTIONS = ["Account", "Registry", "Change requests", "Submissions", "Data sources", "DHIS2", "Tasks"]


def pages_of(console, data) -> dict[str, str]:
    tenant, units = data.tenant, data.units
    token = tenant.tokens["admin"]
    proposed = {"name": "CS Pikine Nord", "location": point(-17.3, 14.7)}
    request = console.api(
        "POST",
        "/api/change-requests",
        token,
        {"org_unit_id": units["Centre de Santé Pikine"], "proposed": proposed},
    )
    task = console.api("POST", "/api/tasks/demo", token, {"n": 2})
    dhis2 = {"name": "Ministry DHIS2", "base_url": "https://dhis2.example.org", "auth_kind": "basic",
             "username": "admin", "password": "district"}  # fmt: skip
    connection = console.api("POST", "/api/dhis2/connections", token, dhis2)
    source = units["source"]
    return {
        "account": "/",
        "registry": "/registry",
        "tree": "/registry?view=tree",
        "unit": f"/units/{units['Pikine']}",
        "change-requests": "/change-requests",
        "change-request": f"/change-requests/{request['id']}",
        "submissions": f"/submissions?form={data.form['id']}",
        "submission": f"/submissions/{data.uploaded}",
        "sources": "/sources",
        "source": f"/sources/{source}",
        "import": f"/sources/{source}/import",
        "compare": f"/sources/{source}/compare",
        "dhis2": "/dhis2",
        "dhis2-connection": f"/dhis2/{connection['id']}",
        "tasks": "/tasks",
        "task": f"/tasks/{task['id']}",
    }


def overflow(page) -> int:
    """How far the page is wider than the screen, in CSS pixels."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def test_every_page_fits_a_tablet_screen(browser, console, ingest_stack, task_runner):
    data = surveys(console, ingest_stack)
    context = browser.new_context(base_url=console.url, viewport=TABLET, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    folder = ARTIFACTS / "tablet"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        log_in(page, data.tenant.admin_email)
        for name, path in pages_of(console, data).items():
            page.goto(f"/console{path}")
            page.locator("main h1").first.wait_for()
            expect(page.locator('[aria-busy="true"]')).to_have_count(0)  # every list loaded
            page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
            assert overflow(page) <= 1, f"{path} is {overflow(page)} px wider than a tablet's screen"
            for section in SECTIONS:
                link = page.get_by_role("navigation", name="Main").get_by_role(
                    "link", name=section, exact=True
                )
                assert link.is_visible() and link.bounding_box()["x"] + 10 < TABLET["width"], (path, section)
        check_accessibility(page)
    finally:
        context.close()
