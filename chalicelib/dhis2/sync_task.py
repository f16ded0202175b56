"""A sync: DHIS2's changes since the last successful run, applied to a copy of the latest version.

The delta is the units with `lastUpdated:ge:{when the last run started, by DHIS2's clock}`, the
units of the groups changed since then whose membership differs from the version's (DHIS2 keeps
membership on the group side: a unit's lastUpdated need not move), and a uid scan (`fields=id`,
`paging=false`) for the deleted ones. Checked against the latest version first (the import writer's
dry run): nothing to change → the run is recorded UNCHANGED and nothing is created. Otherwise the
version is copied (registry/version_data_sql), the changes written by the import writer for existing
versions (field by field, audited; moves recompute paths), the deleted units deleted, and the
difference between the two versions is the diff artifact (sync_diff). One transaction: a failed
sync leaves no version. Without an earlier run, a sync is a whole import; with a delta over
WHOLE_IMPORT_ABOVE units, too, followed by the same diff.
"""

from chalicelib.dhis2 import connections, sync_diff, sync_sql, tree_fetch, tree_import
from chalicelib.dhis2.tree_units import feature, namespace_of, record
from chalicelib.identity import authentication
from chalicelib.imports import import_task, tree_plan, unit_loader_sql
from chalicelib.imports.unit_model import Package, ProblemList
from chalicelib.imports.unit_rows import Target
from chalicelib.imports.version_merge import write
from chalicelib.registry import audit, sources_sql, version_data_sql
from chalicelib.tasks import engine
from chalicelib.tasks.engine import TaskContext, TaskInputError, task

KIND = "dhis2.sync"
IDS_PER_REQUEST = 100
# A delta this big is fetched as a whole import (which continues across invocations near the Lambda's
# deadline), then compared with the version it would have changed; a smaller one fits one invocation.
WHOLE_IMPORT_ABOVE = 20_000


@task(KIND)
def run_sync(ctx: TaskContext):
    params = ctx.params
    last = sync_sql.last_done(ctx.cur, params["connection_id"], params["data_source_id"])
    if (
        ctx.cursor is not None
        or last is None
        or last["mirror_version_id"] is None
        or not last["server_started"]
    ):
        return tree_import.run_import(ctx)  # nothing to apply changes to (or going on): the whole tree
    client = connections.task_client(ctx)
    base = last["mirror_version_id"]
    with tree_fetch.failures_explained():
        if tree_fetch.changed_count(client, last["server_started"]) > WHOLE_IMPORT_ABOVE:
            return tree_import.run_import(ctx, diff_against=base)
        started = tree_fetch.server_time(client)
        ref = tree_fetch.reference(client)
        changed = _changed_units(ctx, client, ref, base, last["server_started"])
        deleted = sorted(sync_sql.live_refs(ctx.cur, base) - tree_fetch.all_uids(client))
    package = Package(features=changed, groups=ref.groups, problems=ProblemList())
    for feature_ in changed:  # a unit whose type or groups DHIS2 does not list stays as the version has it
        feature_.group_refs = [g for g in feature_.group_refs if g in ref.groups]
    principal = authentication.principal_of_launcher(ctx.cur, ctx.task["launcher_id"])
    base_target = Target(ctx.task["account_id"], base, params["data_source_id"], principal.user_id)
    counts = _merge(ctx, base_target, package, dry_run=True)
    if counts["created"] + counts["updated"] + len(deleted) == 0:
        return _unchanged(ctx, base, started, len(changed))
    version_id = _copy(ctx, base, principal.user_id, started)
    target = Target(base_target.account_id, version_id, base_target.data_source_id, principal.user_id)
    counts = _merge(ctx, target, package, dry_run=False)
    counts["deleted"] = len(sync_sql.delete_units(ctx.cur, version_id, deleted, principal.user_id))
    for name, group_uids in ref.group_sets.items():
        sync_sql.link_group_set(ctx.cur, target.account_id, version_id, name, group_uids)
    ctx.progress(3, 4, "comparing the versions")
    diff = sync_diff.write(ctx, base, version_id)
    engine.enqueue(
        ctx.cur, target.account_id, principal.user_id, import_task.FINISH_KIND, {"version_id": version_id}
    )
    result = {
        "version_id": version_id,
        "base_version_id": base,
        "server_started": started,
        "counts": counts | {"fetched": len(changed)},
        "diff": diff,
    }
    audit.record(
        ctx.cur,
        target.account_id,
        principal.user_id,
        "dhis2",
        "version",
        version_id,
        "sync",
        None,
        result,
        ctx.task["id"],
    )
    sync_sql.finish_run(ctx.cur, ctx.task["id"], "SUCCESS", result)
    return result


