"""The registry page in a real browser: the org-unit list with the API's filters beside a MapLibre map
that draws the same selection from the API's vector tiles (SwiftShader's WebGL in headless Chromium).
The page says how many features the map drew (data-features, on MapLibre's `idle`)."""

import os
import shutil

import pytest

from chalicelib.registry import tiles as tiles_module
from tests.e2e.conftest import ARTIFACTS, ROOT, check_accessibility, log_in
from tests.integration.registrykit import build_registry

pytestmark = [pytest.mark.e2e, pytest.mark.commits]

README_SCREENSHOT = ROOT / "docs" / "console-map.png"
MVT = "application/vnd.mapbox-vector-tile"


def features_drawn(page) -> int:
    """Once the map has settled on its current tiles: the features it drew."""
    settled = page.locator('[data-testid="map"][data-features]')
    settled.wait_for()
    return int(settled.get_attribute("data-features"))


def test_a_search_lists_the_units_and_the_map_draws_their_tiles(page, console, monkeypatch):
    tenant = console.tenant("mapper")
    ids = build_registry(console.client, tenant.tokens["admin"])
    tiles = []
    page.on("request", lambda request: "/api/tiles/" in request.url and tiles.append(request))

    log_in(page, tenant.admin_email)
    page.get_by_role("link", name="Registry").click()
    page.get_by_role("button", name="Sénégal", exact=True).wait_for()
    assert features_drawn(page) > 0
    check_accessibility(page)

    tiles.clear()
    page.get_by_label("Search by name").fill("Pikine")
    page.get_by_role("button", name="Sénégal", exact=True).wait_for(state="detached")
    listed = [cell.inner_text() for cell in page.locator("tbody tr td:first-child").all()]
    assert sorted(listed) == ["Centre de Santé Pikine", "Pikine"]
    assert "search=Pikine" in page.url  # the selection can be bookmarked
    drawn = features_drawn(page)
    assert drawn > 0
    assert tiles, "the map asked for no tiles after the search"
    asked = tiles[-1]
    assert "search=Pikine" in asked.url
    assert asked.headers["accept"].startswith(MVT)
    assert asked.headers["authorization"].startswith("Bearer ")
    assert asked.response().status in (200, 204, 304)

    with page.expect_response(lambda response: response.url.endswith(f"/api/orgunits/{ids['Pikine']}")):
        page.get_by_role("button", name="Pikine", exact=True).click()  # a row shows its unit
    summary = page.get_by_test_id("unit-summary")
    summary.get_by_role("heading", name="Pikine").wait_for()
    assert "District" in summary.inner_text()

    assert features_drawn(page) > 0  # the view fitted on Pikine's territory, its health centre in the middle
    box = page.get_by_test_id("map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    summary.get_by_role("heading", name="Centre de Santé Pikine").wait_for()
    assert "Facility" in summary.inner_text() and "Valid" in summary.inner_text()
    opens = summary.get_by_role("link", name="Open the page of Centre de Santé Pikine")  # picked on the map
    assert opens.get_attribute("href") == f"/console/units/{ids['Centre de Santé Pikine']}"
    check_accessibility(page)
    keep_screenshot(page)

    page.get_by_label("Search by name").fill("")  # narrowing to a unit's children, list and map alike
    page.get_by_role("button", name="Dakar", exact=True).click()
    summary.get_by_role("heading", name="Dakar").wait_for()
    summary.get_by_role("button", name="Show its children").click()
    page.get_by_test_id("within").get_by_text("Children of Dakar.").wait_for()
    page.get_by_role("button", name="Sénégal", exact=True).wait_for(state="detached")
    listed = [cell.inner_text() for cell in page.locator("tbody tr td:first-child").all()]
    assert sorted(listed) == ["Pikine", "Rufisque"]
    assert features_drawn(page) > 0
    assert f"parent={ids['Dakar']}" in tiles[-1].url  # after those of the view fitted on Dakar
    assert page.get_by_test_id("map-note").inner_text() == ""

    monkeypatch.setattr(tiles_module, "POINTS_MAX", 0)  # the server's: a tile with a point is crowded
    page.get_by_role("button", name="Show all").click()
    page.get_by_role("button", name="Sénégal", exact=True).click()
    summary.get_by_role("button", name="Show everything below it").click()
    page.get_by_test_id("map-note").get_by_text("Too many units here to draw them all").wait_for()


def keep_screenshot(page) -> None:
    """Kept with the test artifacts; GEOREGISTRY_UPDATE_SCREENSHOTS=1 also refreshes the README's."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(
        path=str(ARTIFACTS / "console-map.png"), clip={"x": 0, "y": 0, "width": 1280, "height": 700}
    )
    if os.environ.get("GEOREGISTRY_UPDATE_SCREENSHOTS") == "1":
        README_SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copyfile(ARTIFACTS / "console-map.png", README_SCREENSHOT)


def test_the_list_and_the_map_follow_the_group_and_the_version_picked(page, console):
    tenant = console.tenant("grouper")
    token = tenant.tokens["admin"]
    ids = build_registry(console.client, token)
    empty = console.api("POST", f"/api/data-sources/{ids['source']}/versions", token, {})
    tiles = []
    page.on("request", lambda request: "/api/tiles/" in request.url and tiles.append(request.url))

    log_in(page, tenant.admin_email)
    page.goto("/console/registry")
    page.get_by_role("button", name="Sénégal", exact=True).wait_for()
    page.get_by_label("Group").select_option(label="Public")
    page.get_by_role("button", name="Sénégal", exact=True).wait_for(state="detached")
    listed = [cell.inner_text() for cell in page.locator("tbody tr td:first-child").all()]
    assert listed == ["Centre de Santé Pikine"]
    assert features_drawn(page) == 1
    assert f"group={ids['public']}" in page.url and f"group={ids['public']}" in tiles[-1]
    check_accessibility(page)

    page.get_by_label("Version").select_option(value=str(empty["id"]))
    page.get_by_role("cell", name="Nothing here yet.").wait_for()
    assert "group=" not in page.url  # a group belongs to its version
    assert f"version={empty['id']}" in page.url
    assert f"version={empty['id']}" in tiles[-1]
    assert page.get_by_label("Group").locator("option").all_inner_texts() == ["Any group"]
