"""A form's submissions as ODK Central's API (/v1) gives them: listed, one by one, created from XML,
their attachments, and the OData feed.

An instanceId is the submission's first one (an edit keeps it), `uuid:` and all, as the XML gave it.
Reading needs READ_SUBMISSIONS and the project (a restricted profile sees its subtrees' only);
creating needs COLLECT. XML comes through `ingestion.receive_instance`, as OpenRosa's does; its form
must be the one the URL names. Review states map ours: PENDING is Central's null, APPROVED
`approved`, REJECTED `rejected`.
"""

from dataclasses import dataclass

from chalicelib.forms import central_forms
from chalicelib.forms.central_forms import timestamp
from chalicelib.identity.permissions import COLLECT, READ_SUBMISSIONS, Principal, require
from chalicelib.platform import aws, config, db, problems
from chalicelib.platform.filenames import safe_filename
from chalicelib.submissions import (
    ingestion,
    instance_xml,
    odata_feed,
    odata_filter,
    odata_repeats,
    odata_sql,
    submission_rules,
    submissions_sql,
)
from chalicelib.submissions.submission_reads_sql import Query


@dataclass(frozen=True)
class FeedOptions:
    top: int | None = None
    skip: int = 0
    count: bool = False
    wkt: bool = False
    filter: str | None = None
    skiptoken: str | None = None


def _readable(cur, principal: Principal, project_id: int, xml_form_id: str) -> tuple[dict, Query]:
    require(principal, READ_SUBMISSIONS)
    form = central_forms.form_row(cur, principal, project_id, xml_form_id)
    query = Query(principal.account_id, deleted=None)
    submission_rules.narrow(cur, principal, query, submission_rules.Filters(form_id=form["id"]))
    query.where(odata_sql.PROJECT_IS, project_id=project_id)
    return form, query


def readable_form(cur, principal: Principal, project_id: int, xml_form_id: str) -> dict:
    """The form, with its descriptor, if the caller may read its submissions."""
    return _readable(cur, principal, project_id, xml_form_id)[0]


def instance_id(row: dict) -> str:
    """The submission's instanceID as its XML gave it (we keep it without `uuid:`)."""
    if row["root_uuid"]:
        return f"uuid:{row['root_uuid']}"
    meta = row["answers"].get("meta") if isinstance(row["answers"], dict) else None
    given = meta.get("instanceID") if isinstance(meta, dict) else None
    if isinstance(given, str) and given.strip().removeprefix("uuid:").strip() == row["instance_uuid"]:
        return given.strip()
    return f"uuid:{row['instance_uuid']}"


def present(row: dict) -> dict:
    return {
        "instanceId": instance_id(row),
        "submitterId": row["created_by"],
        "deviceId": row["device_id"],
        "userAgent": None,
        "reviewState": row["review_state"],
        "createdAt": timestamp(row["submission_date"]),
        "updatedAt": timestamp(row["updated_at"]),
        "deletedAt": timestamp(row["deleted_at"]),
    }


def list_submissions(cur, principal: Principal, project_id: int, xml_form_id: str) -> list[dict]:
    _, query = _readable(cur, principal, project_id, xml_form_id)
    query.where(odata_sql.NOT_DELETED)
    return [present(row) for row in odata_sql.page(cur, query, 0, None)]


def _one(cur, principal: Principal, project_id: int, xml_form_id: str, instance: str) -> tuple[dict, dict]:
    form, query = _readable(cur, principal, project_id, xml_form_id)
    query.where(odata_sql.NOT_DELETED)
    query.where(odata_sql.INSTANCE_IS, instance_uuid=instance.strip().removeprefix("uuid:"))
    found = odata_sql.page(cur, query, 0, 1)
    if not found:
        raise problems.not_found("submission", instance)
    return form, found[0]


def get_submission(cur, principal: Principal, project_id: int, xml_form_id: str, instance: str) -> dict:
    return present(_one(cur, principal, project_id, xml_form_id, instance)[1])


def create_submission(cur, principal: Principal, project_id: int, xml_form_id: str, xml: bytes) -> dict:
    require(principal, COLLECT)
    form = central_forms.form_row(cur, principal, project_id, xml_form_id)
    try:
        document = instance_xml.load(xml)
        uuid = instance_xml.read(document, instance_xml.Shape()).instance_uuid
    except instance_xml.InstanceError as error:
        raise problems.invalid_field("body", f"is not a readable submission: {error}") from error
    if document.xform_id != form["xform_id"]:
        raise problems.invalid_field("body", f"is a submission of form {document.xform_id!r}, "
                                             f"not of {form['xform_id']!r}")  # fmt: skip
    key = f"central/{principal.account_id}/{project_id}/{safe_filename(uuid)}/instance.xml"
    origin = ingestion.Origin(principal.account_id, project_id, principal.user_id)
    try:
        with db.savepoint(cur, "central_submission"):
            received = ingestion.receive_instance(cur, origin, xml, key)
    except ingestion.Rejected as rejected:
        if isinstance(rejected, ingestion.Conflict):
            raise problems.conflict("submission.conflict", f"{rejected}.") from rejected
        raise problems.invalid_field("body", f"cannot be accepted: {rejected}") from rejected
    if not received.created:
        raise problems.conflict("submission.exists", f"A submission with instanceID {uuid} exists already.")
    aws.client("s3").put_object(Bucket=config.settings().uploads_bucket, Key=key, Body=xml,
                                ContentType="application/xml")  # fmt: skip
    return get_submission(cur, principal, project_id, xml_form_id, uuid)


