"""Forms and their versions over HTTP, and the forms a phone downloads.

An XLSForm comes either as the raw request body (Content-Type of .xlsx or .xls, or
application/octet-stream; `?filename=` or Content-Disposition names it) or as JSON `{"s3_key"}`
naming a file uploaded through the presigned POST of `versions/upload-url`.
"""

import email.message

from chalice.app import Response

from chalicelib.forms import form_rules, form_versions, xlsforms
from chalicelib.handlers.http import Call, endpoint, path_id
from chalicelib.platform import paging, problems

FIELDS = ["name", "project_ids", "org_unit_type_ids", "period_type", "single_per_period"]
RAW_CONTENT_TYPES = {*xlsforms.CONTENT_TYPES, "application/octet-stream"}
# API Gateway passes these bodies base64-encoded, untouched, only if the API lists them as binary.
BINARY_CONTENT_TYPES = sorted(xlsforms.CONTENT_TYPES)
VERSION_CONTENT_TYPES = ["application/json", *sorted(RAW_CONTENT_TYPES)]  # others: Chalice's 415


def _page(call: Call, fetch, key=lambda row: row["id"]) -> dict:
    page = paging.page_request(call.query)
    return paging.page(fetch(page.after, page.limit + 1), page, key)


def _form_id(value: str) -> int:
    return path_id(value, "form")


# Forms


@endpoint()
def list_forms(call: Call) -> dict:
    """?project= keeps the forms of one project."""
    project = call.query.get("project")
    project_id = path_id(project, "project") if project else None
    return _page(
        call, lambda after, limit: form_rules.list_forms(call.cur, call.principal, project_id, after, limit)
    )


@endpoint(status=201)
def create_form(call: Call) -> dict:
    body = call.body(FIELDS)
    fields = _fields(body) | {"name": body.text("name", required=True)}
    return form_rules.create_form(call.cur, call.principal, fields)


@endpoint()
def get_form(call: Call, form_id: str) -> dict:
    return form_rules.get_form(call.cur, call.principal, _form_id(form_id))


@endpoint()
def update_form(call: Call, form_id: str) -> dict:
    return form_rules.update_form(call.cur, call.principal, _form_id(form_id), _fields(call.body(FIELDS)))


@endpoint(status=204)
def delete_form(call: Call, form_id: str) -> None:
    form_rules.delete_form(call.cur, call.principal, _form_id(form_id))


def _fields(body) -> dict:
    """The fields the body has; period_type null clears the period."""
    read = {
        "name": lambda: body.text("name", required=True),
        "project_ids": lambda: body.ids("project_ids", required=True),
        "org_unit_type_ids": lambda: body.ids("org_unit_type_ids", required=True),
        "period_type": lambda: body.choice("period_type", form_rules.PERIOD_TYPES),
        "single_per_period": lambda: body.boolean("single_per_period", required=True),
    }
    return {name: read[name]() for name in FIELDS if body.has(name)}


# Versions


@endpoint(status=201)
def version_upload_url(call: Call, form_id: str) -> dict:
    body = call.body(["filename"])
    filename = body.text("filename", required=True, max_length=255)
    return form_versions.upload_url(call.cur, call.principal, _form_id(form_id), filename)


@endpoint(status=201)
def create_version(call: Call, form_id: str) -> dict:
    identifier = _form_id(form_id)
    content_type = (call.request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type in RAW_CONTENT_TYPES:
        content = call.request.raw_body or b""
        filename = call.query.get("filename") or _disposition_filename(call.request.headers)
        return form_versions.add_from_body(call.cur, call.principal, identifier, content, filename)
    s3_key = call.body(["s3_key"]).text("s3_key", required=True, max_length=1024)
    return form_versions.add_from_upload(call.cur, call.principal, identifier, s3_key)


def _disposition_filename(headers) -> str | None:
    value = headers.get("content-disposition")
    if not value:
        return None
    message = email.message.Message()
    message["content-disposition"] = value
    return message.get_filename()


@endpoint()
def list_versions(call: Call, form_id: str) -> dict:
    identifier = _form_id(form_id)
    return _page(
        call,
        lambda after, limit: form_versions.list_versions(call.cur, call.principal, identifier, after, limit),
        key=lambda row: row["number"],
    )


@endpoint()
def get_version(call: Call, form_id: str, number: str) -> dict:
    version = path_id(number, "form_version")
    return form_versions.get_version(call.cur, call.principal, _form_id(form_id), version)


@endpoint()
def version_xform(call: Call, form_id: str, number: str) -> Response:
    version = path_id(number, "form_version")
    xml = form_versions.xform_xml(call.cur, call.principal, _form_id(form_id), version)
    # A str body: Lambda serialises the response as JSON, and text/xml is not a binary type.
    return Response(body=xml.decode("utf-8"), status_code=200, headers={"Content-Type": form_versions.XML})


# Phones


@endpoint()
def mobile_forms(call: Call) -> dict:
    """?project= (required): the project's forms with their latest versions."""
    if not call.query.get("project"):
        raise problems.invalid_parameter("project", "is required")
    project_id = path_id(call.query["project"], "project")
    return {"results": form_versions.mobile_forms(call.cur, call.principal, project_id)}
