"""Submissions end to end: upload grants, presigned POSTs to a moto server over real HTTP, S3 events
through EventBridge to the ingest queue, the app's ingestion handler, then the API."""

import uuid
import xml.etree.ElementTree as ET

import pytest

from chalicelib.platform import db
from tests.integration.formkit import add_version, create_form, fixture_bytes
from tests.integration.helpers import PASSWORD, call, login, make_tenant, restrict
from tests.integration.ingestkit import FIXTURES, UPLOADS, collecting_tenant, publish_form

FORM_1_XML = (FIXTURES / "form_1_submission.xml").read_bytes()
FORM_1_UUID = "df8b4f5d-6b26-4fc5-a39a-6d923f740ecb"
REPEAT_XML = (FIXTURES / "repeat_group_submission.xml").read_bytes()


@pytest.fixture
def alpha(client, ingest_stack):
    return collecting_tenant(client, "alpha", ("reviewer", "viewer", "registry_editor"))


@pytest.fixture
def form_1(alpha):
    return publish_form(alpha.account_id, [alpha.project_id], "form_1.xlsx")


@pytest.fixture
def repeat_form(alpha):
    return publish_form(alpha.account_id, [alpha.project_id], "repeat_group_form.xlsx")


def _grant(client, tenant, form: dict, instance_uuid: str, files: list[dict], **extra) -> dict:
    body = {"project_id": tenant.project_id, "instance_uuid": instance_uuid, "form_id": form["form_id"],
            "form_version": form["version"], "files": files} | extra  # fmt: skip
    status, granted, _ = call(
        client, "POST", "/api/mobile/submissions/upload-urls", tenant.tokens["data_collector"], body
    )
    assert status == 201, granted
    return {file["name"]: file for file in granted["files"]}


def _submit(client, stack, tenant, form, xml: bytes, instance_uuid: str, **extra) -> dict:
    grants = _grant(client, tenant, form, instance_uuid, [{"name": "instance.xml", "size": len(xml),
                                                          "content_type": "text/xml"}], **extra)  # fmt: skip
    assert stack.post(grants["instance.xml"], xml, "text/xml").status_code == 204
    stack.drain()
    return grants


def _listed(client, tenant, query: str = "", role: str = "reviewer") -> list[dict]:
    status, page, _ = call(client, "GET", f"/api/submissions{query}", tenant.tokens[role])
    assert status == 200, page
    return page["results"]


def _paths(element, prefix=()):
    """Every element of an XML tree as a path of local names (the root is the empty path)."""
    yield prefix
    for child in element:
        yield from _paths(child, (*prefix, child.tag.rsplit("}", 1)[-1]))


def _at(answers, path):
    node = answers
    for name in path:
        node = node[0] if isinstance(node, list) else node
        node = node[name]
    return node


def test_a_real_submission_uploaded_over_http_is_ingested_with_every_answer(
    client, ingest_stack, alpha, form_1
):
    grants = _submit(client, ingest_stack, alpha, form_1, FORM_1_XML, FORM_1_UUID)
    assert grants["instance.xml"]["key"].startswith(
        f"submissions/{alpha.account_id}/{alpha.project_id}/{FORM_1_UUID}/"
    )
    [listed] = _listed(client, alpha)
    assert (listed["instance_uuid"], listed["form_version"], listed["validation_status"]) == (
        FORM_1_UUID, "2020060801", "PENDING",
    )  # fmt: skip
    assert listed["started_at"] == "2020-06-08T16:53:40.100000+00:00"
    # who sent it, and the version number that names its questions (GET /api/forms/{id}/versions/{n})
    assert (listed["created_by"], listed["created_by_email"], listed["form_version_number"]) == (
        alpha.user_ids["data_collector"], "data_collector@alpha.example.org", 1,
    )  # fmt: skip
    status, submission, _ = call(client, "GET", f"/api/submissions/{listed['id']}", alpha.tokens["viewer"])
    assert status == 200
    answers = submission["answers"]
    paths = list(_paths(ET.fromstring(FORM_1_XML)))
    assert len(paths) == 90  # the root, 12 groups and 77 leaves: every one is in the JSON
    for path in paths:
        _at(answers, path)
    assert answers["section_6"]["gr1"]["QOC_HD_FA_NG_6.1_max"] == "10"
    assert answers["section_6"]["sythese"]["note_6.1"] is None
    assert answers["deviceid"] == "354450115013285" and submission["device_id"] == "354450115013285"


