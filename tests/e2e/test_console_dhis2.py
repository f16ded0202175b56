"""DHIS2 in the console, in a real browser, against the real DHIS2 stand-in over HTTP: a connection
made from the page (its password never shown back), checked (a wrong password: the API's clear error;
the right one: DHIS2's version), its tree imported into a new version of a data source and followed to
SUCCESS with its counts, the new version's units read through the API, a sync finding no change; a
data-value mapping run from its page; a push's dry run then commit from its report, DHIS2 holding the
new name, and sync schedules made, paused and deleted; a token connection checked from the list (DHIS2
sees `ApiToken`) and deleted; and another account seeing none of it."""

import copy
import re
import time

import pytest
import requests
from playwright.sync_api import expect

from devstack.dhis2_standin import Dhis2StandIn, generated_tree, load_fixture_tree, merge
from tests.e2e.conftest import check_accessibility, log_in
from tests.integration.ingestkit import publish_form

pytestmark = [pytest.mark.e2e, pytest.mark.commits]

USER, PASSWORD = "admin", "district-Console-8"
TREE = merge(load_fixture_tree(), generated_tree(40))
NAMES = sorted(unit["name"] for unit in TREE.units)


@pytest.fixture
def dhis2():
    """A DHIS2 of its own per test: a push changes its tree."""
    standin = Dhis2StandIn(*(copy.deepcopy(part) for part in TREE), username=USER, password=PASSWORD).start()
    yield standin
    standin.stop()


def wait_for_status(page, status: str, timeout_ms: int = 15_000) -> None:
    page.locator(f'[data-testid="task-status"][data-status="{status}"]').wait_for(timeout=timeout_ms)


def connect(console, token: str, url: str, name: str = "Ministry") -> dict:
    body = {"name": name, "base_url": url, "auth_kind": "basic", "username": USER, "password": PASSWORD}
    return console.api("POST", "/api/dhis2/connections", token, body)


def finished(console, token: str, task_id: int, seconds: float = 15) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        task = console.api("GET", f"/api/tasks/{task_id}", token)
        if task["status"] in ("SUCCESS", "ERRORED", "KILLED"):
            assert task["status"] == "SUCCESS", task["error"]
            return task
        time.sleep(0.1)
    raise AssertionError(f"task {task_id} did not end")


def make_mapping(console, tenant, connection_id: int) -> dict:
    """A published form's question mapped to a data element of a data set."""
    form = publish_form(tenant.account_id, [tenant.project_id], "form_1.xlsx")
    elements = [{"question": "section_6/gr1/QOC_HD_FA_NG_6.1", "data_element": "deQuality01"}]
    body = {"name": "Quality → HMIS", "connection_id": connection_id, "form_id": form["form_id"]}
    body |= {"data_set": "dsQuality01", "elements": elements}
    return console.api("POST", "/api/dhis2/data-mappings", tenant.tokens["admin"], body)


def unit_names(console, token: str, version_id: int) -> list[str]:
    answer = console.api("GET", f"/api/orgunits?version={version_id}&limit=500", token)
    return sorted(unit["name"] for unit in answer["results"])


