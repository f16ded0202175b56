"""Turning uploaded objects into submissions, each exactly once.

A phone asks for upload grants (submissions.upload_urls), then posts the instance XML and its
attachments straight to S3 under `submissions/{account}/{project}/{instance uuid}/`. Every object
that lands raises an S3 "Object Created" event (through EventBridge and the ingest queue), and
`ingest_object` handles it:

- the key must be one a grant named, within the size the phone declared; otherwise the object is
  quarantined with the reason (never dropped, never half-used);
- an attachment is recorded under its instance uuid, whether its XML has come or not;
- the XML is parsed and stored as the submission. Delivering it again changes nothing; the same
  instance uuid with different XML is quarantined. An XML with `deprecatedID` is a new version of the
  instance it names, which stays as an older version.

`receive_instance` is the part shared with OpenRosa's POST /submission, which has no grant: it names
the form in its XML and the project in its URL.
"""

import hashlib
import re
from dataclasses import dataclass

from chalicelib.forms import forms_sql
from chalicelib.platform import aws, db
from chalicelib.platform.observability import logger
from chalicelib.registry import sources_sql, units_sql
from chalicelib.submissions import instance_xml, submissions_sql
from chalicelib.submissions.instance_xml import InstanceError
from chalicelib.tasks.bounds import capped

KEY = re.compile(r"^submissions/(\d{1,18})/(\d{1,18})/([A-Za-z0-9._-]{1,100})/([^/]{1,200})$")


class Rejected(Exception):
    """The upload cannot become a submission; the message says why (quarantine reason or 400).
    `granted` False: no grant names the object, so it is quarantined under no account."""

    def __init__(self, message: str, granted: bool = True):
        super().__init__(capped(message))  # a reason is stored (quarantine) and shown: bounded
        self.granted = granted


class Conflict(Rejected):
    """The instance was received before with different content (OpenRosa answers 409)."""


@dataclass(frozen=True)
class Origin:
    """Where an instance comes from and what was declared for it."""

    account_id: int
    project_id: int | None
    user_id: int | None
    form_version_id: int | None = None  # the grant's; OpenRosa: found from the XML
    org_unit: dict | None = None  # {id, version_id, path}
    period: str | None = None


@dataclass(frozen=True)
class Received:
    submission_id: int
    created: bool  # False: this exact instance was here already


def ingest_object(bucket: str, key: str, size: int | None) -> str:
    """Handles one created object; returns what happened ("submission", "attachment", "duplicate",
    "quarantined", "ignored"). Raises only for what a retry may cure (the database or S3 being
    unreachable). Objects outside `submissions/` (imports, bulk uploads) are not ingestion's."""
    if not key.startswith("submissions/"):
        return "ignored"
    match = KEY.match(key)
    if not match:
        return _quarantine(
            None, bucket, key, size, "the key is not submissions/{account}/{project}/{instance}/{file}"
        )
    account_id, project_id, instance_uuid, name = int(match[1]), int(match[2]), match[3], match[4]
    xml = None
    if name.endswith(".xml") and (size or 0) <= instance_xml.MAX_XML_BYTES:  # grants name the XML so
        xml = _download(bucket, key, instance_xml.MAX_XML_BYTES)  # fetched first: one transaction then
    try:
        with db.transaction() as cur:
            return _ingest(cur, account_id, project_id, instance_uuid, key, size, xml)
    except Rejected as rejected:  # rolled back: the quarantine is written apart
        return _quarantine(account_id if rejected.granted else None, bucket, key, size, str(rejected))


def _ingest(cur, account_id: int, project_id: int, instance_uuid: str, key: str, size, xml) -> str:
    """The database part of ingest_object, in one transaction; Rejected says why the object cannot be."""
    grant = submissions_sql.grant(cur, account_id, instance_uuid)
    declared = _declared_file(grant, project_id, key)
    if declared is None:
        raise Rejected(
            "no upload was granted for this key (wrong account, project or instance)", granted=False
        )
    if size is not None and size > declared["size"]:
        raise Rejected(
            f"the object is {size} bytes, more than the {declared['size']} declared for {declared['name']}"
        )
    if declared.get("role") != "xml":
        submissions_sql.save_file(cur, _attachment(account_id, instance_uuid, declared, key, size))
        return "attachment"
    unit = _granted_unit(cur, grant)
    origin = Origin(account_id, project_id, grant["user_id"], grant["form_version_id"], unit, grant["period"])
    received = receive_instance(cur, origin, xml or b"", key, expected_uuid=instance_uuid)
    return "submission" if received.created else "duplicate"


