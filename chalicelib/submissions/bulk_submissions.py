"""A phone's bulk upload (Iaso's mobile layout), ingested as a task.

After long offline work a phone may send one zip instead of hundreds of uploads:

    instances.json               [{"id": "<instance uuid>", "file": "<name>.xml", "orgUnitId": 12,
                                   "period": "202006", ...}, ...]
    <instance uuid>/<name>.xml   the instance
    <instance uuid>/<other>      its attachments

Each instance goes through the same `ingestion.receive_instance` as a single upload, in the task's
one transaction: a zip that cannot be read (not a zip, no instances.json, a bomb) ends the task
ERRORED with nothing written; an instance that cannot be ingested is quarantined with its reason
and the others go in. Files are kept in the uploads bucket under `bulk/{account}/{project}/`, a
prefix that S3 events do not send to ingestion.
"""

import json
import os
import posixpath
import tempfile
import uuid as uuids
import zipfile

from chalicelib.identity import authentication
from chalicelib.identity.permissions import COLLECT, Principal, require
from chalicelib.imports import import_task
from chalicelib.platform import aws, config, db, problems
from chalicelib.platform.filenames import has_dot_segment, is_dot_only
from chalicelib.platform.limits import limit_message
from chalicelib.registry import mobile_sync, units
from chalicelib.submissions import ingestion, submissions_sql
from chalicelib.submissions.ingestion import Origin, Rejected
from chalicelib.tasks import engine
from chalicelib.tasks.bounds import capped
from chalicelib.tasks.engine import TaskContext, TaskInputError, task

KIND = "submissions.bulk_upload"
MAX_ZIP_BYTES = 1024 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 4 * MAX_ZIP_BYTES
MAX_MEMBER_BYTES = 100 * 1024 * 1024
UPLOAD_URL_SECONDS = 3600
INSTANCES_JSON = "instances.json"


def upload_url(cur, principal: Principal, project_id: int) -> dict:
    require(principal, COLLECT)
    mobile_sync.check_project(cur, principal, project_id)
    key = f"bulk/{principal.account_id}/{project_id}/{uuids.uuid4()}.zip"
    post = aws.client("s3").generate_presigned_post(
        Bucket=config.settings().uploads_bucket,
        Key=key,
        Fields={"Content-Type": "application/zip"},
        Conditions=[["content-length-range", 1, MAX_ZIP_BYTES], {"Content-Type": "application/zip"}],
        ExpiresIn=UPLOAD_URL_SECONDS,
    )
    return {"url": post["url"], "fields": post["fields"], "s3_key": key, "max_bytes": MAX_ZIP_BYTES,
            "expires_in": UPLOAD_URL_SECONDS}  # fmt: skip


def launch(cur, principal: Principal, project_id: int, s3_key: str) -> dict:
    require(principal, COLLECT)
    mobile_sync.check_project(cur, principal, project_id)
    if not s3_key.startswith(f"bulk/{principal.account_id}/{project_id}/"):
        raise problems.invalid_field(
            "s3_key", "must be a key returned by POST /api/mobile/submissions/bulk-upload-url"
        )
    params = {"project_id": project_id, "s3_key": s3_key}
    return engine.enqueue(cur, principal.account_id, principal.user_id, KIND, params, f"bulk:{s3_key}")


@task(KIND)
def ingest_bulk_upload(ctx: TaskContext) -> dict:
    try:
        principal = authentication.principal_of_launcher(ctx.cur, ctx.task["launcher_id"])
    except problems.Problem as problem:
        raise TaskInputError(problem.message) from problem
    counts = {"submissions": 0, "duplicates": 0, "quarantined": 0, "attachments": 0}
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "bulk.zip")
        import_task.download(ctx.params["s3_key"], path)
        with _open_zip(path) as archive:
            entries = _instances(archive)
            for done, entry in enumerate(entries, start=1):
                outcome = _ingest_entry(ctx, principal, archive, entry, done - 1)
                for name, added in outcome.items():
                    counts[name] += added
                ctx.progress(done, len(entries), f"{done} of {len(entries)} instances")
    return counts


def _open_zip(path: str) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as error:
        raise TaskInputError(f"The upload is not a zip file ({error}).") from error
    total = sum(member.file_size for member in archive.infolist())
    if total > MAX_UNCOMPRESSED_BYTES:
        raise TaskInputError(f"The zip would expand to {total} bytes, more than {MAX_UNCOMPRESSED_BYTES}.")
    return archive


