"""`orgunits.bulk_update`: one change applied to every unit matching a filter, as a task.

The filter is the one GET /api/orgunits takes, evaluated as the launcher (their account, role and
subtrees). Each unit is updated through the same rules as PATCH and audited with the task's id.
"""

from chalicelib.identity import authentication
from chalicelib.identity.permissions import RUN_TASKS, WRITE_REGISTRY, Principal, require
from chalicelib.platform import problems
from chalicelib.registry import groups_sql, unit_filters, unit_types_sql, units, units_sql
from chalicelib.tasks import engine
from chalicelib.tasks.engine import TaskContext, TaskInputError, task

KIND = "orgunits.bulk_update"
CHANGEABLE = ("validation_status", "org_unit_type_id", "opening_date", "closed_date", "add_group_ids",
              "remove_group_ids")  # fmt: skip
PAGE = 200


def launch(cur, principal: Principal, filters: dict[str, str], changes: dict) -> dict:
    """Checks the filter and the change now (400 at once, not a failed task later), then enqueues.
    The task applies everything in one transaction: all units change, or none."""
    require(principal, WRITE_REGISTRY)
    require(principal, RUN_TASKS)
    if not changes:
        raise problems.invalid_field("changes", "must hold at least one change")
    unknown = sorted(set(changes) - set(CHANGEABLE))
    if unknown:
        raise problems.invalid_field(
            "changes", f"cannot change {unknown}; changeable: {', '.join(CHANGEABLE)}"
        )
    page_free = {k: v for k, v in filters.items() if k not in ("limit", "cursor")}
    query, _ = unit_filters.parse(cur, principal, page_free, None)
    type_id = changes.get("org_unit_type_id")
    if type_id and unit_types_sql.get(cur, principal.account_id, type_id) is None:
        raise problems.invalid_field("changes", f"names no org-unit type {type_id}")
    named_groups = changes.get("add_group_ids", []) + changes.get("remove_group_ids", [])
    missing = groups_sql.missing_in_version(cur, principal.account_id, query.version_id, named_groups)
    if missing:
        raise problems.invalid_field(
            "changes", f"names groups {missing} that are not in version {query.version_id}"
        )
    params = {"filters": filters, "changes": changes}
    return engine.enqueue(cur, principal.account_id, principal.user_id, KIND, params)


@task(KIND)
def bulk_update(ctx: TaskContext):
    try:
        principal = authentication.principal_of_launcher(ctx.cur, ctx.task["launcher_id"])
        query, _ = unit_filters.parse(ctx.cur, principal, ctx.params["filters"], None)
    except problems.Problem as problem:
        raise TaskInputError(problem.message) from problem
    units.scope(principal, query.version_id).restrict(query)
    total, done, after = units_sql.count(ctx.cur, query), 0, 0
    while page := units_sql.list_page(ctx.cur, query, False, after, PAGE):
        for unit in page:
            if ctx.deadline_near():
                # All or nothing: one transaction, no continuation that would leave it half applied
                raise TaskInputError(
                    f"{total} units are more than one run can update ({done} done); narrow the filters."
                )
            _apply(ctx, principal, unit)
            done, after = done + 1, unit["id"]
            ctx.progress(done, total, f"updated {done} of {total}")
    return {"updated": done}


def _apply(ctx: TaskContext, principal: Principal, unit: dict) -> None:
    changes = {
        k: v for k, v in ctx.params["changes"].items() if k not in ("add_group_ids", "remove_group_ids")
    }
    added, removed = (
        ctx.params["changes"].get("add_group_ids", []),
        ctx.params["changes"].get("remove_group_ids", []),
    )
    if added or removed:
        changes["group_ids"] = sorted((set(unit["group_ids"]) | set(added)) - set(removed))
    try:
        units.update_unchecked(ctx.cur, principal, unit["id"], changes, "bulk_update", ctx.task["id"])
    except problems.Problem as problem:
        raise TaskInputError(f"org unit {unit['id']} ({unit['name']}): {problem.message}") from problem
