"""Endpoints for the mobile app."""

import datetime
from typing import Annotated, Literal

from chalicelib.handlers.http import Call
from chalicelib.handlers.wire import Page, Point
from chalicelib.platform import paging, problems
from chalicelib.platform.contract import (
    UNSET,
    Date,
    Meta,
    PageQuery,
    Reason,
    Timestamp,
    UnsetType,
    Wire,
    operation,
    path_value,
)
from chalicelib.registry import mobile_sync


class ChangesQuery(PageQuery, kw_only=True):  # kw_only: a required field may follow defaulted ones
    # Text, not an int: an id that is not a number names no project (404), as in a path
    project: Annotated[str, Meta(min_length=1, description="project id"), Reason("is required")]
    since: Annotated[str | None, Meta(description="ISO 8601 time: the last page's next_since")] = None


class MobileUnit(Wire):
    """A VALID unit the user may see, or a tombstone (`deleted`) for one the phone must drop."""

    id: int
    updated_at: Timestamp
    deleted: Literal[True] | UnsetType = UNSET  # a tombstone has only id and updated_at besides
    uuid: str | UnsetType = UNSET
    name: str | UnsetType = UNSET
    parent_id: int | None | UnsetType = UNSET
    org_unit_type_id: int | None | UnsetType = UNSET
    org_unit_type_name: str | None | UnsetType = UNSET
    code: str | None | UnsetType = UNSET
    source_ref: str | None | UnsetType = UNSET
    validation_status: Literal["VALID"] | UnsetType = UNSET
    opening_date: Date | None | UnsetType = UNSET
    closed_date: Date | None | UnsetType = UNSET
    location: Point | None | UnsetType = UNSET
    ancestor_ids: list[int] | UnsetType = UNSET
    group_ids: list[int] | UnsetType = UNSET


class UnitChanges(Page[MobileUnit]):
    next_since: Timestamp | None  # on the last page: what to pass as `since` next time


@operation(
    "GET",
    "/api/mobile/orgunits",
    summary="Units changed since the last sync, with tombstones, paged",
    tag="mobile",
)
def orgunit_changes(call: Call, query: ChangesQuery) -> UnitChanges:
    project_id = path_value("project", query.project)
    page = paging.page_request(query, key_shape=(str, int))
    since = _since(query.since)
    return mobile_sync.changes(call.cur, call.principal, project_id, since, page.after, page.limit)


def _since(raw: str | None) -> datetime.datetime | None:
    if not raw:
        return None
    try:
        # a "+" left unescaped in the URL arrives as " "
        since = datetime.datetime.fromisoformat(raw.replace(" ", "+"))
    except ValueError as error:
        raise problems.invalid_parameter(
            "since", "must be an ISO 8601 time, e.g. 2026-11-22T10:00:00+00:00"
        ) from error
    return since if since.tzinfo else since.replace(tzinfo=datetime.UTC)