def attachments(cur, principal: Principal, project_id: int, xml_form_id: str, instance: str) -> list[dict]:
    form, row = _one(cur, principal, project_id, xml_form_id, instance)
    expected = odata_feed.binary_paths(odata_feed.fields_of(form["descriptor"]), row["answers"])
    present_files = set(row["file_names"])
    return [{"name": name, "exists": name in present_files} for name in sorted(expected | present_files)]


def attachment_url(cur, principal: Principal, project_id: int, xml_form_id: str, instance: str,
                   name: str) -> str:  # fmt: skip
    """A short-lived link to the file (Central redirects to its S3 store the same way)."""
    _, row = _one(cur, principal, project_id, xml_form_id, instance)
    stored = submissions_sql.files(cur, principal.account_id, row["instance_uuid"])
    files = {file["name"]: file for file in stored}
    if name not in files:
        raise problems.not_found("attachment", name)
    return aws.client("s3").generate_presigned_url(
        "get_object",
        Params={"Bucket": config.settings().uploads_bucket, "Key": files[name]["s3_key"]},
        ExpiresIn=config.settings().tasks.artifact_url_seconds,
    )


def feed(cur, principal: Principal, project_id: int, xml_form_id: str, options: FeedOptions,
         service_url: str, params: dict[str, str], table: str = "Submissions") -> dict:  # fmt: skip
    """The Submissions table or a repeat's (`Submissions.<path>`): `service_url` is the feed's `.svc`
    URL, `params` the request's query. A repeat table's `$filter` is on its submissions, as Central's."""
    form, query = _readable(cur, principal, project_id, xml_form_id)
    fields = odata_feed.fields_of(form["descriptor"])
    path = None if table == "Submissions" else odata_repeats.chain(fields, table)
    if table != "Submissions" and path is None:
        raise problems.not_found("table", table)
    tree = odata_filter.parse(options.filter)
    if not odata_filter.mentions(tree, "__system/deletedAt"):
        query.where(odata_sql.NOT_DELETED)
    odata_sql.compile_filter(query, tree)
    if path is not None:
        return _repeat_feed(cur, query, path, options, f"{service_url}/{table}", params) | {
            "@odata.context": f"{service_url}/$metadata#{table}"}  # fmt: skip
    total = odata_sql.count(cur, query) if options.count else None
    _after_skiptoken(cur, principal, form, query, options.skiptoken)
    offset = 0 if options.skiptoken else options.skip
    rows = odata_sql.page(cur, query, offset, None if options.top is None else options.top + 1)
    more = options.top is not None and len(rows) > options.top
    rows = rows[: options.top] if options.top is not None else rows
    body: dict = {
        "value": [_feed_row(fields, row, options.wkt) for row in rows],
        "@odata.context": f"{service_url}/$metadata#Submissions",
    }
    if more and rows:
        last = instance_id(rows[-1])
        token = odata_feed.skiptoken(last)
        body["@odata.nextLink"] = odata_feed.next_link(f"{service_url}/Submissions", params, token)
    if total is not None:
        body["@odata.count"] = total
    return body


def _repeat_feed(cur, query: Query, path: tuple, options: FeedOptions, url: str, params: dict) -> dict:
    """Central pages a repeat table over all its rows: `$skiptoken` names the last row's `__id`."""
    every = [
        entry
        for row in odata_sql.page(cur, query, 0, None)
        for entry in odata_repeats.rows(path, row["answers"], instance_id(row), options.wkt)
    ]
    start = options.skip
    if options.skiptoken:
        after = odata_feed.instance_of_skiptoken(options.skiptoken, "repeatId")
        start = next((at + 1 for at, entry in enumerate(every) if entry["__id"] == after), None)
        if start is None:
            raise problems.invalid_parameter("$skiptoken", "names a repeat row this table does not have")
    end = len(every) if options.top is None else start + options.top
    body: dict = {"value": every[start:end]}
    if end < len(every):
        last = body["value"][-1]["__id"] if body["value"] else None
        body["@odata.nextLink"] = odata_feed.next_link(url, params, odata_feed.token_of({"repeatId": last}))
    if options.count:
        body["@odata.count"] = len(every)
    return body


def _after_skiptoken(cur, principal: Principal, form: dict, query: Query, token: str | None) -> None:
    if token is None:
        return
    instance = odata_feed.instance_of_skiptoken(token).removeprefix("uuid:")
    position = odata_sql.cursor(cur, principal.account_id, form["id"], instance)
    if position is None:
        raise problems.invalid_parameter("$skiptoken", "names a submission this form does not have")
    query.where(odata_sql.AFTER_CURSOR, cursor_submitted=position["submitted"], cursor_id=position["id"])


def _feed_row(fields: tuple, row: dict, wkt: bool) -> dict:
    expected = odata_feed.binary_paths(fields, row["answers"])
    system = {
        "submissionDate": timestamp(row["submission_date"]),
        "updatedAt": timestamp(row["updated_at"]),
        "submitterId": None if row["created_by"] is None else str(row["created_by"]),
        "submitterName": row["submitter_name"],
        "attachmentsPresent": len(expected & set(row["file_names"])),
        "attachmentsExpected": len(expected),
        "status": None,
        "reviewState": row["review_state"],
        "deviceId": row["device_id"],
        "edits": row["edits"],
        "formVersion": row["form_version"],
        "deletedAt": timestamp(row["deleted_at"]),
    }
    return odata_feed.row(fields, row["answers"], instance_id(row), system, wkt)
