"""The tree of a version: how many children each unit has, per org-unit type (the console's tree
shows "12 districts, 3 facilities" on a unit before it is expanded)."""

from chalicelib.identity.permissions import READ_REGISTRY, Principal, require
from chalicelib.platform import problems
from chalicelib.registry import reference_data, units, units_sql

IDS_MAX = 100  # one page of a list, with room


def child_counts(cur, principal: Principal, version: int | None, unit_ids: list[int]) -> list[dict]:
    """For each of `unit_ids` (in the version read), its children per type, in the order asked.
    A unit the caller may not see (another account's, outside a restricted profile's subtrees, in
    another version) is "not found", as it is everywhere else; its children are all visible when it
    is, since a profile sees whole subtrees."""
    require(principal, READ_REGISTRY)
    if not unit_ids:
        raise problems.invalid_parameter("ids", "must name at least one unit")
    if len(unit_ids) > IDS_MAX:
        raise problems.invalid_parameter("ids", f"may name at most {IDS_MAX} units")
    version_id = reference_data.version_to_read(cur, principal, version)
    found = {row["id"]: row for row in units_sql.paths_of(cur, [version_id], unit_ids)} if version_id else {}
    unit_scope = units.scope(principal, version_id)
    for unit_id in unit_ids:
        if unit_id not in found or not unit_scope.contains(found[unit_id]["path"]):
            raise problems.not_found("orgunit", unit_id)
    counts: dict[int, list[dict]] = {unit_id: [] for unit_id in unit_ids}
    for row in units_sql.child_counts(cur, version_id, list(counts)):
        counts[row["id"]].append(
            {
                "org_unit_type_id": row["org_unit_type_id"],
                "org_unit_type_name": row["org_unit_type_name"],
                "count": row["count"],
            }
        )
    return [
        {"id": unit_id, "children": sum(c["count"] for c in by_type), "by_type": by_type}
        for unit_id, by_type in counts.items()
    ]