def test_a_connection_is_made_checked_its_tree_imported_and_a_mapping_run_from_the_pages(
    page, console, task_runner, dhis2
):
    tenant = console.tenant("dhisman")
    token = tenant.tokens["admin"]
    source = console.api("POST", "/api/data-sources", token, {"name": "Ministry tree"})

    log_in(page, tenant.admin_email)
    page.get_by_role("link", name="DHIS2", exact=True).click()
    page.get_by_role("heading", name="DHIS2", exact=True).wait_for()
    page.get_by_label("Name", exact=True).fill("Ministry")
    page.get_by_label("DHIS2 URL").fill(dhis2.url + "/api/")
    expect(page.get_by_label("Username and password")).to_be_checked()
    page.get_by_label("Username", exact=True).fill(USER)
    page.get_by_label("Password", exact=True).fill("not-the-password")
    page.get_by_role("button", name="Create the connection").click()
    page.get_by_role("heading", name="DHIS2 connection: Ministry").wait_for()
    connection_id = int(re.search(r"/dhis2/(\d+)$", page.url).group(1))
    made = console.api("GET", f"/api/dhis2/connections/{connection_id}", token)
    assert made["base_url"] == dhis2.url and made["has_secret"] and "not-the-password" not in str(made)
    expect(page.get_by_test_id("check-result")).to_have_text("Not checked yet")

    page.get_by_role("button", name="Check the connection").click()
    alert = page.get_by_role("alert").filter(has_text="refused the credentials")
    expect(alert).to_contain_text("wrong credentials; check the username and password")
    expect(page.get_by_test_id("check-result")).to_contain_text("refused the credentials")
    check_accessibility(page)

    page.get_by_text("Change this connection").click()
    page.get_by_label("New password").fill(PASSWORD)
    page.get_by_role("button", name="Save the changes").click()
    page.get_by_text("Saved. Check the connection").wait_for()
    page.get_by_role("button", name="Check the connection").click()
    page.get_by_text(f"DHIS2 answered: version {dhis2.version}.").wait_for()
    expect(page.get_by_test_id("check-result")).to_have_text(f"DHIS2 {dhis2.version}")
    assert (
        console.api("GET", f"/api/dhis2/connections/{connection_id}", token)["dhis2_version"] == dhis2.version
    )

    expect(page.get_by_label("Data source", exact=True).first).to_have_value(str(source["id"]))
    page.get_by_role("button", name="Import the tree").click()
    page.wait_for_url(re.compile(r"\?task=\d+$"))
    page.get_by_role("heading", name=re.compile(r"^Tree import \(task \d+\)$")).wait_for()
    wait_for_status(page, "SUCCESS")
    counts = page.get_by_test_id("run-counts")
    expect(counts.get_by_test_id("count-created")).to_have_text(str(len(TREE.units)))
    expect(counts.get_by_test_id("count-errors")).to_have_text("0")
    expect(page.get_by_test_id("made-version")).to_contain_text("New version 2 of the data source.")
    page.get_by_role("link", name="report.json").wait_for()
    runs = page.get_by_role("table", name="Imports and syncs of this connection, newest first")
    row = runs.get_by_role("row").filter(has_text="Import")
    expect(row).to_contain_text("Done")
    expect(row).to_contain_text(f"{len(TREE.units)} created")
    check_accessibility(page)

    page.get_by_role("button", name="Sync the changes").click()  # nothing changed in DHIS2 since
    page.get_by_role("heading", name=re.compile(r"^Sync \(task \d+\)$")).wait_for()
    wait_for_status(page, "SUCCESS")
    page.get_by_test_id("task-result").get_by_text("DHIS2 has no changes since the last run").wait_for()
    expect(runs.get_by_role("row").filter(has_text="Sync")).to_contain_text("No changes")

    versions = console.api("GET", f"/api/data-sources/{source['id']}/versions", token)["results"]
    new = next(v for v in versions if v["number"] == 2)
    assert unit_names(console, token, new["id"]) == NAMES

    page.get_by_role("link", name="All DHIS2 connections").click()
    listed = (
        page.get_by_role("table", name="DHIS2 connections").get_by_role("row").filter(has_text="Ministry")
    )
    expect(listed).to_contain_text(f"DHIS2 {dhis2.version}")
    expect(listed).to_contain_text(f"Username and password ({USER})")
    listed.get_by_role("button", name="Check Ministry").click()
    page.get_by_text(f"Ministry answered: DHIS2 {dhis2.version}.").wait_for()

    mapping = make_mapping(console, tenant, connection_id)  # mappings are made through the API
    page.reload()
    page.get_by_role("table", name="Data-value mappings").get_by_role(
        "link", name="Quality → HMIS"
    ).wait_for()
    check_accessibility(page)
    page.get_by_role("link", name="Quality → HMIS").click()
    page.get_by_role("heading", name="Data-value mapping: Quality → HMIS").wait_for()
    elements = page.get_by_role("table", name="Questions and the data elements they fill")
    expect(elements).to_contain_text("deQuality01")
    expect(page.get_by_label("Dry run (DHIS2 checks, stores nothing)")).to_be_checked()
    page.get_by_role("button", name="Start").click()
    page.get_by_role("heading", name=re.compile(r"^Data values run \(task \d+\)$")).wait_for()
    wait_for_status(page, "SUCCESS")
    counted = page.get_by_test_id("values-counts").get_by_test_id("count-submissions-exported")
    expect(counted).to_have_text("0")  # no submission yet
    mapping_runs = console.api("GET", f"/api/dhis2/data-mappings/{mapping['id']}/runs", token)["results"]
    assert [run["params"]["dry_run"] for run in mapping_runs] == [True]
    runs_table = page.get_by_role("table", name="Runs of this mapping, newest first")
    expect(runs_table).to_contain_text(f"Task {mapping_runs[0]['id']}")
    check_accessibility(page)