def _instances(archive: zipfile.ZipFile) -> list[dict]:
    if INSTANCES_JSON not in archive.namelist():
        raise TaskInputError(f"The zip has no {INSTANCES_JSON} listing its instances.")
    try:
        entries = json.loads(_read(archive, INSTANCES_JSON))
    except ValueError as error:
        raise TaskInputError(f"{INSTANCES_JSON} is not JSON ({error}).") from error
    except RecursionError as error:  # arrays nested past Python's recursion limit: input, not a retry
        raise TaskInputError(
            limit_message(f"{INSTANCES_JSON}'s nesting", "JSON_MAX_DEPTH", "levels")
        ) from error
    if not isinstance(entries, list) or not all(isinstance(e, dict) and e.get("id") for e in entries):
        raise TaskInputError(f"{INSTANCES_JSON} must be a list of objects with an id (the instance uuid).")
    return entries


def _read(archive: zipfile.ZipFile, name: str) -> bytes:
    if archive.getinfo(name).file_size > MAX_MEMBER_BYTES:
        raise TaskInputError(f"{name} is larger than {MAX_MEMBER_BYTES} bytes.")
    return archive.read(name)


def _ingest_entry(
    ctx: TaskContext, principal: Principal, archive: zipfile.ZipFile, entry: dict, position: int
) -> dict:
    """One instance (the `position`th of instances.json) and its files; a rejected one is rolled back
    to its savepoint and quarantined."""
    instance_uuid = str(entry["id"]).removeprefix("uuid:")
    prefix = f"bulk/{principal.account_id}/{ctx.params['project_id']}/{instance_uuid}/"
    folder = f"{entry['id']}/"
    members = [name for name in archive.namelist() if name.startswith(folder) and not name.endswith("/")]
    if refusal := _dot_named(instance_uuid, entry, members):  # no key is made of such names: the zip's
        return _quarantine(ctx, principal, f"{ctx.params['s3_key']}#{INSTANCES_JSON}[{position}]", refusal)
    xml_name = folder + posixpath.basename(str(entry.get("file") or ""))
    xml_key = prefix + posixpath.basename(xml_name)
    if xml_name not in members:
        return _quarantine(ctx, principal, xml_key, f"the zip has no {xml_name} for this instance")
    try:
        with db.savepoint(ctx.cur, "bulk_entry"):
            attachments = _store_files(ctx, principal, archive, instance_uuid, prefix, members, xml_name)
            origin = Origin(principal.account_id, ctx.params["project_id"], principal.user_id, None,
                            _unit(ctx, principal, entry), _period(entry))  # fmt: skip
            xml = _read(archive, xml_name)
            received = ingestion.receive_instance(ctx.cur, origin, xml, xml_key, expected_uuid=instance_uuid)
    except Rejected as rejected:
        return _quarantine(ctx, principal, xml_key, str(rejected))
    return {"submissions" if received.created else "duplicates": 1, "attachments": attachments}


def _dot_named(instance_uuid: str, entry: dict, members: list[str]) -> str | None:
    """Names that would put `.` or `..` in an S3 key: the instance's id, its XML's or a file's name."""
    if has_dot_segment(instance_uuid):
        return f"{INSTANCES_JSON}: the id {entry['id']!r} has a part made only of dots"
    if is_dot_only(posixpath.basename(str(entry.get("file") or ""))):
        return f"{INSTANCES_JSON}: the file {entry['file']!r} of {entry['id']!r} is a name made only of dots"
    dotted = next((name for name in members if is_dot_only(posixpath.basename(name))), None)
    return f"the zip's file {dotted!r} has a name made only of dots" if dotted else None


def _store_files(
    ctx, principal: Principal, archive, instance_uuid: str, prefix: str, members, xml_name
) -> int:
    """Every file of the instance to S3; the attachments recorded under its uuid."""
    attachments = 0
    for name in members:
        body, file_name = _read(archive, name), posixpath.basename(name)
        aws.client("s3").put_object(
            Bucket=config.settings().uploads_bucket, Key=prefix + file_name, Body=body
        )
        if name != xml_name:
            saved = {"account_id": principal.account_id, "instance_uuid": instance_uuid, "name": file_name,
                     "s3_key": prefix + file_name, "size": len(body), "content_type": None}  # fmt: skip
            submissions_sql.save_file(ctx.cur, saved)
            attachments += 1
    return attachments


def _unit(ctx: TaskContext, principal: Principal, entry: dict) -> dict | None:
    unit_id = entry.get("orgUnitId")
    if unit_id in (None, ""):
        return None
    try:
        return units.visible(ctx.cur, principal, int(unit_id))
    except (problems.Problem, ValueError, TypeError) as error:
        raise Rejected(f"orgUnitId {unit_id!r} names no unit the uploader may see") from error


def _period(entry: dict) -> str | None:
    period = entry.get("period")
    return str(period)[:20] if period not in (None, "") else None


def _quarantine(ctx: TaskContext, principal: Principal, key: str, reason: str) -> dict:
    submissions_sql.quarantine(
        ctx.cur, principal.account_id, config.settings().uploads_bucket, key, None, capped(reason)
    )
    return {"quarantined": 1}
