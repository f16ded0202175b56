"""Form versions: XLSForms in (direct body or presigned upload), XForms out, and what is refused."""

import base64
import datetime
import hashlib
import json

import pytest

from chalicelib.forms import form_rules, form_versions, forms_sql, xlsforms
from chalicelib.platform import db
from tests.integration.formkit import (  # noqa: F401 (alphas_form and form_managing_tenant are fixtures)
    FORMS_BUCKET,
    SIMPLE_SURVEY,
    XLS,
    add_version,
    alphas_form,
    create_form,
    fixture_bytes,
    form_managing_tenant,
    post_xlsform,
    workbook,
)
from tests.integration.helpers import call


def _stored_keys(s3, account_id: int) -> list[str]:
    listed = s3.list_objects_v2(Bucket=FORMS_BUCKET, Prefix=f"forms/{account_id}/")
    return sorted(item["Key"] for item in listed.get("Contents", []))


def _version_rows(form_id: int) -> list[dict]:
    with db.transaction() as cur:
        cur.execute("SELECT * FROM form_versions WHERE form_id = %s ORDER BY number", (form_id,))
        return cur.fetchall()


def _today() -> str:
    return f"{datetime.datetime.now(datetime.UTC):%Y%m%d}"


def test_form_1_becomes_version_1_then_2_with_its_xform_and_descriptor(client, alpha, form, forms_s3):
    token = alpha.tokens["form_manager"]
    first = add_version(client, token, form["id"], fixture_bytes("form_1.xlsx"), "form_1.xlsx")
    assert (first["number"], first["version"], first["xform_id"]) == (1, f"{_today()}01", "QOC-HD-00000_v6")
    assert any("subscriberid" in warning for warning in first["warnings"])
    second = add_version(client, token, form["id"], fixture_bytes("form_1.xlsx"), "form_1.xlsx")
    assert (second["number"], second["version"]) == (2, f"{_today()}02")

    # The XForm as served is the one stored, its md5 the stored one, its version the generated one
    path = f"/api/forms/{form['id']}/versions/2"
    response = client.http.get(f"{path}/xform", headers={"Authorization": f"Bearer {alpha.tokens['viewer']}"})
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert hashlib.md5(response.body).hexdigest() == second["xform_md5"]
    assert b'<data id="QOC-HD-00000_v6" version="' + f"{_today()}02".encode() in response.body

    # The descriptor is pyxform's JSON form, exactly
    expected = xlsforms.render(xlsforms.read(fixture_bytes("form_1.xlsx"), None), f"{_today()}02").descriptor
    _, one, _ = call(client, "GET", path, alpha.tokens["viewer"])
    assert one["descriptor"] == json.loads(json.dumps(expected))
    rows = _version_rows(form["id"])
    assert [row["number"] for row in rows] == [1, 2] and rows[1]["descriptor"] == one["descriptor"]
    assert rows[1]["xlsform_key"] == f"forms/{alpha.account_id}/{form['id']}/versions/2/form_1.xlsx"
    assert forms_s3.get_object(Bucket=FORMS_BUCKET, Key=rows[1]["xlsform_key"])[
        "Body"
    ].read() == fixture_bytes("form_1.xlsx")
    assert one["xlsform_url"].startswith("https://") and "xlsform_key" not in one

    _, listed, _ = call(client, "GET", f"/api/forms/{form['id']}/versions?limit=1", alpha.tokens["viewer"])
    assert [v["number"] for v in listed["results"]] == [1] and "descriptor" not in listed["results"][0]
    _, rest, _ = call(
        client, "GET", f"/api/forms/{form['id']}/versions?cursor={listed['next_cursor']}", token
    )
    assert [v["number"] for v in rest["results"]] == [2]
    _, shown, _ = call(client, "GET", f"/api/forms/{form['id']}", token)
    assert shown["xform_id"] == "QOC-HD-00000_v6" and shown["latest_version"]["number"] == 2
    assert call(client, "GET", f"/api/forms/{form['id']}/versions/3", token)[0] == 404


