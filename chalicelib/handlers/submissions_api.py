"""Submissions over HTTP: upload grants for phones, then listing, reading, reviewing, deleting."""

from chalice.app import Response

from chalicelib.handlers.http import Call, endpoint, path_id
from chalicelib.platform import jsonutil, paging, problems
from chalicelib.submissions import bulk_submissions, submission_filters, submission_rules
from chalicelib.submissions.submission_rules import UploadFile, UploadRequest
from chalicelib.tasks import task_views

GEOJSON = "application/geo+json"


@endpoint(status=201)
def upload_urls(call: Call) -> dict:
    body = call.body(
        ["project_id", "instance_uuid", "form_id", "form_version", "files", "org_unit_id", "period"]
    )
    instance_uuid = body.text("instance_uuid", required=True, max_length=105)
    if not submission_rules.INSTANCE_UUID.match(instance_uuid):
        raise problems.invalid_field("instance_uuid", "must be the instance's uuid (letters, digits, - . _)")
    request = UploadRequest(
        project_id=body.id("project_id", required=True),
        instance_uuid=instance_uuid,
        form_id=body.id("form_id", required=True),
        form_version=body.text("form_version", required=True),
        files=tuple(_file(call, index, raw) for index, raw in enumerate(_list(body.raw("files")))),
        org_unit_id=body.id("org_unit_id"),
        period=body.text("period", max_length=20),
    )
    return submission_rules.upload_urls(call.cur, call.principal, request)


def _list(raw) -> list:
    if not isinstance(raw, list):
        raise problems.invalid_field("files", "must be a list of {name, size, content_type}")
    return raw


def _file(call: Call, index: int, raw) -> UploadFile:
    if not isinstance(raw, dict):
        raise problems.invalid_field(f"files[{index}]", "must be an object {name, size, content_type}")
    body = call.nested_body(raw, ["name", "size", "content_type"])
    size = body.raw("size")
    if not isinstance(size, int) or isinstance(size, bool):
        raise problems.invalid_field(f"files[{index}].size", "must be a number of bytes")
    return UploadFile(body.text("name", required=True), size, body.text("content_type", max_length=100))


@endpoint(status=201)
def bulk_upload_url(call: Call) -> dict:
    body = call.body(["project_id"])
    return bulk_submissions.upload_url(call.cur, call.principal, body.id("project_id", required=True))


@endpoint(status=201)
def start_bulk_upload(call: Call) -> dict:
    body = call.body(["project_id", "s3_key"])
    project_id = body.id("project_id", required=True)
    key = body.text("s3_key", required=True, max_length=1024)
    return task_views.present(bulk_submissions.launch(call.cur, call.principal, project_id, key))


@endpoint()
def list_submissions(call: Call):
    filters = submission_filters.parse(call.query, extra=("format", "limit", "cursor"))
    page = paging.page_request(call.query)
    rows = submission_rules.list_page(call.cur, call.principal, filters, page.after, page.limit + 1)
    listed = paging.page(rows, page)
    listed["results"] = [submission_rules.present(row) for row in listed["results"]]
    if call.query.get("format") == "geojson" or GEOJSON in (call.request.headers.get("accept") or ""):
        features = [_feature(row) for row in listed.pop("results")]
        body = {"type": "FeatureCollection", "features": features} | listed
        return Response(body=jsonutil.dumps(body), status_code=200, headers={"Content-Type": GEOJSON})
    return listed


def _feature(row: dict) -> dict:
    properties = {name: value for name, value in row.items() if name != "location"}
    return {"type": "Feature", "id": row["id"], "geometry": row["location"], "properties": properties}


@endpoint()
def get_submission(call: Call, submission_id: str) -> dict:
    return submission_rules.get(call.cur, call.principal, path_id(submission_id, "submission"))


@endpoint()
def review_submission(call: Call, submission_id: str) -> dict:
    body = call.body(["validation_status", "comment"])
    status = body.choice("validation_status", submission_rules.STATUSES, required=True)
    comment = body.text("comment", max_length=2000)
    return submission_rules.review(
        call.cur, call.principal, path_id(submission_id, "submission"), status, comment
    )


@endpoint(status=204)
def delete_submission(call: Call, submission_id: str) -> None:
    submission_rules.delete(call.cur, call.principal, path_id(submission_id, "submission"))


@endpoint()
def restore_submission(call: Call, submission_id: str) -> dict:
    return submission_rules.restore(call.cur, call.principal, path_id(submission_id, "submission"))


@endpoint()
def list_quarantined(call: Call) -> dict:
    page = paging.page_request(call.query)
    rows = submission_rules.quarantined(call.cur, call.principal, page.after, page.limit + 1)
    return paging.page(rows, page)