def test_another_account_sees_no_connection_and_not_found_on_its_page(page, console, dhis2):
    first = console.tenant("dhisfirst")
    connection = connect(console, first.tokens["admin"], dhis2.url, name="First's DHIS2")
    mapping = make_mapping(console, first, connection["id"])
    other = console.tenant("dhisother")
    for path in (f"/api/dhis2/connections/{connection['id']}", f"/api/dhis2/data-mappings/{mapping['id']}"):
        headers = {"Authorization": f"Bearer {other.tokens['admin']}"}
        assert requests.get(console.url + path, headers=headers, timeout=10).status_code == 404, path

    log_in(page, other.admin_email)
    page.goto("/console/dhis2")
    for caption in ("DHIS2 connections", "Data-value mappings"):
        first_cell = page.get_by_role("table", name=caption).get_by_role("cell").first
        expect(first_cell).to_have_text("Nothing here yet.")
    expect(page.get_by_text("First's DHIS2")).to_have_count(0)
    check_accessibility(page)
    page.goto(f"/console/dhis2/{connection['id']}")
    expect(page.get_by_test_id("not-found")).to_have_text(
        f"There is no DHIS2 connection {connection['id']}, or it is not yours to see."
    )
    check_accessibility(page)


def test_a_version_is_pushed_to_dhis2_after_a_dry_run_read_from_its_report(page, console, task_runner, dhis2):
    tenant = console.tenant("dhispush")
    token = tenant.tokens["admin"]
    source = console.api("POST", "/api/data-sources", token, {"name": "Ministry tree"})
    connection = connect(console, token, dhis2.url)
    run = console.api(
        "POST", f"/api/dhis2/connections/{connection['id']}/imports", token, {"data_source_id": source["id"]}
    )
    mirror = finished(console, token, run["task_id"])["result"]["version_id"]
    copied = console.api("POST", f"/api/versions/{mirror}/copy", token, {"description": "edits"})
    finished(console, token, copied["task"]["id"])
    edited = copied["version"]["id"]
    units = console.api("GET", f"/api/orgunits?version={edited}&limit=500", token)["results"]
    facility = next(unit for unit in units if unit["name"] == "Facility 00001")
    console.api("PATCH", f"/api/orgunits/{facility['id']}", token, {"name": "Facility One (renamed)"})

    log_in(page, tenant.admin_email)
    page.goto(f"/console/dhis2/{connection['id']}")
    page.get_by_role("heading", name="Push the registry's changes to DHIS2").wait_for()
    expect(page.get_by_label("Version to push")).to_have_value(str(edited))  # the latest, by default
    page.get_by_role("button", name="Dry run").click()
    page.get_by_role("heading", name=re.compile(r"^Push dry run \(task \d+\)$")).wait_for()
    wait_for_status(page, "SUCCESS")
    totals = page.get_by_test_id("push-totals")
    expect(totals.get_by_test_id("count-would_update")).to_have_text("1")
    expect(totals.get_by_test_id("count-invalid")).to_have_text("0")
    row = page.get_by_test_id("push-objects").get_by_role("row").filter(has_text="Facility One (renamed)")
    expect(row).to_contain_text("Would be updated")
    expect(row).to_contain_text("name")
    uid = facility["source_ref"]
    assert dhis2.index.by_kind["units"][uid]["name"] == "Facility 00001"  # a dry run changes nothing
    check_accessibility(page)

    page.get_by_role("button", name="Push for real (1 objects)").click()
    page.get_by_role("heading", name=re.compile(r"^Push \(task \d+\)$")).wait_for()
    wait_for_status(page, "SUCCESS")
    expect(page.get_by_test_id("push-totals").get_by_test_id("count-updated")).to_have_text("1")
    expect(
        page.get_by_test_id("push-objects").get_by_role("row").filter(has_text="Facility One")
    ).to_contain_text("Updated")
    assert dhis2.index.by_kind["units"][uid]["name"] == "Facility One (renamed)"
    check_accessibility(page)

    schedules_path = f"/api/dhis2/connections/{connection['id']}/schedules"
    page.get_by_label("When (rate or cron, UTC)").fill("every day")
    page.get_by_role("button", name="Schedule syncs").click()
    expect(page.locator("#schedule-expression-error")).to_contain_text("rate(")
    page.get_by_label("When (rate or cron, UTC)").fill("rate(6 hours)")
    page.get_by_role("button", name="Schedule syncs").click()
    scheduled = page.get_by_role("table", name="Scheduled syncs of this connection").get_by_role("row")
    expect(scheduled.filter(has_text="rate(6 hours)")).to_contain_text("Yes")
    scheduled.filter(has_text="rate(6 hours)").get_by_role("button", name="Pause").click()
    expect(scheduled.filter(has_text="rate(6 hours)").get_by_role("button", name="Resume")).to_be_visible()
    assert [s["enabled"] for s in console.api("GET", schedules_path, token)["results"]] == [False]
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete the schedule rate(6 hours)").click()
    expect(scheduled.filter(has_text="rate(6 hours)")).to_have_count(0)
    assert console.api("GET", schedules_path, token)["results"] == []

    page.set_viewport_size({"width": 800, "height": 1180})  # a tablet: nothing wider than the screen
    page.get_by_role("button", name="Dry run").wait_for()
    wider = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert wider <= 1, f"the connection's page is {wider} px wider than a tablet's screen"


