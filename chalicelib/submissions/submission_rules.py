"""Submissions: upload grants for phones, then reading, reviewing and deleting what was received.

Who sees what: READ_SUBMISSIONS reads the account's submissions; a profile restricted to subtrees
sees only those linked to a unit inside them. Reviewers (REVIEW_SUBMISSIONS) change the validation
status, with a comment, audited, and delete or restore. Data collectors (COLLECT) get upload grants
for the projects they belong to.
"""

import datetime
import re
from dataclasses import dataclass

from chalicelib.identity.permissions import COLLECT, READ_SUBMISSIONS, REVIEW_SUBMISSIONS, Principal, require
from chalicelib.platform import aws, config, problems
from chalicelib.registry import audit, geometry, mobile_sync, units
from chalicelib.submissions import submission_reads_sql, submissions_sql

STATUSES = ("PENDING", "APPROVED", "REJECTED")
# Keys are made of characters that URL encoding leaves alone, so that the key an S3 event reports (URL
# encoded in S3 notifications) is the key itself, whichever way the event came.
# Not only dots: `..` in a key reads as a step up the path to whatever shows or copies it.
INSTANCE_UUID = re.compile(r"^(uuid:)?(?!\.+$)[A-Za-z0-9._-]{1,100}$")
FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
MAX_XML_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENT_BYTES = 100 * 1024 * 1024
MAX_FILES = 50
UPLOAD_URL_SECONDS = 3600


@dataclass(frozen=True)
class UploadFile:
    name: str
    size: int
    content_type: str | None


@dataclass(frozen=True)
class UploadRequest:
    project_id: int
    instance_uuid: str
    form_id: int
    form_version: str  # the XForm's version attribute, as the phone knows it
    files: tuple[UploadFile, ...]
    org_unit_id: int | None = None
    period: str | None = None


def upload_urls(cur, principal: Principal, request: UploadRequest) -> dict:
    """Presigned POSTs for an instance's XML and attachments, each capped at its declared size,
    under `submissions/{account}/{project}/{instance uuid}/`; the grant is what ingestion checks."""
    require(principal, COLLECT)
    mobile_sync.check_project(cur, principal, request.project_id)
    version = submissions_sql.form_version_in_project(
        cur, principal.account_id, request.form_id, request.project_id, request.form_version
    )
    if version is None:
        raise problems.invalid_field(
            "form_version",
            f"names no version of form {request.form_id} in project {request.project_id}",
        )
    unit = units.visible(cur, principal, request.org_unit_id) if request.org_unit_id else None
    instance_uuid = request.instance_uuid.removeprefix("uuid:")
    prefix = f"submissions/{principal.account_id}/{request.project_id}/{instance_uuid}/"
    files = [_granted(prefix, file) for file in _checked_files(request.files)]
    submissions_sql.save_grant(cur, {
        "account_id": principal.account_id, "project_id": request.project_id, "instance_uuid": instance_uuid,
        "user_id": principal.user_id, "form_id": request.form_id, "form_version_id": version["id"],
        "org_unit_id": unit["id"] if unit else None, "period": request.period, "files": files,
    })  # fmt: skip
    return {
        "instance_uuid": instance_uuid,
        "expires_in": UPLOAD_URL_SECONDS,
        "files": [_presigned_post(file) for file in files],
    }


def _checked_files(files: tuple[UploadFile, ...]) -> tuple[UploadFile, ...]:
    if not 1 <= len(files) <= MAX_FILES:
        raise problems.invalid_field("files", f"must list 1 to {MAX_FILES} files")
    names = [file.name for file in files]
    if len(set(names)) != len(names):
        raise problems.invalid_field("files", "names a file twice")
    xml_files = [file for file in files if file.name.lower().endswith(".xml")]
    if len(xml_files) != 1:
        raise problems.invalid_field("files", "must include exactly one instance XML (a name ending in .xml)")
    for file in files:
        if not FILE_NAME.match(file.name):
            raise problems.invalid_field("files", f"{file.name!r} is not a plain file name")
        cap = MAX_XML_BYTES if file in xml_files else MAX_ATTACHMENT_BYTES
        if not 1 <= file.size <= cap:
            raise problems.invalid_field("files", f"{file.name!r} must be 1 to {cap} bytes")
    return files


