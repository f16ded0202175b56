"""Form media: the files an XForm references, uploaded with its version and served to ODK Collect
through the form list's manifestUrl, the manifest (md5 of each file) and a redirect to the file."""

import base64
import hashlib
import xml.etree.ElementTree as ET

import pytest
import requests

from tests.integration.formkit import SIMPLE_SURVEY, add_version, create_form, workbook
from tests.integration.helpers import PASSWORD, call, make_tenant
from tests.workbooks import MEDIA_FILES, media_workbook

XFORMS_LIST = "{http://openrosa.org/xforms/xformsList}"
MANIFEST = "{http://openrosa.org/xforms/xformsManifest}"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
CSV = b"name,label,price\napple,Apple,3\n"


@pytest.fixture
def alpha(client, forms_s3):
    """A form manager, a viewer and a data collector of alpha's project."""
    tenant = make_tenant(client, "alpha", roles=("form_manager", "data_collector", "viewer"))
    path = f"/api/users/{tenant.user_ids['data_collector']}"
    assert call(client, "PATCH", path, tenant.tokens["admin"], {"project_ids": [tenant.project_id]})[0] == 200
    return tenant


@pytest.fixture
def media_form(client, alpha):
    """A form of alpha's project whose first version references the eight MEDIA_FILES."""
    form = create_form(client, alpha.tokens["form_manager"], [alpha.project_id], name="Market prices")
    version = add_version(client, alpha.tokens["form_manager"], form["id"], media_workbook())
    return form | {"version": version}


def _put(client, token: str, form_id: int, filename: str, content: bytes, content_type: str, number: int = 1):
    path = f"/api/forms/{form_id}/versions/{number}/media?filename={filename}"
    status, body, _ = call(client, "PUT", path, token, content, headers={"Content-Type": content_type})
    return status, body


def _collect(client, path: str):
    credentials = base64.b64encode(f"data_collector@alpha.example.org:{PASSWORD}".encode()).decode()
    headers = {"X-OpenRosa-Version": "1.0", "Authorization": f"Basic {credentials}"}
    return client.http.get(path.removeprefix("http://localhost"), headers=headers)


def test_a_version_expects_the_files_its_xform_references_and_takes_only_those(client, alpha, media_form):
    token, form_id = alpha.tokens["form_manager"], media_form["id"]
    expected = {media["filename"]: media["media_type"] for media in media_form["version"]["media"]}
    assert expected == MEDIA_FILES
    assert not any(media["uploaded"] for media in media_form["version"]["media"])

    status, logo = _put(client, token, form_id, "logo.png", PNG, "image/png")
    assert status == 200, logo
    assert (logo["filename"], logo["md5"], logo["size"], logo["content_type"], logo["uploaded"]) == (
        "logo.png", hashlib.md5(PNG).hexdigest(), len(PNG), "image/png", True,
    )  # fmt: skip
    status, fruits = _put(client, token, form_id, "fruits.csv", CSV, "application/octet-stream")
    assert status == 200 and fruits["content_type"] == "text/csv"  # guessed from the name

    status, error = _put(client, token, form_id, "unknown.png", PNG, "image/png")
    assert status == 400 and error["error"]["code"] == "form_media.not_referenced"
    assert "'unknown.png'" in error["error"]["message"] and "logo.png" in error["error"]["message"]
    assert sorted(error["error"]["details"]["expected"]) == sorted(MEDIA_FILES)
    status, error = _put(client, token, form_id, "prices.csv", b"", "text/csv")
    assert status == 400 and error["error"]["code"] == "form_media.empty"
    status, error = _put(client, token, form_id, "intro.mp4", b"\0" * (4 * 1024 * 1024 + 1), "video/webm")
    assert status == 413 and "FORM_MEDIA_BODY_MAX_BYTES" in error["error"]["message"]
    assert _put(client, token, form_id, "logo.png", PNG, "text/plain")[0] == 415
    assert _put(client, token, form_id, "logo.png", PNG, "image/png", number=2)[1]["error"]["code"] == (
        "form_version.not_found"
    )
    assert _put(client, alpha.tokens["viewer"], form_id, "logo.png", PNG, "image/png")[0] == 403

    status, listed, _ = call(client, "GET", f"/api/forms/{form_id}/versions/1/media", alpha.tokens["viewer"])
    assert status == 200, listed
    assert sorted(listed["missing"]) == sorted(set(MEDIA_FILES) - {"logo.png", "fruits.csv"})
    assert {m["filename"]: m["md5"] for m in listed["results"] if m["uploaded"]} == {
        "logo.png": hashlib.md5(PNG).hexdigest(), "fruits.csv": hashlib.md5(CSV).hexdigest(),
    }  # fmt: skip


