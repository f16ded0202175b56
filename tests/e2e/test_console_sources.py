"""Data sources in the console, in a real browser: a GeoPackage uploaded straight to S3 (moto's server)
with the presigned POST, its dry run's progress and report (every problem with its row and reason),
then imported for real from that report; a long CSV import killed from its task page, leaving nothing;
an export downloaded through its link; two versions compared; and another account seeing none of it."""

import contextlib
import os
import re
import shutil
import sqlite3
import time
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.conftest import check_accessibility, log_in
from tests.integration.registrykit import build_registry, point

pytestmark = [pytest.mark.e2e, pytest.mark.commits]

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
HEALTH_FACILITIES = '"level-5-Health facility/Formation sanitaire - HF"'
MANY = 120_000


def wait_for_status(page, status: str, timeout_ms: int = 15_000) -> None:
    page.locator(f'[data-testid="task-status"][data-status="{status}"]').wait_for(timeout=timeout_ms)


def bar(page) -> tuple[int, int]:
    progress = page.get_by_test_id("progress-bar")
    return int(progress.get_attribute("value") or 0), int(progress.get_attribute("max") or 0)


def watch_until(page, status: str, seconds: float = 15) -> list[tuple[int, int]]:
    """The progress bar's (value, max) as the page updates them, until the task reaches `status`."""
    seen: list[tuple[int, int]] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        shown = page.get_by_test_id("task-status")
        current = shown.get_attribute("data-status") if shown.count() else None
        if page.get_by_test_id("progress-bar").count():
            value = bar(page)
            if not seen or value != seen[-1]:
                seen.append(value)
        if current == status:
            return seen
        page.wait_for_timeout(50)
    raise AssertionError(f"the task never reached {status}; the bar showed {seen}")


def edited_gpkg(tmp_path: Path, sql: list[str]) -> Path:
    """Iaso's GeoPackage with some rows spoilt (the file alone holding the edits)."""
    path = tmp_path / "pyramid.gpkg"
    shutil.copy(FIXTURES / "iaso_multiple_ref_formats.gpkg", path)
    with contextlib.closing(sqlite3.connect(path)) as gpkg, gpkg:
        gpkg.execute("PRAGMA journal_mode = DELETE")
        gpkg.create_function("ST_IsEmpty", 1, lambda blob: 1 if blob is None else 0)
        for name in ("ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY"):  # GDAL's R-tree triggers call them
            gpkg.create_function(name, 1, lambda blob: 0.0)
        for statement in sql:
            gpkg.execute(statement)
    return path


def versions(console, token: str, source_id: int) -> list[dict]:
    return console.api("GET", f"/api/data-sources/{source_id}/versions?limit=100", token)["results"]


