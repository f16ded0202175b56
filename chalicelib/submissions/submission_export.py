"""Exporting a form's submissions (CSV, XLSX, GeoJSON) as a task that streams to S3.

One row per submission with its metadata, its org unit and that unit's ancestors (name per level),
then one column per question (submission_tables). Repeats become extra tables: extra sheets in the
XLSX, extra files beside the main CSV in a zip, nested lists in GeoJSON properties. Rows come from a
server-side cursor and go to files in /tmp: memory does not grow with the number of submissions.
"""

import csv
import json
import os
import tempfile
import zipfile

from chalicelib.exports.unit_writers import xlsx_cell
from chalicelib.identity import authentication
from chalicelib.identity.permissions import READ_SUBMISSIONS, Principal, require
from chalicelib.platform import problems
from chalicelib.platform.filenames import safe_filename
from chalicelib.submissions import (
    submission_export_sql,
    submission_filters,
    submission_reads_sql,
    submission_rules,
    submission_tables,
)
from chalicelib.tasks import engine
from chalicelib.tasks.engine import TaskContext, TaskInputError, task

KIND = "submissions.export"
FORMATS = ("csv", "xlsx", "geojson")
META = ["submission_id", "instance_uuid", "form_version", "period", "validation_status", "created_at",
        "org_unit_id", "org_unit_name", "latitude", "longitude", "altitude", "accuracy",
        "device_id"]  # fmt: skip
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def launch(
    cur, principal: Principal, form_id: int | None, file_format: str, filters: dict, labels: bool
) -> dict:
    require(principal, READ_SUBMISSIONS)
    if form_id is None:
        raise problems.missing_field("form")
    if file_format not in FORMATS:
        raise problems.invalid_field("format", f"must be one of {', '.join(FORMATS)}")
    if submission_export_sql.form(cur, principal.account_id, form_id) is None:
        raise problems.not_found("form", form_id)
    submission_filters.parse(filters)  # a bad filter is a 400 now, not a failed task
    params = {"form_id": form_id, "format": file_format, "filters": filters, "labels": labels}
    return engine.enqueue(cur, principal.account_id, principal.user_id, KIND, params)


@task(KIND)
def export_submissions(ctx: TaskContext) -> dict:
    account_id, form_id = ctx.task["account_id"], ctx.params["form_id"]
    try:
        principal = authentication.principal_of_launcher(ctx.cur, ctx.task["launcher_id"])
        query = _query(ctx.cur, principal, form_id, ctx.params["filters"])
    except problems.Problem as problem:
        raise TaskInputError(problem.message) from problem
    tables = submission_tables.tables_of(submission_export_sql.descriptors(ctx.cur, account_id, form_id))
    total = submission_export_sql.count(ctx.cur, query)
    levels = submission_export_sql.deepest_unit(ctx.cur, query)

    def progress(done: int) -> None:
        if done % 1000 == 0 or done == total:
            ctx.progress(done, total, f"exported {done} of {total}")

    file_format, labels = ctx.params["format"], ctx.params["labels"]
    with tempfile.TemporaryDirectory() as folder:
        stream = submission_export_sql.submissions(ctx.cur, query)
        writer = WRITERS[file_format]
        name, content_type, written = writer(folder, stream, tables, levels, labels, progress)
        path = os.path.join(folder, name)
        with open(path, "rb") as file:
            ctx.save_artifact(name, file, content_type)
        size = os.path.getsize(path)
    return {"exported": written, "format": file_format, "bytes": size, "form_id": form_id,
            "repeat_tables": [table.name for table in tables[1:]]}  # fmt: skip


def _query(cur, principal: Principal, form_id: int, filters: dict) -> submission_reads_sql.Query:
    parsed = submission_filters.parse(filters)
    parsed.form_id = form_id
    query = submission_reads_sql.Query(principal.account_id, deleted=parsed.deleted)
    submission_rules.narrow(cur, principal, query, parsed)
    return query


def _main_header(tables, levels: int, labels: bool) -> list[str]:
    ancestors = [f"level_{n}_name" for n in range(1, levels + 1)]
    return META + ancestors + submission_tables.headers(tables[0], labels)


def _main_row(row: dict, tables, levels: int) -> list:
    names = (row["ancestor_names"] or []) + [None] * levels
    return (
        [row[name] for name in META]
        + names[:levels]
        + submission_tables.main_values(tables[0], row["answers"])
    )


