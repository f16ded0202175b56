"""Exporting org units (CSV, XLSX, GeoJSON, GeoPackage) as a task that streams to S3.

The filters are those of GET /api/orgunits, evaluated as the launcher (account, role, subtrees).
Rows come from a server-side cursor and go to a file in the Lambda's /tmp (a GeoPackage written by a
forked child while the rows are fetched: write_behind), which is then uploaded (multipart above
8 MB); a CSV comes from one COPY whose output is uploaded part by part as it comes (s3_upload).
Memory stays flat whatever the number of units.
"""

import io
import itertools
import os
import tempfile

from chalicelib.exports import unit_export_sql, unit_writers, write_behind
from chalicelib.identity import authentication
from chalicelib.identity.permissions import READ_REGISTRY, Principal, require
from chalicelib.platform import problems
from chalicelib.registry import unit_filters, units
from chalicelib.tasks import engine
from chalicelib.tasks.engine import TaskContext, TaskInputError, task

KIND = "orgunits.export"
FORMATS = {
    "csv": ("text/csv", "csv"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "geojson": ("application/geo+json", "geojson"),
    "gpkg": ("application/geopackage+sqlite3", "gpkg"),
}
BUFFER_BYTES = 1024 * 1024
PAGE_PARAMETERS = ("limit", "cursor", "fields", "with_geometry", "count", "format")
WRITE_BEHIND = True  # False: the GeoPackage is written in this process (tests cover both ways)


def launch(cur, principal: Principal, what: str, file_format: str, filters: dict[str, str]) -> dict:
    require(principal, READ_REGISTRY)  # reading out is reading: viewers may export what they see
    if what != "orgunits":
        raise problems.invalid_field("what", "must be orgunits (submissions come with the forms)")
    if file_format not in FORMATS:
        raise problems.invalid_field("format", f"must be one of {', '.join(FORMATS)}")
    cleaned = {name: value for name, value in filters.items() if name not in PAGE_PARAMETERS}
    unit_filters.parse(cur, principal, cleaned, None)  # a bad filter is a 400 now, not a failed task
    params = {"what": what, "format": file_format, "filters": cleaned}
    return engine.enqueue(cur, principal.account_id, principal.user_id, KIND, params)


@task(KIND)
def export_units(ctx: TaskContext) -> dict:
    try:
        principal = authentication.principal_of_launcher(ctx.cur, ctx.task["launcher_id"])
        query, _ = unit_filters.parse(ctx.cur, principal, ctx.params["filters"], None)
    except problems.Problem as problem:
        raise TaskInputError(problem.message) from problem
    unit_scope = units.scope(principal, query.version_id)
    unit_scope.restrict(query)
    summary = unit_export_sql.summary(ctx.cur, query, with_layers=ctx.params["format"] == "gpkg")
    total = summary["count"]

    def progress(done: int) -> None:
        if done % 1000 == 0 or done == total:
            ctx.progress(done, total, f"exported {done} of {total}")

    content_type, extension = FORMATS[ctx.params["format"]]
    if ctx.params["format"] == "csv" and unit_scope.root_paths is None:
        with ctx.artifact_stream(f"orgunits.{extension}", content_type) as upload:
            written = _copy_csv(ctx, upload, summary, query, progress)
        return _result(ctx, written, upload.size, query)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, f"orgunits.{extension}")
        if ctx.params["format"] == "gpkg" and unit_scope.root_paths is None:
            records = unit_export_sql.gpkg_records(ctx.cur, query)
            written = _gpkg(ctx, path, records, summary, query, progress)
        else:
            rows = (_hide_above(unit_scope, row) for row in unit_export_sql.units(ctx.cur, query))
            written = _write(ctx, path, rows, summary, query, progress)
        with open(path, "rb") as file:
            ctx.save_artifact(f"orgunits.{extension}", file, content_type)
        size = os.path.getsize(path)
    return _result(ctx, written, size, query)


def _result(ctx: TaskContext, written: int, size: int, query) -> dict:
    return {
        "exported": written,
        "format": ctx.params["format"],
        "bytes": size,
        "version_id": query.version_id,
    }


def _hide_above(unit_scope: units.Scope, row: dict) -> dict:
    """A restricted user's export names nothing above their roots."""
    visible_from = unit_scope.hide_above([row])[0].get("visible_from", 0)
    if visible_from:
        row["ancestor_names"] = (row["ancestor_names"] or [])[visible_from:]
        row["ancestor_refs"] = (row["ancestor_refs"] or [])[visible_from:]
    if row["depth"] <= visible_from and unit_scope.root_paths is not None:
        row["parent_id"] = row["parent_ref"] = row["parent_name"] = None
    return row


def _copy_csv(ctx: TaskContext, upload, summary: dict, query, progress) -> int:
    """The whole CSV from one COPY, uploaded as it comes; a restricted user's export, which hides what
    lies above their roots, goes row by row instead (_write)."""
    levels = max(summary["levels"], 1)
    with io.BufferedWriter(upload, BUFFER_BYTES) as file:  # COPY writes row by row: buffered in C
        file.write(unit_writers.csv_header(levels))
        written = unit_export_sql.copy_csv(ctx.cur, query, levels, file)
    progress(written)
    return written


def _write(ctx: TaskContext, path: str, rows, summary: dict, query, progress) -> int:
    file_format, levels = ctx.params["format"], max(summary["levels"], 1)
    if file_format == "csv":
        return unit_writers.write_csv(path, rows, levels, progress)
    if file_format == "xlsx":
        return unit_writers.write_xlsx(path, rows, levels, progress)
    if file_format == "geojson":
        return unit_writers.write_geojson(path, rows, levels, progress)
    batches = itertools.batched((unit_writers.gpkg_record(row) for row in rows), 2000)
    return _gpkg(ctx, path, (list(batch) for batch in batches), summary, query, progress)


def _gpkg(ctx: TaskContext, path: str, records, summary: dict, query, progress) -> int:
    """The GeoPackage written by a second process (write_behind) while this one fetches the rows."""
    groups = unit_export_sql.groups_of(ctx.cur, query)

    def write(batches) -> int:
        return unit_writers.write_gpkg(path, batches, summary["layers"], groups, summary["extents"],
                                         lambda count: None)  # fmt: skip

    return write_behind.written(records, write, progress, in_process=not WRITE_BEHIND)