def test_a_geopackage_is_uploaded_checked_by_a_dry_run_then_imported(page, console, task_runner, tmp_path):
    tenant = console.tenant("importer")
    token = tenant.tokens["admin"]
    source = console.api("POST", "/api/data-sources", token, {"name": "Iaso pyramid"})
    gpkg = edited_gpkg(
        tmp_path,
        [
            f"UPDATE {HEALTH_FACILITIES} SET parent_ref = 'nowhere' WHERE ref = 'O8KHatHm4dw'",
            # enough facilities for the dry run to take a few polls: the bar is seen on its way
            f"""WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {MANY})
                INSERT INTO {HEALTH_FACILITIES} (geom, name, ref, parent_ref)
                SELECT f.geom, 'Facility ' || n.i, 'many-' || n.i, f.parent_ref
                FROM n, (SELECT * FROM {HEALTH_FACILITIES} WHERE parent_ref <> 'nowhere' LIMIT 1) f""",
        ],
    )
    uploads = []
    page.on("request", lambda request: request.method == "POST" and uploads.append(request.url))

    log_in(page, tenant.admin_email)
    page.get_by_role("link", name="Data sources").click()
    page.get_by_role("link", name="Iaso pyramid").click()
    page.get_by_role("heading", name="Data source: Iaso pyramid").wait_for()
    expect(page.get_by_test_id("units-1")).to_have_text("0")
    page.get_by_text("The account's default").wait_for()
    check_accessibility(page)

    page.get_by_role("link", name="Import a file").click()
    page.get_by_label("File", exact=True).set_input_files(str(gpkg))
    expect(page.get_by_label("Format")).to_have_value("gpkg")  # guessed from the file's name
    assert page.get_by_label("Dry run first").is_checked()
    check_accessibility(page)
    page.get_by_role("button", name="Upload and check").click()
    page.wait_for_url(re.compile(r"/import\?task=\d+$"))
    seen = watch_until(page, "SUCCESS")
    assert seen[-1][0] == seen[-1][1] > 0, f"the bar never reached its end: {seen}"
    moving = [(value, end) for value, end in seen if 0 < value < end and end > MANY]  # units read so far
    assert moving, f"the bar was not seen on its way: {seen}"
    assert [value for value, _ in seen] == sorted(value for value, _ in seen)
    assert any(url.startswith(os.environ["AWS_ENDPOINT_URL"]) for url in uploads), (
        "the file did not go straight to S3"
    )

    report = page.get_by_test_id("import-report")
    report.wait_for()
    assert report.get_by_test_id("count-errors").inner_text() == "1"
    created = int(report.get_by_test_id("count-created").inner_text())
    assert report.get_by_text("Would be created").count() == 1
    problem = page.get_by_test_id("problems").get_by_role("row").filter(has_text="names no unit 'nowhere'")
    assert [cell.inner_text() for cell in problem.get_by_role("cell").all()][:4] == [
        "Error",
        HEALTH_FACILITIES.strip('"'),
        "1",
        "parent_ref",
    ]
    assert len(versions(console, token, source["id"])) == 1  # a dry run writes nothing
    check_accessibility(page)

    page.get_by_role("button", name="Import, skipping the 1 invalid rows").click()
    page.get_by_role("heading", name=re.compile(r"^Import \(task \d+\)$")).wait_for()
    wait_for_status(page, "SUCCESS")
    page.get_by_test_id("imported").get_by_text(f"version 2 now has {created} units").wait_for()
    check_accessibility(page)
    new = [v for v in versions(console, token, source["id"]) if v["number"] == 2]
    assert new and new[0]["org_unit_count"] == created > 0

    page.get_by_role("link", name="Back to the data source").first.click()
    expect(page.get_by_test_id("units-2")).to_have_text(str(created))
    page.get_by_role("button", name="Make version 2 the default").click()
    page.get_by_text("Version 2 is now the account's default.").wait_for()
    assert [v["number"] for v in versions(console, token, source["id"]) if v["account_default"]] == [2]


def long_csv(tmp_path: Path, rows: int) -> Path:
    path = tmp_path / "many.csv"
    with path.open("w") as file:
        file.write("ref,name,parent_ref,latitude,longitude\nroot,Root,,,\n")
        file.writelines(f"u{n},Unit {n},root,{n % 80 - 40}.5,{n % 170 - 85}.25\n" for n in range(rows))
    return path


def test_a_long_import_is_killed_from_its_task_page_and_leaves_nothing(page, console, task_runner, tmp_path):
    tenant = console.tenant("quitter")
    token = tenant.tokens["admin"]
    source = console.api("POST", "/api/data-sources", token, {"name": "Census"})
    log_in(page, tenant.admin_email)
    page.goto(f"/console/sources/{source['id']}/import")
    page.get_by_label("File", exact=True).set_input_files(str(long_csv(tmp_path, 300_000)))
    expect(page.get_by_label("Format")).to_have_value("csv")
    page.get_by_label("Dry run first").uncheck()
    mapping = page.get_by_label("Columns per level")  # a CSV's option: checked here, then by the API
    mapping.fill('{"levels": [')
    page.get_by_role("button", name="Upload and import").click()
    page.locator("#import-hierarchy-error").get_by_text("is not valid JSON").wait_for()
    mapping.fill('{"levels": []}')
    page.get_by_role("button", name="Upload and import").click()
    page.locator("#import-hierarchy-error").get_by_text("is not a usable column mapping").wait_for()
    assert mapping.get_attribute("aria-describedby") == "import-hierarchy-error"
    check_accessibility(page)
    mapping.fill("")
    page.get_by_role("button", name="Upload and import").click()
    page.get_by_role("link", name="Open the task's page").click()
    page.wait_for_url(re.compile(r"/console/tasks/\d+$"))
    task_id = int(page.url.rsplit("/", 1)[1])
    wait_for_status(page, "RUNNING")
    check_accessibility(page)
    page.get_by_role("button", name="Kill task").click()
    wait_for_status(page, "KILLED", timeout_ms=20_000)
    value, end = bar(page)
    assert value < end, "the import ran to its end before the kill"
    task = console.api("GET", f"/api/tasks/{task_id}", token)
    assert task["kind"] == "orgunits.import" and task["params"]["dry_run"] is False
    listed = versions(console, token, source["id"])
    assert [(v["number"], v["org_unit_count"]) for v in listed] == [(1, 0)]  # no version, no units

    page.goto(f"/console/sources/{source['id']}/import?task={task_id}")  # the import page says so too
    page.get_by_text("The task was killed: nothing was written.").wait_for()
    check_accessibility(page)


