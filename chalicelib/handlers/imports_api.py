"""Imports and exports over HTTP: an upload URL, then the import task; the export tasks."""

from typing import Annotated, Any

import msgspec

from chalicelib.exports import unit_exports
from chalicelib.handlers.http import Call
from chalicelib.handlers.orgunits_api import filter_strings
from chalicelib.handlers.wire import Task, UploadUrl
from chalicelib.imports import import_task
from chalicelib.platform.contract import Body, Id, Meta, Reason, one_of, operation, text
from chalicelib.submissions import submission_export
from chalicelib.tasks import task_views

Filters = Annotated[
    dict[str, str | int | bool],
    Meta(description="the list's query parameters (GET /api/orgunits or /api/submissions)"),
    Reason("must map parameter names to values, as in the list's query string"),
]


class UploadRequest(Body):
    filename: text(255, required=True)


class ImportOptions(Body):
    skip_invalid: bool = False
    close_missing: bool = False
    hierarchy: Annotated[dict[str, Any] | None, Meta(description="levels of a hierarchical CSV (README)")] = (
        None
    )
    data_dict: Annotated[
        dict[str, Any] | None, Meta(description="or, for the same CSV, Iaso's data_dict.json as it is")
    ] = None
    main_org_unit_name: text(200) | None = None  # with data_dict: the leaves' type, as in Iaso's command


class ImportRequest(Body):
    s3_key: text(1024, required=True)
    format: one_of(*import_task.FORMATS)
    data_source_id: Id
    version_id: Id | None = None
    options: ImportOptions = msgspec.field(default_factory=ImportOptions)
    dry_run: bool = False


class ExportRequest(Body):
    what: one_of("orgunits", "submissions")
    format: text(20, required=True)
    filters: Filters = {}
    form: Id | None = None  # submissions: the form whose answers are exported
    labels: bool = False  # submissions: choice labels instead of names


@operation(
    "POST",
    "/api/imports/upload-url",
    summary="A presigned S3 POST for a file to import",
    tag="imports",
    status=201,
)
def upload_url(call: Call, body: UploadRequest) -> UploadUrl:
    return import_task.upload_url(call.principal, body.filename)


@operation(
    "POST",
    "/api/imports",
    summary="Import an uploaded GeoPackage, CSV or GeoJSON (a task)",
    tag="imports",
    status=201,
)
def start_import(call: Call, body: ImportRequest) -> Task:
    options = body.options
    request = import_task.Request(
        s3_key=body.s3_key,
        format=body.format,
        data_source_id=body.data_source_id,
        version_id=body.version_id,
        skip_invalid=options.skip_invalid,
        close_missing=options.close_missing,
        dry_run=body.dry_run,
        hierarchy=options.hierarchy,
        data_dict=options.data_dict,
        main_org_unit_name=options.main_org_unit_name,
    )
    return task_views.present(import_task.launch(call.cur, call.principal, request))


@operation(
    "POST",
    "/api/exports",
    summary="Export org units or a form's submissions (a task with a download)",
    tag="imports",
    status=201,
)
def start_export(call: Call, body: ExportRequest) -> Task:
    filters = filter_strings(body.filters)
    if body.what == "submissions":
        launched = submission_export.launch(
            call.cur, call.principal, body.form, body.format, filters, body.labels
        )
        return task_views.present(launched)
    return task_views.present(unit_exports.launch(call.cur, call.principal, body.what, body.format, filters))