@pytest.mark.parametrize(
    ("name", "content_type", "xform_id"),
    [
        ("repeat_group_form.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "eventtracker2334"),
        ("repeat_group_form.xls", XLS, "eventtracker2334"),
        ("xlsform_spec_test.xlsx", "application/octet-stream", "Spec test"),
    ],
)  # fmt: skip
def test_the_real_xlsforms_become_versions(client, alpha, form, forms_s3, name, content_type, xform_id):
    token = alpha.tokens["form_manager"]
    status, version = post_xlsform(client, token, form["id"], fixture_bytes(name), name, content_type)
    assert status == 201, version
    assert version["xform_id"] == xform_id
    suffix = name.rsplit(".", 1)[1]
    assert _version_rows(form["id"])[0]["xlsform_key"].endswith(
        f"/versions/1/{name.rsplit('.', 1)[0]}.{suffix}"
    )


def test_a_body_base64_encoded_by_api_gateway_is_decoded(client, alpha, form):
    # Lower-case header names are what API Gateway hands over; the local gateway then base64-encodes
    # binary types into the event, as API Gateway does for the API's binary media types.
    headers = {
        "content-type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "authorization": f"Bearer {alpha.tokens['form_manager']}",
        "content-disposition": 'attachment; filename="household.xlsx"',
    }
    response = client.http.post(f"/api/forms/{form['id']}/versions", headers=headers,
                                body=workbook(SIMPLE_SURVEY))  # fmt: skip
    assert response.status_code == 201, response.body
    assert json.loads(response.body)["xform_id"] == "household"  # pyxform's default: the file name
    from app import app

    assert {"application/vnd.ms-excel", headers["content-type"]} <= set(app.api.binary_types)


def test_a_presigned_upload_becomes_a_version(client, alpha, form, forms_s3):
    token = alpha.tokens["form_manager"]
    path = f"/api/forms/{form['id']}/versions"
    status, upload, _ = call(client, "POST", f"{path}/upload-url", token, {"filename": "big survey.xlsx"})
    assert status == 201, upload
    prefix = f"forms/{alpha.account_id}/{form['id']}/uploads/"
    assert upload["s3_key"].startswith(prefix) and upload["s3_key"].endswith("/big_survey.xlsx")
    policy = json.loads(base64.b64decode(upload["fields"]["policy"]))
    assert ["content-length-range", 1, form_versions.MAX_UPLOAD_BYTES] in policy["conditions"]
    assert {"key": upload["s3_key"]} in policy["conditions"] and {"bucket": FORMS_BUCKET} in policy[
        "conditions"
    ]

    status, error, _ = call(client, "POST", path, token, {"s3_key": upload["s3_key"]})
    assert status == 400 and error["error"]["details"]["field"] == "s3_key"  # not uploaded yet
    forms_s3.put_object(
        Bucket=FORMS_BUCKET, Key=upload["s3_key"], Body=fixture_bytes("repeat_group_form.xlsx")
    )
    status, version, _ = call(client, "POST", path, token, {"s3_key": upload["s3_key"]})
    assert status == 201, version
    assert (version["number"], version["xform_id"]) == (1, "eventtracker2334")
    keys = _stored_keys(forms_s3, alpha.account_id)
    assert not any(key.startswith(prefix) for key in keys)  # the upload is gone once committed
    assert f"forms/{alpha.account_id}/{form['id']}/versions/1/big_survey.xlsx" in keys

    for foreign in (f"forms/{alpha.account_id}/{form['id'] + 1}/uploads/x/f.xlsx", "imports/1/x/f.xlsx"):
        status, error, _ = call(client, "POST", path, token, {"s3_key": foreign})
        assert status == 400 and error["error"]["details"]["field"] == "s3_key"


def test_the_settings_version_must_be_new_for_the_form(client, alpha, form):
    token = alpha.tokens["form_manager"]
    content = workbook(SIMPLE_SURVEY, {"form_id": "household", "version": "7"})
    assert add_version(client, token, form["id"], content)["version"] == "7"
    status, error = post_xlsform(client, token, form["id"], content)
    assert status == 409 and error["error"]["code"] == "form_version.version_exists"
    assert (
        add_version(client, token, form["id"], workbook(SIMPLE_SURVEY, {"form_id": "household"}))["number"]
        == 2
    )


def test_the_xform_id_is_set_by_the_first_version_and_kept(client, alpha, form):
    token = alpha.tokens["form_manager"]
    add_version(client, token, form["id"], workbook(SIMPLE_SURVEY, {"form_id": "household"}), "a.xlsx")
    status, error = post_xlsform(client, token, form["id"], workbook(SIMPLE_SURVEY, {"form_id": "other"}))
    assert status == 409 and error["error"]["code"] == "form_version.xform_id_changed"
    assert error["error"]["details"] == {"xform_id": "household", "form_id_in_file": "other"}
    # Without form_id in its settings, a later XLSForm keeps the form's id whatever its file name
    assert (
        add_version(client, token, form["id"], workbook(SIMPLE_SURVEY), "renamed.xlsx")["xform_id"]
        == "household"
    )
    # Another live form of the account cannot take it; a deleted one frees it
    other = create_form(client, token, [alpha.project_id], name="Other")
    status, error = post_xlsform(
        client, token, other["id"], workbook(SIMPLE_SURVEY, {"form_id": "household"})
    )
    assert status == 409 and error["error"]["code"] == "form.xform_id_taken"
    assert call(client, "DELETE", f"/api/forms/{form['id']}", token)[0] == 204
    assert (
        add_version(client, token, other["id"], workbook(SIMPLE_SURVEY, {"form_id": "household"}))["number"]
        == 1
    )


DUPLICATE = workbook(SIMPLE_SURVEY + [["text", "name", "Name again"]])
NO_SURVEY = workbook([], choices=[["list_name", "name", "label"], ["yn", "y", "Yes"]])


@pytest.mark.parametrize(
    ("content", "words", "sheet", "row"),
    [
        (DUPLICATE, "'name' value 'name' is invalid", "survey", 4),
        (NO_SURVEY, "You must have a sheet named 'survey'", "survey", None),
        (b"name,age\nAwa,12\n", "not an XLSForm workbook", None, None),
        (b"", "empty", None, None),
    ],
    ids=["duplicate-question-name", "missing-survey-sheet", "not-a-workbook", "zero-bytes"],
)
def test_invalid_xlsforms_are_refused_and_nothing_is_stored(client, alpha, form, forms_s3, content, words,
                                                            sheet, row):  # fmt: skip
    status, error = post_xlsform(client, alpha.tokens["form_manager"], form["id"], content)
    assert status == 400, error
    assert error["error"]["code"] == "form_version.invalid_xlsform" and words in error["error"]["message"]
    assert error["error"]["details"] == {"sheet": sheet, "row": row}
    assert _version_rows(form["id"]) == [] and _stored_keys(forms_s3, alpha.account_id) == []
    assert call(client, "GET", f"/api/forms/{form['id']}", alpha.tokens["viewer"])[1]["xform_id"] is None


def test_body_limits_and_content_types(client, alpha, form, monkeypatch):
    token = alpha.tokens["form_manager"]
    monkeypatch.setattr(form_versions, "MAX_BODY_BYTES", 100)
    status, error = post_xlsform(client, token, form["id"], fixture_bytes("form_1.xlsx"))
    assert status == 413 and error["error"]["code"] == "form_version.too_large"
    status, _ = post_xlsform(client, token, form["id"], b"a,b\n", content_type="text/csv")
    assert status == 415
    assert _version_rows(form["id"]) == []


def test_ingestion_finds_versions_by_xform_id_and_version(client, alpha, form):
    token = alpha.tokens["form_manager"]
    other_project = call(client, "POST", "/api/projects", alpha.tokens["admin"],
                         {"name": "Other", "app_id": "org.alpha.other"})[1]  # fmt: skip
    first = add_version(client, token, form["id"], fixture_bytes("repeat_group_form.xlsx"))
    with db.transaction() as cur:
        found = forms_sql.version_by_xform(cur, alpha.account_id, "eventtracker2334", first["version"])
        assert (found["id"], found["form_id"], found["xform_id"]) == (
            first["id"],
            form["id"],
            "eventtracker2334",
        )
        assert found["descriptor"]["children"] and found["project_ids"] == [alpha.project_id]
        assert found["form_deleted_at"] is None
        assert forms_sql.get_version(cur, alpha.account_id, first["id"]) == found
        assert forms_sql.version_by_xform(cur, alpha.account_id, "eventtracker2334", "nope") is None
        assert (
            forms_sql.version_by_xform(cur, alpha.account_id + 1, "eventtracker2334", first["version"])
            is None
        )
        assert forms_sql.get_version(cur, alpha.account_id + 1, first["id"]) is None
    # A deleted form's versions are still found, marked, for submissions already on phones
    assert call(client, "DELETE", f"/api/forms/{form['id']}", token)[0] == 204
    with db.transaction() as cur:
        found = forms_sql.version_by_xform(cur, alpha.account_id, "eventtracker2334", first["version"])
        assert found["id"] == first["id"] and found["form_deleted_at"] is not None
    # The form must be one of the project's, and the caller one of the project's users
    live = create_form(client, token, [alpha.project_id], name="Live")
    with db.transaction() as cur:
        admin = _principal(cur, alpha.user_ids["admin"])
        assert (
            form_rules.require_form_in_project(cur, admin, live["id"], alpha.project_id)["id"] == live["id"]
        )
        for form_id, project_id in ((live["id"], other_project["id"]), (form["id"], alpha.project_id)):
            with pytest.raises(Exception) as raised:
                form_rules.require_form_in_project(cur, admin, form_id, project_id)
            assert raised.value.status == 404 and raised.value.code == "form.not_found"
        manager = _principal(cur, alpha.user_ids["form_manager"])  # in no project
        with pytest.raises(Exception) as raised:
            form_rules.require_form_in_project(cur, manager, live["id"], alpha.project_id)
        assert raised.value.code == "project.not_found"


def _principal(cur, user_id: int):
    from chalicelib.identity import authentication

    return authentication.principal_of_launcher(cur, user_id)