def test_an_export_is_started_and_downloaded_through_its_link(page, console, task_runner):
    tenant = console.tenant("exporter")
    ids = build_registry(console.client, tenant.tokens["admin"])
    log_in(page, tenant.admin_email)
    page.goto(f"/console/sources/{ids['source']}")
    page.get_by_role("heading", name="Export units").wait_for()
    expect(page.get_by_test_id("units-1")).to_have_text("8")
    page.get_by_label("Format").select_option("gpkg")
    page.get_by_role("button", name="Start export").click()
    done = page.get_by_test_id("export-done")
    done.get_by_text("8 units exported.").wait_for()
    check_accessibility(page)
    link = done.get_by_role("link", name="orgunits.gpkg")
    content = requests.get(link.get_attribute("href"), timeout=10).content
    assert content.startswith(b"SQLite format 3\x00") and content[68:72] == b"GPKG"
    assert re.search(r"\?export=\d+$", page.url)  # a reload shows the export again


def test_two_versions_are_compared_and_their_differences_read(page, console, task_runner):
    tenant = console.tenant("comparer")
    token = tenant.tokens["admin"]
    ids = build_registry(console.client, token)
    log_in(page, tenant.admin_email)
    page.goto(f"/console/sources/{ids['source']}")
    page.get_by_role("button", name="Copy version 1 into a new one").click()
    page.get_by_text("Version 2 is being filled with a copy of version 1.").wait_for()
    page.get_by_role("status").get_by_role("link", name="Open the task's page").click()
    wait_for_status(page, "SUCCESS")  # the copy's own task page
    page.go_back()
    after = next(v["id"] for v in versions(console, token, ids["source"]) if v["number"] == 2)
    units = console.api("GET", f"/api/orgunits?version={after}&limit=50", token)["results"]
    by_ref = {unit["source_ref"]: unit["id"] for unit in units}
    console.api(
        "PATCH", f"/api/orgunits/{by_ref['F1']}", token, {"name": "CS Pikine", "location": point(-17.3, 14.7)}
    )
    new = {"name": "Nouveau", "source_ref": "F3", "parent_id": by_ref["SN-KE-SR"], "version_id": after}
    console.api("POST", "/api/orgunits", token, new)

    page.reload()
    expect(page.get_by_test_id("units-2")).to_have_text("9")  # the copy, and the unit added to it
    page.get_by_role("link", name="Compare two versions").click()
    expect(page.get_by_label("Before")).to_have_value(str(ids["version"]))  # the last two, once listed
    expect(page.get_by_label("After")).to_have_value(str(after))
    check_accessibility(page)
    page.get_by_role("button", name="Compare").click()
    wait_for_status(page, "SUCCESS")
    summary = page.get_by_test_id("diff-summary")
    summary.wait_for()
    assert [summary.get_by_test_id(f"diff-{s}").inner_text() for s in ("added", "changed", "removed")] == [
        "1",
        "1",
        "0",
    ]
    table = page.get_by_test_id("diff-table")
    table.get_by_role("row").filter(has_text="F3").get_by_text("Added").wait_for()
    name_row = table.get_by_role("row").filter(has_text="CS Pikine")
    assert [cell.inner_text() for cell in name_row.get_by_role("cell").all()] == [
        "F1",
        "Changed",
        "name",
        "Centre de Santé Pikine",
        "CS Pikine",
    ]
    location = table.get_by_role("row").filter(has_text="POINT Z (-17.3 14.7 0)")
    assert location.get_by_role("cell").nth(2).inner_text() == "location"
    page.get_by_role("link", name="diff.csv").wait_for()
    check_accessibility(page)
    page.get_by_label("Show").select_option("added")
    table.get_by_role("row").filter(has_text="CS Pikine").wait_for(state="detached")
    assert table.get_by_role("row").filter(has_text="F3").count() == 1


def test_another_account_sees_no_sources_and_not_found_on_the_firsts(page, console):
    first = console.tenant("owner")
    source = console.api("POST", "/api/data-sources", first.tokens["admin"], {"name": "Private pyramid"})
    other = console.tenant("other")
    log_in(page, other.admin_email)
    page.get_by_role("link", name="Data sources").click()
    page.get_by_role("cell", name="Nothing here yet.").wait_for()
    assert page.get_by_text("Private pyramid").count() == 0
    check_accessibility(page)
    for path in ("", "/import", "/compare"):
        page.goto(f"/console/sources/{source['id']}{path}")
        page.get_by_test_id("not-found").get_by_text(f"There is no data source {source['id']}").wait_for()
        assert page.get_by_text("Private pyramid").count() == 0
        check_accessibility(page)