def test_repeat_groups_are_kept_as_lists(client, ingest_stack, alpha, repeat_form):
    _submit(client, ingest_stack, alpha, repeat_form, REPEAT_XML, "87eefa63-7523-479e-bb91-d21aa27cc6e7")
    [listed] = _listed(client, alpha)
    _, submission, _ = call(client, "GET", f"/api/submissions/{listed['id']}", alpha.tokens["reviewer"])
    households = submission["answers"]["households"]["hh_repeat"]
    assert [h["name"] for h in households] == ["household 1", "household 2"]
    assert households[1]["households_address"] == {"street": "street b", "number": "45", "city": "Namur"}
    for path in _paths(ET.fromstring(REPEAT_XML)):
        _at(submission["answers"], path)


def test_the_same_upload_twice_makes_one_submission(client, ingest_stack, alpha, form_1):
    grants = _submit(client, ingest_stack, alpha, form_1, FORM_1_XML, FORM_1_UUID)
    assert ingest_stack.post(grants["instance.xml"], FORM_1_XML, "text/xml").status_code == 204
    assert ingest_stack.drain() == 1
    _submit(client, ingest_stack, alpha, form_1, FORM_1_XML, FORM_1_UUID)  # a new grant, the same again
    assert len(_listed(client, alpha)) == 1
    assert _quarantined(client, alpha) == []


def test_an_attachment_that_arrives_before_its_xml_is_linked_when_the_xml_comes(
    client, ingest_stack, alpha, form_1
):
    photo = b"\xff\xd8\xff" + b"jpeg" * 100
    files = [{"name": "instance.xml", "size": len(FORM_1_XML), "content_type": "text/xml"},
             {"name": "1700000000000.jpg", "size": len(photo), "content_type": "image/jpeg"}]  # fmt: skip
    grants = _grant(client, alpha, form_1, FORM_1_UUID, files)
    assert ingest_stack.post(grants["1700000000000.jpg"], photo, "image/jpeg").status_code == 204
    ingest_stack.drain()
    assert _listed(client, alpha) == []
    assert ingest_stack.post(grants["instance.xml"], FORM_1_XML, "text/xml").status_code == 204
    ingest_stack.drain()
    [listed] = _listed(client, alpha)
    _, submission, _ = call(client, "GET", f"/api/submissions/{listed['id']}", alpha.tokens["reviewer"])
    [attachment] = submission["attachments"]
    assert (attachment["name"], attachment["size"], attachment["content_type"]) == (
        "1700000000000.jpg", len(photo), "image/jpeg",
    )  # fmt: skip
    import requests

    assert requests.get(attachment["url"], timeout=10).content == photo


def _quarantined(client, tenant) -> list[dict]:
    status, page, _ = call(client, "GET", "/api/quarantined-uploads", tenant.tokens["reviewer"])
    assert status == 200, page
    return page["results"]


@pytest.mark.parametrize(
    ("xml", "reason"),
    [
        (b"<data id='QOC-HD-00000_v6' version='2020060801'><unclosed></data>", "the XML is malformed"),
        (FORM_1_XML.replace(b'version="2020060801"', b'version="1999"'),
         "the XML is form 'QOC-HD-00000_v6' version '1999', but the upload was granted for"),
        (FORM_1_XML.replace(b"<instanceID>uuid:df8b4f5d", b"<instanceID>uuid:00000000"),
         "is not the granted df8b4f5d"),
        (FORM_1_XML.replace(b"<meta>", b"<gone>").replace(b"</meta>", b"</gone>"), "has no meta/instanceID"),
    ],
)  # fmt: skip
def test_an_xml_that_cannot_be_ingested_is_quarantined_with_its_reason(
    client, ingest_stack, alpha, form_1, xml, reason
):
    _submit(client, ingest_stack, alpha, form_1, xml, FORM_1_UUID)
    assert _listed(client, alpha) == []
    [kept] = _quarantined(client, alpha)
    assert reason in kept["reason"] and kept["s3_key"].endswith(f"{FORM_1_UUID}/instance.xml")
    assert ingest_stack.s3.get_object(Bucket=UPLOADS, Key=kept["s3_key"])["Body"].read() == xml  # kept


