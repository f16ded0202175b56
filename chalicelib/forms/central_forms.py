"""Users, projects and forms as ODK Central's API (/v1) gives them, for pyodk and Central's other clients.

A form is named by its XForm id (Central's xmlFormId) within a project. Who sees what follows our
roles: a project's members (admins: every project of the account) list its forms if they read
submissions, manage forms or collect; anything of another account, or of a project the caller is
not in, is not found (404).
"""

import datetime

from chalicelib.forms import central_sql
from chalicelib.identity import projects_sql
from chalicelib.identity.permissions import COLLECT, MANAGE_FORMS, READ_SUBMISSIONS, Principal
from chalicelib.platform import aws, config, problems
from chalicelib.registry import mobile_sync


def timestamp(value: datetime.datetime | None) -> str | None:
    """As Central writes times: UTC, milliseconds, `Z`."""
    if value is None:
        return None
    return value.astimezone(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def current_user(cur, principal: Principal) -> dict:
    found = central_sql.user(cur, principal.user_id) or {}
    return {
        "id": principal.user_id,
        "type": "user",
        "displayName": found.get("full_name") or principal.email,
        "email": principal.email,
        "createdAt": timestamp(found.get("created_at")),
        "updatedAt": timestamp(found.get("updated_at")),
        "deletedAt": None,
    }


def projects(cur, principal: Principal) -> list[dict]:
    every = principal.role == "admin"
    rows = central_sql.projects(cur, principal.account_id, every, sorted(principal.project_ids))
    return [_project(row) for row in rows]


def project(cur, principal: Principal, project_id: int) -> dict:
    mobile_sync.check_project(cur, principal, project_id)
    row = projects_sql.get(cur, principal.account_id, project_id)
    if row is None:
        raise problems.not_found("project", project_id)
    return _project(row)


def _project(row: dict) -> dict:
    return {
        "id": row["id"],
        "name": row["name"],
        "description": None,
        "archived": None,
        "keyId": None,
        "createdAt": timestamp(row["created_at"]),
        "updatedAt": timestamp(row["updated_at"]),
        "deletedAt": None,
    }


def require_form_access(cur, principal: Principal, project_id: int) -> None:
    if not any(principal.can(p) for p in (READ_SUBMISSIONS, MANAGE_FORMS, COLLECT)):
        raise problems.forbidden(READ_SUBMISSIONS)
    mobile_sync.check_project(cur, principal, project_id)


def forms(cur, principal: Principal, project_id: int) -> list[dict]:
    require_form_access(cur, principal, project_id)
    return [present_form(row) for row in central_sql.forms(cur, principal.account_id, project_id)]


def form_row(cur, principal: Principal, project_id: int, xml_form_id: str) -> dict:
    """The form's row, with its latest version and descriptor; the caller's permission is checked."""
    require_form_access(cur, principal, project_id)
    row = central_sql.form(cur, principal.account_id, project_id, xml_form_id)
    if row is None:
        raise problems.not_found("form", xml_form_id)
    return row


def present_form(row: dict) -> dict:
    return {
        "projectId": row["project_id"],
        "xmlFormId": row["xform_id"],
        "name": row["name"],
        "version": row["version"] or "",
        "enketoId": None,
        "enketoOnceId": None,
        "hash": row["xform_md5"],
        "keyId": None,
        "state": "open",
        "publishedAt": timestamp(row["published_at"]),
        "createdAt": timestamp(row["created_at"]),
        "updatedAt": timestamp(row["updated_at"]),
    }


def form_xml(row: dict) -> bytes:
    bucket = config.settings().forms_bucket
    return aws.client("s3").get_object(Bucket=bucket, Key=row["xform_key"])["Body"].read()
