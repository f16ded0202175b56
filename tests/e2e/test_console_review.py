"""Change requests in the console, in a real browser: the list by status (in the URL), a request's
page with the proposed values beside the current ones and both points on the map, approving only
the fields ticked, rejecting with a reason (the API's error on the field when it is missing), a
user without the review permission seeing no buttons, and another account seeing none of it."""

import re

import pytest

from tests.e2e.conftest import check_accessibility, log_in
from tests.integration.registrykit import build_registry, point, square

pytestmark = [pytest.mark.e2e, pytest.mark.commits]

ROLES = ("data_collector", "reviewer", "viewer")


def propose(console, tenant, body: dict) -> dict:
    return console.api("POST", "/api/change-requests", tenant.tokens["data_collector"], body)


def request_link(page, request: dict):
    return page.get_by_role("link", name=f"Request #{request['id']}", exact=True)


def wait_for_status(page, status: str) -> None:
    page.locator(f'[data-testid="request-status"][data-status="{status}"]').wait_for()


def test_the_list_filters_by_status_and_a_reviewer_approves_only_the_fields_ticked(page, console):
    tenant = console.tenant("reviewing", roles=ROLES)
    ids = build_registry(console.client, tenant.tokens["admin"])
    facility = ids["Centre de Santé Pikine"]
    proposed = {"name": "CS Pikine Nord", "location": point(-17.3, 14.7), "opening_date": "2002-02-02"}
    moved = propose(console, tenant, {"org_unit_id": facility, "proposed": proposed})
    decided = propose(console, tenant, {"org_unit_id": ids["Dakar"], "proposed": {"code": "DK"}})
    console.api("POST", f"/api/change-requests/{decided['id']}/approve", tenant.tokens["reviewer"], {})
    fresh = propose(
        console, tenant, {"new_unit": {"name": "Case de Santé Keur Massar", "parent_id": ids["Pikine"]}}
    )

    log_in(page, f"reviewer@{tenant.admin_email.split('@')[1]}")
    page.get_by_role("link", name="Change requests").click()
    request_link(page, moved).wait_for()  # pending first
    row = page.get_by_role("row").filter(has=request_link(page, moved))
    assert re.search(r"Centre de Santé Pikine\s+Change\s+3\s+data_collector@", row.inner_text())
    assert page.get_by_role("row").filter(has=request_link(page, fresh)).get_by_text("New unit").count() == 1
    assert request_link(page, decided).count() == 0
    check_accessibility(page)

    page.get_by_label("Approved").check()
    request_link(page, decided).wait_for()
    assert request_link(page, moved).count() == 0
    assert "status=approved" in page.url  # the filtered list can be bookmarked
    page.get_by_label("All").check()
    request_link(page, moved).wait_for()
    assert page.locator("tbody tr").count() == 3
    page.get_by_label("Pending").check()
    request_link(page, decided).wait_for(state="detached")

    request_link(page, moved).click()
    page.get_by_role("heading", name=f"Change request #{moved['id']}").wait_for()
    name_row = page.locator('tr[data-field="name"]')
    name_row.get_by_text("Changed").wait_for()
    assert "Centre de Santé Pikine" in name_row.inner_text() and "CS Pikine Nord" in name_row.inner_text()
    drawn = page.locator('[data-testid="place-map"][data-ready="true"]')
    drawn.wait_for()
    assert drawn.get_attribute("data-features") == "2"  # the current point and the proposed one
    assert (
        page.get_by_text("Current location").count() == 1
        and page.get_by_text("Proposed location").count() == 1
    )
    check_accessibility(page)

    page.get_by_label("Approve Opening date").uncheck()
    page.get_by_role("button", name="Approve the chosen fields").click()
    wait_for_status(page, "approved")
    assert page.get_by_test_id("decided-by").inner_text() == f"reviewer@{tenant.admin_email.split('@')[1]}"
    page.locator('tr[data-field="opening_date"]').get_by_text("Not applied").wait_for()
    assert page.get_by_role("button", name="Approve the chosen fields").count() == 0
    check_accessibility(page)

    unit = console.api("GET", f"/api/orgunits/{facility}", tenant.tokens["viewer"])
    assert unit["name"] == "CS Pikine Nord" and unit["location"]["coordinates"] == [-17.3, 14.7]
    assert unit["opening_date"] == "2001-01-01"  # not ticked, not applied
    stored = console.api("GET", f"/api/change-requests/{moved['id']}", tenant.tokens["viewer"])
    assert stored["status"] == "approved" and sorted(stored["approved_fields"]) == ["location", "name"]
    # The page shows the unit as it is now: its current name is the approved one
    assert page.locator('tr[data-field="name"] td').first.inner_text() == "CS Pikine Nord"

    page.goto(f"/console/change-requests/{fresh['id']}")  # a proposed new unit: approved whole
    page.get_by_text("This request adds a new unit").wait_for()
    page.locator('tr[data-field="parent_id"]').get_by_role("link", name="Pikine").wait_for()
    check_accessibility(page)
    page.get_by_role("button", name="Approve the new unit").click()
    wait_for_status(page, "approved")
    created = console.api("GET", f"/api/orgunits/{fresh['org_unit_id']}", tenant.tokens["viewer"])
    assert created["validation_status"] == "VALID"


