"""OpenRosa submissions (ODK Collect, Enketo): a multipart POST with the instance XML and attachments.

Collect sends `xml_submission_file` and one part per attachment; a big submission may come in several
POSTs, each with the XML again and some of the attachments. The XML goes through the same
`ingestion.receive_instance` as phone uploads to S3, so a resent instance changes nothing (its new
attachments are still recorded) and the same instanceID with different XML is a conflict (409). Files
are kept in the uploads bucket under `openrosa/{account}/{project}/{instance}/`, a prefix that S3
events do not send to ingestion.
"""

import email.parser
import email.policy
import posixpath
from dataclasses import dataclass

from chalicelib.identity.permissions import COLLECT, Principal, require
from chalicelib.platform import aws, config, db, problems
from chalicelib.platform.filenames import is_dot_only, safe_filename
from chalicelib.registry import mobile_sync
from chalicelib.submissions import ingestion, instance_xml, submissions_sql
from chalicelib.submissions.ingestion import Conflict, Origin, Rejected

MAX_REQUEST_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
XML_PART = "xml_submission_file"


@dataclass(frozen=True)
class Part:
    name: str
    filename: str | None
    content_type: str
    content: bytes


@dataclass(frozen=True)
class Outcome:
    status: int  # 201 created or accepted again, 400 refused, 409 conflicting resubmission
    message: str
    submission_id: int | None = None


def submit(cur, principal: Principal, project_id: int, content_type: str, body: bytes) -> Outcome:
    require(principal, COLLECT)
    mobile_sync.check_project(cur, principal, project_id)
    parts = parse_multipart(content_type, body)
    xml = next((part for part in parts if part.name == XML_PART), None)
    if xml is None:
        raise problems.invalid_field(XML_PART, "is missing: an OpenRosa submission carries its XML in it")
    try:
        document = instance_xml.load(xml.content)
        instance_uuid = instance_xml.read(document, instance_xml.Shape()).instance_uuid
    except instance_xml.InstanceError as error:
        return Outcome(400, f"The submission cannot be read: {error}.")
    if refusal := _dot_named(parts, xml):
        return Outcome(400, f"The submission cannot be accepted: {refusal}.")
    prefix = f"openrosa/{principal.account_id}/{project_id}/{safe_filename(instance_uuid)}/"
    origin = Origin(principal.account_id, project_id, principal.user_id)
    try:  # a refused instance leaves nothing behind, and the request commits
        with db.savepoint(cur, "openrosa_submission"):
            received = ingestion.receive_instance(
                cur, origin, xml.content, _store(prefix + "instance.xml", xml)
            )
    except Rejected as rejected:
        if isinstance(rejected, Conflict):
            return Outcome(409, f"A submission with this instanceID exists with different XML ({rejected}).")
        return Outcome(400, f"The submission cannot be accepted: {rejected}.")
    for part in parts:
        if part is not xml and part.filename:
            _attach(cur, principal.account_id, instance_uuid, prefix, part)
    thanks = "Thank you: the submission was received." if received.created else "It was received already."
    return Outcome(201, thanks, received.submission_id)


def parse_multipart(content_type: str, body: bytes) -> list[Part]:
    if not content_type.lower().startswith("multipart/form-data") or "boundary=" not in content_type:
        raise problems.Problem(415, "request.unsupported_media_type",
                               "An OpenRosa submission is multipart/form-data with a boundary.")  # fmt: skip
    if len(body) > MAX_REQUEST_BYTES:
        raise problems.Problem(
            413, "request.too_large", f"A submission request may carry {MAX_REQUEST_BYTES} bytes."
        )
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode() + body
    )
    if not message.is_multipart():
        raise problems.invalid_field("body", "is not a readable multipart/form-data body")
    return [
        Part(part.get_param("name", header="content-disposition") or "", part.get_filename(),
             part.get_content_type(), part.get_payload(decode=True) or b"")
        for part in message.iter_parts()
    ]  # fmt: skip


def _store(key: str, part: Part) -> str:
    aws.client("s3").put_object(
        Bucket=config.settings().uploads_bucket, Key=key, Body=part.content, ContentType=part.content_type
    )
    return key


def _attach(cur, account_id: int, instance_uuid: str, prefix: str, part: Part) -> None:
    name = safe_filename(_file_name(part), default="attachment")
    key = _store(prefix + name, part)
    file = {"account_id": account_id, "instance_uuid": instance_uuid, "name": name, "s3_key": key,
            "size": len(part.content), "content_type": part.content_type}  # fmt: skip
    submissions_sql.save_file(cur, file)


def _dot_named(parts: list[Part], xml: Part) -> str | None:
    """An attachment named `..` (or only dots) would not name a file in the instance's folder."""
    for part in parts:
        if part is not xml and part.filename and is_dot_only(_file_name(part)):
            return f"part {part.name!r} has the file name {part.filename!r}, made only of dots"
    return None


def _file_name(part: Part) -> str:
    return posixpath.basename(part.filename or part.name)