def _granted(prefix: str, file: UploadFile) -> dict:
    role = "xml" if file.name.lower().endswith(".xml") else "attachment"
    return {"name": file.name, "key": prefix + file.name, "size": file.size,
            "content_type": file.content_type, "role": role}  # fmt: skip


def _presigned_post(file: dict) -> dict:
    conditions = [["content-length-range", 1, file["size"]]]
    fields = {}
    if file["content_type"]:
        conditions.append({"Content-Type": file["content_type"]})
        fields["Content-Type"] = file["content_type"]
    post = aws.client("s3").generate_presigned_post(
        Bucket=config.settings().uploads_bucket,
        Key=file["key"],
        Fields=fields,
        Conditions=conditions,
        ExpiresIn=UPLOAD_URL_SECONDS,
    )
    return {"name": file["name"], "key": file["key"], "max_bytes": file["size"], "url": post["url"],
            "fields": post["fields"]}  # fmt: skip


# Reading


@dataclass
class Filters:
    form_id: int | None = None
    org_unit_id: int | None = None  # the unit and its descendants
    period: str | None = None
    created_from: datetime.datetime | None = None
    created_to: datetime.datetime | None = None
    validation_status: str | None = None
    has_location: bool | None = None
    deleted: bool = False  # True: the deleted ones instead


def list_page(cur, principal: Principal, filters: Filters, after: int | None, limit: int) -> list[dict]:
    require(principal, READ_SUBMISSIONS)
    query = submission_reads_sql.Query(principal.account_id, deleted=filters.deleted)
    narrow(cur, principal, query, filters)
    return submission_reads_sql.list_page(cur, query, after or 0, limit)


def narrow(cur, principal: Principal, query: submission_reads_sql.Query, filters: Filters) -> None:
    """The caller's scope, then the filters."""
    _scope(cur, principal, query)
    _filter(cur, principal, query, filters)


def _scope(cur, principal: Principal, query: submission_reads_sql.Query) -> None:
    """A restricted profile sees the submissions linked to units of its subtrees, and no others."""
    if principal.subtree_roots is not None:
        query.under_any([root.path for root in principal.subtree_roots])


def _filter(cur, principal: Principal, query: submission_reads_sql.Query, filters: Filters) -> None:
    if filters.form_id is not None:
        query.where(submission_reads_sql.FORM_IS, form_id=filters.form_id)
    if filters.org_unit_id is not None:
        unit = units.visible(cur, principal, filters.org_unit_id)
        query.where(submission_reads_sql.UNDER_UNIT, unit_path=unit["path"] + "%")
    if filters.period:
        query.where(submission_reads_sql.PERIOD_IS, period=filters.period)
    if filters.created_from:
        query.where(submission_reads_sql.CREATED_FROM, created_from=filters.created_from)
    if filters.created_to:
        query.where(submission_reads_sql.CREATED_BEFORE, created_to=filters.created_to)
    if filters.validation_status:
        query.where(submission_reads_sql.STATUS_IS, status=filters.validation_status)
    if filters.has_location is not None:
        query.where(submission_reads_sql.HAS_LOCATION, has_location=filters.has_location)


def get(cur, principal: Principal, submission_id: int) -> dict:
    require(principal, READ_SUBMISSIONS)
    submission = _visible(cur, principal, submission_id, include_deleted=True)
    files = submissions_sql.files(cur, principal.account_id, submission["instance_uuid"])
    versions = submission_reads_sql.versions(
        cur, principal.account_id, submission["root_id"] or submission["id"]
    )
    return present(submission) | {
        "answers": submission["answers"],
        "attachments": [_attachment(file) for file in files],
        "versions": [present_version(row) for row in versions],
    }


