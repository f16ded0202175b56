"""Form media: the images, audio, video and CSV files a form version's XForm references, which ODK
Collect downloads with the form (its manifest lists them with their md5).

A version expects the files its XForm names (xform_media) from the moment it is created; a form
manager then uploads each under that name, in the request body (up to FORM_MEDIA_BODY_MAX_BYTES) or
through a presigned POST (up to FORM_MEDIA_MAX_BYTES). A name the XForm does not reference is refused,
naming the ones it does. A new version starts with the previous version's files of the same names.

Files are kept content-addressed, `forms/{account_id}/{form_id}/media/{md5}/{filename}`: a version
that shares a file with an earlier one shares its object, and replacing a file never changes what
another version serves. Uploads wait under `…/versions/{number}/media-uploads/{media_id}/{uuid}`.
Like form_versions, uploads open their own short transactions around the S3 work.
"""

import hashlib
import mimetypes
import uuid as uuids
from collections.abc import Callable

from botocore.exceptions import ClientError

from chalicelib.forms import form_media_sql, form_rules, forms_sql, xform_media
from chalicelib.identity.permissions import Principal
from chalicelib.platform import aws, config, db, limits, problems
from chalicelib.platform.filenames import safe_filename
from chalicelib.registry import audit

UPLOAD_URL_SECONDS = 3600
DOWNLOAD_URL_SECONDS = 3600
OCTET_STREAM = "application/octet-stream"
UNKNOWN_TYPES = ("", OCTET_STREAM, "binary/octet-stream")  # the last: S3's when none was given
# What mimetypes does not know on every system (Central's defaultMimetypeFor says the same).
CONTENT_TYPES = {".csv": "text/csv", ".geojson": "application/geo+json", ".xml": "text/xml"}
HIDDEN = ("s3_key", "uploaded_by")


def create_expected(cur, account_id: int, form_id: int, version: dict, xml: bytes) -> None:
    """Called as a version is stored (`version`: its id and number): the files its XForm references."""
    expected = [(item.filename, item.media_type) for item in xform_media.expected_media(xml)]
    if expected:
        previous = form_media_sql.previous_version_id(cur, account_id, form_id, version["number"])
        form_media_sql.insert_expected(cur, account_id, version["id"], previous, expected)


def list_media(cur, principal: Principal, form_id: int, number: int) -> dict:
    """The version's expected files, uploaded or not, and the names still missing."""
    version = _version(cur, principal, form_id, number)
    found = form_media_sql.list_media(cur, principal.account_id, version["id"])
    missing = [row["filename"] for row in found if row["md5"] is None]
    return {"results": [present(row) for row in found], "missing": missing}


def present(row: dict) -> dict:
    return {k: v for k, v in row.items() if k not in HIDDEN} | {"uploaded": row["md5"] is not None}


def upload_url(cur, principal: Principal, form_id: int, number: int, filename: str) -> dict:
    """A presigned POST for one expected file, size-capped at FORM_MEDIA_MAX_BYTES."""
    media = _expected(cur, principal, form_id, number, filename, writable=True)
    key = f"{_upload_prefix(principal, form_id, number, media['id'])}{uuids.uuid4()}"
    post = aws.client("s3").generate_presigned_post(
        Bucket=_bucket(),
        Key=key,
        Conditions=[["content-length-range", 1, limits.FORM_MEDIA_MAX_BYTES]],
        ExpiresIn=UPLOAD_URL_SECONDS,
    )
    return {"url": post["url"], "fields": post["fields"], "s3_key": key,
            "max_bytes": limits.FORM_MEDIA_MAX_BYTES, "expires_in": UPLOAD_URL_SECONDS}  # fmt: skip


def put_from_body(principal: Principal, form_id: int, number: int, filename: str, content: bytes,
                  content_type: str | None) -> dict:  # fmt: skip
    """The file in the request body, stored as the version's `filename`."""

    def stored(media: dict) -> dict:
        if len(content) > limits.FORM_MEDIA_BODY_MAX_BYTES:
            raise problems.Problem(
                413,
                "form_media.too_large",
                limits.limit_message("a media file in the request body", "FORM_MEDIA_BODY_MAX_BYTES", "bytes")
                + "; upload bigger ones through POST …/media/upload-url.",
                {"max_bytes": limits.FORM_MEDIA_BODY_MAX_BYTES, "size": len(content)},
            )
        if not content:
            raise problems.Problem(400, "form_media.empty", f"The file '{filename}' is empty.")
        md5 = hashlib.md5(content).hexdigest()
        kind = _content_type(content_type, filename)
        key = _media_key(principal, form_id, md5, filename)
        aws.client("s3").put_object(Bucket=_bucket(), Key=key, Body=content, ContentType=kind)
        return {"s3_key": key, "md5": md5, "size": len(content), "content_type": kind}

    return _put(principal, form_id, number, filename, stored)


def put_from_upload(principal: Principal, form_id: int, number: int, filename: str, s3_key: str) -> dict:
    """The file uploaded at `s3_key` (through this file's upload-url), stored as the version's `filename`."""

    def moved(media: dict) -> dict:
        if not s3_key.startswith(_upload_prefix(principal, form_id, number, media["id"])):
            raise problems.invalid_field("s3_key", f"must be a key that upload-url returned for '{filename}'")
        md5, size, kind = _hashed_upload(s3_key, filename)
        key = _media_key(principal, form_id, md5, filename)
        s3 = aws.client("s3")
        s3.copy_object(Bucket=_bucket(), Key=key, CopySource={"Bucket": _bucket(), "Key": s3_key},
                       ContentType=kind, MetadataDirective="REPLACE")  # fmt: skip
        return {"s3_key": key, "md5": md5, "size": size, "content_type": kind, "upload_key": s3_key}

    return _put(principal, form_id, number, filename, moved)


