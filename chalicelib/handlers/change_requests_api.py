"""Change requests over HTTP."""

from chalicelib.handlers.http import Call, endpoint, path_id
from chalicelib.handlers.orgunits_api import WRITABLE, read_unit_fields
from chalicelib.platform import paging, problems
from chalicelib.registry import change_requests, units


@endpoint(status=201)
def create_change_request(call: Call) -> dict:
    """{org_unit_id, proposed: {fields}} to change a unit; {new_unit: {fields, version_id?}} to add one."""
    body = call.body(["org_unit_id", "proposed", "new_unit"])
    if body.has("org_unit_id") == body.has("new_unit"):
        raise problems.invalid_field("org_unit_id", "or new_unit is required (one of the two)")
    if body.has("new_unit"):
        unit_body = call.nested_body(body.object("new_unit", required=True), [*WRITABLE, "version_id"])
        version_id = units.version_id_for(call.cur, call.principal, unit_body.id("version_id"))
        fields = read_unit_fields(unit_body) | {"name": unit_body.text("name", required=True)}
        return change_requests.propose_unit(call.cur, call.principal, version_id, fields)
    proposed = read_unit_fields(call.nested_body(body.object("proposed", required=True), WRITABLE))
    return change_requests.propose_change(
        call.cur, call.principal, body.id("org_unit_id", required=True), proposed
    )


@endpoint()
def list_change_requests(call: Call) -> dict:
    page = paging.page_request(call.query)
    status = call.query.get("status")
    if status is not None and status not in change_requests.STATUSES:
        raise problems.invalid_parameter("status", f"must be one of {', '.join(change_requests.STATUSES)}")
    unit = call.query.get("org_unit")
    unit_id = path_id(unit, "orgunit") if unit else None
    found = change_requests.list_page(call.cur, call.principal, status, unit_id, page.after, page.limit + 1)
    return paging.page(found, page)


@endpoint()
def get_change_request(call: Call, request_id: str) -> dict:
    return change_requests.get(call.cur, call.principal, path_id(request_id, "change_request"))


@endpoint()
def approve_change_request(call: Call, request_id: str) -> dict:
    body = call.body(["fields"])
    fields = body.strings("fields") if body.has("fields") else None
    return change_requests.approve(call.cur, call.principal, path_id(request_id, "change_request"), fields)


@endpoint()
def reject_change_request(call: Call, request_id: str) -> dict:
    body = call.body(["reason"])
    reason = body.text("reason", required=True, max_length=2000)
    return change_requests.reject(call.cur, call.principal, path_id(request_id, "change_request"), reason)