def _visible(cur, principal: Principal, submission_id: int, include_deleted: bool = False) -> dict:
    query = submission_reads_sql.Query(
        principal.account_id, deleted=None if include_deleted else False, current_only=False
    )
    _scope(cur, principal, query)
    query.where(submission_reads_sql.ID_IS, id=submission_id)
    found = submission_reads_sql.list_page(cur, query, 0, 1, with_answers=True)
    if not found:
        raise problems.not_found("submission", submission_id)
    return found[0]


def _attachment(file: dict) -> dict:
    url = aws.client("s3").generate_presigned_url(
        "get_object",
        Params={"Bucket": config.settings().uploads_bucket, "Key": file["s3_key"]},
        ExpiresIn=config.settings().tasks.artifact_url_seconds,
    )
    return {"name": file["name"], "size": file["size"], "content_type": file["content_type"], "url": url}


# Review and deletion


def review(cur, principal: Principal, submission_id: int, status: str, comment: str | None) -> dict:
    require(principal, REVIEW_SUBMISSIONS)
    before = _visible(cur, principal, submission_id)
    submissions_sql.set_review(cur, principal.account_id, submission_id, status, comment)
    _audit(cur, principal, submission_id, "review",
           {"validation_status": before["validation_status"], "review_comment": before["review_comment"]},
           {"validation_status": status, "review_comment": comment})  # fmt: skip
    return get(cur, principal, submission_id)


def delete(cur, principal: Principal, submission_id: int) -> None:
    require(principal, REVIEW_SUBMISSIONS)
    _visible(cur, principal, submission_id)
    submissions_sql.set_deleted(cur, principal.account_id, submission_id, True)
    _audit(cur, principal, submission_id, "delete", None, None)


def restore(cur, principal: Principal, submission_id: int) -> dict:
    require(principal, REVIEW_SUBMISSIONS)
    submission = _visible(cur, principal, submission_id, include_deleted=True)
    if submission["deleted_at"] is None:
        raise problems.conflict("submission.not_deleted", f"Submission {submission_id} is not deleted.")
    submissions_sql.set_deleted(cur, principal.account_id, submission_id, False)
    _audit(cur, principal, submission_id, "restore", None, None)
    return get(cur, principal, submission_id)


def _audit(cur, principal: Principal, submission_id: int, action: str, before, after) -> None:
    audit.record(cur, principal.account_id, principal.user_id, "api", "submission", submission_id, action,
                 before, after)  # fmt: skip


def quarantined(cur, principal: Principal, after: int | None, limit: int) -> list[dict]:
    require(principal, READ_SUBMISSIONS)
    return [
        row | {"created_at": row["created_at"].isoformat()}
        for row in submissions_sql.quarantined(cur, principal.account_id, after or 0, limit)
    ]


# Presenting


def present(row: dict) -> dict:
    shown = {
        name: row[name]
        for name in ("id", "form_id", "form_version_id", "project_id", "instance_uuid", "org_unit_id",
                     "org_unit_name", "period", "validation_status", "review_comment", "device_id",
                     "accuracy", "is_current", "created_by", "created_by_email")
    }  # fmt: skip
    for name in ("started_at", "ended_at", "created_at", "updated_at", "deleted_at"):
        shown[name] = row[name].isoformat() if row[name] else None
    shown["form_version"] = row["form_version"]
    shown["form_version_number"] = row["form_version_number"]
    shown["location"] = geometry.point_geojson(row)
    return shown


def present_version(row: dict) -> dict:
    shown = {name: row[name] for name in ("id", "instance_uuid", "is_current", "deprecated_uuid")}
    return shown | {"created_at": row["created_at"].isoformat()}
