"""Forms and their versions over HTTP, and the forms a phone downloads.

An XLSForm comes either as the raw request body (Content-Type of .xlsx or .xls, or
application/octet-stream; `?filename=` or Content-Disposition names it) or as JSON `{"s3_key"}`
naming a file uploaded through the presigned POST of `versions/upload-url`.
"""

import email.message
from typing import Annotated, Any

from chalice.app import Response

from chalicelib.forms import form_rules, form_versions, xlsforms
from chalicelib.handlers.form_media_api import FormMedia
from chalicelib.handlers.http import Call
from chalicelib.handlers.wire import Page, Results, UploadUrl
from chalicelib.platform import paging
from chalicelib.platform.contract import (
    UNSET,
    Body,
    Ids,
    Meta,
    Name,
    PageQuery,
    PathId,
    Query,
    RawResponse,
    Reason,
    Timestamp,
    UnsetType,
    Wire,
    given,
    one_of,
    operation,
    path_value,
    text,
)

RAW_CONTENT_TYPES = tuple(sorted({*xlsforms.CONTENT_TYPES, "application/octet-stream"}))
XML = form_versions.XML.split(";")[0]
FormId = Annotated[int, PathId("form")]
VersionNumber = Annotated[int, PathId("form_version")]
PeriodType = one_of(*form_rules.PERIOD_TYPES)


# Forms


class FormFields(Body):
    """Fields left out stay as they are; period_type null clears the period."""

    name: Name | UnsetType = UNSET
    project_ids: Ids | UnsetType = UNSET
    org_unit_type_ids: Ids | UnsetType = UNSET
    period_type: PeriodType | None | UnsetType = UNSET
    single_per_period: bool | UnsetType = UNSET


class NewForm(FormFields):
    name: Name


class LatestVersion(Wire):
    id: int
    number: int
    version: str
    xform_md5: str
    created_at: Timestamp


class Form(Wire):
    id: int
    name: str
    xform_id: str | None  # set by the first version
    period_type: PeriodType | None
    single_per_period: bool
    project_ids: list[int]
    org_unit_type_ids: list[int]
    latest_version: LatestVersion | None
    created_by: int | None
    created_at: Timestamp
    updated_at: Timestamp


class FormsQuery(PageQuery):
    # Text, not int: a project id that is not a number names no project (404), as in a path.
    project: Annotated[str | None, Meta(description="a project's id: only its forms")] = None


@operation(
    "GET", "/api/forms", summary="Forms of the account, paged (?project= keeps one project's)", tag="forms"
)
def list_forms(call: Call, query: FormsQuery) -> Page[Form]:
    project_id = path_value("project", query.project) if query.project else None
    page = paging.page_request(query)
    return paging.page(
        form_rules.list_forms(call.cur, call.principal, project_id, page.after, page.limit + 1), page
    )


@operation("POST", "/api/forms", summary="Create a form (form managers)", tag="forms", status=201)
def create_form(call: Call, body: NewForm) -> Form:
    return form_rules.create_form(call.cur, call.principal, given(body))


@operation("GET", "/api/forms/{form_id}", summary="One form with its latest version", tag="forms")
def get_form(call: Call, form_id: FormId) -> Form:
    return form_rules.get_form(call.cur, call.principal, form_id)


@operation("PATCH", "/api/forms/{form_id}", summary="Change a form (form managers)", tag="forms")
def update_form(call: Call, body: FormFields, form_id: FormId) -> Form:
    return form_rules.update_form(call.cur, call.principal, form_id, given(body))


@operation(
    "DELETE",
    "/api/forms/{form_id}",
    summary="Delete a form; its versions stay for its submissions (form managers)",
    tag="forms",
    status=204,
)
def delete_form(call: Call, form_id: FormId) -> None:
    form_rules.delete_form(call.cur, call.principal, form_id)


# Versions


class XlsformUploadRequest(Body):
    filename: text(255, required=True)


class UploadedXlsform(Body):
    s3_key: Annotated[text(1024, required=True), Meta(description="the s3_key versions/upload-url returned")]


