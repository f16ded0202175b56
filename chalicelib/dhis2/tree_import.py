"""Importing a DHIS2 org-unit tree into a new version of a data source, as a task.

The units come level by level, page by page (a page is a unit of progress), into a local spool
(tree_spool: memory stays flat); near the Lambda's deadline the pages fetched so far are stored with
the task's cursor (dhis2_fetched_pages, committed with the Continue) and the next invocation goes on
from the next page. Parents come before their children this way (a unit is placed through its `path`
whatever the order). Once every page is in, the registry's own import writer (imports.import_writer)
places each unit as soon as its parent is placed and copies the units into the new version's partition, in the
task's one transaction, together with its types, groups and group sets: a failed or killed import
leaves no version, and a retried one starts again from its last committed page, duplicating nothing.
"""

from chalicelib.dhis2 import connections, sync_diff, sync_sql, tree_fetch
from chalicelib.dhis2.tree_spool import Spool
from chalicelib.identity import authentication
from chalicelib.identity.permissions import RUN_TASKS, WRITE_REGISTRY, Principal, require
from chalicelib.imports import import_task
from chalicelib.imports.import_writer import write_new_version
from chalicelib.imports.unit_model import Package, ProblemList, Source
from chalicelib.imports.unit_rows import Target
from chalicelib.platform import problems
from chalicelib.platform.jsonutil import dumps
from chalicelib.registry import audit, reference_data, units
from chalicelib.tasks import engine, tasks_sql
from chalicelib.tasks.bounds import capped
from chalicelib.tasks.engine import Continue, TaskContext, TaskInputError, task

KIND = "dhis2.import"
REPORTED = 20


def check_launch(cur, principal: Principal, connection_id: int, data_source_id: int) -> dict:
    """Who may import or sync, into what: the connection and the source must be the account's."""
    require(principal, WRITE_REGISTRY)
    require(principal, RUN_TASKS)
    units.require_unrestricted(cur, principal, "import a DHIS2 tree")
    connection = sync_sql.connection(cur, principal.account_id, connection_id)
    if connection is None:
        raise problems.not_found("dhis2_connection", connection_id)
    source = reference_data.get_source(cur, principal, data_source_id)
    if source["read_only"]:
        raise problems.conflict("data_source.read_only", f"Data source {source['id']} is read-only.")
    return connection


def launch(
    cur,
    principal: Principal,
    connection_id: int,
    data_source_id: int,
    kind: str = "import",
    schedule_id: int | None = None,
    skip_invalid: bool = False,
) -> dict:
    """Queues an import (or a sync) unless one of the pair is queued or running: then the run is a
    recorded no-op. Returns the run."""
    check_launch(cur, principal, connection_id, data_source_id)
    return queue_run(
        cur,
        principal.account_id,
        principal.user_id,
        connection_id,
        data_source_id,
        kind,
        schedule_id,
        skip_invalid,
    )


def queue_run(
    cur,
    account_id: int,
    user_id: int | None,
    connection_id: int,
    data_source_id: int,
    kind: str,
    schedule_id: int | None = None,
    skip_invalid: bool = False,
) -> dict:
    sync_sql.lock_pair(cur, connection_id, data_source_id)  # two firings at once: one after the other
    key = f"dhis2:{connection_id}:{data_source_id}"
    live = tasks_sql.live_by_unique_key(cur, account_id, key)
    if live is not None:
        note = f"{live['kind']} task {live['id']} is already {live['status'].lower()}"
        return sync_sql.insert_run(
            cur, account_id, connection_id, data_source_id, kind, "SKIPPED", live["id"], schedule_id, note
        )
    params = {"connection_id": connection_id, "data_source_id": data_source_id, "skip_invalid": skip_invalid}
    task_kind = KIND if kind == "import" else "dhis2.sync"
    created = engine.enqueue(cur, account_id, user_id, task_kind, params, key)
    return sync_sql.insert_run(
        cur, account_id, connection_id, data_source_id, kind, "QUEUED", created["id"], schedule_id
    )


@task(KIND)
def run_import(ctx: TaskContext, diff_against: int | None = None) -> dict | Continue:
    """The whole tree into a new version; for a sync whose delta is too big for one invocation, with
    the diff against the version it would have changed (`diff_against`, kept in the cursor)."""
    client = connections.task_client(ctx)
    spool = Spool()
    try:
        with tree_fetch.failures_explained():
            cursor = ctx.cursor or {
                "level": 1,
                "page": 1,
                "stored": 0,
                "server_started": tree_fetch.server_time(client),
                "diff_against": diff_against,
            }
            if ctx.cursor is None:
                sync_sql.drop_abandoned_pages(ctx.cur, ctx.task["account_id"])
            for chunk in sync_sql.stored_pages(ctx.cur, ctx.task["id"]):
                spool.replay(chunk)
            going_on = _fetch(ctx, client, spool, cursor)
            if going_on is not None:
                return going_on
            ref = tree_fetch.reference(client)
        namespace = tree_fetch.tree_units.namespace_of(client.base_url)
        result = write_tree(ctx, spool, ref, cursor, namespace)
    finally:
        spool.close()
    if cursor.get("diff_against"):
        ctx.progress(3, 4, "comparing the versions")
        result |= {
            "base_version_id": cursor["diff_against"],
            "diff": sync_diff.write(ctx, cursor["diff_against"], result["version_id"]),
        }
    sync_sql.drop_pages(ctx.cur, ctx.task["id"])
    sync_sql.finish_run(ctx.cur, ctx.task["id"], "SUCCESS", result)
    return result


