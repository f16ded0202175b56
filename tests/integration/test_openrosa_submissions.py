"""OpenRosa submissions exactly as ODK Collect makes them: HEAD, then a multipart POST with
`xml_submission_file` and the attachments, answered 201 with an OpenRosaResponse; 409 when the same
instanceID comes back with different XML. The form comes from the API, as a form manager publishes it."""

import base64
import re
import xml.etree.ElementTree as ET

import pytest
from urllib3.filepost import encode_multipart_formdata

from tests.integration.formkit import add_version, create_form, fixture_bytes
from tests.integration.helpers import PASSWORD, call, make_tenant
from tests.integration.ingestkit import collecting_tenant, join_project
from tests.integration.test_submissions import FORM_1_UUID, FORM_1_XML, _listed

RESPONSE = "{http://openrosa.org/http/response}"
COLLECT = {"X-OpenRosa-Version": "1.0", "User-Agent": "org.odk.collect.android/v2024.2.4 okhttp/4.12.0"}


@pytest.fixture
def alpha(client, ingest_stack):
    return collecting_tenant(client, "alpha", ("form_manager", "reviewer"))


@pytest.fixture
def instance(client, alpha) -> bytes:
    """form_1's real submission, made for the version the API published (Collect fills the form it
    downloaded, whose version the server generated)."""
    form = create_form(client, alpha.tokens["form_manager"], [alpha.project_id], name="Quality of care")
    version = add_version(client, alpha.tokens["form_manager"], form["id"], fixture_bytes("form_1.xlsx"))
    xform = _send(client, "GET", f"/api/openrosa/{alpha.project_id}/forms/{form['id']}", _collector())
    assert f'version="{version["version"]}"'.encode() in xform.body
    return FORM_1_XML.replace(b'version="2020060801"', f'version="{version["version"]}"'.encode())


def _collector(email: str = "data_collector@alpha.example.org") -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{email}:{PASSWORD}".encode()).decode()}


def _send(client, method: str, path: str, headers: dict, body: bytes = b""):
    return client.http.request(method, path, headers=COLLECT | headers, body=body)


def _submit(client, tenant, xml: bytes, attachments: dict[str, bytes] | None = None, headers=None):
    fields = {"xml_submission_file": ("instance.xml", xml, "text/xml")}
    fields |= {name: (name, content, "image/jpeg") for name, content in (attachments or {}).items()}
    body, content_type = encode_multipart_formdata(fields)
    path = f"/api/openrosa/{tenant.project_id}/submission"
    return _send(client, "POST", path, (headers or _collector()) | {"Content-Type": content_type}, body)


def _message(response) -> tuple[str | None, str]:
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert response.headers["X-OpenRosa-Version"] == "1.0"
    root = ET.fromstring(response.body)
    assert root.tag == f"{RESPONSE}OpenRosaResponse"
    message = root.find(f"{RESPONSE}message")
    return message.get("nature"), message.text


def test_collect_heads_then_posts_a_submission_with_an_attachment(client, ingest_stack, alpha, instance):
    path = f"/api/openrosa/{alpha.project_id}/submission"
    challenged = _send(client, "HEAD", path, {})
    assert (
        challenged.status_code == 401
        and challenged.headers["WWW-Authenticate"][1] == 'Basic realm="georegistry"'
    )
    head = _send(client, "HEAD", path, _collector())
    assert head.status_code == 204 and head.headers["X-OpenRosa-Version"] == "1.0"
    assert int(head.headers["X-OpenRosa-Accept-Content-Length"]) == 10 * 1024 * 1024
    photo = b"\xff\xd8\xff" + b"photo" * 200
    created = _submit(client, alpha, instance, {"1700000000000.jpg": photo})
    assert created.status_code == 201, created.body
    assert _message(created) == ("submit_success", "Thank you: the submission was received.")
    [listed] = _listed(client, alpha)
    assert listed["instance_uuid"] == FORM_1_UUID and listed["project_id"] == alpha.project_id
    _, submission, _ = call(client, "GET", f"/api/submissions/{listed['id']}", alpha.tokens["reviewer"])
    assert submission["answers"]["section_6"]["gr1"]["QOC_HD_FA_NG_6.1_max"] == "10"
    [attachment] = submission["attachments"]
    assert (attachment["name"], attachment["size"]) == ("1700000000000.jpg", len(photo))
    assert ingest_stack.drain() == 0  # OpenRosa files are not upload events


def test_a_resubmission_is_accepted_once_and_different_xml_is_a_conflict(
    client, ingest_stack, alpha, instance
):
    assert _submit(client, alpha, instance).status_code == 201
    # Collect splits big submissions: the XML again with the remaining attachments
    again = _submit(client, alpha, instance, {"second.jpg": b"more"})
    assert again.status_code == 201 and _message(again)[1] == "It was received already."
    changed = instance.replace(b"<QOC_HD_FA_NG_6.1>1<", b"<QOC_HD_FA_NG_6.1>0<")
    conflict = _submit(client, alpha, changed)
    assert conflict.status_code == 409
    nature, text = _message(conflict)
    assert nature == "error" and "exists with different XML" in text
    [listed] = _listed(client, alpha)
    _, submission, _ = call(client, "GET", f"/api/submissions/{listed['id']}", alpha.tokens["reviewer"])
    assert submission["answers"]["section_6"]["gr1"]["QOC_HD_FA_NG_6.1"] == "1"
    assert [a["name"] for a in submission["attachments"]] == ["second.jpg"]


def test_unreadable_or_unknown_submissions_are_refused_with_a_message(client, ingest_stack, alpha, instance):
    for xml, expected in [
        (b"<data id='QOC-HD-00000_v6'><open></data>", "the XML is malformed"),
        (re.sub(rb'version="\d+"', b'version="1999"', instance, count=1), "version '1999' is unknown"),
    ]:
        refused = _submit(client, alpha, xml)
        assert refused.status_code == 400
        assert expected in _message(refused)[1]
    body, content_type = encode_multipart_formdata({"other": ("x.txt", b"x", "text/plain")})
    missing = _send(client, "POST", f"/api/openrosa/{alpha.project_id}/submission",
                    _collector() | {"Content-Type": content_type}, body)  # fmt: skip
    assert missing.status_code == 400
    assert _listed(client, alpha) == []


def test_other_projects_and_accounts_cannot_submit(client, ingest_stack, alpha, instance):
    beta = make_tenant(client, "beta", roles=("data_collector",))
    join_project(client, beta, "data_collector")
    refused = _submit(client, alpha, instance, headers=_collector("data_collector@beta.example.org"))
    assert refused.status_code == 404
    head = _send(
        client,
        "HEAD",
        f"/api/openrosa/{alpha.project_id}/submission",
        _collector("data_collector@beta.example.org"),
    )
    assert head.status_code == 404
    _, other, _ = call(
        client, "POST", "/api/projects", alpha.tokens["admin"], {"name": "Q", "app_id": "org.alpha.q"}
    )
    body, content_type = encode_multipart_formdata({"xml_submission_file": ("i.xml", instance, "text/xml")})
    elsewhere = _send(client, "POST", f"/api/openrosa/{other['id']}/submission",
                      _collector() | {"Content-Type": content_type}, body)  # fmt: skip
    assert elsewhere.status_code == 404
    reviewer = _submit(client, alpha, instance, headers=_collector("reviewer@alpha.example.org"))
    assert reviewer.status_code in (403, 404)
    assert _listed(client, alpha) == []
