"""Importing org units from a file into a version, as a task.

The file is uploaded to S3 first (`upload_url`, a presigned POST under the account's prefix), then
`launch` checks the request and enqueues `orgunits.import`. Into a new version, the units stream:
each is checked and placed as it is read and copied into the version's table at once, a GeoPackage
being read a batch at a time (import_writer.write_new_version). Into an existing version, the whole
file is read and matched against the version first. A dry run writes nothing and reports. With
errors, nothing is imported unless `skip_invalid` is set, in which case the valid rows are imported
and the rest reported. Everything is written in the task's one transaction, rolled back on errors:
a failed or killed import leaves no trace.
"""

import dataclasses
import os
import tempfile
import uuid as uuids
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from chalicelib.identity import authentication
from chalicelib.identity.permissions import RUN_TASKS, WRITE_REGISTRY, Principal, require
from chalicelib.imports import (
    csv_reader,
    csv_tree,
    file_guard,
    geojson_reader,
    gpkg_reader,
    leaf_match,
    tree_plan,
    unit_loader_sql,
    unit_model,
)
from chalicelib.imports.import_writer import write_new_version
from chalicelib.imports.unit_rows import Target
from chalicelib.imports.version_merge import write
from chalicelib.platform import aws, config, problems
from chalicelib.platform.filenames import safe_filename
from chalicelib.platform.jsonutil import dumps
from chalicelib.registry import audit, reference_data, sources_sql, units, units_sql
from chalicelib.tasks import engine
from chalicelib.tasks.bounds import capped
from chalicelib.tasks.engine import TaskContext, TaskInputError, task

KIND = "orgunits.import"
FINISH_KIND = "orgunits.finish_version"
READERS = {"gpkg": gpkg_reader.read, "csv": csv_reader.read, "geojson": geojson_reader.read}
FORMATS = tuple(READERS)
MAX_UPLOAD_BYTES = 1024 * 1024 * 1024
UPLOAD_URL_SECONDS = 3600
REPORTED_PROBLEMS = 20  # in the task's error message; the report artifact has them all


def upload_url(principal: Principal, filename: str) -> dict:
    """A presigned POST for one file under the account's prefix, size-capped."""
    require(principal, WRITE_REGISTRY)
    key = f"imports/{principal.account_id}/{uuids.uuid4()}/{safe_filename(filename)}"
    post = aws.client("s3").generate_presigned_post(
        Bucket=config.settings().uploads_bucket,
        Key=key,
        Conditions=[["content-length-range", 1, MAX_UPLOAD_BYTES]],
        ExpiresIn=UPLOAD_URL_SECONDS,
    )
    return {"url": post["url"], "fields": post["fields"], "s3_key": key, "max_bytes": MAX_UPLOAD_BYTES,
            "expires_in": UPLOAD_URL_SECONDS}  # fmt: skip


@dataclass(frozen=True)
class Request:
    s3_key: str
    format: str
    data_source_id: int
    version_id: int | None  # None: into a new version of the data source
    skip_invalid: bool = False
    close_missing: bool = False
    dry_run: bool = False
    hierarchy: dict | None = None  # a CSV with one column per level: csv_tree's column mapping
    data_dict: dict | None = None  # or Iaso's data_dict.json for it, as it is
    main_org_unit_name: str | None = None  # with data_dict: the leaves' type (Iaso's option of that name)


def launch(cur, principal: Principal, request: Request) -> dict:
    require(principal, WRITE_REGISTRY)
    require(principal, RUN_TASKS)
    units.require_unrestricted(cur, principal, "import into a whole version")
    if not request.s3_key.startswith(f"imports/{principal.account_id}/"):
        raise problems.invalid_field("s3_key", "must be a key returned by POST /api/imports/upload-url")
    _check_hierarchy(request)
    source = reference_data.get_source(cur, principal, request.data_source_id)
    if request.version_id is not None:
        version = reference_data.writable_version(cur, principal, request.version_id)
        if version["data_source_id"] != source["id"]:
            raise problems.invalid_field("version_id", "must be a version of the data source")
    elif source["read_only"]:
        raise problems.conflict("data_source.read_only", f"Data source {source['id']} is read-only.")
    target = f"version:{request.version_id}" if request.version_id else f"source:{source['id']}:new"
    unique_key = None if request.dry_run else f"import:{target}"
    return engine.enqueue(
        cur, principal.account_id, principal.user_id, KIND, dataclasses.asdict(request), unique_key
    )


