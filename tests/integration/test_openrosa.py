"""What phones see: the mobile forms list and the OpenRosa routes, called as ODK Collect calls them."""

import base64
import email.utils
import hashlib
import xml.etree.ElementTree as ET

import pytest
import requests

from tests.integration.formkit import SIMPLE_SURVEY, add_version, create_form, fixture_bytes, workbook
from tests.integration.helpers import PASSWORD, call, make_tenant

XFORMS_LIST = "{http://openrosa.org/xforms/xformsList}"
# What ODK Collect sends with every OpenRosa request.
COLLECT_HEADERS = {
    "X-OpenRosa-Version": "1.0",
    "Accept-Encoding": "gzip,deflate",
    "User-Agent": "org.odk.collect.android/v2024.2.4 okhttp/4.12.0",
}


@pytest.fixture
def alpha(client, forms_s3):
    tenant = make_tenant(client, "alpha", roles=("form_manager", "data_collector", "viewer"))
    for role in ("data_collector", "viewer"):
        path = f"/api/users/{tenant.user_ids[role]}"
        assert (
            call(client, "PATCH", path, tenant.tokens["admin"], {"project_ids": [tenant.project_id]})[0]
            == 200
        )
    return tenant


@pytest.fixture
def published(client, alpha):
    """Two forms of alpha's project with versions (one has two), one without, one of another project."""
    token = alpha.tokens["form_manager"]
    other = call(
        client, "POST", "/api/projects", alpha.tokens["admin"], {"name": "Q", "app_id": "org.alpha.q"}
    )[1]
    first = create_form(client, token, [alpha.project_id], name="Quality of care")
    add_version(client, token, first["id"], fixture_bytes("form_1.xlsx"))
    add_version(client, token, first["id"], fixture_bytes("form_1.xlsx"))
    second = create_form(client, token, [alpha.project_id, other["id"]], name="Child programme")
    add_version(client, token, second["id"], fixture_bytes("repeat_group_form.xlsx"))
    create_form(client, token, [alpha.project_id], name="Not yet published")
    elsewhere = create_form(client, token, [other["id"]], name="Elsewhere")
    add_version(client, token, elsewhere["id"], workbook(SIMPLE_SURVEY, {"form_id": "elsewhere"}))
    return {"first": first, "second": second, "elsewhere": elsewhere, "other_project": other["id"]}


def _basic(user: str, secret: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()}


def _get(client, path: str, headers: dict | None = None):
    return client.http.get(path, headers=COLLECT_HEADERS | (headers or {}))


def _assert_openrosa_headers(response) -> None:
    assert response.headers["X-OpenRosa-Version"] == "1.0"
    assert email.utils.parsedate_to_datetime(response.headers["Date"]).tzinfo is not None


def test_collect_lists_and_downloads_forms_after_a_basic_challenge(client, alpha, published):
    form_list = f"/api/openrosa/{alpha.project_id}/formList"
    challenged = _get(client, form_list)
    assert challenged.status_code == 401
    digest, basic = challenged.headers["WWW-Authenticate"]  # Digest first: Collect takes the first it knows
    assert digest.startswith('Digest realm="georegistry", qop="auth", algorithm=MD5, nonce="')
    assert basic == 'Basic realm="georegistry"'
    _assert_openrosa_headers(challenged)

    credentials = _basic("data_collector@alpha.example.org", PASSWORD)
    listed = _get(client, form_list, credentials)
    assert listed.status_code == 200, listed.body
    assert listed.headers["Content-Type"] == "text/xml; charset=utf-8"
    _assert_openrosa_headers(listed)
    root = ET.fromstring(listed.body)
    assert root.tag == f"{XFORMS_LIST}xforms"
    entries = {entry.findtext(f"{XFORMS_LIST}formID"): entry for entry in root}
    assert sorted(entries) == ["QOC-HD-00000_v6", "eventtracker2334"]
    first = entries["QOC-HD-00000_v6"]
    assert first.findtext(f"{XFORMS_LIST}name") == "Quality of care"
    assert first.findtext(f"{XFORMS_LIST}version").endswith("02")  # the latest of two versions
    for entry in entries.values():
        url = entry.findtext(f"{XFORMS_LIST}downloadUrl")
        assert url.startswith(f"http://localhost/api/openrosa/{alpha.project_id}/forms/")
        downloaded = _get(client, url.removeprefix("http://localhost"), credentials)
        assert (
            downloaded.status_code == 200 and downloaded.headers["Content-Type"] == "text/xml; charset=utf-8"
        )
        _assert_openrosa_headers(downloaded)
        assert f"md5:{hashlib.md5(downloaded.body).hexdigest()}" == entry.findtext(f"{XFORMS_LIST}hash")
        assert f'id="{entry.findtext(f"{XFORMS_LIST}formID")}"'.encode() in downloaded.body