def test_a_bigger_object_than_declared_is_quarantined(client, ingest_stack, alpha, form_1):
    grants = _grant(client, alpha, form_1, FORM_1_UUID, [{"name": "instance.xml", "size": 100}])
    # moto does not enforce the policy's content-length-range, as S3 would: ingestion checks again
    assert ingest_stack.post(grants["instance.xml"], FORM_1_XML).status_code == 204
    ingest_stack.drain()
    [kept] = _quarantined(client, alpha)
    assert f"the object is {len(FORM_1_XML)} bytes, more than the 100 declared" in kept["reason"]
    assert _listed(client, alpha) == []


def test_an_object_no_grant_names_is_quarantined_and_shown_to_no_tenant(client, ingest_stack, alpha, form_1):
    beta = make_tenant(client, "beta", roles=("reviewer",))
    _grant(client, alpha, form_1, FORM_1_UUID, [{"name": "instance.xml", "size": len(FORM_1_XML)}])
    # written under beta's prefix (as a leaked credential might): no grant of beta's names it
    key = f"submissions/{beta.account_id}/{beta.project_id}/{FORM_1_UUID}/instance.xml"
    ingest_stack.s3.put_object(Bucket=UPLOADS, Key=key, Body=FORM_1_XML)
    ingest_stack.s3.put_object(Bucket=UPLOADS, Key="submissions/elsewhere.xml", Body=b"<x/>")
    huge = f"submissions/{'9' * 30}/1/{FORM_1_UUID}/instance.xml"  # no account id has 30 digits
    ingest_stack.s3.put_object(Bucket=UPLOADS, Key=huge, Body=b"<x/>")
    assert ingest_stack.drain() == 3  # each handled once: none waits for a retry
    assert _listed(client, alpha) == [] and _listed(client, beta) == []
    assert _quarantined(client, alpha) == [] and _quarantined(client, beta) == []
    with db.transaction() as cur:
        cur.execute("SELECT s3_key, reason, account_id FROM quarantined_uploads ORDER BY s3_key")
        kept = cur.fetchall()
    assert [(row["s3_key"], row["account_id"]) for row in kept] == [
        (key, None),
        (huge, None),
        ("submissions/elsewhere.xml", None),
    ]
    assert "no upload was granted for this key" in kept[0]["reason"]


def test_the_same_instance_with_different_content_is_quarantined_as_a_conflict(
    client, ingest_stack, alpha, form_1
):
    _submit(client, ingest_stack, alpha, form_1, FORM_1_XML, FORM_1_UUID)
    changed = FORM_1_XML.replace(b"<QOC_HD_FA_NG_6.1>1<", b"<QOC_HD_FA_NG_6.1>0<")
    _submit(client, ingest_stack, alpha, form_1, changed, FORM_1_UUID)
    [listed] = _listed(client, alpha)
    _, submission, _ = call(client, "GET", f"/api/submissions/{listed['id']}", alpha.tokens["reviewer"])
    assert submission["answers"]["section_6"]["gr1"]["QOC_HD_FA_NG_6.1"] == "1"  # the first one stays
    [kept] = _quarantined(client, alpha)
    assert "was received before with different content" in kept["reason"]


def _edit_of(xml: bytes, old_uuid: str, new_uuid: str, value: bytes) -> bytes:
    edited = xml.replace(
        f"uuid:{old_uuid}</instanceID>".encode(),
        f"uuid:{new_uuid}</instanceID><deprecatedID>uuid:{old_uuid}</deprecatedID>".encode(),
    )
    return edited.replace(b"<QOC_HD_FA_NG_6.1>1<", b"<QOC_HD_FA_NG_6.1>" + value + b"<")  # fmt: skip


def test_an_edit_creates_a_new_version_and_keeps_the_old_one(client, ingest_stack, alpha, form_1):
    _submit(client, ingest_stack, alpha, form_1, FORM_1_XML, FORM_1_UUID)
    edit_uuid = str(uuid.uuid4())
    _submit(
        client, ingest_stack, alpha, form_1, _edit_of(FORM_1_XML, FORM_1_UUID, edit_uuid, b"0"), edit_uuid
    )
    [current] = _listed(client, alpha)
    assert current["instance_uuid"] == edit_uuid
    _, submission, _ = call(client, "GET", f"/api/submissions/{current['id']}", alpha.tokens["reviewer"])
    assert submission["answers"]["section_6"]["gr1"]["QOC_HD_FA_NG_6.1"] == "0"
    assert [(v["instance_uuid"], v["is_current"]) for v in submission["versions"]] == [
        (FORM_1_UUID, False), (edit_uuid, True),
    ]  # fmt: skip
    old_id = submission["versions"][0]["id"]
    _, old, _ = call(client, "GET", f"/api/submissions/{old_id}", alpha.tokens["reviewer"])
    assert old["answers"]["section_6"]["gr1"]["QOC_HD_FA_NG_6.1"] == "1" and old["is_current"] is False


