"""ODK Central's API (/v1), the part pyodk and Central's scripts use: sessions, the current user,
projects, forms and submissions, answered in Central's shapes (camelCase, times as `…Z`).

Central names a form by its XForm id (xmlFormId) in the path and serves its XForm at `{id}.xml` and
its OData service at `{id}.svc`: one path segment, so `form_ref` is read here. Errors keep our own
`{"error": …}` shape (pyodk shows the body as it is). The OData feed itself: central_odata_api.
"""

import datetime
import urllib.parse
from typing import Annotated, Any

from chalice.app import Request, Response

from chalicelib.forms import central_forms
from chalicelib.handlers.form_media_api import MEDIA_CONTENT_TYPES
from chalicelib.handlers.http import Call, client_address
from chalicelib.handlers.openrosa_api import base_url
from chalicelib.identity import authentication
from chalicelib.platform import jsonutil
from chalicelib.platform.contract import Body, PathId, PathText, RawResponse, Secret, Wire, operation, text
from chalicelib.platform.openapi import Error
from chalicelib.submissions import odata_attachments, odata_feed, odata_repeats, odata_submissions

XML_TYPES = ("application/xml", "text/xml")
# What phones record, as mimetypes names it (pyodk's guess): API Gateway passes these bodies untouched.
ATTACHMENT_TYPES = tuple(sorted({*MEDIA_CONTENT_TYPES, "application/pdf", "audio/3gpp", "audio/amr",
                                 "audio/x-wav", "image/heic", "image/webp", "video/3gpp", "video/mp4",
                                 "video/quicktime", "video/webm"}))  # fmt: skip
ODATA_JSON = "application/json; odata.metadata=minimal"
ProjectId = Annotated[int, PathId("project")]
FormRef = Annotated[str, PathText("form")]
InstanceId = Annotated[str, PathText("submission")]
AttachmentName = Annotated[str, PathText("attachment")]


class CentralLogin(Body):
    email: text(254, required=True)
    password: Secret


class CentralSession(Wire):
    token: str
    csrf: str
    expiresAt: str
    createdAt: str


class CentralUser(Wire):
    id: int
    type: str
    displayName: str
    email: str
    createdAt: str | None
    updatedAt: str | None
    deletedAt: str | None


class CentralProject(Wire):
    id: int
    name: str
    description: str | None
    archived: bool | None
    keyId: int | None
    createdAt: str
    updatedAt: str | None
    deletedAt: str | None


class CentralForm(Wire):
    projectId: int
    xmlFormId: str
    name: str | None
    version: str
    enketoId: str | None
    enketoOnceId: str | None
    hash: str
    keyId: int | None
    state: str
    publishedAt: str | None
    createdAt: str
    updatedAt: str | None


class CentralSubmission(Wire):
    instanceId: str
    submitterId: int | None
    deviceId: str | None
    userAgent: str | None
    reviewState: str | None
    createdAt: str
    updatedAt: str | None
    deletedAt: str | None


class CentralAttachment(Wire):
    name: str
    exists: bool


class CentralSuccess(Wire):
    success: bool


@operation(
    "POST",
    "/v1/sessions",
    summary="ODK Central: log in with {email, password}; the token goes in 'Authorization: Bearer'",
    tag="central",
    auth="none",
    other_responses={429: Error},
)
def create_session(call: Call, body: CentralLogin) -> CentralSession:
    login = authentication.login(call.cur, body.email, body.password, client_address(call.request))
    now = datetime.datetime.now(datetime.UTC)
    expires = now + datetime.timedelta(seconds=login["expires_in"])
    # Central's csrf guards its cookie sessions; a Bearer token needs none, so it is a placeholder.
    return {"token": login["token"], "csrf": "-", "createdAt": central_forms.timestamp(now),
            "expiresAt": central_forms.timestamp(expires)}  # fmt: skip


@operation("GET", "/v1/users/current", summary="ODK Central: the caller", tag="central")
def current_user(call: Call) -> CentralUser:
    return central_forms.current_user(call.cur, call.principal)


@operation("GET", "/v1/projects", summary="ODK Central: the projects the caller belongs to", tag="central")
def list_projects(call: Call) -> list[CentralProject]:
    return central_forms.projects(call.cur, call.principal)


@operation("GET", "/v1/projects/{project_id}", summary="ODK Central: one project", tag="central")
def get_project(call: Call, project_id: ProjectId) -> CentralProject:
    return central_forms.project(call.cur, call.principal, project_id)


@operation(
    "GET",
    "/v1/projects/{project_id}/forms",
    summary="ODK Central: the project's forms that have a version, each with its latest",
    tag="central",
)
def list_forms(call: Call, project_id: ProjectId) -> list[CentralForm]:
    return central_forms.forms(call.cur, call.principal, project_id)


