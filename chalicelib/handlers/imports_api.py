"""Imports over HTTP: get an upload URL, then start the import task."""

from chalicelib.exports import unit_exports
from chalicelib.handlers.http import Call, endpoint
from chalicelib.handlers.orgunits_api import read_filters
from chalicelib.imports import import_task
from chalicelib.submissions import submission_export
from chalicelib.tasks import task_views


@endpoint(status=201)
def upload_url(call: Call) -> dict:
    body = call.body(["filename"])
    return import_task.upload_url(call.principal, body.text("filename", required=True, max_length=255))


@endpoint(status=201)
def start_import(call: Call) -> dict:
    body = call.body(["s3_key", "format", "data_source_id", "version_id", "options", "dry_run"])
    options = call.nested_body(body.object("options") or {}, ["skip_invalid", "close_missing", "hierarchy"])
    request = import_task.Request(
        s3_key=body.text("s3_key", required=True, max_length=1024),
        format=body.choice("format", import_task.FORMATS, required=True),
        data_source_id=body.id("data_source_id", required=True),
        version_id=body.id("version_id"),
        skip_invalid=bool(options.boolean("skip_invalid")),
        close_missing=bool(options.boolean("close_missing")),
        dry_run=bool(body.boolean("dry_run")),
        hierarchy=options.data.get("hierarchy"),
    )
    return task_views.present(import_task.launch(call.cur, call.principal, request))


@endpoint(status=201)
def start_export(call: Call) -> dict:
    """{what: "orgunits", format: csv|xlsx|geojson|gpkg, filters: {GET /api/orgunits parameters}} or
    {what: "submissions", form, format: csv|xlsx|geojson, filters: {GET /api/submissions parameters},
    labels: true|false}"""
    body = call.body(["what", "format", "filters", "form", "labels"])
    filters = read_filters(body)
    what = body.choice("what", ("orgunits", "submissions"), required=True)
    file_format = body.text("format", required=True)
    if what == "submissions":
        labels = bool(body.boolean("labels"))
        launched = submission_export.launch(
            call.cur, call.principal, body.id("form"), file_format, filters, labels
        )
        return task_views.present(launched)
    return task_views.present(unit_exports.launch(call.cur, call.principal, what, file_format, filters))