@task(KIND)
def run_import(ctx: TaskContext) -> dict:
    request = Request(**ctx.params)
    try:
        principal = authentication.principal_of_launcher(ctx.cur, ctx.task["launcher_id"])
    except problems.Problem as problem:
        raise TaskInputError(problem.message) from problem
    target = Target(ctx.task["account_id"], request.version_id, request.data_source_id, principal.user_id)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "upload")
        download(request.s3_key, path)
        ctx.progress(0, 4, "reading the file")
        with file_guard.stoppable(_stop_if_asked(ctx)), _opened(path, request) as source:
            if request.version_id is None:
                ctx.progress(1, 4, "checking and writing" if not request.dry_run else "checking")
                counts, found = write_new_version(
                    ctx.cur, target, source, request.dry_run, request.skip_invalid,
                    lambda done, total: ctx.progress(done, total, f"{done} of {total} units read"),
                )  # fmt: skip
                found = source.package.problems + found
            else:
                counts, found = _into_existing(ctx, request, target, source.package)
    errors = [problem for problem in found if problem.fatal]
    report = {"errors": [_shown(p) for p in errors], "warnings": [_shown(p) for p in found if not p.fatal]}
    if errors and not request.skip_invalid and not request.dry_run:
        ctx.save_artifact("report.json", dumps(report), "application/json")
        raise TaskInputError(_summary(errors))  # what was written is rolled back with the task
    if counts["version_id"] and request.version_id is None and not request.dry_run:
        engine.enqueue(ctx.cur, target.account_id, principal.user_id, FINISH_KIND,
                      {"version_id": counts["version_id"]})  # fmt: skip
    _phase(ctx, 3, "recording")
    result = counts | {"errors": len(errors), "warnings": len(report["warnings"]), "dry_run": request.dry_run}
    if not request.dry_run:
        audit.record(ctx.cur, target.account_id, principal.user_id, "import", "version", counts["version_id"],
                     "import", None, result, ctx.task["id"])  # fmt: skip
    ctx.save_artifact("report.json", dumps(report | {"result": result}), "application/json")
    _phase(ctx, 4, "done")
    return result


def _phase(ctx: TaskContext, step: int, message: str) -> None:
    """Step `step` of four, unless the units read took over the bar (their count as its end): then
    the bar stays full rather than fall back from 40,000 of 40,007 to 3 of 4."""
    last = ctx.final_progress()
    if last.get("end") and last["end"] != 4:
        ctx.progress(last["end"], last["end"], message)
    else:
        ctx.progress(step, 4, message)


def _stop_if_asked(ctx: TaskContext) -> Callable[[], None]:
    """For a reading that reports no progress for a while (one long SQLite statement): the last progress
    again, which raises Killed when a kill was asked."""

    def check() -> None:
        last = ctx.final_progress()
        ctx.progress(last["value"], last["end"], last["message"])

    return check


def _into_existing(ctx: TaskContext, request: Request, target: Target, package: unit_model.Package):
    """An existing version: the whole file is matched against its units, then written."""
    existing = _existing(ctx, request)
    ctx.progress(1, 4, f"checking {len(package.features)} units")
    spared = leaf_match.match_by_place(package, existing)
    plan = tree_plan.check(package.features, existing, frozenset(p.ref for p in package.errors if p.ref))
    found = package.problems + plan.problems
    if any(problem.fatal for problem in found) and not request.skip_invalid and not request.dry_run:
        return {"version_id": request.version_id}, found
    ctx.progress(2, 4, "writing" if not request.dry_run else "planning")
    counts = write(ctx.cur, target, package, plan, existing, request.close_missing, request.dry_run, spared)
    return counts, found


