"""Submissions over HTTP: upload grants for phones, then listing (JSON, or GeoJSON with ?format=geojson /
Accept: application/geo+json), reading, reviewing, deleting; and the uploads ingestion quarantined."""

from typing import Annotated, Any, Literal

from chalicelib.handlers.http import GEOJSON, Call, geojson_response, wants_geojson
from chalicelib.handlers.wire import FeatureCollection, Page, Point, Task, UploadUrl
from chalicelib.platform import paging, problems
from chalicelib.platform.contract import (
    Body,
    Id,
    Limit,
    Meta,
    Name,
    PageQuery,
    PathId,
    Reason,
    Timestamp,
    Wire,
    one_of,
    operation,
    text,
)
from chalicelib.submissions import bulk_submissions, submission_filters, submission_rules
from chalicelib.submissions.submission_rules import UploadFile, UploadRequest
from chalicelib.tasks import task_views

SubmissionId = Annotated[int, PathId("submission")]
Status = one_of(*submission_rules.STATUSES)


class SubmissionFile(Body):
    name: Name
    size: Annotated[int, Meta(description="bytes"), Reason("must be a number of bytes")]
    content_type: text(100) | None = None


class SubmissionUploadRequest(Body):
    project_id: Id
    instance_uuid: text(105, required=True)  # its characters are checked by the handler, after stripping
    form_id: Id
    form_version: Annotated[text(required=True), Meta(description="the XForm's version attribute")]
    files: Annotated[
        list[Annotated[SubmissionFile, Reason("must be an object {name, size, content_type}")]],
        Reason("must be a list of {name, size, content_type}"),
    ]
    org_unit_id: Id | None = None
    period: text(20) | None = None


class SubmissionFileGrant(Wire):
    """A presigned S3 POST for one file: send `fields` and then the file to `url`."""

    name: str
    key: str
    max_bytes: int
    url: str
    fields: dict[str, str]


class SubmissionUploadGrant(Wire):
    instance_uuid: str
    expires_in: int
    files: list[SubmissionFileGrant]


class BulkSubmissionUploadRequest(Body):
    project_id: Id


class BulkSubmissionStart(Body):
    project_id: Id
    s3_key: Annotated[text(1024, required=True), Meta(description="from POST bulk-upload-url")]


class SubmissionListQuery(submission_filters.SubmissionFilters):
    limit: Limit = 50
    cursor: str | None = None
    # Free text as before: only "geojson" changes the answer, anything else is JSON.
    format: Annotated[str | None, Meta(description="geojson: a FeatureCollection")] = None


class Submission(Wire):
    id: int
    form_id: int
    form_version_id: int
    project_id: int | None
    instance_uuid: str
    org_unit_id: int | None
    org_unit_name: str | None
    period: str | None
    validation_status: Literal["PENDING", "APPROVED", "REJECTED"]
    review_comment: str | None
    device_id: str | None
    accuracy: float | None
    is_current: bool
    created_by: int | None  # the user who sent it (a phone's data collector)
    created_by_email: str | None
    started_at: Timestamp | None
    ended_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp
    deleted_at: Timestamp | None
    form_version: str
    form_version_number: int  # GET /api/forms/{form_id}/versions/{number}: its questions and labels
    location: Point | None


class SubmissionAttachment(Wire):
    name: str
    size: int
    content_type: str | None
    url: str  # a presigned download link


class SubmissionVersion(Wire):
    id: int
    instance_uuid: str
    is_current: bool
    deprecated_uuid: str | None
    created_at: Timestamp


class SubmissionDetail(Submission):
    answers: dict[str, Any]
    attachments: list[SubmissionAttachment]
    versions: list[SubmissionVersion]


class SubmissionReview(Body):
    validation_status: Status
    comment: text(2000) | None = None


class QuarantinedUpload(Wire):
    id: int
    s3_key: str
    size: int | None
    reason: str
    created_at: Timestamp


