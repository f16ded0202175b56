"""One error type and its catalogue.

Core modules raise `Problem`s; the HTTP edge (handlers/http.py) is the only place that turns them into
`{"error": {"code", "message", "details"}}` responses. Codes are stable strings clients may match on.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chalicelib.platform.limits import limit_message


@dataclass
class Problem(Exception):
    status: int
    code: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # extra response headers (an auth challenge)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


def invalid_json(reason: str) -> Problem:
    return Problem(400, "request.invalid_json", f"The request body is not valid JSON: {reason}.")


def invalid_field(field_name: str, reason: str) -> Problem:
    return Problem(400, "request.invalid_field", f"Field '{field_name}' {reason}.", {"field": field_name})


def missing_field(field_name: str) -> Problem:
    return Problem(400, "request.missing_field", f"Field '{field_name}' is required.", {"field": field_name})


def unknown_fields(names: list[str]) -> Problem:
    listed = ", ".join(sorted(names))
    return Problem(400, "request.unknown_field", f"Unknown field(s): {listed}.", {"fields": sorted(names)})


def invalid_parameter(name: str, reason: str) -> Problem:
    return Problem(
        400, "request.invalid_parameter", f"Query parameter '{name}' {reason}.", {"parameter": name}
    )


def unsupported_media_type(content_type: str, accepted: tuple[str, ...]) -> Problem:
    listed = ", ".join(accepted)
    return Problem(415, "request.unsupported_media_type",
                   f"This operation takes {listed}, not {content_type or 'a body without Content-Type'}.",
                   {"content_type": content_type, "accepted": list(accepted)})  # fmt: skip


def method_not_allowed(method: str, allowed: list[str]) -> Problem:
    message = f"{method} is not an operation of this path; it has {', '.join(allowed) or 'none'}."
    return Problem(405, "route.method_not_allowed", message, {"allowed": allowed})


def route_not_found(method: str, path: str) -> Problem:
    return Problem(404, "route.not_found", f"No operation {method} {path}.", {"method": method, "path": path})


def response_too_large(size: int) -> Problem:
    what = f"The answer, {size:,} bytes,"
    message = f"{limit_message(what, 'PAGE_MAX_BYTES', 'bytes')}: ask for fewer rows (limit) or fields."
    return Problem(400, "response.too_large", message, {"limit": "PAGE_MAX_BYTES", "bytes": size})


def unauthenticated(reason: str = "Authentication is required.") -> Problem:
    return Problem(401, "auth.unauthenticated", reason)


def invalid_credentials() -> Problem:
    return Problem(401, "auth.invalid_credentials", "The email or password is wrong.")


def forbidden(permission: str) -> Problem:
    return Problem(
        403,
        "auth.forbidden",
        f"Your role does not allow this action ({permission}).",
        {"permission": permission},
    )


def not_found(kind: str, identifier: Any) -> Problem:
    return Problem(404, f"{kind}.not_found", f"No {kind} with id {identifier}.", {"id": identifier})


def conflict(code: str, message: str, **details: Any) -> Problem:
    return Problem(409, code, message, details)


def service_unavailable(code: str, message: str) -> Problem:
    return Problem(503, code, message)


def invalid_value(reason: str) -> Problem:
    """A value the database refused (db.transaction): no field to name, but the reason."""
    return Problem(400, "request.invalid_value", f"A value cannot be stored: {reason}.", {"reason": reason})


def check_failed(constraint: str) -> Problem:
    """A check constraint the catalogue below does not name."""
    message = f"A value breaks the rule {constraint}."
    return Problem(400, "request.invalid_value", message, {"constraint": constraint})


def _not_blank(field_name: str) -> Callable[[], Problem]:
    return lambda: invalid_field(field_name, "must not be blank")


# Database constraints that are business rules, by constraint name (db.transaction maps them).
CONSTRAINTS = {
    "accounts_name_key": lambda: conflict("account.name_taken", "An account with this name already exists."),
    "users_email_key": lambda: conflict("user.email_taken", "A user with this email already exists."),
    "projects_app_id_key": lambda: conflict(
        "project.app_id_taken", "This app_id is used by another project."
    ),
    "projects_account_name_key": lambda: conflict("project.name_taken", "A project with this name exists."),
    "data_sources_account_name_key": lambda: conflict(
        "data_source.name_taken", "A data source with this name exists."
    ),
    "org_unit_types_account_name_key": lambda: conflict(
        "org_unit_type.name_taken", "A type with this name exists."
    ),
    "group_sets_account_name_key": lambda: conflict(
        "group_set.name_taken", "A group set with this name exists."
    ),
    "groups_version_ref_key": lambda: conflict(
        "group.source_ref_taken", "A group of this version has this ref."
    ),
    "forms_account_xform_id_key": lambda: conflict(
        "form.xform_id_taken", "Another form of this account has this XForm id (settings sheet form_id)."
    ),
    "forms_name_not_blank": _not_blank("name"),
    "accounts_name_not_blank": _not_blank("name"),
    "projects_name_not_blank": _not_blank("name"),
    "api_keys_name_not_blank": _not_blank("name"),
    "collect_tokens_name_not_blank": _not_blank("name"),
    "data_sources_name_not_blank": _not_blank("name"),
    "org_unit_types_name_not_blank": _not_blank("name"),
    "groups_name_not_blank": _not_blank("name"),
    "group_sets_name_not_blank": _not_blank("name"),
    "org_units_name_not_blank": _not_blank("name"),
    "dhis2_connections_name_key": lambda: conflict(
        "dhis2_connection.name_taken", "A DHIS2 connection of this account has this name."
    ),
    "dhis2_connections_name_not_blank": _not_blank("name"),
    "dhis2_connections_auth_kind_known": lambda: invalid_field("auth_kind", "is not 'basic' or 'token'"),
    "dhis2_connections_basic_has_username": lambda: invalid_field(
        "username", "is required for Basic authentication"
    ),
    "dhis2_schedules_connection_source_key": lambda: conflict(
        "dhis2_schedule.exists", "This connection already has a schedule for this data source; change it."
    ),
    "dhis2_schedules_expression_form": lambda: invalid_field("expression", "must be rate(…) or cron(…)"),
    "dhis2_runs_kind_known": lambda: invalid_field("kind", "is not 'import' or 'sync'"),
    "dhis2_runs_status_known": lambda: invalid_field("status", "is not a known run status"),
    "dhis2_connections_id_account_key": lambda: conflict("dhis2_connection.taken", "This connection exists."),
    "dhis2_data_mappings_name_key": lambda: conflict(
        "dhis2_data_mapping.name_taken", "A DHIS2 data-value mapping of this account has this name."
    ),
    "dhis2_data_mappings_name_not_blank": _not_blank("name"),
    "dhis2_data_mappings_data_set_uid": lambda: invalid_field("data_set", "must be a DHIS2 uid"),
    "dhis2_data_mappings_aoc_uid": lambda: invalid_field("attribute_option_combo", "must be a DHIS2 uid"),
    "dhis2_data_mappings_elements_list": lambda: invalid_field("elements", "must map at least one question"),
    "dhis2_data_exports_status_known": lambda: invalid_field(
        "status", "is not exported, conflict or skipped"
    ),
    "forms_period_type_known": lambda: invalid_field("period_type", "is not a known period type"),
    "forms_single_needs_period": lambda: invalid_field("single_per_period", "needs a period_type"),
    "form_projects_project_id_account_id_fkey": lambda: invalid_field(
        "project_ids", "names an unknown project"
    ),
    "form_org_unit_types_org_unit_type_id_account_id_fkey": lambda: invalid_field(
        "org_unit_type_ids", "names an unknown org-unit type"
    ),
    "form_versions_form_number_key": lambda: conflict(
        "form_version.concurrent_upload", "Another version of this form was added at the same time; retry."
    ),
    "form_versions_form_version_key": lambda: conflict(
        "form_version.version_exists", "This form already has a version with this version string."
    ),
    "org_units_vN_version_id_source_ref_idx": lambda: conflict(
        "orgunit.source_ref_taken", "Another org unit of this version has this source_ref."
    ),
    "org_units_dates_ordered": lambda: invalid_field("closed_date", "must not be before opening_date"),
    "projects_app_id_format": lambda: invalid_field(
        "app_id", "must be 3 to 100 letters, digits, dots, dashes or underscores"
    ),
}
