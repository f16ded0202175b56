"""Form media over HTTP: the files a version's XForm references (images, audio, video, CSV), uploaded
by form managers after the version is created, listed with what is still missing.

A file comes as the raw request body (any of MEDIA_CONTENT_TYPES; application/octet-stream for the
others, the type then guessed from the name) with `?filename=` naming it as the XForm does, or as JSON
`{"s3_key"}` naming a file uploaded through the presigned POST of `media/upload-url`.
"""

from typing import Annotated

from chalicelib.forms import form_media
from chalicelib.handlers.http import Call
from chalicelib.handlers.wire import UploadUrl
from chalicelib.platform.contract import Body, Meta, PathId, Query, Reason, Timestamp, Wire, operation, text

# Chalice's binary types (what API Gateway passes untouched) with CSV, which most form media are.
MEDIA_CONTENT_TYPES = (
    "application/octet-stream",
    "audio/mp4",
    "audio/mpeg",
    "audio/ogg",
    "audio/wav",
    "audio/webm",
    "image/gif",
    "image/jpeg",
    "image/png",
    "text/csv",
    "video/mpeg",
    "video/ogg",
    "video/webm",
)
FormId = Annotated[int, PathId("form")]
VersionNumber = Annotated[int, PathId("form_version")]
Filename = Annotated[
    str, Meta(min_length=1, max_length=255), Reason("is required: the file's name as the XForm references it")
]


class FormMedia(Wire):
    id: int
    form_version_id: int
    filename: str  # as the XForm references it
    media_type: str  # image, audio, video or file
    uploaded: bool
    md5: str | None
    size: int | None
    content_type: str | None
    uploaded_at: Timestamp | None


class FormMediaList(Wire):
    results: list[FormMedia]
    missing: list[str]  # the expected files not uploaded yet


class MediaQuery(Query):
    filename: Filename


class MediaUploadRequest(Body):
    filename: text(255, required=True)


class UploadedMedia(Body):
    s3_key: Annotated[text(1024, required=True), Meta(description="the s3_key media/upload-url returned")]


@operation(
    "GET",
    "/api/forms/{form_id}/versions/{number}/media",
    summary="The media files a version's XForm references, uploaded or still missing",
    tag="forms",
)
def list_media(call: Call, form_id: FormId, number: VersionNumber) -> FormMediaList:
    return form_media.list_media(call.cur, call.principal, form_id, number)


@operation(
    "PUT",
    "/api/forms/{form_id}/versions/{number}/media",
    summary="Upload one media file of a version (?filename= as the XForm names it): the raw body, "
    "or JSON {s3_key} of an upload (form managers)",
    tag="forms",
    raw=MEDIA_CONTENT_TYPES,
    database=False,  # S3 work outside the transaction: form_media opens short ones around it
)
def put_media(
    call: Call, body: UploadedMedia | None, query: MediaQuery, form_id: FormId, number: VersionNumber
) -> FormMedia:
    if body is not None:
        return form_media.put_from_upload(call.principal, form_id, number, query.filename, body.s3_key)
    content = call.request.raw_body or b""  # Chalice decodes API Gateway's base64
    content_type = call.request.headers.get("content-type")
    return form_media.put_from_body(call.principal, form_id, number, query.filename, content, content_type)


@operation(
    "POST",
    "/api/forms/{form_id}/versions/{number}/media/upload-url",
    summary="A presigned S3 POST for a media file too big for a request body (form managers)",
    tag="forms",
    status=201,
)
def media_upload_url(
    call: Call, body: MediaUploadRequest, form_id: FormId, number: VersionNumber
) -> UploadUrl:
    return form_media.upload_url(call.cur, call.principal, form_id, number, body.filename)