def test_a_token_connection_is_checked_from_the_list_then_deleted(page, console, dhis2):
    tenant = console.tenant("dhistoken")
    log_in(page, tenant.admin_email)
    page.goto("/console/dhis2")
    page.get_by_label("Name", exact=True).fill("Ministry (token)")
    page.get_by_label("DHIS2 URL").fill(dhis2.url)
    page.get_by_label("Personal access token").first.check()  # the sign-in kind, then its field
    expect(page.get_by_label("Username", exact=True)).to_have_count(0)
    page.get_by_role("textbox", name="Personal access token").fill(dhis2.token)
    page.get_by_role("button", name="Create the connection").click()
    page.get_by_role("heading", name="DHIS2 connection: Ministry (token)").wait_for()
    connection_id = int(re.search(r"/dhis2/(\d+)$", page.url).group(1))
    made = console.api("GET", f"/api/dhis2/connections/{connection_id}", tenant.tokens["admin"])
    assert made["auth_kind"] == "token" and made["username"] is None and dhis2.token not in str(made)

    page.get_by_role("link", name="All DHIS2 connections").click()
    page.get_by_role("button", name="Check Ministry (token)").click()
    page.get_by_text("Ministry (token) answered: DHIS2 2.38.4.").wait_for()
    assert [r["auth"] for r in dhis2.requests if r["path"].endswith("/system/info")] == ["ApiToken"]
    check_accessibility(page)

    page.get_by_role("link", name="Ministry (token)").click()
    page.get_by_text("Change this connection").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete this connection").click()
    page.get_by_role("heading", name="DHIS2", exact=True).wait_for()
    gone = requests.get(
        f"{console.url}/api/dhis2/connections/{connection_id}",
        headers={"Authorization": f"Bearer {tenant.tokens['admin']}"},
        timeout=10,
    )
    assert gone.status_code == 404