def test_an_edit_that_arrives_before_its_original_still_wins(client, ingest_stack, alpha, form_1):
    edit_uuid = str(uuid.uuid4())
    _submit(
        client, ingest_stack, alpha, form_1, _edit_of(FORM_1_XML, FORM_1_UUID, edit_uuid, b"0"), edit_uuid
    )
    _submit(client, ingest_stack, alpha, form_1, FORM_1_XML, FORM_1_UUID)
    [current] = _listed(client, alpha)
    assert current["instance_uuid"] == edit_uuid
    _, submission, _ = call(client, "GET", f"/api/submissions/{current['id']}", alpha.tokens["reviewer"])
    assert [(v["instance_uuid"], v["is_current"]) for v in submission["versions"]] == [
        (edit_uuid, True), (FORM_1_UUID, False),
    ]  # fmt: skip


def test_review_status_changes_are_audited_and_need_the_reviewer_role(client, ingest_stack, alpha, form_1):
    _submit(client, ingest_stack, alpha, form_1, FORM_1_XML, FORM_1_UUID)
    [listed] = _listed(client, alpha)
    path = f"/api/submissions/{listed['id']}"
    status, _, _ = call(client, "PATCH", path, alpha.tokens["viewer"], {"validation_status": "APPROVED"})
    assert status == 403
    review = {"validation_status": "REJECTED", "comment": "score sheet incomplete"}
    status, reviewed, _ = call(client, "PATCH", path, alpha.tokens["reviewer"], review)
    assert status == 200 and (reviewed["validation_status"], reviewed["review_comment"]) == (
        "REJECTED", "score sheet incomplete",
    )  # fmt: skip
    status, problem, _ = call(client, "PATCH", path, alpha.tokens["reviewer"], {"validation_status": "MAYBE"})
    assert status == 400 and problem["error"]["details"]["field"] == "validation_status"
    with db.transaction() as cur:
        cur.execute("SELECT user_id, action, before, after FROM audit_log WHERE object_type = 'submission'")
        [entry] = cur.fetchall()
    assert entry["user_id"] == alpha.user_ids["reviewer"] and entry["action"] == "review"
    assert entry["before"] == {"validation_status": "PENDING", "review_comment": None}
    assert entry["after"] == {"validation_status": "REJECTED", "review_comment": "score sheet incomplete"}
    assert _listed(client, alpha, "?validation_status=REJECTED")[0]["id"] == listed["id"]
    assert _listed(client, alpha, "?validation_status=APPROVED") == []


def test_delete_hides_a_submission_and_restore_brings_it_back(client, ingest_stack, alpha, form_1):
    _submit(client, ingest_stack, alpha, form_1, FORM_1_XML, FORM_1_UUID)
    [listed] = _listed(client, alpha)
    path = f"/api/submissions/{listed['id']}"
    assert call(client, "DELETE", path, alpha.tokens["viewer"])[0] == 403
    assert call(client, "DELETE", path, alpha.tokens["reviewer"])[0] == 204
    assert _listed(client, alpha) == [] and len(_listed(client, alpha, "?deleted=true")) == 1
    status, restored, _ = call(client, "POST", f"{path}/restore", alpha.tokens["reviewer"])
    assert status == 200 and restored["deleted_at"] is None
    assert len(_listed(client, alpha)) == 1
    assert call(client, "POST", f"{path}/restore", alpha.tokens["reviewer"])[0] == 409