def _put(principal: Principal, form_id: int, number: int, filename: str,
         store: Callable[[dict], dict]) -> dict:  # fmt: skip
    """A look at the slot, the S3 work outside any transaction, then the slot filled in a short one."""
    with db.transaction() as cur:
        media = _expected(cur, principal, form_id, number, filename, writable=True)
    upload = store(media) | {"uploaded_by": principal.user_id}
    upload_key = upload.pop("upload_key", None)
    with db.transaction() as cur:
        media = _expected(cur, principal, form_id, number, filename, writable=True)  # still there
        row = form_media_sql.set_uploaded(cur, principal.account_id, media["id"], upload)
        logged = {"number": number, "filename": filename, "md5": upload["md5"], "size": upload["size"]}
        audit.record(cur, principal.account_id, principal.user_id, "api", "form", form_id, "upload_media",
                     None, logged)  # fmt: skip
        if upload_key:  # the upload is dropped once the file is the slot's
            db.after_commit(lambda: aws.client("s3").delete_object(Bucket=_bucket(), Key=upload_key))
    return present(row)


def _hashed_upload(key: str, filename: str) -> tuple[str, int, str]:
    s3 = aws.client("s3")
    try:
        head = s3.head_object(Bucket=_bucket(), Key=key)
    except ClientError as error:
        if error.response["Error"]["Code"] in ("404", "NoSuchKey"):
            raise problems.invalid_field("s3_key", "names no uploaded file: upload it first") from error
        raise
    if head["ContentLength"] > limits.FORM_MEDIA_MAX_BYTES:  # S3 enforces the policy; old URLs may not
        raise problems.invalid_field(
            "s3_key", limits.limit_message("the uploaded file", "FORM_MEDIA_MAX_BYTES", "bytes")
        )
    digest = hashlib.md5()
    for chunk in s3.get_object(Bucket=_bucket(), Key=key)["Body"].iter_chunks(1024 * 1024):
        digest.update(chunk)
    return digest.hexdigest(), head["ContentLength"], _content_type(head.get("ContentType"), filename)


def _expected(cur, principal: Principal, form_id: int, number: int, filename: str, writable: bool) -> dict:
    if writable:
        form_rules.writable_form(cur, principal, form_id)
    version = _version(cur, principal, form_id, number)
    media = form_media_sql.media_by_name(cur, principal.account_id, version["id"], filename)
    if media is None:
        listed = form_media_sql.list_media(cur, principal.account_id, version["id"])
        expected = [row["filename"] for row in listed]
        raise problems.Problem(
            400,
            "form_media.not_referenced",
            f"Version {number}'s XForm does not reference a file named '{filename}'; "
            + (f"it expects: {', '.join(expected)}." if expected else "it references no media files."),
            {"filename": filename, "expected": expected},
        )
    return media


def _version(cur, principal: Principal, form_id: int, number: int) -> dict:
    form_rules.get_form(cur, principal, form_id)  # who may read it, and its 404 before the version's
    row = forms_sql.version_by_number(cur, principal.account_id, form_id, number)
    if row is None:
        raise problems.not_found("form_version", number)
    return row


# What phones download


def manifest_files(cur, principal: Principal, project_id: int, form_id: int) -> list[dict]:
    """The uploaded files of the form's latest version, for a phone of the project."""
    latest = _project_form(cur, principal, project_id, form_id)
    return [row for row in form_media_sql.list_media(cur, principal.account_id, latest["form_version_id"])
            if row["md5"] is not None]  # fmt: skip


def download_url(cur, principal: Principal, project_id: int, form_id: int, media_id: int) -> str:
    """A presigned GET of one file of the form (any of its versions), for a phone of the project."""
    _project_form(cur, principal, project_id, form_id)
    media = form_media_sql.media_of_form(cur, principal.account_id, form_id, media_id)
    if media is None or media["s3_key"] is None:
        raise problems.not_found("form_media", media_id)
    return aws.client("s3").generate_presigned_url(
        "get_object", Params={"Bucket": _bucket(), "Key": media["s3_key"]}, ExpiresIn=DOWNLOAD_URL_SECONDS
    )


def _project_form(cur, principal: Principal, project_id: int, form_id: int) -> dict:
    found = form_rules.project_forms(cur, principal, project_id, form_id=form_id)
    if not found:
        raise problems.not_found("form", form_id)
    return found[0]


def _content_type(given: str | None, filename: str) -> str:
    given = (given or "").split(";")[0].strip().lower()
    if given not in UNKNOWN_TYPES:
        return given
    suffix = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(filename)[0] or OCTET_STREAM


def _media_key(principal: Principal, form_id: int, md5: str, filename: str) -> str:
    return f"forms/{principal.account_id}/{form_id}/media/{md5}/{safe_filename(filename)}"


def _upload_prefix(principal: Principal, form_id: int, number: int, media_id: int) -> str:
    return f"forms/{principal.account_id}/{form_id}/versions/{number}/media-uploads/{media_id}/"


def _bucket() -> str:
    return config.settings().forms_bucket