def _fetch(ctx: TaskContext, client, spool: Spool, cursor: dict) -> Continue | None:
    """Every level from the cursor's, each page by page (parents before children: the writer then
    holds no unit back waiting for its parent); near the deadline, the new pages stored and a Continue."""
    for level, page in tree_fetch.tree_pages(client, cursor["level"], cursor["page"]):
        spool.add_page(page.items)
        if page.number == 1:  # what DHIS2 says the level holds, to check the pages against
            cursor["expected"] = cursor.get("expected", 0) + page.total
        ctx.progress(spool.count, None, f"level {level}, page {page.number} of {page.page_count}")
        if page.total and ctx.deadline_near():
            going_on = (level, page.number + 1) if page.number < page.page_count else (level + 1, 1)
            sync_sql.store_pages(ctx.cur, ctx.task["id"], cursor["stored"], spool.take_new())
            return Continue(
                cursor | {"level": going_on[0], "page": going_on[1], "stored": cursor["stored"] + 1}
            )
    return None


def write_tree(
    ctx: TaskContext, spool: Spool, ref: tree_fetch.Reference, cursor: dict, namespace: bytes
) -> dict:
    """The spooled units into a new version (import_writer), with groups and group sets."""
    account_id, params, server_started = ctx.task["account_id"], ctx.params, cursor["server_started"]
    principal = authentication.principal_of_launcher(ctx.cur, ctx.task["launcher_id"])
    package = Package(groups=ref.groups, problems=ProblemList())
    keep = spool.first_of_each_uid()
    levels = sorted(
        {(level - 1, tree_fetch.tree_units.type_name(ref.type_names, level)) for level in spool.levels}
    )
    source = Source(
        package,
        levels,
        spool.count,
        lambda: spool.features(keep, ref.type_names, ref.groups, package.problems, namespace),
        frozenset(spool.parents),
        streamed=True,
    )
    target = Target(account_id, None, params["data_source_id"], principal.user_id)
    counts, found = write_new_version(
        ctx.cur,
        target,
        source,
        False,
        params.get("skip_invalid", False),
        lambda done, total: ctx.progress(done, total, f"{done} of {total} units written"),
    )
    found = package.problems + found
    errors = [p for p in found if p.fatal]
    report = {"errors": [_shown(p) for p in errors], "warnings": [_shown(p) for p in found if not p.fatal]}
    missed = max(0, cursor.get("expected", 0) - int(keep.sum()))
    if missed:  # DHIS2's paging can skip items as it repeats others, or the tree changed meanwhile
        message = f"DHIS2 counted {cursor['expected']} units, its pages held {int(keep.sum())}: run a sync"
        report["warnings"].append({"uid": None, "row": None, "field": "pager.total", "message": message})
    if errors and not params.get("skip_invalid"):
        ctx.save_artifact("report.json", dumps(report), "application/json")
        raise TaskInputError(
            f"{len(errors)} unit(s) cannot be placed, nothing imported: "
            + "; ".join(capped(str(p)) for p in errors[:REPORTED])
        )
    version_id = counts["version_id"]
    for name, group_uids in ref.group_sets.items():
        sync_sql.link_group_set(ctx.cur, account_id, version_id, name, group_uids)
    sync_sql.describe_version(ctx.cur, version_id, f"DHIS2 import ({server_started})")
    engine.enqueue(
        ctx.cur, account_id, principal.user_id, import_task.FINISH_KIND, {"version_id": version_id}
    )
    result = {
        "version_id": version_id,
        "created": counts["created"],
        "repeated": spool.count - int(keep.sum()),
        "missed": missed,
        "errors": len(errors),
        "warnings": len(report["warnings"]),
        "groups": len(ref.groups),
        "group_sets": len(ref.group_sets),
        "server_started": server_started,
    }
    audit.record(
        ctx.cur,
        account_id,
        principal.user_id,
        "dhis2",
        "version",
        version_id,
        "import",
        None,
        result,
        ctx.task["id"],
    )
    ctx.save_artifact("report.json", dumps(report | {"result": result}), "application/json")
    return result | {"counts": {"created": counts["created"]}}


def _shown(problem) -> dict:
    return {
        "uid": problem.ref,
        "row": problem.row,
        "field": problem.field,
        "message": capped(problem.message),
    }