def test_filters_and_geojson(client, ingest_stack, alpha, form_1, repeat_form, tree):
    _submit(client, ingest_stack, alpha, form_1, FORM_1_XML, FORM_1_UUID,
            org_unit_id=tree["Centre de Santé Pikine"], period="202006")  # fmt: skip
    _submit(client, ingest_stack, alpha, repeat_form, REPEAT_XML, "87eefa63-7523-479e-bb91-d21aa27cc6e7",
            org_unit_id=tree["Poste de Santé Saraya"])  # fmt: skip
    by_uuid = lambda rows: sorted(row["instance_uuid"] for row in rows)  # noqa: E731
    assert by_uuid(_listed(client, alpha, f"?form={form_1['form_id']}")) == [FORM_1_UUID]
    assert by_uuid(_listed(client, alpha, f"?org_unit={tree['Dakar']}")) == [FORM_1_UUID]
    assert len(_listed(client, alpha, f"?org_unit={tree['Sénégal']}")) == 2
    assert by_uuid(_listed(client, alpha, "?period=202006")) == [FORM_1_UUID]
    assert len(_listed(client, alpha, "?created_from=2000-01-01&created_to=2999-01-01")) == 2
    assert _listed(client, alpha, "?created_from=2999-01-01") == []
    assert _listed(client, alpha, "?has_location=true") == []
    status, problem, _ = call(client, "GET", "/api/submissions?colour=red", alpha.tokens["reviewer"])
    assert status == 400 and "colour" in problem["error"]["message"]
    status, problem, _ = call(client, "GET", "/api/submissions?org_unit=999999", alpha.tokens["reviewer"])
    assert status == 404
    status, collection, headers = call(
        client, "GET", "/api/submissions?format=geojson", alpha.tokens["reviewer"]
    )
    assert status == 200 and headers["Content-Type"] == "application/geo+json"
    assert collection["type"] == "FeatureCollection" and len(collection["features"]) == 2
    pikine = next(f for f in collection["features"] if f["properties"]["instance_uuid"] == FORM_1_UUID)
    assert pikine["properties"]["org_unit_name"] == "Centre de Santé Pikine"


def test_grants_check_the_project_the_form_the_unit_and_the_files(client, ingest_stack, alpha, form_1, tree):
    xml = [{"name": "instance.xml", "size": 10}]
    beta = make_tenant(client, "beta", roles=("data_collector",))
    cases = [
        ({"project_id": beta.project_id}, 404, "project"),
        ({"form_version": "1999"}, 400, "form_version"),
        ({"files": []}, 400, "files"),
        ({"files": [{"name": "a.jpg", "size": 10}]}, 400, "files"),
        ({"files": [*xml, {"name": "../../etc/passwd", "size": 10}]}, 400, "files"),
        ({"files": [{"name": "instance.xml", "size": 11 * 1024 * 1024}]}, 400, "files"),
        ({"files": [*xml, *xml]}, 400, "files"),
        ({"instance_uuid": "a/b"}, 400, "instance_uuid"),
        ({"org_unit_id": 999999}, 404, None),
    ]
    for change, status_wanted, field in cases:
        body = {"project_id": alpha.project_id, "instance_uuid": FORM_1_UUID, "form_id": form_1["form_id"],
                "form_version": form_1["version"], "files": xml} | change  # fmt: skip
        status, problem, _ = call(client, "POST", "/api/mobile/submissions/upload-urls",
                                  alpha.tokens["data_collector"], body)  # fmt: skip
        assert status == status_wanted, (change, problem)
        if field and status == 400:
            assert problem["error"]["details"]["field"] == field, problem
    body = {"project_id": alpha.project_id, "instance_uuid": FORM_1_UUID, "form_id": form_1["form_id"],
            "form_version": form_1["version"], "files": xml}  # fmt: skip
    status, _, _ = call(client, "POST", "/api/mobile/submissions/upload-urls", alpha.tokens["viewer"], body)
    assert status == 403
    granted = _grant(client, alpha, form_1, FORM_1_UUID, [{"name": "instance.xml", "size": 10,
                                                          "content_type": "text/xml"}])  # fmt: skip
    policy = granted["instance.xml"]["fields"]
    assert policy["key"].startswith(f"submissions/{alpha.account_id}/{alpha.project_id}/")
    assert policy["Content-Type"] == "text/xml"
    import base64
    import json

    conditions = json.loads(base64.b64decode(policy["policy"]))["conditions"]
    assert ["content-length-range", 1, 10] in conditions and {"Content-Type": "text/xml"} in conditions


