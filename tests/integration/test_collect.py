"""ODK Collect over real HTTP: tests/integration/collect_client.py speaks as Collect does (challenge →
Digest → formList → form (+ manifest + media) with md5 checks → HEAD → multipart POST) against the
live server; and a Collect token URL, which needs no challenge at all."""

import uuid
import xml.etree.ElementTree as ET

import pytest
import requests

from chalicelib.identity import credentials, users_sql
from chalicelib.platform import db
from tests.integration.collect_client import CollectClient, CollectError
from tests.integration.formkit import add_version, create_form, workbook
from tests.integration.helpers import PASSWORD, call, login, make_tenant
from tests.integration.ingestkit import join_project

pytestmark = pytest.mark.commits

XFORMS = "{http://www.w3.org/2002/xforms}"
PHOTO_SURVEY = [
    ["type", "name", "label", "image"],
    ["note", "welcome", "Welcome", "logo.png"],
    ["text", "name", "Name"],
    ["select_one_from_file fruits.csv", "fruit", "Fruit"],
    ["image", "photo", "Photo"],
]
MEDIA = {"fruits.csv": (b"name,label\nmango,Mango\nbaobab,Pain de singe\n", "text/csv"),
         "logo.png": (b"\x89PNG\r\n\x1a\n" + bytes(range(64)), "image/png")}  # fmt: skip
PHOTO = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 8 + b"\xff\xd9"  # a JPEG's frame
COLLECTOR = "data_collector@alpha.example.org"


@pytest.fixture
def alpha(live):
    tenant = make_tenant(live.client, "alpha", roles=("data_collector", "form_manager", "viewer"))
    for role in ("data_collector", "form_manager"):
        join_project(live.client, tenant, role)
    return tenant


@pytest.fixture
def photo_form(live, alpha) -> dict:
    token = alpha.tokens["form_manager"]
    form = create_form(live.client, token, [alpha.project_id], name="Photo survey")
    add_version(live.client, token, form["id"], workbook(PHOTO_SURVEY, {"form_id": "photo_survey"}))
    for filename, (content, content_type) in MEDIA.items():  # the version's media, as H3b's API takes them
        path = f"/api/forms/{form['id']}/versions/1/media?filename={filename}"
        status, body, _ = call(
            live.client, "PUT", path, token, content, headers={"Content-Type": content_type}
        )
        assert status in (200, 201), body
    return form


def _server(live, tenant) -> str:
    return f"{live.url}/api/openrosa/{tenant.project_id}"


def _filled(xform: bytes, name: str) -> tuple[bytes, str]:
    """The instance Collect saves for the downloaded XForm: its primary instance filled in."""
    model = ET.fromstring(xform).find(f".//{XFORMS}model")
    root = next(iter(model.find(f"{XFORMS}instance")))
    instance_id = f"uuid:{uuid.uuid4()}"
    for element in root.iter():
        local = element.tag.split("}")[-1]
        answers = {"name": name, "fruit": "mango", "photo": "1733580000000.jpg", "instanceID": instance_id}
        element.text = answers.get(local)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True), instance_id.removeprefix("uuid:")


def _submissions(live, tenant) -> list[dict]:
    status, page, _ = call(live.client, "GET", "/api/submissions", tenant.tokens["viewer"])
    assert status == 200, page
    return page["results"]


