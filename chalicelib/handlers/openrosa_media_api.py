"""OpenRosa form media for ODK Collect: a form's manifest and its files.

The form list gives a `manifestUrl` to forms whose latest version references media; Collect reads
the manifest (filename, md5, downloadUrl of each uploaded file), downloads what it does not have
with that md5, and checks the md5 again on what it got. Both are also at a Collect token URL
(`also_at`). Download URLs are made from the URL the manifest was asked at, so that they keep
whatever prefix the client used (a stage, a token path).
"""

from typing import Annotated

from chalice.app import Request, Response

from chalicelib.forms import form_media, openrosa
from chalicelib.handlers.http import Call
from chalicelib.handlers.openrosa_api import base_url, xml_response
from chalicelib.platform.contract import PathId, RawResponse, operation

XML = "text/xml"
ProjectId = Annotated[int, PathId("project")]
FormId = Annotated[int, PathId("form")]
MediaId = Annotated[int, PathId("form_media")]


@operation(
    "GET",
    "/api/openrosa/{project_id}/forms/{form_id}/manifest",
    also_at="/api/openrosa/key/{key}/{project_id}/forms/{form_id}/manifest",
    summary="OpenRosa manifest of the form's media files (filename, md5 hash, downloadUrl)",
    tag="openrosa",
    auth="openrosa",
    produces=XML,
)
def form_manifest(call: Call, project_id: ProjectId, form_id: FormId) -> RawResponse:
    files = form_media.manifest_files(call.cur, call.principal, project_id, form_id)
    base = sibling_url(call.request, "media")
    return xml_response(openrosa.manifest(files, lambda file: f"{base}/{file['id']}"))


@operation(
    "GET",
    "/api/openrosa/{project_id}/forms/{form_id}/media/{media_id}",
    also_at="/api/openrosa/key/{key}/{project_id}/forms/{form_id}/media/{media_id}",
    summary="OpenRosa media file download: a 307 redirect to the file in S3, for a phone of the project",
    tag="openrosa",
    auth="openrosa",
    status=307,
)
def form_media_file(call: Call, project_id: ProjectId, form_id: FormId, media_id: MediaId) -> None:
    # A redirect rather than the bytes: a Lambda answers at most 6 MB, and API Gateway gives binary
    # bodies only to clients whose Accept names a binary type. Collect's OkHttp follows 307s (and drops
    # its credentials on the way to another host); ODK Central serves its S3-stored files the same way.
    url = form_media.download_url(call.cur, call.principal, project_id, form_id, media_id)
    return Response(body="", status_code=307, headers={"Location": url})


def sibling_url(request: Request, name: str) -> str:
    """The URL the client called with its last segment replaced by `name`."""
    route = (request.context or {}).get("resourcePath") or request.path
    for key, value in (request.uri_params or {}).items():
        route = route.replace(f"{{{key}}}", value)
    return f"{base_url(request)}{route.rsplit('/', 1)[0]}/{name}"
