"""A phone's bulk upload: a zip in Iaso's mobile layout, ingested as a task."""

import io
import json
import zipfile

import pytest

from chalicelib.platform import db
from tests.integration.helpers import call, make_tenant
from tests.integration.ingestkit import collecting_tenant, publish_form
from tests.integration.taskkit import row
from tests.integration.test_submissions import FORM_1_UUID, FORM_1_XML, REPEAT_XML, _listed

pytestmark = pytest.mark.commits  # tasks report progress on a second connection

REPEAT_UUID = "87eefa63-7523-479e-bb91-d21aa27cc6e7"


@pytest.fixture
def alpha(client, ingest_stack):
    tenant = collecting_tenant(client, "alpha", ("reviewer",))
    publish_form(tenant.account_id, [tenant.project_id], "form_1.xlsx")
    publish_form(tenant.account_id, [tenant.project_id], "repeat_group_form.xlsx")
    return tenant


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _bulk(client, stack, tenant, content: bytes) -> dict:
    token = tenant.tokens["data_collector"]
    status, upload, _ = call(client, "POST", "/api/mobile/submissions/bulk-upload-url", token,
                             {"project_id": tenant.project_id})  # fmt: skip
    assert status == 201, upload
    assert upload["s3_key"].startswith(f"bulk/{tenant.account_id}/{tenant.project_id}/")
    response = stack.post({"name": "bulk.zip", **upload}, content, "application/zip")
    assert response.status_code == 204
    status, task, _ = call(client, "POST", "/api/mobile/submissions/bulk", token,
                           {"project_id": tenant.project_id, "s3_key": upload["s3_key"]})  # fmt: skip
    assert status == 201, task
    stack.run_tasks()
    assert stack.drain() == 0  # bulk files do not go through the upload events
    return row(task["id"])


def test_a_bulk_zip_ingests_every_instance_with_its_attachments(client, ingest_stack, alpha, tree):
    instances = [
        {"id": FORM_1_UUID, "file": "/sdcard/odk/instances/form_1/form_1.xml", "orgUnitId": tree["Dakar"],
         "period": "202006"},
        {"id": REPEAT_UUID, "file": "repeat.xml"},
    ]  # fmt: skip
    files = {"instances.json": json.dumps(instances).encode(), f"{FORM_1_UUID}/form_1.xml": FORM_1_XML,
             f"{FORM_1_UUID}/photo.jpg": b"jpeg", f"{REPEAT_UUID}/repeat.xml": REPEAT_XML}  # fmt: skip
    content = _zip(files)
    done = _bulk(client, ingest_stack, alpha, content)
    assert done["status"] == "SUCCESS", done["error_message"]
    assert done["result"] == {"submissions": 2, "duplicates": 0, "quarantined": 0, "attachments": 1}
    listed = {r["instance_uuid"]: r for r in _listed(client, alpha)}
    assert set(listed) == {FORM_1_UUID, REPEAT_UUID}
    assert (listed[FORM_1_UUID]["org_unit_id"], listed[FORM_1_UUID]["period"]) == (tree["Dakar"], "202006")
    _, submission, _ = call(client, "GET", f"/api/submissions/{listed[FORM_1_UUID]['id']}",
                            alpha.tokens["reviewer"])  # fmt: skip
    assert [a["name"] for a in submission["attachments"]] == ["photo.jpg"]
    again = _bulk(client, ingest_stack, alpha, content)
    assert again["result"]["duplicates"] == 2 and len(_listed(client, alpha)) == 2


def test_a_bad_instance_is_quarantined_and_the_others_go_in(client, ingest_stack, alpha):
    instances = [{"id": FORM_1_UUID, "file": "form_1.xml"}, {"id": REPEAT_UUID, "file": "repeat.xml"},
                 {"id": "missing", "file": "missing.xml"}]  # fmt: skip
    content = _zip({"instances.json": json.dumps(instances).encode(), f"{FORM_1_UUID}/form_1.xml": FORM_1_XML,
                    f"{REPEAT_UUID}/repeat.xml": b"<data id='eventtracker2334'><broken></data>"})  # fmt: skip
    done = _bulk(client, ingest_stack, alpha, content)
    assert done["status"] == "SUCCESS", done["error_message"]
    assert done["result"] == {"submissions": 1, "duplicates": 0, "quarantined": 2, "attachments": 0}
    status, page, _ = call(client, "GET", "/api/quarantined-uploads", alpha.tokens["reviewer"])
    reasons = sorted(q["reason"] for q in page["results"])
    assert reasons[0].startswith("the XML is malformed") and reasons[1].startswith(
        "the zip has no missing/missing.xml"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a zip at all", "is not a zip file"),
        (None, "has no instances.json"),
        ("bad-json", "instances.json is not JSON"),
        ("not-a-list", "must be a list of objects with an id"),
    ],
)
def test_an_unreadable_zip_ends_errored_and_writes_nothing(client, ingest_stack, alpha, content, message):
    if content is None:
        content = _zip({f"{FORM_1_UUID}/form_1.xml": FORM_1_XML})
    elif content == "bad-json":
        content = _zip({"instances.json": b"[{", f"{FORM_1_UUID}/form_1.xml": FORM_1_XML})
    elif content == "not-a-list":
        content = _zip({"instances.json": b'{"id": 1}'})
    done = _bulk(client, ingest_stack, alpha, content)
    assert done["status"] == "ERRORED" and message in done["error_message"]
    with db.transaction() as cur:
        cur.execute(
            "SELECT (SELECT count(*) FROM submissions) + (SELECT count(*) FROM quarantined_uploads) AS n"
        )
        assert cur.fetchone()["n"] == 0


def test_bulk_uploads_stay_in_the_users_projects(client, ingest_stack, alpha):
    beta = make_tenant(client, "beta")
    token = alpha.tokens["data_collector"]
    status, _, _ = call(client, "POST", "/api/mobile/submissions/bulk-upload-url", token,
                        {"project_id": beta.project_id})  # fmt: skip
    assert status == 404
    body = {"project_id": alpha.project_id, "s3_key": f"bulk/{beta.account_id}/1/x.zip"}
    status, problem, _ = call(client, "POST", "/api/mobile/submissions/bulk", token, body)
    assert status == 400 and problem["error"]["details"]["field"] == "s3_key"
    body = {"project_id": alpha.project_id, "s3_key": f"bulk/{alpha.account_id}/1/x.zip"}
    status, _, _ = call(client, "POST", "/api/mobile/submissions/bulk", alpha.tokens["reviewer"], body)
    assert status == 403
