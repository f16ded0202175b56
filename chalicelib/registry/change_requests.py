"""Change requests: field workers propose new units or new values; reviewers approve or reject.

A proposal is checked when it is made exactly as its approval would apply it (inside a savepoint
that is then rolled back), so what gets approved later cannot fail on bad input. Approving applies
the chosen fields as the reviewer, audited with source "change_request"; approving a new unit makes
it VALID, rejecting it makes it REJECTED.
"""

import json

from chalicelib.identity.permissions import PROPOSE_CHANGES, READ_REGISTRY, REVIEW_CHANGES, Principal, require
from chalicelib.platform import db, problems
from chalicelib.platform.jsonutil import dumps
from chalicelib.registry import audit, change_requests_sql, units
from chalicelib.tasks.bounds import check_page

STATUSES = ("new", "approved", "rejected")
SOURCE = "change_request"


def propose_change(cur, principal: Principal, unit_id: int, proposed: dict) -> dict:
    require(principal, PROPOSE_CHANGES)
    if not proposed:
        raise problems.invalid_field("proposed", "must propose at least one field")
    unit = units.get(cur, principal, unit_id)  # visible to the proposer, or 404
    _dry_run(cur, lambda: units.update_unchecked(cur, principal, unit_id, proposed, SOURCE))
    values = _as_json(proposed)
    request_id = change_requests_sql.create(
        cur, principal.account_id, unit["version_id"], unit_id, values, False, principal.user_id
    )
    return get(cur, principal, request_id)


def propose_unit(cur, principal: Principal, version_id: int, fields: dict) -> dict:
    """A new unit, created NEW (so mobile devices do not get it yet) until a reviewer approves it."""
    require(principal, PROPOSE_CHANGES)
    created = units.create_unchecked(
        cur, principal, version_id, fields | {"validation_status": "NEW"}, SOURCE
    )
    request_id = change_requests_sql.create(
        cur, principal.account_id, version_id, created["id"], _as_json(fields), True, principal.user_id
    )
    return get(cur, principal, request_id)


def get(cur, principal: Principal, request_id: int) -> dict:
    require(principal, READ_REGISTRY)
    found = change_requests_sql.get(cur, principal.account_id, request_id)
    if found is None or not units.scope(principal, found["version_id"]).contains(found["path"]):
        raise problems.not_found("change_request", request_id)
    return _present(found)


def list_page(
    cur, principal: Principal, status: str | None, unit_id: int | None, after, limit: int
) -> list[dict]:
    require(principal, READ_REGISTRY)
    subtrees = principal.subtree_roots
    roots = None if subtrees is None else [(root.version_id, root.path) for root in subtrees]
    rows = change_requests_sql.list_page(cur, principal.account_id, status, unit_id, roots, after, limit)
    shown = [_present(row) for row in rows]
    check_page(shown[: limit - 1], "change requests")  # `limit` counts the row saying "more"
    return shown


def approve(cur, principal: Principal, request_id: int, fields: list[str] | None) -> dict:
    require(principal, REVIEW_CHANGES)
    request = get(cur, principal, request_id)
    _check_open(request)
    chosen = list(request["proposed"]) if fields is None else fields
    unknown = sorted(set(chosen) - set(request["proposed"]))
    if unknown:
        raise problems.invalid_field("fields", f"names fields that were not proposed: {unknown}")
    if not chosen and not request["creates_unit"]:  # approving nothing is rejecting: say why instead
        raise problems.invalid_field("fields", "must name at least one proposed field")
    if request["creates_unit"]:
        units.update_unchecked(cur, principal, request["org_unit_id"], {"validation_status": "VALID"}, SOURCE)
    else:
        changes = {name: request["proposed"][name] for name in chosen}
        units.update_unchecked(cur, principal, request["org_unit_id"], changes, SOURCE)
    return _review(cur, principal, request, "approved", chosen, None)


def reject(cur, principal: Principal, request_id: int, reason: str) -> dict:
    require(principal, REVIEW_CHANGES)
    request = get(cur, principal, request_id)
    _check_open(request)
    if request["creates_unit"]:
        units.update_unchecked(
            cur, principal, request["org_unit_id"], {"validation_status": "REJECTED"}, SOURCE
        )
    return _review(cur, principal, request, "rejected", [], reason)


def _review(
    cur, principal: Principal, request: dict, status: str, fields: list[str], reason: str | None
) -> dict:
    if not change_requests_sql.review(
        cur, principal.account_id, request["id"], status, fields, reason, principal.user_id
    ):
        raise problems.conflict(
            "change_request.already_reviewed", f"Change request {request['id']} was reviewed."
        )
    after = {"status": status, "approved_fields": fields, "rejection_reason": reason}
    audit.record(cur, principal.account_id, principal.user_id, "api", "change_request", request["id"], status,
                 {"status": "new"}, after)  # fmt: skip
    return get(cur, principal, request["id"])


def _check_open(request: dict) -> None:
    if request["status"] != "new":
        raise problems.conflict(
            "change_request.already_reviewed",
            f"Change request {request['id']} is already {request['status']}.",
        )


def _dry_run(cur, apply) -> None:
    with db.savepoint(cur, "change_request_check") as check:
        apply()
        check.roll_back()


def _as_json(values: dict) -> dict:
    """Dates and the like as JSON text, as they will be read back at approval."""
    return json.loads(dumps(values))


def _present(row: dict) -> dict:
    return {key: value for key, value in row.items() if key != "path"}