def receive_instance(
    cur, origin: Origin, xml: bytes, xml_key: str, expected_uuid: str | None = None
) -> Received:
    """Stores one instance XML as a submission, once; Rejected says why it cannot be."""
    document = _load(xml)
    form_version = _form_version(cur, origin, document)
    instance = _read(document, form_version)
    if expected_uuid and instance.instance_uuid != expected_uuid:
        raise Rejected(f"the XML's instanceID {instance.instance_uuid} is not the granted {expected_uuid}")
    md5 = hashlib.md5(xml).hexdigest()
    state = submissions_sql.instance_state(cur, origin.account_id, instance.instance_uuid)
    if state["existing"]:
        return _same_again(state["existing"], md5)
    values = _values(cur, origin, form_version, instance, xml_key, md5, state["edited"])
    submission_id = submissions_sql.insert(cur, values)
    if submission_id is None:  # a concurrent delivery won the insert
        return _same_again(submissions_sql.by_instance(cur, origin.account_id, instance.instance_uuid), md5)
    if state["edited"]:  # edits of this instance came first: they join its history
        submissions_sql.adopt_early_edits(
            cur, origin.account_id, instance.instance_uuid, values["root_id"] or submission_id
        )
    logger().info(
        "submission received", extra={"submission_id": submission_id, "account_id": origin.account_id}
    )
    return Received(submission_id, True)


def _form_version(cur, origin: Origin, document: instance_xml.Document) -> dict:
    named = (document.xform_id, document.version)
    if origin.form_version_id is not None:
        version = forms_sql.get_version(cur, origin.account_id, origin.form_version_id)
        if version and (version["xform_id"], version["version"]) != named:
            raise Rejected(
                f"the XML is form {named[0]!r} version {named[1]!r}, but the upload was granted for "
                f"form {version['xform_id']!r} version {version['version']!r}"
            )
    else:
        version = forms_sql.version_by_xform(cur, origin.account_id, *named)
    if version is None:
        raise Rejected(f"form {named[0]!r} version {named[1]!r} is unknown in this account")
    if version["form_deleted_at"] is not None:
        raise Rejected(f"form {named[0]!r} was deleted")
    if origin.project_id is not None and origin.project_id not in version["project_ids"]:
        raise Rejected(f"form {named[0]!r} is not a form of project {origin.project_id}")
    return version


def _load(xml: bytes) -> instance_xml.Document:
    try:
        return instance_xml.load(xml)
    except InstanceError as error:
        raise Rejected(str(error)) from error


def _read(document: instance_xml.Document, form_version: dict) -> instance_xml.Instance:
    try:
        return instance_xml.read(document, instance_xml.Shape.of(form_version["descriptor"]))
    except InstanceError as error:
        raise Rejected(str(error)) from error


def _same_again(existing: dict, md5: str) -> Received:
    if existing["xml_md5"] != md5:
        raise Conflict(f"instance {existing['instance_uuid']} was received before with different content")
    return Received(existing["id"], False)


def _values(cur, origin: Origin, form_version: dict, instance, xml_key: str, md5: str, edited: bool) -> dict:
    root_id, is_current = None, True
    if instance.deprecated_uuid:
        previous = submissions_sql.by_instance(cur, origin.account_id, instance.deprecated_uuid)
        if previous:
            root_id = previous["root_id"] or previous["id"]
            submissions_sql.supersede(cur, origin.account_id, previous["id"])
    if edited:  # its edit came first: this one is history already
        is_current = False
    lon, lat, altitude = instance.location or (None, None, None)
    unit = origin.org_unit or {}
    return {
        "account_id": origin.account_id, "project_id": origin.project_id, "form_id": form_version["form_id"],
        "form_version_id": form_version["id"], "instance_uuid": instance.instance_uuid, "root_id": root_id,
        "deprecated_uuid": instance.deprecated_uuid, "is_current": is_current,
        "org_unit_id": unit.get("id"), "org_unit_version_id": unit.get("version_id"),
        "org_unit_path": unit.get("path"), "period": origin.period, "answers": instance.answers,
        "lon": lon, "lat": lat, "altitude": altitude, "accuracy": instance.accuracy,
        "started_at": instance.started_at, "ended_at": instance.ended_at, "device_id": instance.device_id,
        "xml_key": xml_key, "xml_md5": md5, "created_by": origin.user_id,
    }  # fmt: skip


def _attachment(account_id: int, instance_uuid: str, declared: dict, key: str, size: int | None) -> dict:
    return {
        "account_id": account_id,
        "instance_uuid": instance_uuid,
        "name": declared["name"],
        "s3_key": key,
        "size": size or 0,
        "content_type": declared.get("content_type"),
    }


def _declared_file(grant: dict | None, project_id: int, key: str) -> dict | None:
    if grant is None or grant["project_id"] != project_id:
        return None
    return next((file for file in grant["files"] if file["key"] == key), None)


def _granted_unit(cur, grant: dict) -> dict | None:
    if grant["org_unit_id"] is None:
        return None
    versions = sources_sql.account_version_ids(cur, grant["account_id"])
    found = units_sql.paths_of(cur, versions, [grant["org_unit_id"]])
    return found[0] if found else None


def _download(bucket: str, key: str, limit: int) -> bytes:
    body = aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"]
    return body.read(limit + 1)


def _quarantine(account_id: int | None, bucket: str, key: str, size: int | None, reason: str) -> str:
    reason = capped(reason)
    with db.transaction() as cur:
        submissions_sql.quarantine(cur, account_id, bucket, key, size, reason)
    logger().warning("upload quarantined", extra={"s3_key": key, "reason": reason})
    return "quarantined"
