"""Submissions in the console, in a real browser: a form's submissions listed and filtered (the filters
in the URL), a submission's answers under its group and repeat headings with the form's labels in
either of its languages, its photo loaded through the presigned link, its location on the map, and
its review (approved with a comment, seen through the API); a viewer gets no review buttons, and
another account sees none of it."""

import re

import pytest

from tests.e2e.conftest import check_accessibility, log_in
from tests.e2e.submissionskit import PHOTO_NAME, surveys

pytestmark = [pytest.mark.e2e, pytest.mark.commits]


def row_of(page, submission_id: int):
    return page.get_by_role("row").filter(has=page.get_by_role("link", name=f"#{submission_id}", exact=True))


def answer(page, scope: str, label: str):
    """The answer shown for the question labelled `label` inside the section with test id `scope`."""
    return (
        page.get_by_test_id(scope)
        .locator(".answer")
        .filter(has=page.locator("dt", has_text=re.compile(f"^{re.escape(label)}$")))
        .locator("dd")
    )


def test_a_forms_submissions_are_filtered_read_in_its_languages_and_approved(page, console, ingest_stack):
    data = surveys(console, ingest_stack)
    reviewer = "reviewer@surveys.example.org"
    log_in(page, reviewer)
    page.get_by_role("link", name="Submissions").click()
    row_of(page, data.elsewhere).wait_for()  # every form's, before one is picked
    check_accessibility(page)

    page.get_by_label("Form", exact=True).select_option(label="Household visit")
    row_of(page, data.elsewhere).wait_for(state="detached")
    row_of(page, data.collected).wait_for()
    uploaded = row_of(page, data.uploaded)
    assert uploaded.get_by_role("cell", name="data_collector@surveys.example.org").count() == 1
    unit_link = uploaded.get_by_role("link", name="Centre de Santé Pikine")
    assert unit_link.get_attribute("href") == f"/console/units/{data.units['Centre de Santé Pikine']}"
    assert row_of(page, data.collected).get_by_text("Rejected").count() == 1

    page.get_by_label("Review status").select_option("PENDING")
    row_of(page, data.collected).wait_for(state="detached")
    page.get_by_label("Unit (search by name)").fill("Dakar")
    page.get_by_role("button", name="Dakar", exact=True).click()  # the unit and everything below it
    page.get_by_test_id("unit-filter").get_by_text("In Dakar").wait_for()
    assert page.locator("tbody tr").count() == 1 and uploaded.count() == 1
    assert f"form={data.form['id']}" in page.url and "validation_status=PENDING" in page.url
    assert f"org_unit={data.units['Dakar']}" in page.url
    check_accessibility(page)
    page.reload()  # the filters come back from the URL
    row_of(page, data.uploaded).wait_for()
    assert page.get_by_label("Review status").input_value() == "PENDING"
    assert page.locator("tbody tr").count() == 1

    row_of(page, data.uploaded).get_by_role("link", name=f"#{data.uploaded}").click()
    page.wait_for_url(f"**/console/submissions/{data.uploaded}")
    page.get_by_role("heading", name="Household", exact=True).wait_for()
    assert answer(page, "answers", "Visitor").inner_text() == "Fatou"
    assert answer(page, "answers", "Location of the house").inner_text() == (
        "Latitude 14.75, longitude -17.35 (accuracy 5 m)"
    )
    assert answer(page, "group-household", "Water source").inner_text() == "Well"
    assert answer(page, "group-household", "Other sources").inner_text() == "Well, River"
    page.get_by_role("heading", name="Member", exact=True).wait_for()
    assert answer(page, "repeat-member-1", "Name").inner_text() == "Awa Diop"
    assert answer(page, "repeat-member-2", "Name").inner_text() == "Moussa Diop"
    assert answer(page, "repeat-member-2", "Age").inner_text() == "8"

    photo = page.get_by_role("img", name="Photo of the house")
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=photo.element_handle())
    assert photo.evaluate("(img) => [img.naturalWidth, img.naturalHeight]") == [64, 48]  # the PNG's own
    assert page.get_by_role("link", name=PHOTO_NAME).count() == 1
    map_box = page.get_by_test_id("place-map")
    page.locator('[data-testid="place-map"][data-ready="true"]').wait_for()
    assert map_box.get_attribute("data-features") == "1"
    check_accessibility(page)

    page.get_by_label("Form language").select_option("French (fr)")
    page.get_by_role("heading", name="Ménage", exact=True).wait_for()
    assert answer(page, "group-household", "Source d'eau").inner_text() == "Puits"
    assert answer(page, "group-household", "Autres sources").inner_text() == "Puits, Rivière"
    assert answer(page, "repeat-member-2", "Nom").inner_text() == "Moussa Diop"
    page.get_by_role("heading", name="Membre 2", exact=True).wait_for()
    assert page.get_by_role("img", name="Photo de la maison").count() == 1

    page.get_by_label("Comment (optional)").fill("x" * 2001)
    page.get_by_role("button", name="Reject").click()
    page.locator("#review-comment-error").get_by_text("comment").wait_for()  # the API's 400, on its field
    assert page.get_by_label("Comment (optional)").get_attribute("aria-invalid") == "true"
    assert page.get_by_test_id("review-status").get_attribute("data-status") == "PENDING"
    page.get_by_label("Comment (optional)").fill("Photo and members checked")
    page.get_by_role("button", name="Approve").click()
    page.get_by_test_id("review-done").wait_for()
    assert page.get_by_test_id("review-status").get_attribute("data-status") == "APPROVED"
    assert page.get_by_test_id("review-comment").inner_text() == "Photo and members checked"
    stored = console.api("GET", f"/api/submissions/{data.uploaded}", data.tenant.tokens["viewer"])
    assert stored["validation_status"] == "APPROVED"
    assert stored["review_comment"] == "Photo and members checked"
    check_accessibility(page)

    # A viewer reads it, and has nothing to review it with.
    page.get_by_role("button", name="Log out").click()
    log_in(page, "viewer@surveys.example.org")
    page.goto(f"/console/submissions/{data.uploaded}")
    page.get_by_role("heading", name="Household", exact=True).wait_for()
    assert page.get_by_test_id("review-status").get_attribute("data-status") == "APPROVED"
    assert page.get_by_role("button", name="Approve").count() == 0
    assert page.get_by_role("button", name="Reject").count() == 0
    check_accessibility(page)

    # Another account: no forms, no submissions, and "not found" at this one's URL.
    console.tenant("other")
    page.get_by_role("button", name="Log out").click()
    log_in(page, "admin@other.example.org")
    page.goto("/console/submissions")
    page.get_by_role("cell", name="Nothing here yet.").wait_for()
    page.get_by_text("This account has no forms yet").wait_for()
    assert page.get_by_label("Form", exact=True).locator("option").all_inner_texts() == ["All forms"]
    check_accessibility(page)
    page.goto(f"/console/submissions/{data.uploaded}")
    page.get_by_text(f"There is no submission {data.uploaded}").wait_for()
    assert page.get_by_role("button", name="Approve").count() == 0
    check_accessibility(page)