def test_collect_gets_a_manifest_and_each_file_with_its_md5(client, alpha, media_form):
    token = alpha.tokens["form_manager"]
    plain = create_form(client, token, [alpha.project_id], name="No media")
    add_version(client, token, plain["id"], workbook(SIMPLE_SURVEY, {"form_id": "plain"}))
    _put(client, token, media_form["id"], "logo.png", PNG, "image/png")
    _put(client, token, media_form["id"], "fruits.csv", CSV, "text/csv")

    listed = _collect(client, f"/api/openrosa/{alpha.project_id}/formList")
    entries = {entry.findtext(f"{XFORMS_LIST}formID"): entry for entry in ET.fromstring(listed.body)}
    assert entries["plain"].find(f"{XFORMS_LIST}manifestUrl") is None  # a form without media has none
    entry = entries["media_form"]
    download_url = entry.findtext(f"{XFORMS_LIST}downloadUrl")
    assert entry.findtext(f"{XFORMS_LIST}manifestUrl") == f"{download_url}/manifest"
    xform = _collect(client, download_url)
    assert entry.findtext(f"{XFORMS_LIST}hash") == f"md5:{hashlib.md5(xform.body).hexdigest()}"

    manifest = _collect(client, entry.findtext(f"{XFORMS_LIST}manifestUrl"))
    assert manifest.status_code == 200 and manifest.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert manifest.headers["X-OpenRosa-Version"] == "1.0"
    root = ET.fromstring(manifest.body)
    assert root.tag == f"{MANIFEST}manifest"
    files = {f.findtext(f"{MANIFEST}filename"): f for f in root.findall(f"{MANIFEST}mediaFile")}
    assert sorted(files) == ["fruits.csv", "logo.png"]  # only the files uploaded so far
    for name, content in (("logo.png", PNG), ("fruits.csv", CSV)):
        assert files[name].findtext(f"{MANIFEST}hash") == f"md5:{hashlib.md5(content).hexdigest()}"
        url = files[name].findtext(f"{MANIFEST}downloadUrl")
        assert url.startswith(f"{download_url}/media/")
        redirect = _collect(client, url)
        assert redirect.status_code == 307, redirect.body
        downloaded = requests.get(redirect.headers["Location"], timeout=10)
        assert downloaded.status_code == 200 and downloaded.content == content


def test_big_files_go_through_a_presigned_upload_and_new_versions_keep_their_files(client, alpha, media_form):
    token, form_id = alpha.tokens["form_manager"], media_form["id"]
    path = f"/api/forms/{form_id}/versions/1/media/upload-url"
    status, grant, _ = call(client, "POST", path, token, {"filename": "intro.mp4"})
    assert status == 201 and grant["max_bytes"] == 100 * 1024 * 1024
    video = b"\x1aE\xdf\xa3" + b"video" * 1000
    posted = requests.post(
        grant["url"], data=grant["fields"], files={"file": ("intro.mp4", video)}, timeout=10
    )
    assert posted.status_code in (200, 204), posted.text
    put = f"/api/forms/{form_id}/versions/1/media?filename="
    status, error, _ = call(client, "PUT", f"{put}logo.png", token, {"s3_key": grant["s3_key"]})
    assert status == 400 and error["error"]["details"]["field"] == "s3_key"  # another file's upload
    status, stored, _ = call(client, "PUT", f"{put}intro.mp4", token, {"s3_key": grant["s3_key"]})
    assert status == 200, stored
    assert (stored["md5"], stored["size"], stored["content_type"]) == (
        hashlib.md5(video).hexdigest(), len(video), "video/mp4",
    )  # fmt: skip
    assert call(client, "POST", path, token, {"filename": "other.mp4"})[0] == 400

    _put(client, token, form_id, "logo.png", PNG, "image/png")
    second = add_version(client, token, form_id, media_workbook(version="2"))
    carried = {m["filename"]: m["md5"] for m in second["media"] if m["uploaded"]}
    assert carried == {"intro.mp4": hashlib.md5(video).hexdigest(), "logo.png": hashlib.md5(PNG).hexdigest()}
    new_logo = PNG + b"v2"
    assert _put(client, token, form_id, "logo.png", new_logo, "image/png", number=2)[0] == 200
    # The first version still serves its own logo
    listed = call(client, "GET", f"/api/forms/{form_id}/versions/1/media", token)[1]["results"]
    assert {m["filename"]: m["md5"] for m in listed}["logo.png"] == hashlib.md5(PNG).hexdigest()


