"""A unit's page, its editing and the registry's tree, in a real browser: find a unit by search and
open its page (fields, ancestors, children, groups, its place on the map), edit it (a refused value
shown on its field, then a new name, status and point dragged on the map) and read the change in its
history; expand the tree with its counts per type; and another account sees none of it."""

import re

import pytest

from tests.e2e.conftest import check_accessibility, log_in
from tests.integration.helpers import restrict
from tests.integration.registrykit import build_registry

pytestmark = [pytest.mark.e2e, pytest.mark.commits]

CENTRE = "Centre de Santé Pikine"


def map_drawn(page) -> int:
    ready = page.locator('[data-testid="place-map"][data-ready="true"]')
    ready.wait_for()
    return int(ready.get_attribute("data-features"))


def facts(page) -> dict[str, str]:
    listed = page.get_by_test_id("unit-facts")
    names = [dt.inner_text() for dt in listed.locator("dt").all()]
    return dict(zip(names, [dd.inner_text() for dd in listed.locator("dd").all()], strict=True))


def test_find_a_unit_open_its_page_and_edit_it(page, console):
    tenant = console.tenant("unitpage")
    ids = build_registry(console.client, tenant.tokens["admin"])
    token = tenant.tokens["admin"]

    log_in(page, tenant.admin_email)
    page.get_by_role("link", name="Registry").click()
    page.get_by_label("Search by name").fill("Pikine")
    page.get_by_role("button", name="Sénégal", exact=True).wait_for(state="detached")
    page.get_by_role("button", name="Pikine", exact=True).click()
    page.get_by_role("link", name="Open the page of Pikine").click()

    page.get_by_role("heading", name="Pikine", level=1).wait_for()
    assert page.url.endswith(f"/console/units/{ids['Pikine']}")
    crumbs = page.get_by_role("navigation", name="Ancestors")
    assert [a.inner_text() for a in crumbs.get_by_role("link").all()] == ["Registry", "Sénégal", "Dakar"]
    shown = facts(page)
    assert shown["Type"] == "District" and shown["Source ref"] == "SN-DK-PK" and shown["Parent"] == "Dakar"
    assert shown["Territory"] == "yes" and shown["Id"] == str(ids["Pikine"])
    page.get_by_test_id("children-counts").get_by_text("1 child (Facility: 1)").wait_for()
    assert map_drawn(page) > 0
    check_accessibility(page)

    page.get_by_role("table", name="Children of Pikine").get_by_role("link", name=CENTRE).click()
    page.get_by_role("heading", name=CENTRE, level=1).wait_for()
    shown = facts(page)
    assert shown["Status"] == "Valid" and shown["Code"] == "CS-PK" and shown["Opening date"] == "2001-01-01"
    assert shown["Point"] == "-17.35, 14.75"
    page.get_by_test_id("unit-groups").get_by_text("Public").wait_for()
    assert [a.inner_text() for a in crumbs.get_by_role("link").all()] == [
        "Registry",
        "Sénégal",
        "Dakar",
        "Pikine",
    ]
    assert map_drawn(page) > 0
    history = page.get_by_role("table", name=f"Changes to {CENTRE}, oldest first")
    history.get_by_role("cell", name="Created").wait_for()
    check_accessibility(page)

    # Refused values: the API's messages on their fields, nothing changed
    page.get_by_role("button", name="Edit").click()
    page.get_by_label("Name", exact=True).fill("  ")
    page.get_by_role("button", name="Save changes").click()
    page.locator("#unit-name-error").wait_for()
    assert "name" in page.locator("#unit-name-error").inner_text()
    assert page.get_by_label("Name", exact=True).get_attribute("aria-invalid") == "true"
    page.get_by_label("Name", exact=True).fill(f"{CENTRE} Nord")
    page.get_by_label("Latitude").fill("95")
    page.get_by_role("button", name="Save changes").click()
    page.locator("#unit-location-error").wait_for()
    assert "location" in page.locator("#unit-location-error").inner_text()
    check_accessibility(page)
    assert console.api("GET", f"/api/orgunits/{ids[CENTRE]}", token)["name"] == CENTRE

    page.get_by_label("Latitude").fill("14.75")
    page.get_by_label("Type").select_option(label="Country")  # not allowed under a district
    page.get_by_role("button", name="Save changes").click()
    page.locator("#unit-type-error").get_by_text("'Country' is not allowed under a 'District'").wait_for()

    # A new name, type, parent and status, and the point dragged with the mouse
    page.get_by_label("Type").select_option(label="Facility")
    page.get_by_label("Find a new parent by name").fill("Rufis")
    page.get_by_role("button", name="Make Rufisque the parent").click()
    page.get_by_test_id("parent-current").get_by_text("Parent: Rufisque").wait_for()
    page.get_by_label("Status").select_option("REJECTED")
    assert map_drawn(page) > 0
    marker = page.get_by_test_id("place-marker").bounding_box()
    x, y = marker["x"] + marker["width"] / 2, marker["y"] + marker["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 30, y + 20, steps=5)
    page.mouse.up()
    page.wait_for_function("document.querySelector('#unit-lon').value !== '-17.35'")
    lon, lat = (
        float(page.get_by_label("Longitude").input_value()),
        float(page.get_by_label("Latitude").input_value()),
    )
    assert lon > -17.35 and lat < 14.75  # east and south
    page.get_by_role("button", name="Save changes").click()
    page.get_by_role("status").get_by_text("Saved.").wait_for()

    saved = console.api("GET", f"/api/orgunits/{ids[CENTRE]}", token)
    assert saved["name"] == f"{CENTRE} Nord" and saved["validation_status"] == "REJECTED"
    assert saved["location"]["coordinates"][:2] == [lon, lat] and saved["parent_id"] == ids["Rufisque"]
    crumbs.get_by_role("link", name="Rufisque").wait_for()
    page.get_by_role("heading", name=f"{CENTRE} Nord", level=1).wait_for()
    assert facts(page)["Status"] == "Rejected"
    history = page.get_by_role("table", name=f"Changes to {CENTRE} Nord, oldest first")
    change = history.locator(":scope > tbody > tr").last
    change.get_by_role("cell", name="Changed", exact=True).wait_for()
    change.get_by_role("link", name="Rufisque").wait_for()  # the parents' names, once read
    rows = {
        row.locator("th").inner_text(): [cell.inner_text() for cell in row.locator("td").all()]
        for row in change.locator(".changes tbody tr").all()
    }
    assert rows["Name"] == [CENTRE, f"{CENTRE} Nord"]
    assert rows["Status"] == ["Valid", "Rejected"]
    assert rows["Point"] == ["-17.35, 14.75", f"{lon}, {lat}"]
    assert rows["Parent"] == ["Pikine", "Rufisque"]
    assert tenant.admin_email in change.inner_text()
    check_accessibility(page)


def test_the_tree_expands_a_unit_and_counts_its_children_per_type(page, console):
    tenant = console.tenant("treeview")
    ids = build_registry(console.client, tenant.tokens["admin"])
    log_in(page, tenant.admin_email)
    page.get_by_role("link", name="Registry").click()
    page.get_by_role("button", name="Tree").click()
    assert "view=tree" in page.url  # the view can be bookmarked

    def node(name):
        return page.locator(f'[data-testid="tree-node"][data-unit="{ids[name]}"]')

    def counts(name):
        return node(name).locator(':scope > .tree-row > [data-testid="tree-counts"]').inner_text()

    node("Sénégal").wait_for()
    assert counts("Sénégal") == "2 children (Region: 2)"
    check_accessibility(page)
    page.get_by_role("button", name="Show the children of Sénégal").click()
    node("Dakar").wait_for()
    assert counts("Dakar") == "2 children (District: 2)" and counts("Kédougou") == "1 child (District: 1)"
    page.get_by_role("button", name="Show the children of Dakar").click()
    node("Pikine").wait_for()
    assert counts("Pikine") == "1 child (Facility: 1)" and counts("Rufisque") == "no children"
    assert (
        page.get_by_role("button", name="Hide the children of Dakar").get_attribute("aria-expanded") == "true"
    )
    check_accessibility(page)

    node("Pikine").get_by_role("link", name="Pikine", exact=True).click()
    page.get_by_role("heading", name="Pikine", level=1).wait_for()
    assert page.url.endswith(f"/console/units/{ids['Pikine']}")


def test_a_viewer_cannot_edit_a_subtree_profile_sees_only_it_and_another_account_nothing(page, console):
    tenant = console.tenant("owner", roles=("viewer",))
    ids = build_registry(console.client, tenant.tokens["admin"])
    log_in(page, "viewer@owner.example.org")
    page.goto(f"/console/units/{ids['Dakar']}")
    page.get_by_role("heading", name="Dakar", level=1).wait_for()
    page.get_by_test_id("children-counts").get_by_text("2 children").wait_for()
    assert page.get_by_role("button", name="Edit").count() == 0
    check_accessibility(page)

    restrict(console.client, tenant, "viewer", ids["Dakar"])  # a profile kept to Dakar's subtree
    page.goto("/console/registry?view=tree")
    top = page.locator('.tree > [data-testid="tree-node"]')
    top.get_by_role("link", name="Dakar", exact=True).wait_for()
    assert top.count() == 1 and "2 children (District: 2)" in top.inner_text()
    assert page.get_by_role("link", name="Sénégal").count() == 0
    page.goto(f"/console/units/{ids['Sénégal']}")
    page.get_by_role("heading", name="Unit not found").wait_for()

    other = console.tenant("other")
    page.get_by_role("button", name="Log out").click()
    log_in(page, other.admin_email)
    page.goto(f"/console/units/{ids['Dakar']}")
    page.get_by_role("heading", name="Unit not found").wait_for()
    assert re.search(rf"no org unit {ids['Dakar']}\b", page.get_by_role("alert").inner_text())
    check_accessibility(page)
    page.goto("/console/registry?view=tree")
    page.get_by_text("This version has no units you can see.").wait_for()
    assert page.get_by_test_id("tree-node").count() == 0
    check_accessibility(page)
    page.get_by_role("button", name="List and map").click()
    page.get_by_role("cell", name="Nothing here yet.").wait_for()
    assert "Sénégal" not in page.locator("main").inner_text()
