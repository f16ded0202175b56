"""What tree imports and syncs ask DHIS2 for besides the units: its clock, levels, groups and group
sets; the client of the task's connection; DHIS2's failures as task outcomes."""

import datetime
from contextlib import contextmanager
from dataclasses import dataclass

from chalicelib.dhis2 import tree_units
from chalicelib.dhis2.client import Dhis2Client, Dhis2Failure
from chalicelib.tasks.engine import TaskInputError

PAGE_SIZE = 1000


@dataclass
class Reference:
    """DHIS2's levels (level -> name), groups (uid -> name) and group sets (name -> group uids)."""

    type_names: dict[int, str]
    groups: dict[str, str]
    group_sets: dict[str, list[str]]


@contextmanager
def failures_explained():
    """DHIS2 failures a retry cannot cure end the task ERRORED, in words; an unreachable DHIS2 (after
    the client's own retries) is transient: the task is tried again later, having written nothing."""
    try:
        yield
    except Dhis2Failure as failure:
        if failure.kind == "unreachable":
            raise
        raise TaskInputError(f"DHIS2: {failure.message}") from failure


def server_time(client: Dhis2Client) -> str:
    """DHIS2's own clock (serverDate), so that the next delta does not depend on ours agreeing."""
    info = client.get("/api/system/info")
    stamp = info.get("serverDate") if isinstance(info, dict) else None
    if isinstance(stamp, str) and len(stamp) >= 19:
        return stamp[:23]
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.000")


def reference(client: Dhis2Client) -> Reference:
    levels = _all(client, "organisationUnitLevels", tree_units.LEVEL_FIELDS)
    groups = _all(client, "organisationUnitGroups", tree_units.GROUP_FIELDS)
    sets = _all(client, "organisationUnitGroupSets", tree_units.GROUP_SET_FIELDS)
    return Reference(
        {
            int(level["level"]): level.get("name") or f"Level {level['level']}"
            for level in levels
            if str(level.get("level", "")).isdigit()
        },
        {group["id"]: group.get("name") or group["id"] for group in groups if group.get("id")},
        {
            s.get("name") or s["id"]: [g["id"] for g in s.get("organisationUnitGroups") or () if "id" in g]
            for s in sets
            if s.get("id")
        },
    )


def _all(client: Dhis2Client, collection: str, fields: str) -> list[dict]:
    body = client.get(f"/api/{collection}", {"fields": fields, "paging": "false"})
    items = body.get(collection)
    if not isinstance(items, list):
        raise Dhis2Failure("not_dhis2", f"/api/{collection} answered without a {collection!r} list")
    return [item for item in items if isinstance(item, dict)]


def unit_pages(client: Dhis2Client, start_page: int = 1, filters: tuple[str, ...] = ()):
    params = {"fields": tree_units.UNIT_FIELDS, "order": "id:asc"}
    if filters:
        params["filter"] = list(filters)
    return client.pages("/api/organisationUnits", "organisationUnits", params, PAGE_SIZE, start_page)


def tree_pages(client: Dhis2Client, level: int = 1, start_page: int = 1, max_levels: int = 50):
    """(level, page) of the whole tree, level by level from `level` (parents before children), each
    page by page; ends at the first empty level."""
    while level <= max_levels:
        page = None
        for page in unit_pages(client, start_page, (f"level:eq:{level}",)):
            yield level, page
        if page is None or not page.total:
            return
        level, start_page = level + 1, 1
    raise Dhis2Failure(
        "refused", f"DHIS2 answered units at every level up to {max_levels}: it ignores `filter`?"
    )


def changed_count(client: Dhis2Client, since: str) -> int:
    """How many units DHIS2 changed since `since` (one request for one id: the pager's total)."""
    body = client.get(
        "/api/organisationUnits", {"fields": "id", "filter": f"lastUpdated:ge:{since}", "pageSize": 1}
    )
    pager = body.get("pager") if isinstance(body, dict) else None
    return (
        int(pager.get("total") or 0) if isinstance(pager, dict) else len(body.get("organisationUnits") or ())
    )


def all_uids(client: Dhis2Client) -> set[str]:
    """Every unit's uid (one request, `paging=false`): what is not there was deleted."""
    body = client.get("/api/organisationUnits", {"fields": "id", "paging": "false"})
    items = body.get("organisationUnits")
    if not isinstance(items, list):
        raise Dhis2Failure("not_dhis2", "/api/organisationUnits answered without an 'organisationUnits' list")
    return {item["id"] for item in items if isinstance(item, dict) and item.get("id")}