class XlsformQuery(Query):
    filename: Annotated[
        str | None, Meta(description="the raw body's file name (else Content-Disposition's)")
    ] = None


class FormVersion(Wire):
    id: int
    form_id: int
    number: int
    version: str
    xform_id: str
    xform_md5: str
    created_by: int | None
    created_at: Timestamp


class NewFormVersion(FormVersion):
    warnings: list[str]  # pyxform's
    media: list[FormMedia]  # the files its XForm references: upload them with PUT …/media?filename=


class FormVersionDetail(FormVersion):
    descriptor: dict[str, Any]  # pyxform's JSON form
    xlsform_url: str  # a presigned download link
    expires_in: int


@operation(
    "POST",
    "/api/forms/{form_id}/versions/upload-url",
    summary="A presigned S3 POST for an XLSForm too big for a request body (form managers)",
    tag="forms",
    status=201,
)
def version_upload_url(call: Call, body: XlsformUploadRequest, form_id: FormId) -> UploadUrl:
    return form_versions.upload_url(call.cur, call.principal, form_id, body.filename)


@operation("GET", "/api/forms/{form_id}/versions", summary="Versions of a form, paged", tag="forms")
def list_versions(call: Call, query: PageQuery, form_id: FormId) -> Page[FormVersion]:
    page = paging.page_request(query)
    found = form_versions.list_versions(call.cur, call.principal, form_id, page.after, page.limit + 1)
    return paging.page(found, page, key=lambda row: row["number"])


@operation(
    "POST",
    "/api/forms/{form_id}/versions",
    summary="Add a version from an XLSForm: the raw body, or JSON {s3_key} of an upload (form managers)",
    tag="forms",
    status=201,
    raw=RAW_CONTENT_TYPES,
    database=False,  # the conversion takes seconds: form_versions opens short transactions around it
)
def create_version(
    call: Call, body: UploadedXlsform | None, query: XlsformQuery, form_id: FormId
) -> NewFormVersion:
    if body is not None:
        return form_versions.add_from_upload(call.principal, form_id, body.s3_key)
    filename = query.filename or _disposition_filename(call.request.headers)
    content = call.request.raw_body or b""  # Chalice decodes API Gateway's base64
    return form_versions.add_from_body(call.principal, form_id, content, filename)


def _disposition_filename(headers) -> str | None:
    value = headers.get("content-disposition")
    if not value:
        return None
    message = email.message.Message()
    message["content-disposition"] = value
    return message.get_filename()


@operation(
    "GET",
    "/api/forms/{form_id}/versions/{number}",
    summary="One version with its descriptor and a link to its XLSForm",
    tag="forms",
)
def get_version(call: Call, form_id: FormId, number: VersionNumber) -> FormVersionDetail:
    return form_versions.get_version(call.cur, call.principal, form_id, number)


@operation(
    "GET",
    "/api/forms/{form_id}/versions/{number}/xform",
    summary="A version's XForm (XML)",
    tag="forms",
    produces=XML,
)
def version_xform(call: Call, form_id: FormId, number: VersionNumber) -> RawResponse:
    xml = form_versions.xform_xml(call.cur, call.principal, form_id, number)
    # A str body: Lambda serialises the response as JSON, and text/xml is not a binary type.
    return Response(body=xml.decode("utf-8"), status_code=200, headers={"Content-Type": form_versions.XML})


# Phones


class MobileFormsQuery(Query):
    project: Annotated[str, Meta(min_length=1, description="the project's id"), Reason("is required")]


class MobileForm(Wire):
    id: int
    name: str
    xform_id: str
    form_version_id: int
    number: int
    version: str
    md5: str
    period_type: PeriodType | None
    single_per_period: bool
    org_unit_type_ids: list[int]
    created_at: Timestamp
    download_url: str  # a presigned link to the XForm
    expires_in: int


@operation(
    "GET",
    "/api/mobile/forms",
    summary="A project's forms with their latest versions, for phones",
    tag="mobile",
)
def mobile_forms(call: Call, query: MobileFormsQuery) -> Results[MobileForm]:
    project_id = path_value("project", query.project)
    return {"results": form_versions.mobile_forms(call.cur, call.principal, project_id)}