def _repeat_header(table, labels: bool) -> list[str]:
    return ["submission_id", "position", *submission_tables.headers(table, labels)]


def write_csv(folder: str, stream, tables, levels: int, labels: bool, progress):
    """A CSV; with repeats, a zip of the main CSV and one CSV per repeat."""
    paths = [os.path.join(folder, safe_filename(table.name) + ".csv") for table in tables]
    files = [open(path, "w", newline="", encoding="utf-8") for path in paths]  # noqa: SIM115 (closed below)
    try:
        writers = [csv.writer(file) for file in files]
        writers[0].writerow(_main_header(tables, levels, labels))
        for table, writer in zip(tables[1:], writers[1:], strict=True):
            writer.writerow(_repeat_header(table, labels))
        count = 0
        for count, row in enumerate(stream, start=1):
            writers[0].writerow(_csv_values(_main_row(row, tables, levels)))
            for table, writer in zip(tables[1:], writers[1:], strict=True):
                for position, values in submission_tables.repeat_rows(table, row["answers"]):
                    writer.writerow(_csv_values([row["submission_id"], position, *values]))
            progress(count)
    finally:
        for file in files:
            file.close()
    if len(tables) == 1:
        return "submissions.csv", "text/csv", count
    with zipfile.ZipFile(os.path.join(folder, "submissions.zip"), "w", zipfile.ZIP_DEFLATED) as archive:
        for path in paths:
            archive.write(path, os.path.basename(path))
    return "submissions.zip", "application/zip", count


def _csv_values(values: list) -> list:
    return ["" if value is None else value for value in values]


def write_xlsx(folder: str, stream, tables, levels: int, labels: bool, progress):
    """One sheet of submissions, one sheet per repeat (write-only mode: rows go straight to disk)."""
    from openpyxl import Workbook  # imported when an XLSX is written, not at every cold start

    book = Workbook(write_only=True)
    sheets = [book.create_sheet(_sheet_name(table.name, index)) for index, table in enumerate(tables)]
    sheets[0].append(_main_header(tables, levels, labels))
    for table, sheet in zip(tables[1:], sheets[1:], strict=True):
        sheet.append(_repeat_header(table, labels))
    count = 0
    for count, row in enumerate(stream, start=1):
        sheets[0].append([xlsx_cell(value) for value in _main_row(row, tables, levels)])
        for table, sheet in zip(tables[1:], sheets[1:], strict=True):
            for position, values in submission_tables.repeat_rows(table, row["answers"]):
                sheet.append([xlsx_cell(value) for value in [row["submission_id"], position, *values]])
        progress(count)
    book.save(os.path.join(folder, "submissions.xlsx"))
    return "submissions.xlsx", XLSX, count


def _sheet_name(name: str, index: int) -> str:
    """Excel's limits: 31 characters, none of []:*?/\\; numbered to stay unique."""
    cleaned = "".join("_" if c in "[]:*?/\\" else c for c in name)
    return cleaned[:31] if index == 0 else f"{index} {cleaned}"[:31]


def write_geojson(folder: str, stream, tables, levels: int, labels: bool, progress):
    """A FeatureCollection: the submission's point, its metadata and answers (repeats nested)."""
    count = 0
    with open(os.path.join(folder, "submissions.geojson"), "w", encoding="utf-8") as file:
        file.write('{"type": "FeatureCollection", "features": [\n')
        for count, row in enumerate(stream, start=1):
            file.write(",\n" if count > 1 else "")
            json.dump(_feature(row, levels), file, ensure_ascii=False, default=str)
            progress(count)
        file.write("\n]}\n")
    return "submissions.geojson", "application/geo+json", count


def _feature(row: dict, levels: int) -> dict:
    point = None
    if row["longitude"] is not None:
        point = {"type": "Point", "coordinates": [round(row["longitude"], 6), round(row["latitude"], 6)]}
    properties = {name: row[name] for name in META if name not in ("latitude", "longitude", "altitude")}
    properties["org_unit_ancestors"] = row["ancestor_names"] or []
    properties["answers"] = row["answers"]
    return {"type": "Feature", "id": row["submission_id"], "geometry": point, "properties": properties}


WRITERS = {"csv": write_csv, "xlsx": write_xlsx, "geojson": write_geojson}