def test_the_form_list_gives_urls_as_the_client_reached_us_and_filters_on_form_id(client, alpha, published):
    behind_proxy = {"Host": "collect.example.org", "X-Forwarded-Proto": "https"}
    credentials = _basic("data_collector@alpha.example.org", PASSWORD)
    path = f"/api/openrosa/{alpha.project_id}/formList?formID=eventtracker2334"
    listed = _get(client, path, credentials | behind_proxy)
    entries = ET.fromstring(listed.body).findall(f"{XFORMS_LIST}xform")
    assert [entry.findtext(f"{XFORMS_LIST}formID") for entry in entries] == ["eventtracker2334"]
    assert entries[0].findtext(f"{XFORMS_LIST}downloadUrl") == (
        f"https://collect.example.org/api/openrosa/{alpha.project_id}/forms/{published['second']['id']}"
    )


def test_basic_takes_a_password_or_an_api_key_and_bearer_works_too(client, alpha, published):
    form_list = f"/api/openrosa/{alpha.project_id}/formList"
    email_address = "data_collector@alpha.example.org"
    _, key, _ = call(client, "POST", "/api/me/api-keys", alpha.tokens["data_collector"], {"name": "phone"})
    assert _get(client, form_list, _basic(email_address, key["key"])).status_code == 200
    assert _get(client, form_list, _basic(email_address.upper(), PASSWORD)).status_code == 200
    bearer = {"Authorization": f"Bearer {alpha.tokens['data_collector']}"}
    assert _get(client, form_list, bearer).status_code == 200
    refused = [
        _basic(email_address, "wrong password"),
        _basic("viewer@alpha.example.org", key["key"]),  # someone else's key
        _basic("nobody@alpha.example.org", PASSWORD),
        {"Authorization": "Basic !!!not base64"},
        {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Digest username=x"},
    ]
    for headers in refused:
        response = _get(client, form_list, headers)
        assert response.status_code == 401, headers
        assert response.headers["WWW-Authenticate"][1] == 'Basic realm="georegistry"'
        _assert_openrosa_headers(response)
    call(client, "DELETE", f"/api/users/{alpha.user_ids['data_collector']}", alpha.tokens["admin"])
    assert _get(client, form_list, _basic(email_address, PASSWORD)).status_code == 401
    assert _get(client, form_list, _basic(email_address, key["key"])).status_code == 401


def test_a_phone_of_project_p_cannot_fetch_the_forms_of_project_q(client, alpha, published):
    q, elsewhere = published["other_project"], published["elsewhere"]["id"]
    token = alpha.tokens["data_collector"]
    credentials = _basic("data_collector@alpha.example.org", PASSWORD)
    status, error, _ = call(client, "GET", f"/api/mobile/forms?project={q}", token)
    assert status == 404 and error["error"]["code"] == "project.not_found"
    for path in (
        f"/api/openrosa/{q}/formList",
        f"/api/openrosa/{q}/forms/{elsewhere}",
        f"/api/openrosa/{alpha.project_id}/forms/{elsewhere}",  # through P, a form P does not have
        f"/api/openrosa/{alpha.project_id}/forms/999999",
    ):
        response = _get(client, path, credentials)
        assert response.status_code == 404, path
        _assert_openrosa_headers(response)
    # Another account's admin reaches none of alpha's projects
    beta = make_tenant(client, "beta")
    assert (
        call(client, "GET", f"/api/mobile/forms?project={alpha.project_id}", beta.tokens["admin"])[0] == 404
    )
    other_admin = _basic("admin@beta.example.org", PASSWORD)
    assert _get(client, f"/api/openrosa/{alpha.project_id}/formList", other_admin).status_code == 404
    # A project member who neither collects nor manages forms gets no forms
    status, error, _ = call(
        client, "GET", f"/api/mobile/forms?project={alpha.project_id}", alpha.tokens["viewer"]
    )
    assert status == 403 and error["error"]["code"] == "auth.forbidden"


def test_mobile_forms_give_each_forms_latest_version_and_a_download_link(client, alpha, published, forms_s3):
    status, listed, _ = call(client, "GET", f"/api/mobile/forms?project={alpha.project_id}",
                             alpha.tokens["data_collector"])  # fmt: skip
    assert status == 200, listed
    found = {form["xform_id"]: form for form in listed["results"]}
    assert sorted(found) == ["QOC-HD-00000_v6", "eventtracker2334"]
    first = found["QOC-HD-00000_v6"]
    assert (first["id"], first["number"], first["name"]) == (published["first"]["id"], 2, "Quality of care")
    _, version, _ = call(client, "GET", f"/api/forms/{first['id']}/versions/2", alpha.tokens["form_manager"])
    assert (first["form_version_id"], first["version"], first["md5"]) == (
        version["id"], version["version"], version["xform_md5"],
    )  # fmt: skip
    xform = requests.get(first["download_url"], timeout=10)
    assert xform.status_code == 200 and hashlib.md5(xform.content).hexdigest() == first["md5"]
    assert call(client, "GET", "/api/mobile/forms", alpha.tokens["data_collector"])[0] == 400
