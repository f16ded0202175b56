"""Forms: what a survey is for (projects, org-unit types, period) and who may see it.

Form managers (and admins) write forms. Reading them through the API needs submissions.read or
forms.manage: viewers, reviewers and form managers see the account's forms, data collectors and
registry editors do not. Phones (the mobile and OpenRosa routes) see the forms of a project they
belong to, with submissions.create or forms.manage. Another account's form is not found (404).
Versions, the XLSForms themselves, are in form_versions.py.
"""

from chalicelib.forms import forms_sql
from chalicelib.identity import projects_sql
from chalicelib.identity.permissions import COLLECT, MANAGE_FORMS, READ_SUBMISSIONS, Principal, require
from chalicelib.platform import problems
from chalicelib.registry import audit, mobile_sync, unit_types_sql

PERIOD_TYPES = ("DAY", "WEEK", "MONTH", "QUARTER", "SIX_MONTH", "YEAR")
LATEST = ("id", "number", "version", "xform_md5", "created_at")


def _require_any(principal: Principal, *permissions: str) -> None:
    if not any(principal.can(permission) for permission in permissions):
        raise problems.forbidden(permissions[0])


def require_read(principal: Principal) -> None:
    _require_any(principal, READ_SUBMISSIONS, MANAGE_FORMS)


def require_field_access(cur, principal: Principal, project_id: int) -> None:
    """A phone's user: a member of the project (admins reach every project) who collects or manages forms."""
    _require_any(principal, COLLECT, MANAGE_FORMS)
    mobile_sync.check_project(cur, principal, project_id)


def present(row: dict) -> dict:
    form = {k: v for k, v in row.items() if not k.startswith("latest_") and k != "account_id"}
    latest = {name: row[f"latest_{name}"] for name in LATEST} if row["latest_id"] else None
    return form | {"latest_version": latest}


def get_form(cur, principal: Principal, form_id: int) -> dict:
    require_read(principal)
    return present(_found(cur, principal, form_id))


def _found(cur, principal: Principal, form_id: int) -> dict:
    row = forms_sql.get_form(cur, principal.account_id, form_id)
    if row is None:
        raise problems.not_found("form", form_id)
    return row


def writable_form(cur, principal: Principal, form_id: int) -> dict:
    require(principal, MANAGE_FORMS)
    return _found(cur, principal, form_id)


def list_forms(
    cur, principal: Principal, project_id: int | None, after: int | None, limit: int
) -> list[dict]:
    require_read(principal)
    return [present(row) for row in forms_sql.list_forms(cur, principal.account_id, project_id, after, limit)]


def create_form(cur, principal: Principal, fields: dict) -> dict:
    """`fields`: name, project_ids, org_unit_type_ids, period_type, single_per_period."""
    require(principal, MANAGE_FORMS)
    _check_links(cur, principal, fields)
    form_id = forms_sql.create_form(cur, principal.account_id, fields["name"], fields.get("period_type"),
                               bool(fields.get("single_per_period")), principal.user_id)  # fmt: skip
    _set_links(cur, principal, form_id, fields)
    created = get_form(cur, principal, form_id)
    _log(cur, principal, form_id, "create", None, {k: created[k] for k in fields})
    return created


def update_form(cur, principal: Principal, form_id: int, changes: dict) -> dict:
    """`changes`: any of create_form's fields; period_type None clears it."""
    before = present(writable_form(cur, principal, form_id))
    _check_links(cur, principal, changes)
    columns = {k: v for k, v in changes.items() if k in ("name", "period_type", "single_per_period")}
    forms_sql.update_form(cur, principal.account_id, form_id, columns)
    _set_links(cur, principal, form_id, changes)
    after = get_form(cur, principal, form_id)
    _log(cur, principal, form_id, "update", *audit.changed_fields(before, {k: after[k] for k in changes}))
    return after


def delete_form(cur, principal: Principal, form_id: int) -> None:
    """Soft delete: the form and its versions stay for the submissions that name them."""
    form = writable_form(cur, principal, form_id)
    forms_sql.soft_delete(cur, principal.account_id, form_id)
    _log(cur, principal, form_id, "delete", {"name": form["name"], "xform_id": form["xform_id"]}, None)


def _check_links(cur, principal: Principal, fields: dict) -> None:
    missing = projects_sql.missing_ids(cur, principal.account_id, fields.get("project_ids") or [])
    if missing:
        raise problems.invalid_field("project_ids", f"names unknown project(s) {missing}")
    missing = unit_types_sql.missing_ids(cur, principal.account_id, fields.get("org_unit_type_ids") or [])
    if missing:
        raise problems.invalid_field("org_unit_type_ids", f"names unknown org-unit type(s) {missing}")


def _set_links(cur, principal: Principal, form_id: int, fields: dict) -> None:
    if fields.get("project_ids") is not None:
        forms_sql.set_projects(cur, principal.account_id, form_id, fields["project_ids"])
    if fields.get("org_unit_type_ids") is not None:
        forms_sql.set_org_unit_types(cur, principal.account_id, form_id, fields["org_unit_type_ids"])


def _log(cur, principal: Principal, form_id: int, action: str, before, after) -> None:
    audit.record(cur, principal.account_id, principal.user_id, "api", "form", form_id, action, before, after)


def require_form_in_project(cur, principal: Principal, form_id: int, project_id: int) -> dict:
    """The live form, if the caller belongs to the project and the form is one of the project's;
    else 404 (project.not_found or form.not_found). Permissions are the caller's to check."""
    mobile_sync.check_project(cur, principal, project_id)
    row = forms_sql.get_form(cur, principal.account_id, form_id)
    if row is None or project_id not in row["project_ids"]:
        raise problems.not_found("form", form_id)
    return present(row)


def project_forms(cur, principal: Principal, project_id: int, form_id: int | None = None,
                  xform_id: str | None = None) -> list[dict]:  # fmt: skip
    """What a phone may download: the project's forms that have a version, each with its latest."""
    require_field_access(cur, principal, project_id)
    return forms_sql.project_forms(cur, principal.account_id, project_id, form_id, xform_id)