def test_rejecting_needs_a_reason_and_a_viewer_sees_no_buttons(page, console):
    tenant = console.tenant("rejecting", roles=ROLES)
    ids = build_registry(console.client, tenant.tokens["admin"])
    unit = ids["Poste de Santé Saraya"]
    doomed = propose(
        console, tenant, {"org_unit_id": unit, "proposed": {"name": "PS Saraya Sud", "code": "X"}}
    )
    territory = {"org_unit_id": ids["Kédougou"], "proposed": {"geom": square(-12.4, 12.4, 0.6)}}
    other = propose(console, tenant, territory)
    domain = tenant.admin_email.split("@")[1]

    log_in(page, f"reviewer@{domain}")
    page.goto(f"/console/change-requests/{doomed['id']}")
    page.get_by_role("button", name="Reject").click()
    error = page.locator("#reject-reason-error")
    error.wait_for()
    assert "reason" in error.inner_text().lower()
    assert page.get_by_label("Reason for rejecting").get_attribute("aria-invalid") == "true"
    check_accessibility(page)
    page.get_by_label("Reason for rejecting").fill("Saraya has no such post")
    page.get_by_role("button", name="Reject").click()
    wait_for_status(page, "rejected")
    assert page.get_by_test_id("rejection-reason").inner_text() == "Saraya has no such post"
    assert page.get_by_test_id("decided-by").inner_text() == f"reviewer@{domain}"
    assert page.get_by_role("button", name="Reject").count() == 0
    check_accessibility(page)
    stored = console.api("GET", f"/api/change-requests/{doomed['id']}", tenant.tokens["viewer"])
    assert stored["status"] == "rejected" and stored["rejection_reason"] == "Saraya has no such post"
    assert (
        console.api("GET", f"/api/orgunits/{unit}", tenant.tokens["viewer"])["name"]
        == "Poste de Santé Saraya"
    )

    raced = propose(console, tenant, {"org_unit_id": unit, "proposed": {"code": "PS-SR"}})
    page.goto(f"/console/change-requests/{raced['id']}")
    wait_for_status(page, "new")
    console.api("POST", f"/api/change-requests/{raced['id']}/approve", tenant.tokens["reviewer"], {})
    page.get_by_role("button", name="Approve the chosen fields").click()  # someone else was quicker
    wait_for_status(page, "approved")
    page.get_by_role("alert").filter(has_text=f"Change request {raced['id']} is already approved").wait_for()

    page.get_by_role("button", name="Log out").click()
    log_in(page, f"viewer@{domain}")
    page.goto(f"/console/change-requests/{other['id']}")
    page.get_by_text("needs the review permission").wait_for()
    wait_for_status(page, "new")
    assert page.get_by_role("button", name="Reject").count() == 0
    assert page.get_by_role("button", name=re.compile("^Approve")).count() == 0
    assert page.get_by_role("checkbox").count() == 0
    drawn = page.locator('[data-testid="place-map"][data-ready="true"]')
    drawn.wait_for()  # the current territory and the proposed one
    assert int(drawn.get_attribute("data-features")) >= 2
    assert (
        page.get_by_text("Current territory").count() == 1
        and page.get_by_text("Proposed territory").count() == 1
    )
    check_accessibility(page)


def test_another_account_sees_no_change_request_of_the_first(page, console):
    first = console.tenant("first", roles=ROLES)
    ids = build_registry(console.client, first.tokens["admin"])
    request = propose(console, first, {"org_unit_id": ids["Dakar"], "proposed": {"code": "DK"}})
    other = console.tenant("other")
    build_registry(console.client, other.tokens["admin"])

    log_in(page, other.admin_email)
    page.goto("/console/change-requests?status=all")
    page.get_by_role("cell", name="Nothing here yet.").wait_for()
    check_accessibility(page)
    page.goto(f"/console/change-requests/{request['id']}")
    page.get_by_text(f"There is no change request {request['id']}").wait_for()
    check_accessibility(page)
