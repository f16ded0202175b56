"""Hostile XLSForms through the API: each is a 400 form_version.invalid_xlsform naming its reason or the
budget it exceeds (platform/limits.py), quickly, and nothing is stored; no transaction is open while
a workbook is converted."""

import time

import pytest

from chalicelib.forms import xlsforms
from chalicelib.platform import db, limits
from tests import hostile_workbooks as hostile
from tests.integration.formkit import (  # noqa: F401 (alphas_form and form_managing_tenant are fixtures)
    FORMS_BUCKET,
    SIMPLE_SURVEY,
    XLS,
    XLSX,
    add_version,
    alphas_form,
    create_form,
    fixture_bytes,
    form_managing_tenant,
    post_xlsform,
    workbook,
)
from tests.integration.helpers import call


def _refused(client, alpha, form, forms_s3, content: bytes, content_type: str = XLSX) -> dict:
    """The error of a refused upload, once checked that nothing was stored."""
    started = time.monotonic()
    status, error = post_xlsform(client, alpha.tokens["form_manager"], form["id"], content,
                                 content_type=content_type)  # fmt: skip
    assert time.monotonic() - started < 5
    assert status == 400, error
    assert error["error"]["code"] == "form_version.invalid_xlsform"
    _nothing_stored(client, alpha, form, forms_s3)
    return error["error"]


def _nothing_stored(client, alpha, form, forms_s3) -> None:
    with db.transaction() as cur:
        cur.execute("SELECT count(*) AS n FROM form_versions WHERE form_id = %s", (form["id"],))
        assert cur.fetchone()["n"] == 0
    listed = forms_s3.list_objects_v2(Bucket=FORMS_BUCKET, Prefix=f"forms/{alpha.account_id}/")
    assert not [item["Key"] for item in listed.get("Contents", []) if "/versions/" in item["Key"]]
    assert call(client, "GET", f"/api/forms/{form['id']}", alpha.tokens["viewer"])[1]["xform_id"] is None


@pytest.mark.parametrize(
    ("make", "content_type", "reason"),
    [
        (hostile.corrupt_xls, XLS, "could not be read as an .xls workbook"),
        (lambda: hostile.truncated("repeat_group_form.xls"), XLS, "could not be read as an .xls workbook"),
        (hostile.not_a_zip, XLSX, "File is not a zip file"),
        (lambda: hostile.truncated("form_1.xlsx"), XLSX, "could not be read as an .xlsx workbook"),
        (hostile.not_a_workbook, XLSX, "could not be read as an .xlsx workbook"),
        (hostile.broken_sheet_xml, XLSX, "could not be read as an .xlsx workbook"),
        (hostile.billion_laughs, XLSX, "could not be read as an .xlsx workbook"),
        (hostile.lying_sizes, XLSX, "could not be read as an .xlsx workbook"),
    ],
    ids=["corrupt-xls", "truncated-xls", "bad-zip", "truncated-xlsx", "zip-not-workbook", "broken-sheet-xml",
         "entity-bomb", "lying-zip"],
)  # fmt: skip
def test_broken_workbooks_are_400_with_the_reason(client, alpha, form, forms_s3, make, content_type, reason):
    error = _refused(client, alpha, form, forms_s3, make(), content_type)
    assert reason in error["message"], error["message"]


def test_a_zip_bomb_is_refused_naming_the_limit(client, alpha, form, forms_s3):
    error = _refused(client, alpha, form, forms_s3, hostile.zeros_bomb(1 << 30))
    assert "XLSFORM_MAX_UNCOMPRESSED_BYTES" in error["message"]
    assert error["details"]["limit"] == "XLSFORM_MAX_UNCOMPRESSED_BYTES"


def test_a_million_rows_are_refused_quickly_naming_the_limit(client, alpha, form, forms_s3):
    error = _refused(client, alpha, form, forms_s3, hostile.million_rows())
    assert f"exceeds the limit of {limits.XLSFORM_MAX_ROWS:,} rows (XLSFORM_MAX_ROWS)" in error["message"]


def test_an_xls_with_too_many_rows_is_refused(client, alpha, form, forms_s3, monkeypatch):
    monkeypatch.setattr(limits, "XLSFORM_MAX_ROWS", 5)
    error = _refused(client, alpha, form, forms_s3, fixture_bytes("repeat_group_form.xls"), XLS)
    assert error["details"] == {"sheet": "survey", "row": None, "limit": "XLSFORM_MAX_ROWS"}
    assert "XLSFORM_MAX_ROWS" in error["message"]


def test_a_conversion_over_its_time_budget_is_refused(client, alpha, form, forms_s3, monkeypatch):
    monkeypatch.setattr(limits, "XLSFORM_MAX_SECONDS", 1)
    monkeypatch.setattr(xlsforms, "render", lambda workbook, version: time.sleep(60))
    error = _refused(client, alpha, form, forms_s3, workbook(SIMPLE_SURVEY))
    assert "exceeds the limit of 1 seconds (XLSFORM_MAX_SECONDS)" in error["message"]


def test_an_uploaded_bomb_is_refused_too(client, alpha, form, forms_s3):
    token = alpha.tokens["form_manager"]
    path = f"/api/forms/{form['id']}/versions"
    upload = call(client, "POST", f"{path}/upload-url", token, {"filename": "bomb.xlsx"})[1]
    forms_s3.put_object(Bucket=FORMS_BUCKET, Key=upload["s3_key"], Body=hostile.million_rows())
    status, error, _ = call(client, "POST", path, token, {"s3_key": upload["s3_key"]})
    assert status == 400 and "XLSFORM_MAX_ROWS" in error["error"]["message"]
    _nothing_stored(client, alpha, form, forms_s3)


def test_no_transaction_is_open_while_a_workbook_converts(client, alpha, form, forms_s3, monkeypatch):
    convert = xlsforms.convert

    def convert_outside_transactions(*args):
        with db.transaction():  # refused (RuntimeError) if the request still held one
            pass
        return convert(*args)

    monkeypatch.setattr(xlsforms, "convert", convert_outside_transactions)
    version = add_version(client, alpha.tokens["form_manager"], form["id"], fixture_bytes("form_1.xlsx"))
    assert version["number"] == 1 and version["xform_id"] == "QOC-HD-00000_v6"


def test_a_caller_without_the_permission_is_refused_before_any_conversion(client, alpha, form, monkeypatch):
    monkeypatch.setattr(xlsforms, "convert", lambda *args: pytest.fail("converted for a viewer"))
    status, error = post_xlsform(client, alpha.tokens["viewer"], form["id"], hostile.million_rows())
    assert status == 403, error
    status, error = post_xlsform(client, "not-a-token", form["id"], workbook(SIMPLE_SURVEY))
    assert status == 401, error
