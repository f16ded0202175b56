"""GET /api/submissions filters (and a submissions export's), from query-string values."""

import datetime
from collections.abc import Mapping

from chalicelib.platform import problems
from chalicelib.platform.query_params import bool_param, id_param
from chalicelib.submissions.submission_rules import STATUSES, Filters

KNOWN = ("form", "org_unit", "period", "created_from", "created_to", "validation_status", "has_location",
         "deleted")  # fmt: skip


def parse(query: Mapping[str, str], extra: tuple[str, ...] = ()) -> Filters:
    """Filters from query-string values; an unknown name or a bad value is a 400 naming it."""
    unknown = set(query) - set(KNOWN) - set(extra)
    if unknown:
        known = ", ".join(sorted(KNOWN))
        raise problems.invalid_parameter(sorted(unknown)[0], f"is not a filter; known: {known}")
    status = query.get("validation_status")
    if status and status not in STATUSES:
        raise problems.invalid_parameter("validation_status", f"must be one of {', '.join(STATUSES)}")
    return Filters(
        form_id=id_param(query, "form"),
        org_unit_id=id_param(query, "org_unit"),
        period=query.get("period") or None,
        created_from=_time(query, "created_from"),
        created_to=_time(query, "created_to"),
        validation_status=status,
        has_location=bool_param(query, "has_location"),
        deleted=bool(bool_param(query, "deleted")),
    )


def _time(query: dict, name: str) -> datetime.datetime | None:
    raw = query.get(name)
    if not raw:
        return None
    try:
        value = datetime.datetime.fromisoformat(raw.replace(" ", "+"))
    except ValueError as error:
        raise problems.invalid_parameter(name, "must be an ISO 8601 date or time") from error
    return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)