def test_another_account_and_another_subtree_see_nothing(
    client, ingest_stack, alpha, form_1, repeat_form, tree
):
    _submit(
        client,
        ingest_stack,
        alpha,
        form_1,
        FORM_1_XML,
        FORM_1_UUID,
        org_unit_id=tree["Centre de Santé Pikine"],
    )
    _submit(client, ingest_stack, alpha, repeat_form, REPEAT_XML, "87eefa63-7523-479e-bb91-d21aa27cc6e7",
            org_unit_id=tree["Poste de Santé Saraya"])  # fmt: skip
    pikine = next(r for r in _listed(client, alpha) if r["instance_uuid"] == FORM_1_UUID)
    beta = make_tenant(client, "beta", roles=("reviewer",))
    path = f"/api/submissions/{pikine['id']}"
    for method, suffix, body in (("GET", "", None), ("PATCH", "", {"validation_status": "APPROVED"}),
                                 ("DELETE", "", None), ("POST", "/restore", None)):  # fmt: skip
        status, problem, _ = call(client, method, path + suffix, beta.tokens["reviewer"], body)
        assert status == 404, (method, problem)
    assert _listed(client, beta) == []
    restrict(client, alpha, "reviewer", tree["Kédougou"])
    seen = _listed(client, alpha)
    assert [row["instance_uuid"] for row in seen] == ["87eefa63-7523-479e-bb91-d21aa27cc6e7"]
    for method, suffix, body in (("GET", "", None), ("PATCH", "", {"validation_status": "APPROVED"}),
                                 ("DELETE", "", None)):  # fmt: skip
        assert call(client, method, path + suffix, alpha.tokens["reviewer"], body)[0] == 404
    assert (
        call(client, "GET", f"/api/submissions?org_unit={tree['Dakar']}", alpha.tokens["reviewer"])[0] == 404
    )
    # a collector restricted to Kédougou cannot link a submission to a unit of Dakar
    restrict(client, alpha, "data_collector", tree["Kédougou"])
    body = {"project_id": alpha.project_id, "instance_uuid": str(uuid.uuid4()), "form_id": form_1["form_id"],
            "form_version": form_1["version"], "files": [{"name": "instance.xml", "size": 10}],
            "org_unit_id": tree["Centre de Santé Pikine"]}  # fmt: skip
    status, _, _ = call(
        client, "POST", "/api/mobile/submissions/upload-urls", alpha.tokens["data_collector"], body
    )
    assert status == 404


def test_a_unit_with_submissions_cannot_be_deleted(client, ingest_stack, alpha, form_1, tree):
    unit = tree["Centre de Santé Pikine"]
    _submit(client, ingest_stack, alpha, form_1, FORM_1_XML, FORM_1_UUID, org_unit_id=unit)
    status, problem, _ = call(client, "DELETE", f"/api/orgunits/{unit}", alpha.tokens["registry_editor"])
    assert status == 409 and problem["error"]["code"] == "orgunit.has_submissions"
    assert "has submissions" in problem["error"]["message"]
    [listed] = _listed(client, alpha)
    assert call(client, "DELETE", f"/api/submissions/{listed['id']}", alpha.tokens["reviewer"])[0] == 204
    assert call(client, "DELETE", f"/api/orgunits/{unit}", alpha.tokens["registry_editor"])[0] == 204


def test_a_phone_uses_the_published_form_from_the_mobile_list(client, ingest_stack, alpha):
    """The whole path as the mobile app walks it: the form manager publishes through the API, the
    phone lists its project's forms, asks for grants naming that version, uploads, and it is ingested."""
    alpha.tokens["form_manager"] = _user_with_role(client, alpha, "form_manager")
    form = create_form(client, alpha.tokens["form_manager"], [alpha.project_id], name="Quality of care")
    add_version(client, alpha.tokens["form_manager"], form["id"], fixture_bytes("form_1.xlsx"))
    status, listed, _ = call(client, "GET", f"/api/mobile/forms?project={alpha.project_id}",
                             alpha.tokens["data_collector"])  # fmt: skip
    assert status == 200, listed
    [mobile_form] = listed["results"]
    published = {"form_id": mobile_form["id"], "version": mobile_form["version"]}
    xml = FORM_1_XML.replace(b'version="2020060801"', f'version="{mobile_form["version"]}"'.encode())
    _submit(client, ingest_stack, alpha, published, xml, FORM_1_UUID)
    [submission] = _listed(client, alpha)
    assert (submission["form_id"], submission["form_version"]) == (form["id"], mobile_form["version"])


def _user_with_role(client, tenant, role: str) -> str:
    email = f"{role}@{tenant.account_id}.example.org"
    body = {"email": email, "full_name": role, "role": role, "password": PASSWORD}
    status, created, _ = call(client, "POST", "/api/users", tenant.tokens["admin"], body)
    assert status == 201, created
    return login(client, email)