def _collect_token(live, tenant, name: str = "Team A") -> dict:
    """Made over HTTP, as a form manager's browser would: its URLs name the server as it was called."""
    answer = requests.post(
        f"{live.url}/api/projects/{tenant.project_id}/collect-tokens",
        json={"name": name},
        headers={"Authorization": f"Bearer {tenant.tokens['form_manager']}"},
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_collect_downloads_with_digest_and_submits_a_photo(live, alpha, photo_form):
    phone = CollectClient(_server(live, alpha), COLLECTOR, PASSWORD)
    [item] = phone.form_list()
    assert phone.log[0][2] == 401 and phone.challenges_seen == 1  # one challenge, answered with Digest
    assert (item.form_id, item.name) == ("photo_survey", "Photo survey") and item.hash
    form = phone.download(item)  # the XForm, its manifest and each file, every md5 checked
    assert form.media == {filename: content for filename, (content, _) in MEDIA.items()}
    instance, instance_uuid = _filled(form.xml, "Awa")
    posted = phone.submit(instance, {"1733580000000.jpg": PHOTO})
    assert posted.status_code == 201 and b"submit_success" in posted.content
    assert phone.challenges_seen == 1  # the cached Digest answer served every later request
    assert all("Authorization" not in str(entry) for entry in phone.log)
    [stored] = _submissions(live, alpha)
    assert stored["instance_uuid"] == instance_uuid
    _, detail, _ = call(live.client, "GET", f"/api/submissions/{stored['id']}", alpha.tokens["viewer"])
    assert detail["answers"]["name"] == "Awa"
    [photo] = detail["attachments"]
    assert photo["name"] == "1733580000000.jpg"
    assert requests.get(photo["url"], timeout=10).content == PHOTO


def test_wrong_digest_passwords_are_refused_then_throttled(live, alpha, photo_form):
    phone = CollectClient(_server(live, alpha), COLLECTOR, "not the password")
    statuses = []
    for _ in range(6):
        phone.digest = None  # a new attempt: Collect asks its user again
        with pytest.raises(CollectError) as refused:
            phone.form_list()
        statuses.append(int(str(refused.value).split(": ")[1].split()[0]))
    assert statuses == [401] * 5 + [429]


def test_digest_waits_for_a_password_login_of_users_made_before_it(live, alpha, photo_form):
    email = "earlier@alpha.example.org"
    with db.transaction() as cur:  # as users were stored before Digest: a scrypt hash, no sealed HA1
        user_id = users_sql.create(cur, alpha.account_id, email, "Earlier", "data_collector",
                                   credentials.hash_password(PASSWORD))  # fmt: skip
        users_sql.set_projects(cur, alpha.account_id, user_id, [alpha.project_id])
    phone = CollectClient(_server(live, alpha), email, PASSWORD)
    with pytest.raises(CollectError, match="401"):
        phone.form_list()
    login(live.client, email)  # the next password login seals the HA1
    phone.digest = None
    assert [item.form_id for item in phone.form_list()] == ["photo_survey"]


def test_a_stale_nonce_is_renewed_without_asking_the_user(live, alpha, photo_form, monkeypatch):
    phone = CollectClient(_server(live, alpha), COLLECTOR, PASSWORD)
    phone.form_list()
    phone.digest.nonce = "1000000000." + phone.digest.nonce.split(".")[1]  # long expired
    assert len(phone.form_list()) == 1
    assert [status for _, _, status in phone.log] == [401, 200, 401, 200] and phone.challenges_seen == 2


def test_a_collect_token_url_needs_no_challenge_and_keeps_its_token(live, alpha, photo_form):
    created = _collect_token(live, alpha)
    assert created["server_url"] == f"{live.url}/api/openrosa/key/{created['token']}/{alpha.project_id}"
    phone = CollectClient(created["server_url"])  # no username, no password
    [item] = phone.form_list()
    assert item.download_url.startswith(created["server_url"] + "/forms/")
    assert item.manifest_url == f"{item.download_url}/manifest"
    form = phone.download(item)
    assert set(form.media) == set(MEDIA)
    instance, instance_uuid = _filled(form.xml, "Binta")
    assert phone.submit(instance, {"1733580000000.jpg": PHOTO}).status_code == 201
    assert {status for _, _, status in phone.log} <= {200, 201, 204} and phone.challenges_seen == 0
    [stored] = _submissions(live, alpha)
    assert stored["instance_uuid"] == instance_uuid
    path = f"/api/projects/{alpha.project_id}/collect-tokens"
    status, page, _ = call(live.client, "GET", path, alpha.tokens["form_manager"])
    assert status == 200 and [row["name"] for row in page["results"]] == ["Team A"]
    assert "token" not in page["results"][0] and page["results"][0]["last_used_at"] is not None


def test_a_revoked_token_opens_nothing(live, alpha, photo_form):
    created = _collect_token(live, alpha)
    path = f"/api/projects/{alpha.project_id}/collect-tokens/{created['id']}"
    status, revoked, _ = call(live.client, "DELETE", path, alpha.tokens["form_manager"])
    assert status == 200 and revoked["revoked_at"] is not None
    for url in (f"{created['server_url']}/formList", f"{created['server_url']}/forms/{photo_form['id']}"):
        answer = requests.get(url, headers={"X-OpenRosa-Version": "1.0"}, timeout=10)
        assert answer.status_code == 404 and "WWW-Authenticate" not in answer.headers
        assert answer.json()["error"]["code"] == "collect_token.not_found"
        assert created["token"] not in answer.text


def test_another_accounts_phones_see_none_of_our_forms_or_submissions(live, alpha, photo_form):
    ours = CollectClient(_server(live, alpha), COLLECTOR, PASSWORD)
    [item] = ours.form_list()
    beta = make_tenant(live.client, "beta", roles=("data_collector", "form_manager"))
    join_project(live.client, beta, "data_collector")
    join_project(live.client, beta, "form_manager")
    theirs = CollectClient(_server(live, alpha), "data_collector@beta.example.org", PASSWORD)
    instance, _ = _filled(ours.download(item).xml, "Intruder")
    attempts = (theirs.form_list, lambda: theirs.download(item), lambda: theirs.manifest(item.manifest_url),
                lambda: theirs.submit(instance, {}))  # fmt: skip
    for attempt in attempts:
        with pytest.raises(CollectError, match=": 404"):
            attempt()
    their_token = _collect_token(live, beta)
    for url in (
        f"{live.url}/api/openrosa/key/{their_token['token']}/{alpha.project_id}/formList",
        f"{live.url}/api/openrosa/key/{their_token['token']}/{alpha.project_id}/forms/{photo_form['id']}",
        f"{their_token['server_url']}/forms/{photo_form['id']}",
        f"{their_token['server_url']}/forms/{photo_form['id']}/manifest",
    ):
        assert requests.get(url, timeout=10).status_code == 404, url
    assert CollectClient(their_token["server_url"]).form_list() == []
    status, _, _ = call(
        live.client, "POST", f"/api/projects/{alpha.project_id}/collect-tokens",
        beta.tokens["form_manager"], {"name": "theirs"},
    )  # fmt: skip
    assert status == 404
    assert _submissions(live, alpha) == []
