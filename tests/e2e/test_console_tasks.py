"""Tasks in the console, in a real browser: the list with its filters and pages, a demo task's
progress bar moving to done without a reload, killing a running task from its page and running it
again, and the list following its tasks until they end."""

import os
import re
import shutil
import time

import pytest

from tests.e2e.conftest import ARTIFACTS, ROOT, check_accessibility, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.commits]

README_SCREENSHOT = ROOT / "docs" / "console-task.png"


def wait_for_status(page, status: str, timeout_ms: int = 15_000) -> None:
    page.locator(f'[data-testid="task-status"][data-status="{status}"]').wait_for(timeout=timeout_ms)


def progress_value(page) -> int:
    return int(page.get_by_test_id("progress-bar").get_attribute("value") or 0)


def test_the_task_list_filters_by_whose_status_and_kind_and_pages(page, console):
    tenant = console.tenant("lister", roles=("registry_editor",))
    mine = [console.api("POST", "/api/tasks/demo", tenant.tokens["admin"], {"n": 2}) for _ in range(26)]
    theirs = console.api("POST", "/api/tasks/demo", tenant.tokens["registry_editor"], {"n": 2})
    console.api("POST", f"/api/tasks/{mine[0]['id']}/kill", tenant.tokens["admin"])

    log_in(page, tenant.admin_email)
    page.get_by_role("link", name="Tasks").click()
    rows = page.locator("tbody tr")
    page.get_by_role("link", name=f"#{mine[-1]['id']}", exact=True).wait_for()
    assert rows.count() == 25
    assert page.get_by_role("link", name=f"#{theirs['id']}", exact=True).count() == 0
    check_accessibility(page)

    page.get_by_role("button", name="Next page").click()
    page.get_by_role("link", name=f"#{mine[0]['id']}", exact=True).wait_for()
    assert rows.count() == 1
    page.get_by_role("button", name="Previous page").click()
    page.get_by_role("link", name=f"#{mine[-1]['id']}", exact=True).wait_for()

    page.get_by_label("The account's").check()
    page.get_by_role("link", name=f"#{theirs['id']}", exact=True).wait_for()
    page.get_by_label("Status").select_option("KILLED")
    page.get_by_role("link", name=f"#{mine[-1]['id']}", exact=True).wait_for(state="detached")
    assert [link.inner_text() for link in page.locator("tbody a").all()] == [f"#{mine[0]['id']}"]
    assert "status=KILLED" in page.url  # the filtered list can be bookmarked

    page.get_by_label("Status").select_option("")
    page.get_by_label("Kind").fill("dhis2.import")
    page.get_by_label("Kind").press("Enter")
    page.get_by_role("cell", name="Nothing here yet.").wait_for()


def test_a_demo_task_moves_to_done_on_its_page_without_a_reload(page, console, task_runner):
    tenant = console.tenant("watcher")
    log_in(page, tenant.admin_email)
    page.goto("/console/tasks")
    page.get_by_label("Count to").fill("2000000")
    page.get_by_role("button", name="Start demo task").click()
    field_error = page.locator("#demo-n-error")  # the API's message, on the field it names
    field_error.get_by_text("Field 'n'").wait_for()
    assert page.get_by_label("Count to").get_attribute("aria-describedby") == "demo-n-error"
    check_accessibility(page)
    page.get_by_label("Count to").fill("12")
    page.get_by_label("Seconds per step").fill("0.25")
    page.get_by_role("button", name="Start demo task").click()
    page.wait_for_url(re.compile(r"/console/tasks/\d+$"))
    page.evaluate("window.sameDocument = true")  # gone if anything reloads the page

    seen = watch_progress(page, until="SUCCESS")
    assert any(0 < value < 12 for value in seen), f"the bar never showed a step between: {seen}"
    assert seen == sorted(seen)
    assert page.evaluate("window.sameDocument") is True
    assert page.get_by_test_id("progress-count").inner_text().startswith("12 of 12")
    assert '"counted": 12' in page.get_by_test_id("task-result").inner_text()
    page.get_by_role("link", name="count.csv").wait_for()
    page.get_by_role("cell", name="counted to 12").wait_for()
    check_accessibility(page)

    task_requests = []
    page.on("request", lambda request: task_requests.append(request.url))
    assert page.locator("main").get_attribute("data-polling") == "false"
    page.wait_for_timeout(1200)
    assert task_requests == [], "the page kept polling a task that had ended"


def watch_progress(page, until: str) -> list[int]:
    """The bar's values as the page updates them; one screenshot half way, for the README."""
    seen: list[int] = []
    screenshot_taken = False
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        status = page.get_by_test_id("task-status").get_attribute("data-status")
        value = progress_value(page)
        if not seen or value != seen[-1]:
            seen.append(value)
            if 4 <= value <= 8 and status == "RUNNING" and not screenshot_taken:
                keep_screenshot(page)
                screenshot_taken = True
        if status == until:
            return seen
        page.wait_for_timeout(100)
    raise AssertionError(f"the task never reached {until}; the bar showed {seen}")


def keep_screenshot(page) -> None:
    """Kept with the test artifacts; GEOREGISTRY_UPDATE_SCREENSHOTS=1 also refreshes the README's."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    check_accessibility(page)  # the page while it runs, its time-left estimate showing
    page.screenshot(
        path=str(ARTIFACTS / "console-task.png"), clip={"x": 0, "y": 0, "width": 1280, "height": 620}
    )
    if os.environ.get("GEOREGISTRY_UPDATE_SCREENSHOTS") == "1":
        README_SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copyfile(ARTIFACTS / "console-task.png", README_SCREENSHOT)


def test_a_running_task_is_killed_from_its_page_and_run_again(page, console, task_runner):
    tenant = console.tenant("killer")
    task = console.api("POST", "/api/tasks/demo", tenant.tokens["admin"], {"n": 1000, "sleep_seconds": 0.05})
    log_in(page, tenant.admin_email)
    page.goto("/console/tasks")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=f"#{task['id']}", exact=True))
    row.get_by_text("Running").wait_for()
    row.get_by_role("link").click()
    wait_for_status(page, "RUNNING")
    page.wait_for_function("Number(document.querySelector('[data-testid=progress-bar]').value) > 0")
    check_accessibility(page)

    page.get_by_role("button", name="Kill task").click()
    wait_for_status(page, "KILLED")
    assert progress_value(page) < 1000
    page.get_by_role("button", name="Run again").wait_for()
    assert page.locator("main").get_attribute("data-polling") == "false"
    check_accessibility(page)

    page.get_by_role("button", name="Run again").click()  # a new task, the same parameters
    page.wait_for_url(re.compile(rf"/console/tasks/(?!{task['id']}$)\d+$"))
    wait_for_status(page, "RUNNING")
    again = int(page.url.rsplit("/", 1)[1])
    page.get_by_role("link", name="All tasks").click()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=f"#{again}", exact=True))
    row.get_by_text("Running").wait_for()
    console.api("POST", f"/api/tasks/{again}/kill", tenant.tokens["admin"])  # elsewhere: a script
    row.get_by_text("Killed").wait_for()  # the list reloads itself while a task on it runs