def test_another_account_or_project_gets_404_for_manifest_and_media(client, alpha, media_form):
    token, form_id = alpha.tokens["form_manager"], media_form["id"]
    logo = _put(client, token, form_id, "logo.png", PNG, "image/png")[1]
    base = f"/api/openrosa/{alpha.project_id}/forms/{form_id}"
    assert _collect(client, f"{base}/manifest").status_code == 200
    assert _collect(client, f"{base}/media/{logo['id']}").status_code == 307

    beta = make_tenant(client, "beta", roles=("form_manager",))
    beta_form = create_form(client, beta.tokens["form_manager"], [beta.project_id])
    add_version(client, beta.tokens["form_manager"], beta_form["id"], media_workbook())
    other = {"Authorization": f"Bearer {beta.tokens['admin']}"}
    for path in (f"{base}/manifest", f"{base}/media/{logo['id']}"):
        assert client.http.get(path, headers=other).status_code == 404, path
    beta_base = f"/api/openrosa/{beta.project_id}/forms/{beta_form['id']}"
    assert client.http.get(f"{beta_base}/media/{logo['id']}", headers=other).status_code == 404
    assert _collect(client, f"{beta_base}/manifest").status_code == 404
    media_path = f"/api/forms/{form_id}/versions/1/media"
    assert call(client, "GET", media_path, beta.tokens["admin"])[0] == 404
    assert _put(client, beta.tokens["form_manager"], form_id, "logo.png", PNG, "image/png")[0] == 404

    q = call(client, "POST", "/api/projects", alpha.tokens["admin"], {"name": "Q", "app_id": "org.alpha.q"})[
        1
    ]
    elsewhere = create_form(client, token, [q["id"]], name="Elsewhere")
    add_version(client, token, elsewhere["id"], media_workbook(form_id="elsewhere"))
    assert (
        _collect(client, f"/api/openrosa/{alpha.project_id}/forms/{elsewhere['id']}/manifest").status_code
        == 404
    )
    assert _collect(client, f"/api/openrosa/{q['id']}/forms/{elsewhere['id']}/manifest").status_code == 404
    # A file id of one form, asked through another form of the same project
    plain = create_form(client, token, [alpha.project_id], name="Plain")
    add_version(client, token, plain["id"], workbook(SIMPLE_SURVEY, {"form_id": "plain"}))
    path = f"/api/openrosa/{alpha.project_id}/forms/{plain['id']}/media/{logo['id']}"
    assert _collect(client, path).status_code == 404


def test_a_token_url_reaches_manifest_and_files_and_only_its_own_projects(client, alpha, media_form):
    token, form_id = alpha.tokens["form_manager"], media_form["id"]
    logo = _put(client, token, form_id, "logo.png", PNG, "image/png")[1]
    path = f"/api/projects/{alpha.project_id}/collect-tokens"
    status, created, _ = call(client, "POST", path, alpha.tokens["admin"], {"name": "tablet 1"})
    assert status == 201, created
    server = created["server_url"].removeprefix("http://localhost")

    listed = client.http.get(f"{server}/formList", headers={"X-OpenRosa-Version": "1.0"})  # no challenge
    assert listed.status_code == 200, listed.body
    entry = next(e for e in ET.fromstring(listed.body) if e.findtext(f"{XFORMS_LIST}formID") == "media_form")
    manifest_url = entry.findtext(f"{XFORMS_LIST}manifestUrl")
    assert manifest_url == f"{created['server_url']}/forms/{form_id}/manifest"
    manifest = client.http.get(manifest_url.removeprefix("http://localhost"))
    assert manifest.status_code == 200, manifest.body
    (file,) = ET.fromstring(manifest.body).findall(f"{MANIFEST}mediaFile")
    assert (
        file.findtext(f"{MANIFEST}downloadUrl")
        == f"{created['server_url']}/forms/{form_id}/media/{logo['id']}"
    )
    redirect = client.http.get(file.findtext(f"{MANIFEST}downloadUrl").removeprefix("http://localhost"))
    assert redirect.status_code == 307
    assert requests.get(redirect.headers["Location"], timeout=10).content == PNG

    beta = make_tenant(client, "beta")
    path = f"/api/projects/{beta.project_id}/collect-tokens"
    beta_server = call(client, "POST", path, beta.tokens["admin"], {"name": "b"})[1]["server_url"]
    beta_key = beta_server.removeprefix("http://localhost").split("/")[4]
    for suffix in ("manifest", f"media/{logo['id']}"):
        theirs = f"/api/openrosa/key/{beta_key}/{alpha.project_id}/forms/{form_id}/{suffix}"
        assert client.http.get(theirs).status_code == 404, theirs
        wrong_project = f"/api/openrosa/key/{beta_key}/{beta.project_id}/forms/{form_id}/{suffix}"
        assert client.http.get(wrong_project).status_code == 404, wrong_project
