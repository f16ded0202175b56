"""OpenRosa routes for ODK Collect and Enketo: the form list, form downloads and submissions of a project.

A form is downloaded at /api/openrosa/{project_id}/forms/{form_id}, with our numeric form id: XForm
ids may hold characters (spaces, dots) that do not sit well in a path, and the form list gives
clients the URL anyway. `auth="openrosa"` authenticates as Collect does (Digest or Basic, after a 401
challenge; Bearer too), and handlers/http.py puts the OpenRosa headers on every answer, errors included.
Each operation is also at a Collect token URL (`also_at`, /api/openrosa/key/{key}/{project_id}/…),
where the token is the credential and the URLs we hand out keep it.
"""

from typing import Annotated

import msgspec
from chalice.app import Request, Response

from chalicelib.forms import form_rules, form_versions, openrosa
from chalicelib.handlers.http import Call
from chalicelib.platform.contract import KEY_SEGMENT, Meta, PathId, Query, RawResponse, operation
from chalicelib.registry import mobile_sync
from chalicelib.submissions import openrosa_submissions

XML = "text/xml"
MULTIPART = "multipart/form-data"
ProjectId = Annotated[int, PathId("project")]
FormId = Annotated[int, PathId("form")]


class FormListQuery(Query, forbid_unknown_fields=False):
    """Unknown parameters pass: clients may send the spec's others (verbose, listAllVersions)."""

    form_id: Annotated[str | None, Meta(description="only the form with this XForm id")] = msgspec.field(
        default=None, name="formID"
    )


@operation(
    "GET",
    "/api/openrosa/{project_id}/formList",
    also_at="/api/openrosa/key/{key}/{project_id}/formList",
    summary="OpenRosa form list for ODK Collect and "
    "Enketo; HTTP Basic (email and password or API key) after a 401 challenge, or Bearer",
    tag="openrosa",
    auth="openrosa",
    produces=XML,
)
def form_list(call: Call, query: FormListQuery, project_id: ProjectId) -> RawResponse:
    found = form_rules.project_forms(call.cur, call.principal, project_id, xform_id=query.form_id)
    base = f"{openrosa_root(call.request, project_id)}/forms/"
    return xml_response(openrosa.form_list(found, lambda form: f"{base}{form['id']}"))


@operation(
    "HEAD",
    "/api/openrosa/{project_id}/submission",
    also_at="/api/openrosa/key/{key}/{project_id}/submission",
    summary="OpenRosa: 204 with X-OpenRosa-Accept-Content-Length (Collect asks before it submits)",
    tag="openrosa",
    auth="openrosa",
    status=204,
)
def submission_head(call: Call, project_id: ProjectId) -> None:
    """Collect asks first: who we are (authentication happens here) and how big a request may be."""
    mobile_sync.check_project(call.cur, call.principal, project_id)
    limit = {"X-OpenRosa-Accept-Content-Length": str(openrosa_submissions.MAX_REQUEST_BYTES)}
    return Response(body="", status_code=204, headers=limit)


@operation(
    "POST",
    "/api/openrosa/{project_id}/submission",
    also_at="/api/openrosa/key/{key}/{project_id}/submission",
    summary="OpenRosa submission: multipart "
    "xml_submission_file and attachments; 201 with an OpenRosaResponse, 400 or 409 (the same "
    "instanceID with different XML) with one saying why",
    tag="openrosa",
    auth="openrosa",
    status=201,
    raw=(MULTIPART,),
    produces=XML,
    other_responses={400: RawResponse, 409: RawResponse},  # an OpenRosaResponse saying why
)
def submission_post(call: Call, project_id: ProjectId) -> RawResponse:
    content_type = call.request.headers.get("content-type") or ""
    outcome = openrosa_submissions.submit(
        call.cur, call.principal, project_id, content_type, call.request.raw_body or b""
    )
    nature = "submit_success" if outcome.status == 201 else "error"
    return xml_response(openrosa.message(outcome.message, nature), outcome.status)


@operation(
    "GET",
    "/api/openrosa/{project_id}/forms/{form_id}",
    also_at="/api/openrosa/key/{key}/{project_id}/forms/{form_id}",
    summary="OpenRosa form download: the XForm of the form's latest version",
    tag="openrosa",
    auth="openrosa",
    produces=XML,
)
def form_download(call: Call, project_id: ProjectId, form_id: FormId) -> RawResponse:
    return xml_response(form_versions.project_form_xml(call.cur, call.principal, project_id, form_id))


def xml_response(body: bytes, status: int = 200) -> Response:
    # A str body: Lambda serialises the response as JSON, and text/xml is not a binary type.
    return Response(body=body.decode("utf-8"), status_code=status, headers={"Content-Type": openrosa.XML})


def openrosa_root(request: Request, project_id: int) -> str:
    """The absolute URL the client's OpenRosa routes hang from: a token URL keeps its token."""
    key = (request.uri_params or {}).get(KEY_SEGMENT)
    return f"{base_url(request)}/api/openrosa/" + (f"key/{key}/{project_id}" if key else str(project_id))


def base_url(request: Request) -> str:
    """Scheme, host and any stage prefix the client used (form lists must give absolute URLs)."""
    headers = request.headers
    scheme = headers.get("x-forwarded-proto") or "http"
    host = headers.get("host") or "localhost"
    # requestContext.path is the path as the client sent it, with API Gateway's stage (/dev/api/...)
    # or a custom domain's base path; resourcePath filled with the parameters is the route's part.
    sent = (request.context or {}).get("path") or ""
    route = (request.context or {}).get("resourcePath") or ""
    for name, value in (request.uri_params or {}).items():
        route = route.replace(f"{{{name}}}", value)
    prefix = sent[: -len(route)] if route and sent.endswith(route) else ""
    return f"{scheme}://{host}{prefix.rstrip('/')}"
