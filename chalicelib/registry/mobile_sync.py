"""What the mobile app downloads: the VALID units a user may see, changed since its last sync.

Units that were deleted, stopped being VALID, or changed while outside VALID come as tombstones
({id, deleted: true}) so the phone drops them. Paging is by (updated_at, id). A page of changes
may commit after a later one was read; clients pass back `next_since` (which looks back past the
longest transaction) once they reach the last page, and apply what they receive idempotently.
A unit that moved out of a restricted user's subtrees since the last sync comes as a tombstone too
(org_unit_moves remembers where it was).
"""

import datetime

from chalicelib.identity import projects_sql
from chalicelib.identity.permissions import READ_REGISTRY, Principal, require
from chalicelib.platform import paging, problems
from chalicelib.registry import geometry, units, units_sql
from chalicelib.registry.units_sql import Query

# updated_at is when a transaction started; the longest (a task's) lasts up to a Lambda's 15 minutes
LOOK_BACK = datetime.timedelta(minutes=16)
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
FIELDS = ("id", "uuid", "name", "parent_id", "org_unit_type_id", "org_unit_type_name", "code", "source_ref",
          "validation_status", "opening_date", "closed_date", "location", "ancestor_ids", "group_ids",
          "updated_at")  # fmt: skip


def check_project(cur, principal: Principal, project_id: int) -> None:
    """The user must belong to the project (admins reach every project of their account)."""
    if project_id in principal.project_ids:  # profile_projects keeps them inside the account
        return
    project = projects_sql.get(cur, principal.account_id, project_id) if principal.role == "admin" else None
    if project is None:
        raise problems.not_found("project", project_id)


def changes(cur, principal: Principal, project_id: int, since, after, limit: int) -> dict:
    require(principal, READ_REGISTRY)
    check_project(cur, principal, project_id)
    version_id = units.version_to_read(cur, principal, None)
    query = Query(version_id, include_deleted=True)
    unit_scope = units.scope(principal, version_id)
    if after:
        since, after_id = _cursor_time(after[0]), after[1]
    else:
        since, after_id = since or EPOCH, 0
    unit_scope.restrict_for_sync(query, since)
    found = unit_scope.hide_above(units_sql.changed_since(cur, query, since, after_id, limit + 1))
    page = found[:limit]
    more = len(found) > limit
    return {
        "results": [_item(row, unit_scope) for row in page],
        "next_cursor": paging.encode_cursor([page[-1]["updated_at"].isoformat(), page[-1]["id"]])
        if more
        else None,
        "next_since": None if more else (datetime.datetime.now(datetime.UTC) - LOOK_BACK).isoformat(),
    }


def _cursor_time(text: str) -> datetime.datetime:
    try:
        return datetime.datetime.fromisoformat(text)
    except ValueError as error:  # a cursor we did not make
        raise problems.invalid_parameter("cursor", "is not a cursor this API returned") from error


def _item(row: dict, unit_scope: units.Scope) -> dict:
    gone = row["deleted_at"] or row["validation_status"] != "VALID" or not unit_scope.contains(row["path"])
    if gone:
        return {"id": row["id"], "deleted": True, "updated_at": row["updated_at"]}
    # orgunits.present's rules, written out for exactly FIELDS: a sync page is this loop 100 times
    # over, and the generic presenter was a fifth of the request (bench/README.md)
    visible_from = row.get("visible_from", 0)  # a restricted user sees nothing above their root
    opening, closed = row["opening_date"], row["closed_date"]
    return {
        "id": row["id"],
        "uuid": str(row["uuid"]),
        "name": row["name"],
        "parent_id": row["parent_id"] if row["depth"] > visible_from else None,
        "org_unit_type_id": row["org_unit_type_id"],
        "org_unit_type_name": row["org_unit_type_name"],
        "code": row["code"],
        "source_ref": row["source_ref"],
        "validation_status": row["validation_status"],
        "opening_date": opening.isoformat() if opening else None,
        "closed_date": closed.isoformat() if closed else None,
        "location": geometry.point_geojson(row),
        "ancestor_ids": [int(part) for part in row["path"].strip("/").split("/")[visible_from:-1]],
        "group_ids": row["group_ids"],
        "updated_at": row["updated_at"],
    }
