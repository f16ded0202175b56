"""OpenRosa routes for ODK Collect and Enketo: the form list and form downloads of a project.

A form is downloaded at /api/openrosa/{project_id}/forms/{form_id}, with our numeric form id: XForm
ids may hold characters (spaces, dots) that do not sit well in a path, and the form list gives
clients the URL anyway. Routes use `openrosa_endpoint`, which authenticates as Collect does (Basic,
after a 401 challenge; Bearer too) and puts the OpenRosa headers on every answer, errors included.
"""

import functools
from collections.abc import Callable

from chalice.app import Request, Response

from chalicelib.forms import form_rules, form_versions, openrosa
from chalicelib.handlers.http import Call, endpoint, path_id
from chalicelib.platform import problems
from chalicelib.platform.observability import logger
from chalicelib.registry import mobile_sync
from chalicelib.submissions import openrosa_submissions


def openrosa_endpoint(status: int = 200):
    def decorate(handler: Callable[..., Response]):
        @endpoint(authenticated=False, status=status)
        @functools.wraps(handler)
        def run(call: Call, *args):
            try:
                call.principal = openrosa.authenticate(call.cur, call.request.headers)
                logger().append_keys(user_id=call.principal.user_id, account_id=call.principal.account_id)
                return handler(call, *args)
            except problems.Problem as problem:
                problem.headers = openrosa.response_headers() | problem.headers
                raise

        return run

    return decorate


def xml_response(body: bytes, status: int = 200) -> Response:
    # A str body: Lambda serialises the response as JSON, and text/xml is not a binary type.
    return Response(body=body.decode("utf-8"), status_code=status, headers=openrosa.response_headers())


@openrosa_endpoint()
def form_list(call: Call, project_id: str) -> Response:
    """?formID= keeps one form (the OpenRosa form list API's filter)."""
    project = path_id(project_id, "project")
    found = form_rules.project_forms(call.cur, call.principal, project, xform_id=call.query.get("formID"))
    base = f"{base_url(call.request)}/api/openrosa/{project}/forms/"
    return xml_response(openrosa.form_list(found, lambda form: f"{base}{form['id']}"))


@openrosa_endpoint()
def form_download(call: Call, project_id: str, form_id: str) -> Response:
    project, form = path_id(project_id, "project"), path_id(form_id, "form")
    return xml_response(form_versions.project_form_xml(call.cur, call.principal, project, form))


@openrosa_endpoint(status=204)
def submission_head(call: Call, project_id: str) -> Response:
    """Collect asks first: who we are (authentication happens here) and how big a request may be."""
    mobile_sync.check_project(call.cur, call.principal, path_id(project_id, "project"))
    limit = {"X-OpenRosa-Accept-Content-Length": str(openrosa_submissions.MAX_REQUEST_BYTES)}
    return Response(body="", status_code=204, headers=openrosa.response_headers() | limit)


@openrosa_endpoint(status=201)
def submission_post(call: Call, project_id: str) -> Response:
    content_type = call.request.headers.get("content-type") or ""
    outcome = openrosa_submissions.submit(call.cur, call.principal, path_id(project_id, "project"),
                                          content_type, call.request.raw_body or b"")  # fmt: skip
    nature = "submit_success" if outcome.status == 201 else "error"
    return xml_response(openrosa.message(outcome.message, nature), outcome.status)


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