@task(FINISH_KIND)
def finish_version(ctx: TaskContext) -> dict:
    """Right after an import into a new version commits: the partition's trigram index for "name
    contains" searches and its statistics, which the import leaves out to finish sooner (meanwhile the
    version is usable: those searches scan it, and plans are rougher)."""
    return {"finished": unit_loader_sql.finish_version(ctx.cur, ctx.params["version_id"])}


def download(key: str, path: str) -> None:
    """An uploaded file (uploads bucket) to `path`; an unreadable one ends the task as an input error."""
    try:
        aws.client("s3").download_file(config.settings().uploads_bucket, key, path)
    except aws.client("s3").exceptions.ClientError as error:
        raise TaskInputError(f"The uploaded file {key} cannot be read: {error}") from error


def _check_hierarchy(request: Request) -> None:
    if request.main_org_unit_name is not None and request.data_dict is None:
        raise problems.invalid_field("options.main_org_unit_name", "applies with options.data_dict only")
    if request.hierarchy is None and request.data_dict is None:
        return
    field_name = "options.hierarchy" if request.hierarchy is not None else "options.data_dict"
    if request.hierarchy is not None and request.data_dict is not None:
        raise problems.invalid_field(field_name, "give options.hierarchy or options.data_dict, not both")
    if request.format != "csv":
        raise problems.invalid_field(field_name, "applies to the csv format only")
    try:
        _tree_mapping(request)
    except ValueError as error:
        raise problems.invalid_field(field_name, f"is not a usable column mapping: {error}") from error


def _tree_mapping(request: Request) -> csv_tree.Mapping | None:
    """The column mapping of a CSV with one column per level: ours, or Iaso's data_dict.json."""
    if request.data_dict is not None:
        return csv_tree.parse_data_dict(request.data_dict, request.main_org_unit_name)
    return csv_tree.parse_mapping(request.hierarchy) if request.hierarchy is not None else None


@contextmanager
def _opened(path: str, request: Request) -> Iterator[unit_model.Source]:
    """The file as a source of features: a GeoPackage or a CSV of units streamed into a new version (an
    existing one is matched against the whole file), the rest read whole."""
    try:
        if request.version_id is None and request.format == "gpkg":
            with gpkg_reader.opened(path) as source:
                yield source
            return
        mapping = _tree_mapping(request)
        if request.version_id is None and request.format == "csv" and mapping is None:
            yield csv_reader.source(path)
            return
        package = csv_tree.read(path, mapping) if mapping is not None else READERS[request.format](path)
        yield unit_model.Source.of(package)
    except unit_model.GpkgError as error:  # reading, or too many problems found while checking
        raise TaskInputError(f"The file cannot be imported: {error}") from error


def _existing(ctx: TaskContext, request: Request) -> dict[str, tree_plan.Existing]:
    if request.version_id is None:
        return {}
    if sources_sql.get_version(ctx.cur, ctx.task["account_id"], request.version_id) is None:
        raise TaskInputError(f"Version {request.version_id} no longer exists.")
    units_sql.lock_tree(ctx.cur, request.version_id)  # no create or move interleaves with the import
    return {row["source_ref"]: row for row in unit_loader_sql.existing_units(ctx.cur, request.version_id)}


def _shown(problem: unit_model.RowProblem) -> dict:
    """A problem in the report, its texts capped: a file's 100 MB header is not worth repeating."""
    return {"layer": problem.layer, "row": problem.row, "field": capped(problem.field), "ref": problem.ref,
            "message": capped(problem.message)}  # fmt: skip


def _summary(errors: list[unit_model.RowProblem]) -> str:
    listed = "; ".join(capped(str(problem)) for problem in errors[:REPORTED_PROBLEMS])
    more = (
        f" (and {len(errors) - REPORTED_PROBLEMS} more in report.json)"
        if len(errors) > REPORTED_PROBLEMS
        else ""
    )
    return f"{len(errors)} error(s), nothing imported: {listed}{more}"