@operation(
    "POST",
    "/api/mobile/submissions/upload-urls",
    summary="Presigned S3 POSTs for an instance's XML and attachments (data collectors)",
    tag="submissions",
    status=201,
)
def upload_urls(call: Call, body: SubmissionUploadRequest) -> SubmissionUploadGrant:
    if not submission_rules.INSTANCE_UUID.match(body.instance_uuid):
        raise problems.invalid_field(
            "instance_uuid", "must be the instance's uuid (letters, digits, - . _; not only dots)"
        )
    request = UploadRequest(
        project_id=body.project_id,
        instance_uuid=body.instance_uuid,
        form_id=body.form_id,
        form_version=body.form_version,
        files=tuple(UploadFile(file.name, file.size, file.content_type) for file in body.files),
        org_unit_id=body.org_unit_id,
        period=body.period,
    )
    return submission_rules.upload_urls(call.cur, call.principal, request)


@operation(
    "POST",
    "/api/mobile/submissions/bulk-upload-url",
    summary="A presigned S3 POST for a zip of instances (data collectors)",
    tag="submissions",
    status=201,
)
def bulk_upload_url(call: Call, body: BulkSubmissionUploadRequest) -> UploadUrl:
    return bulk_submissions.upload_url(call.cur, call.principal, body.project_id)


@operation(
    "POST",
    "/api/mobile/submissions/bulk",
    summary="Ingest an uploaded zip of instances (a task)",
    tag="submissions",
    status=201,
)
def start_bulk_upload(call: Call, body: BulkSubmissionStart) -> Task:
    return task_views.present(bulk_submissions.launch(call.cur, call.principal, body.project_id, body.s3_key))


@operation(
    "GET",
    "/api/submissions",
    summary="Search and list submissions (JSON, or GeoJSON with format=geojson)",
    tag="submissions",
    alternatives={GEOJSON: FeatureCollection},
)
def list_submissions(call: Call, query: SubmissionListQuery) -> Page[Submission]:
    filters = submission_filters.from_query(query)
    page = paging.page_request(query)
    rows = submission_rules.list_page(call.cur, call.principal, filters, page.after, page.limit + 1)
    listed = paging.page(rows, page)
    listed["results"] = [submission_rules.present(row) for row in listed["results"]]
    if wants_geojson(call.request, query.format):
        features = [_feature(row) for row in listed.pop("results")]
        return geojson_response({"type": "FeatureCollection", "features": features} | listed)
    return listed


def _feature(row: dict) -> dict:
    properties = {name: value for name, value in row.items() if name != "location"}
    return {"type": "Feature", "id": row["id"], "geometry": row["location"], "properties": properties}


@operation(
    "GET",
    "/api/submissions/{submission_id}",
    summary="One submission with its answers, attachments and versions",
    tag="submissions",
)
def get_submission(call: Call, submission_id: SubmissionId) -> SubmissionDetail:
    return submission_rules.get(call.cur, call.principal, submission_id)


@operation(
    "PATCH",
    "/api/submissions/{submission_id}",
    summary="Review a submission: its validation status and a comment (reviewers)",
    tag="submissions",
)
def review_submission(call: Call, body: SubmissionReview, submission_id: SubmissionId) -> SubmissionDetail:
    status, comment = body.validation_status, body.comment
    return submission_rules.review(call.cur, call.principal, submission_id, status, comment)


@operation(
    "DELETE",
    "/api/submissions/{submission_id}",
    summary="Delete a submission; it can be restored (reviewers)",
    tag="submissions",
    status=204,
)
def delete_submission(call: Call, submission_id: SubmissionId) -> None:
    submission_rules.delete(call.cur, call.principal, submission_id)


@operation(
    "POST",
    "/api/submissions/{submission_id}/restore",
    summary="Restore a deleted submission (reviewers)",
    tag="submissions",
)
def restore_submission(call: Call, submission_id: SubmissionId) -> SubmissionDetail:
    return submission_rules.restore(call.cur, call.principal, submission_id)


@operation(
    "GET",
    "/api/quarantined-uploads",
    summary="Uploads ingestion could not accept, with the reason",
    tag="submissions",
)
def list_quarantined(call: Call, query: PageQuery) -> Page[QuarantinedUpload]:
    page = paging.page_request(query)
    rows = submission_rules.quarantined(call.cur, call.principal, page.after, page.limit + 1)
    return paging.page(rows, page)
