"""GET /api/submissions filters (and a submissions export's), from query-string values."""

import datetime
from collections.abc import Mapping
from typing import Annotated

from chalicelib.platform import contract, problems
from chalicelib.platform.query_params import bool_param, id_param
from chalicelib.submissions.submission_rules import STATUSES, Filters


def _described(text: str):
    return Annotated[str | None, contract.Meta(description=text)]


class SubmissionFilters(contract.Query):
    """The filters as the query string of GET /api/submissions has them, also accepted as the `filters`
    object of a submissions export; each is text, read by `parse`."""

    form: _described("form id") = None
    org_unit: _described("submissions linked to this unit or a unit below it") = None
    period: _described("the period the phone gave, e.g. 202006") = None
    created_from: _described("received at or after this ISO 8601 date or time") = None
    created_to: _described("received before this ISO 8601 date or time") = None
    validation_status: _described("PENDING, APPROVED or REJECTED") = None
    has_location: _described("true or false") = None
    deleted: _described("true: the deleted ones instead") = None


KNOWN = SubmissionFilters.__struct_fields__


def from_query(query: SubmissionFilters) -> Filters:
    """Filters from a decoded query string (its other parameters, paging and format, left out)."""
    return parse({name: value for name in KNOWN if (value := getattr(query, name)) is not None})


def parse(query: Mapping[str, str]) -> Filters:
    """Filters from query-string values; an unknown name or a bad value is a 400 naming it."""
    unknown = set(query) - set(KNOWN)
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
