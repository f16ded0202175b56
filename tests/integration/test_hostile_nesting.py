"""Hostile input over HTTP and through ingestion: deep nesting (JSON bodies, cursors, instance XML), XML
with too many elements or an entity, oversized answers, and `.`/`..` in what becomes an S3 key. Each
answer is a 400 (or an OpenRosaResponse saying why, a quarantined upload, an ERRORED task) naming the
limit or the reason, at the first try, with nothing stored."""

import base64
import json
import urllib.parse

import pytest

from chalicelib.platform import db
from tests.integration.helpers import call
from tests.integration.ingestkit import UPLOADS, collecting_tenant, publish_form
from tests.integration.test_bulk_submissions import _bulk, _zip
from tests.integration.test_openrosa_submissions import _message, _submit
from tests.integration.test_submissions import FORM_1_UUID, FORM_1_XML

META = b"<meta><instanceID>uuid:hostile-1</instanceID></meta>"


@pytest.fixture
def alpha(client, ingest_stack):
    return collecting_tenant(client, "alpha", ("reviewer",))


def _nested_json(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def _instance(body: bytes, meta: bytes = META) -> bytes:
    return b"<data id='QOC-HD-00000_v6' version='2020060801'>" + body + meta + b"</data>"


def _stored(stack) -> tuple[dict, list[str]]:
    """What the database and the uploads bucket hold of submissions."""
    with db.transaction() as cur:
        cur.execute(
            """SELECT (SELECT count(*) FROM submissions) AS submissions,
                      (SELECT count(*) FROM submission_files) AS files,
                      (SELECT count(*) FROM submission_upload_grants) AS grants"""
        )
        counts = dict(cur.fetchone())
    keys = [item["Key"] for item in stack.s3.list_objects_v2(Bucket=UPLOADS).get("Contents", [])]
    return counts, keys


NOTHING = {"submissions": 0, "files": 0, "grants": 0}


# JSON bodies and cursors


def test_a_login_of_2000_nested_arrays_is_a_400_naming_the_depth_limit(client):
    status, problem, _ = call(client, "POST", "/api/auth/login", body=_nested_json(2_000))
    assert status == 400, problem
    assert problem["error"]["code"] == "request.invalid_json"
    assert "exceeds the limit of 32 levels (JSON_MAX_DEPTH)" in problem["error"]["message"]


def test_a_body_one_level_too_deep_is_refused_but_brackets_in_strings_are_not_nesting(client, alpha):
    deep = b'{"email": "a@b.org", "password": "x", "other": ' + _nested_json(32) + b"}"
    status, problem, _ = call(client, "POST", "/api/auth/login", body=deep)
    assert status == 400 and problem["error"]["code"] == "request.invalid_json"
    assert "JSON_MAX_DEPTH" in problem["error"]["message"]
    bracketed = {"email": "data_collector@alpha.example.org", "password": "[{" * 100}
    status, problem, _ = call(client, "POST", "/api/auth/login", body=bracketed)
    assert status == 401, problem  # read as a (wrong) password, not as nesting


@pytest.mark.parametrize("depth", [2_000, 40])
def test_a_cursor_of_nested_arrays_is_a_400_on_the_cursor(client, alpha, depth):
    cursor = urllib.parse.quote(base64.urlsafe_b64encode(_nested_json(depth)).decode())
    status, problem, _ = call(client, "GET", f"/api/users?cursor={cursor}", alpha.tokens["admin"])
    assert status == 400, problem
    assert problem["error"]["code"] == "request.invalid_parameter"
    assert problem["error"]["details"] == {"parameter": "cursor"}
    assert "is not a cursor this API returned" in problem["error"]["message"]
    if depth > 1_000:  # past what Python's json reads at all
        assert "JSON_MAX_DEPTH" in problem["error"]["message"]


# Instance XML over OpenRosa


HOSTILE_XML = [
    (_instance(b"<a>" * 20_000 + b"</a>" * 20_000), "exceeds the limit of 64 levels (XML_MAX_DEPTH)"),
    (_instance(b"<q>1</q>" * 100_000), "exceeds the limit of 100,000 (XML_MAX_ELEMENTS)"),
    (b'<!DOCTYPE data [<!ENTITY big "' + b"x" * 50_000 + b'">]>'
     + _instance(b"<a>" + b"&big;" * 150 + b"</a>"), "declares a DTD or entities"),
    (_instance(b"<a>" + "é".encode() * 1_000_000 + b"</a>"), "(ANSWERS_MAX_BYTES)"),
    (_instance(b"", b"<meta><instanceID>uuid:..</instanceID></meta>"), "meta/instanceID '..' has a part"),
    (_instance(b"", b"<meta><instanceID>.</instanceID></meta>"), "meta/instanceID '.' has a part"),
]  # fmt: skip
HOSTILE_IDS = ["deep", "many-elements", "entity", "big-answers", "dotdot-instance", "dot-instance"]


@pytest.mark.parametrize(("xml", "reason"), HOSTILE_XML, ids=HOSTILE_IDS)
def test_openrosa_answers_hostile_xml_with_a_400_saying_why(client, ingest_stack, alpha, xml, reason):
    refused = _submit(client, alpha, xml)
    assert refused.status_code == 400, refused.body
    nature, text = _message(refused)
    assert nature == "error" and text.startswith("The submission cannot be read: ") and reason in text
    assert _stored(ingest_stack) == (NOTHING, [])


def test_openrosa_refuses_an_attachment_named_only_with_dots(client, ingest_stack, alpha):
    for name in ("..", "...", "photos/.."):
        refused = _submit(client, alpha, _instance(b"<a>1</a>"), {name: b"jpeg"})
        assert refused.status_code == 400, refused.body
        nature, text = _message(refused)
        assert nature == "error" and f"has the file name {name!r}, made only of dots" in text
    assert _stored(ingest_stack) == (NOTHING, [])


# Instance XML through the uploads bucket


@pytest.mark.parametrize(("xml", "reason"), HOSTILE_XML[:4], ids=HOSTILE_IDS[:4])
def test_ingestion_quarantines_hostile_xml_at_the_first_try(client, ingest_stack, alpha, xml, reason):
    form = publish_form(alpha.account_id, [alpha.project_id], "form_1.xlsx")
    xml = xml.replace(b"uuid:hostile-1", f"uuid:{FORM_1_UUID}".encode())
    files = [{"name": "instance.xml", "size": len(xml)}]
    body = {"project_id": alpha.project_id, "instance_uuid": FORM_1_UUID, "form_id": form["form_id"],
            "form_version": form["version"], "files": files}  # fmt: skip
    status, granted, _ = call(
        client, "POST", "/api/mobile/submissions/upload-urls", alpha.tokens["data_collector"], body
    )
    assert status == 201, granted
    assert ingest_stack.post(granted["files"][0], xml, "text/xml").status_code == 204
    assert ingest_stack.drain() == 1  # handled once: no error left for a retry
    queue = ingest_stack.sqs.get_queue_attributes(QueueUrl=ingest_stack.ingest_url, AttributeNames=["All"])
    assert queue["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "0"
    status, page, _ = call(client, "GET", "/api/quarantined-uploads", alpha.tokens["reviewer"])
    [kept] = page["results"]
    assert reason in kept["reason"] and kept["s3_key"] == granted["files"][0]["key"]
    counts, _ = _stored(ingest_stack)
    assert counts == NOTHING | {"grants": 1}


# Names of S3 keys in upload grants


@pytest.mark.parametrize("instance_uuid", [".", "..", "...", "uuid:..", "uuid:."])
def test_an_upload_grant_for_an_instance_id_of_only_dots_is_a_400(client, ingest_stack, alpha, instance_uuid):
    form = publish_form(alpha.account_id, [alpha.project_id], "form_1.xlsx")
    body = {"project_id": alpha.project_id, "instance_uuid": instance_uuid, "form_id": form["form_id"],
            "form_version": form["version"], "files": [{"name": "instance.xml", "size": 10}]}  # fmt: skip
    status, problem, _ = call(
        client, "POST", "/api/mobile/submissions/upload-urls", alpha.tokens["data_collector"], body
    )
    assert status == 400, problem
    assert problem["error"]["details"] == {"field": "instance_uuid"}
    assert "not only dots" in problem["error"]["message"]
    assert _stored(ingest_stack) == (NOTHING, [])


@pytest.mark.parametrize("name", ["..", ".", "..."])
def test_an_upload_grant_for_a_file_named_only_with_dots_is_a_400(client, ingest_stack, alpha, name):
    form = publish_form(alpha.account_id, [alpha.project_id], "form_1.xlsx")
    files = [{"name": "instance.xml", "size": 10}, {"name": name, "size": 10}]
    body = {"project_id": alpha.project_id, "instance_uuid": FORM_1_UUID, "form_id": form["form_id"],
            "form_version": form["version"], "files": files}  # fmt: skip
    status, problem, _ = call(
        client, "POST", "/api/mobile/submissions/upload-urls", alpha.tokens["data_collector"], body
    )
    assert status == 400, problem
    assert problem["error"]["details"] == {"field": "files"}
    assert f"{name!r} is not a plain file name" in problem["error"]["message"]
    assert _stored(ingest_stack) == (NOTHING, [])


# Bulk zips


@pytest.mark.commits
def test_bulk_entries_with_dot_names_are_quarantined_and_write_no_key(client, ingest_stack, alpha):
    instances = [{"id": "..", "file": "a.xml"}, {"id": "uuid:.", "file": "a.xml"},
                 {"id": "a/../b", "file": "a.xml"}, {"id": "dots-file", "file": "x/.."},
                 {"id": "dots-member", "file": "i.xml"}]  # fmt: skip
    content = _zip({"instances.json": json.dumps(instances).encode(), "../a.xml": FORM_1_XML,
                    "dots-file/..": FORM_1_XML, "dots-member/i.xml": FORM_1_XML,
                    "dots-member/...": b"jpeg"})  # fmt: skip
    done = _bulk(client, ingest_stack, alpha, content)
    assert done["status"] == "SUCCESS", done["error_message"]
    assert done["result"] == {"submissions": 0, "duplicates": 0, "quarantined": 5, "attachments": 0}
    status, page, _ = call(client, "GET", "/api/quarantined-uploads", alpha.tokens["reviewer"])
    reasons = sorted(kept["reason"] for kept in page["results"])
    zip_key = page["results"][0]["s3_key"].split("#")[0]
    assert sorted(kept["s3_key"] for kept in page["results"]) == [
        f"{zip_key}#instances.json[{position}]" for position in range(5)
    ]
    assert reasons == [
        "instances.json: the file 'x/..' of 'dots-file' is a name made only of dots",
        "instances.json: the id '..' has a part made only of dots",
        "instances.json: the id 'a/../b' has a part made only of dots",
        "instances.json: the id 'uuid:.' has a part made only of dots",
        "the zip's file 'dots-member/...' has a name made only of dots",
    ]
    counts, keys = _stored(ingest_stack)
    assert counts == NOTHING and [key for key in keys if not key.endswith(".zip")] == []


@pytest.mark.commits
def test_bulk_instances_json_nested_too_deep_ends_errored_with_the_limit(client, ingest_stack, alpha):
    content = _zip({"instances.json": _nested_json(100_000)})
    done = _bulk(client, ingest_stack, alpha, content)
    assert done["status"] == "ERRORED" and done["attempts"] == 1
    assert "instances.json's nesting exceeds the limit of 32 levels (JSON_MAX_DEPTH)" in done["error_message"]
    counts, keys = _stored(ingest_stack)
    assert counts == NOTHING and [key for key in keys if not key.endswith(".zip")] == []
    with db.transaction() as cur:
        cur.execute("SELECT count(*) AS n FROM quarantined_uploads")
        assert cur.fetchone()["n"] == 0
