"""A submission's attachment sent on its own, as ODK Central takes it (pyodk's `submissions.create`
with `attachments=`): `POST …/submissions/{instanceId}/attachments/{name}` with the file as the body.

As Central: only a name the submission's XML gives in a binary field is accepted (404 for others);
a reviewer may replace a file, a collector may only send the missing files of its own submission,
before it is edited. Files are kept as OpenRosa's are: in the uploads bucket beside the instance XML,
recorded by instance uuid, so that the attachments list, the OData counts and the download see them.
"""

from chalicelib.forms import central_forms
from chalicelib.identity.permissions import COLLECT, REVIEW_SUBMISSIONS, Principal
from chalicelib.platform import aws, config, limits, problems
from chalicelib.platform.filenames import is_dot_only, safe_filename
from chalicelib.submissions import odata_feed, odata_sql, submission_rules, submissions_sql
from chalicelib.submissions.submission_reads_sql import Query


def upload(cur, principal: Principal, project_id: int, xml_form_id: str, instance: str, name: str,
           content_type: str, content: bytes) -> None:  # fmt: skip
    if not (principal.can(COLLECT) or principal.can(REVIEW_SUBMISSIONS)):
        raise problems.forbidden(REVIEW_SUBMISSIONS)
    form = central_forms.form_row(cur, principal, project_id, xml_form_id)
    row = _submission(cur, principal, project_id, form["id"], instance)
    expected = odata_feed.binary_paths(odata_feed.fields_of(form["descriptor"]), row["answers"])
    if name not in expected or is_dot_only(name):
        raise problems.not_found("attachment", name)
    if not principal.can(REVIEW_SUBMISSIONS) and not _may_complete(principal, row, name):
        raise problems.forbidden(REVIEW_SUBMISSIONS)
    if len(content) > limits.SUBMISSION_FILE_BODY_MAX_BYTES:
        raise problems.Problem(
            413,
            "request.too_large",
            limits.limit_message(
                "an attachment in the request body", "SUBMISSION_FILE_BODY_MAX_BYTES", "bytes"
            ),
            {"max_bytes": limits.SUBMISSION_FILE_BODY_MAX_BYTES, "size": len(content)},
        )
    uuid = row["instance_uuid"]
    key = f"central/{principal.account_id}/{project_id}/{safe_filename(uuid)}/{safe_filename(name)}"
    aws.client("s3").put_object(Bucket=config.settings().uploads_bucket, Key=key, Body=content,
                                ContentType=content_type)  # fmt: skip
    file = {"account_id": principal.account_id, "instance_uuid": uuid, "name": name, "s3_key": key,
            "size": len(content), "content_type": content_type}  # fmt: skip
    submissions_sql.save_file(cur, file)


def _submission(cur, principal: Principal, project_id: int, form_id: int, instance: str) -> dict:
    query = Query(principal.account_id)
    submission_rules.narrow(cur, principal, query, submission_rules.Filters(form_id=form_id))
    query.where(odata_sql.PROJECT_IS, project_id=project_id)
    query.where(odata_sql.INSTANCE_IS, instance_uuid=instance.strip().removeprefix("uuid:"))
    found = odata_sql.page(cur, query, 0, 1)
    if not found:
        raise problems.not_found("submission", instance)
    return found[0]


def _may_complete(principal: Principal, row: dict, name: str) -> bool:
    """Central's rule for those who may only submit: their own, unedited submission's missing files."""
    return row["created_by"] == principal.user_id and not row["root_uuid"] and name not in row["file_names"]