@operation(
    "GET",
    "/v1/projects/{project_id}/forms/{form_ref}",
    summary="ODK Central: a form by its XForm id (JSON); `{id}.xml` its XForm (application/xml); "
    "`{id}.svc` its OData service document",
    tag="central",
)
def get_form(call: Call, project_id: ProjectId, form_ref: FormRef) -> dict[str, Any]:
    if form_ref.endswith(".xml"):
        row = central_forms.form_row(call.cur, call.principal, project_id, form_ref.removesuffix(".xml"))
        return Response(body=central_forms.form_xml(row), status_code=200,
                        headers={"Content-Type": "application/xml"})  # fmt: skip
    if form_ref.endswith(".svc"):
        xml_form_id = form_ref.removesuffix(".svc")
        form = odata_submissions.readable_form(call.cur, call.principal, project_id, xml_form_id)
        repeats = odata_repeats.tables(odata_feed.fields_of(form["descriptor"]))
        document = odata_feed.service_document(service_url(call.request, project_id, xml_form_id), repeats)
        return odata_json(document)
    return central_forms.present_form(central_forms.form_row(call.cur, call.principal, project_id, form_ref))


@operation(
    "GET",
    "/v1/projects/{project_id}/forms/{form_ref}/submissions",
    summary="ODK Central: the form's submissions (metadata), newest first",
    tag="central",
)
def list_submissions(call: Call, project_id: ProjectId, form_ref: FormRef) -> list[CentralSubmission]:
    return odata_submissions.list_submissions(call.cur, call.principal, project_id, form_ref)


@operation(
    "POST",
    "/v1/projects/{project_id}/forms/{form_ref}/submissions",
    summary="ODK Central: a submission from its XML (the body, application/xml); 409 if its instanceID "
    "is taken",
    tag="central",
    raw=XML_TYPES,
)
def create_submission(call: Call, project_id: ProjectId, form_ref: FormRef) -> CentralSubmission:
    xml = call.request.raw_body or b""
    return odata_submissions.create_submission(call.cur, call.principal, project_id, form_ref, xml)


@operation(
    "GET",
    "/v1/projects/{project_id}/forms/{form_ref}/submissions/{instance_id}",
    summary="ODK Central: one submission's metadata, by its instanceID",
    tag="central",
)
def get_submission(call: Call, project_id: ProjectId, form_ref: FormRef,
                   instance_id: InstanceId) -> CentralSubmission:  # fmt: skip
    return odata_submissions.get_submission(call.cur, call.principal, project_id, form_ref, instance_id)


@operation(
    "GET",
    "/v1/projects/{project_id}/forms/{form_ref}/submissions/{instance_id}/attachments",
    summary="ODK Central: the files a submission names or carries, and whether each has arrived",
    tag="central",
)
def list_attachments(call: Call, project_id: ProjectId, form_ref: FormRef,
                     instance_id: InstanceId) -> list[CentralAttachment]:  # fmt: skip
    return odata_submissions.attachments(call.cur, call.principal, project_id, form_ref, instance_id)


@operation(
    "GET",
    "/v1/projects/{project_id}/forms/{form_ref}/submissions/{instance_id}/attachments/{name}",
    summary="ODK Central: one attachment, by a redirect (307) to a short-lived download link",
    tag="central",
    status=307,
    produces="application/octet-stream",
)
def get_attachment(call: Call, project_id: ProjectId, form_ref: FormRef, instance_id: InstanceId,
                   name: AttachmentName) -> RawResponse:  # fmt: skip
    url = odata_submissions.attachment_url(call.cur, call.principal, project_id, form_ref, instance_id, name)
    return Response(body="", status_code=307, headers={"Location": url})


@operation(
    "POST",
    "/v1/projects/{project_id}/forms/{form_ref}/submissions/{instance_id}/attachments/{name}",
    summary="ODK Central: one of the files the submission's XML names, as the body (404 for a name it "
    "does not give); a collector may send the missing files of its own submission",
    tag="central",
    raw=ATTACHMENT_TYPES,
    other_responses={413: Error},
)
def upload_attachment(call: Call, project_id: ProjectId, form_ref: FormRef, instance_id: InstanceId,
                      name: AttachmentName) -> CentralSuccess:  # fmt: skip
    content_type = (call.request.headers.get("content-type") or "").split(";")[0].strip().lower()
    odata_attachments.upload(call.cur, call.principal, project_id, form_ref, instance_id, name, content_type,
                             call.request.raw_body or b"")  # fmt: skip
    return {"success": True}


def service_url(request: Request, project_id: int, xml_form_id: str) -> str:
    quoted = urllib.parse.quote(xml_form_id, safe=odata_feed.URL_SAFE)
    return f"{base_url(request)}/v1/projects/{project_id}/forms/{quoted}.svc"


def odata_json(body: dict) -> Response:
    return Response(body=jsonutil.dumps(body), status_code=200, headers={"Content-Type": ODATA_JSON})
