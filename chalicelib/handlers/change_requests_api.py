"""Change requests: proposed values for a unit, or a proposed new unit, reviewed field by field."""

from typing import Annotated, Any, Literal

from chalicelib.handlers.http import Call
from chalicelib.handlers.orgunits_api import NewUnit, UnitFields, unit_fields
from chalicelib.handlers.wire import Page
from chalicelib.identity.permissions import PROPOSE_CHANGES, READ_REGISTRY, REVIEW_CHANGES
from chalicelib.platform import paging, problems
from chalicelib.platform.contract import (
    Body,
    Id,
    Meta,
    PageQuery,
    PathId,
    Strings,
    Timestamp,
    Wire,
    one_of,
    operation,
    text,
)
from chalicelib.registry import change_requests, units

RequestId = Annotated[int, PathId("change_request")]


class ChangeRequest(Wire):
    id: int
    account_id: int
    version_id: int
    org_unit_id: int
    org_unit_name: str | None
    proposed: dict[str, Any]
    creates_unit: bool
    status: Literal["new", "approved", "rejected"]
    approved_fields: list[str]
    rejection_reason: str | None
    created_by: int | None
    created_by_email: str | None
    reviewed_by: int | None
    reviewed_by_email: str | None
    created_at: Timestamp
    reviewed_at: Timestamp | None


class ChangeRequestCreate(Body):
    """{org_unit_id, proposed} to change a unit, or {new_unit} to add one."""

    org_unit_id: Id | None = None
    proposed: UnitFields | None = None
    new_unit: NewUnit | None = None


class ChangeRequestsQuery(PageQuery):
    status: one_of(*change_requests.STATUSES) | None = None
    org_unit: Annotated[int | None, Meta(description="requests about this unit")] = None


class Approval(Body):
    fields: Strings | None = None  # the proposed fields to apply; all of them when left out


class Rejection(Body):
    reason: text(2000, required=True)


@operation(
    "POST",
    "/api/change-requests",
    summary="Propose new values for a unit ({org_unit_id, proposed}) or a new unit ({new_unit})",
    tag="change requests",
    status=201,
    permission=PROPOSE_CHANGES,
)
def create_change_request(call: Call, body: ChangeRequestCreate) -> ChangeRequest:
    if (body.org_unit_id is None) == (body.new_unit is None):
        raise problems.invalid_field("org_unit_id", "or new_unit is required (one of the two)")
    if body.new_unit is not None:
        version_id = units.version_id_for(call.cur, call.principal, body.new_unit.version_id or None)
        fields = unit_fields(body.new_unit)
        if fields.get("name") is None:
            raise problems.missing_field("name")
        return change_requests.propose_unit(call.cur, call.principal, version_id, fields)
    if body.proposed is None:
        raise problems.missing_field("proposed")
    proposed = unit_fields(body.proposed)
    return change_requests.propose_change(call.cur, call.principal, body.org_unit_id, proposed)


@operation(
    "GET",
    "/api/change-requests",
    summary="Change requests (?status=new|approved|rejected, ?org_unit=)",
    tag="change requests",
    permission=READ_REGISTRY,
)
def list_change_requests(call: Call, query: ChangeRequestsQuery) -> Page[ChangeRequest]:
    page = paging.page_request(query)
    found = change_requests.list_page(
        call.cur, call.principal, query.status, query.org_unit, page.after, page.limit + 1
    )
    return paging.page(found, page)


@operation(
    "GET",
    "/api/change-requests/{request_id}",
    summary="One change request",
    tag="change requests",
    permission=READ_REGISTRY,
)
def get_change_request(call: Call, request_id: RequestId) -> ChangeRequest:
    return change_requests.get(call.cur, call.principal, request_id)


@operation(
    "POST",
    "/api/change-requests/{request_id}/approve",
    summary="Apply the chosen proposed fields",
    tag="change requests",
    permission=REVIEW_CHANGES,
)
def approve_change_request(call: Call, body: Approval, request_id: RequestId) -> ChangeRequest:
    return change_requests.approve(call.cur, call.principal, request_id, body.fields)


@operation(
    "POST",
    "/api/change-requests/{request_id}/reject",
    summary="Reject, with a reason",
    tag="change requests",
    permission=REVIEW_CHANGES,
)
def reject_change_request(call: Call, body: Rejection, request_id: RequestId) -> ChangeRequest:
    return change_requests.reject(call.cur, call.principal, request_id, body.reason)