def _changed_units(ctx: TaskContext, client, ref: tree_fetch.Reference, base: int, since: str) -> list:
    """The units DHIS2 changed since `since`, and those whose group membership changed, as Features."""
    ctx.progress(0, 4, "fetching the changes")
    records: dict[str, tuple] = {}
    for page in tree_fetch.unit_pages(client, filters=(f"lastUpdated:ge:{since}",)):
        records |= {r[0]: r for r in map(record, page.items)}  # a uid repeated across pages: once
    ctx.progress(1, 4, "comparing group memberships")
    regrouped = _regrouped(ctx.cur, client, base, since) - set(records)
    for start in range(0, len(regrouped), IDS_PER_REQUEST):
        ids = ",".join(sorted(regrouped)[start : start + IDS_PER_REQUEST])
        for page in tree_fetch.unit_pages(client, filters=(f"id:in:[{ids}]",)):
            records |= {r[0]: r for r in map(record, page.items)}
    problems: list = []
    namespace = namespace_of(client.base_url)  # a new unit's uuid, as a whole import would give it
    features = [
        feature(row, r, ref.type_names, ref.groups, problems, namespace)
        for row, r in enumerate(records.values(), 1)
    ]
    for problem in problems:
        ctx.log(f"{problem.ref}: {problem.field} {problem.message}", "WARNING")
    return features


def _regrouped(cur, client, base: int, since: str) -> set[str]:
    """Units that joined or left a group DHIS2 changed since `since` (membership lives on groups)."""
    body = client.get(
        "/api/organisationUnitGroups",
        {"fields": "id,organisationUnits[id]", "paging": "false", "filter": f"lastUpdated:ge:{since}"},
    )
    groups = {
        g["id"]: {u["id"] for u in g.get("organisationUnits") or ()}
        for g in body.get("organisationUnitGroups") or ()
    }
    if not groups:
        return set()
    before = sync_sql.group_members(cur, base, list(groups))
    return {uid for ref, members in groups.items() for uid in members ^ before.get(ref, set())}


def _merge(ctx: TaskContext, target: Target, package: Package, dry_run: bool) -> dict:
    existing = {row["source_ref"]: row for row in unit_loader_sql.existing_units(ctx.cur, target.version_id)}
    plan = tree_plan.check(package.features, existing)
    if plan.errors:
        raise TaskInputError("The changes cannot be placed: " + "; ".join(str(p) for p in plan.errors[:20]))
    return write(ctx.cur, target, package, plan, existing, close_missing=False, dry_run=dry_run)


def _copy(ctx: TaskContext, base: int, user_id: int, started: str) -> int:
    account_id = ctx.task["account_id"]
    ctx.progress(2, 4, "copying the version")
    version = sources_sql.create_version(
        ctx.cur, account_id, ctx.params["data_source_id"], f"DHIS2 sync ({started})", user_id
    )
    version_data_sql.map_units(ctx.cur, base)
    version_data_sql.copy_units(ctx.cur, base, version["id"], user_id)
    version_data_sql.copy_groups(ctx.cur, account_id, base, version["id"])
    return version["id"]


def _unchanged(ctx: TaskContext, base: int, started: str, fetched: int) -> dict:
    result = {
        "version_id": None,
        "base_version_id": base,
        "server_started": started,
        "counts": {"created": 0, "updated": 0, "deleted": 0, "fetched": fetched},
        "note": "DHIS2 has no changes since the last run: nothing created",
    }
    sync_sql.finish_run(ctx.cur, ctx.task["id"], "UNCHANGED", result)
    return result
