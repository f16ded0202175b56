"""Copying a version and comparing two versions: both tasks.

A copy is a new version of the same data source holding the same units (new ids, same uuids and
source refs) and groups. A diff matches units on source_ref and lists those added, removed and
changed field by field; it is written as JSON and CSV artifacts.
"""

import csv
import io
import json
import tempfile

from chalicelib.identity.permissions import READ_REGISTRY, RUN_TASKS, Principal, require
from chalicelib.platform import problems
from chalicelib.registry import reference_data, sources_sql, units, version_data_sql
from chalicelib.tasks import engine
from chalicelib.tasks.engine import TaskContext, TaskInputError, task

COPY, DIFF = "versions.copy", "versions.diff"


def _whole_versions_allowed(cur, principal: Principal, version_id: int) -> None:
    """Copies and diffs hold every unit of a version: not for profiles restricted to subtrees."""
    units.require_unrestricted(cur, principal, "copy or compare whole versions")


def launch_copy(cur, principal: Principal, version_id: int, description: str) -> dict:
    require(principal, RUN_TASKS)
    source_version = reference_data.get_version(cur, principal, version_id)
    _whole_versions_allowed(cur, principal, version_id)
    target = reference_data.create_version(cur, principal, source_version["data_source_id"], description)
    params = {"source_version_id": version_id, "target_version_id": target["id"]}
    created = engine.enqueue(cur, principal.account_id, principal.user_id, COPY, params)
    return {"version": target, "task": created}


def launch_diff(cur, principal: Principal, before: int, after: int) -> dict:
    require(principal, READ_REGISTRY)
    require(principal, RUN_TASKS)
    if before == after:
        raise problems.invalid_field("after_version_id", "must differ from before_version_id")
    for version_id in (before, after):
        reference_data.get_version(cur, principal, version_id)
        _whole_versions_allowed(cur, principal, version_id)
    params = {"before_version_id": before, "after_version_id": after}
    return engine.enqueue(cur, principal.account_id, principal.user_id, DIFF, params)


@task(COPY)
def copy_version(ctx: TaskContext) -> dict:
    source, target = ctx.params["source_version_id"], ctx.params["target_version_id"]
    account_id = ctx.task["account_id"]
    if not (
        sources_sql.get_version(ctx.cur, account_id, source)
        and sources_sql.get_version(ctx.cur, account_id, target)
    ):
        raise TaskInputError("The source or the target version no longer exists.")
    if sources_sql.unit_count(ctx.cur, target):
        raise TaskInputError(f"Version {target} is not empty: a copy only fills a new version.")
    ctx.progress(0, 3, "numbering units")
    total = version_data_sql.map_units(ctx.cur, source)
    ctx.progress(1, 3, f"copying {total} units")
    copied = version_data_sql.copy_units(ctx.cur, source, target, ctx.task["launcher_id"])
    ctx.progress(2, 3, "copying groups")
    groups = version_data_sql.copy_groups(ctx.cur, account_id, source, target)
    ctx.progress(3, 3, "done")
    ctx.log(f"copied {copied} units and {groups} groups from version {source} to {target}")
    return {"version_id": target, "org_units": copied, "groups": groups}


@task(DIFF)
def diff_versions(ctx: TaskContext) -> dict:
    before, after = ctx.params["before_version_id"], ctx.params["after_version_id"]
    counts = {"added": 0, "removed": 0, "changed": 0, "unchanged": 0}
    with tempfile.TemporaryFile("w+b") as json_file, tempfile.TemporaryFile("w+b") as csv_file:
        json_out, csv_out = (
            io.TextIOWrapper(json_file, "utf-8"),
            io.TextIOWrapper(csv_file, "utf-8", newline=""),
        )
        table = csv.writer(csv_out)
        table.writerow(["source_ref", "status", "field", "before", "after"])
        json_out.write(
            json.dumps({"before_version_id": before, "after_version_id": after})[:-1] + ', "units": ['
        )
        first = True
        for done, (ref, old, new) in enumerate(version_data_sql.diff_rows(ctx.cur, before, after), start=1):
            entry = _compare(ref, old, new)
            counts[entry["status"]] += 1
            if entry["status"] != "unchanged":
                json_out.write(("" if first else ",") + json.dumps(entry))
                first = False
                _write_csv(table, entry)
            if done % 1000 == 0:
                ctx.progress(done, None, f"compared {done} units")
        json_out.write("]}")
        for stream in (json_out, csv_out):
            stream.flush()
            stream.detach().seek(0)
        ctx.save_artifact("diff.json", json_file, "application/json")
        ctx.save_artifact("diff.csv", csv_file, "text/csv")
    return counts


def _compare(ref: str, old: dict | None, new: dict | None) -> dict:
    if old is None:
        return {"source_ref": ref, "status": "added", "after": _fields(new)}
    if new is None:
        return {"source_ref": ref, "status": "removed", "before": _fields(old)}
    changes = {name: [old[name], new[name]] for name in version_data_sql.COMPARED if old[name] != new[name]}
    return {"source_ref": ref, "status": "changed" if changes else "unchanged", "changes": changes}


def _fields(side: dict) -> dict:
    return {name: side[name] for name in version_data_sql.COMPARED}


def _write_csv(table, entry: dict) -> None:
    ref, status = entry["source_ref"], entry["status"]
    if status == "added":
        table.writerow([ref, status, "name", "", entry["after"]["name"]])
    elif status == "removed":
        table.writerow([ref, status, "name", entry["before"]["name"], ""])
    else:
        for name, (old, new) in entry["changes"].items():
            table.writerow([ref, status, name, "" if old is None else old, "" if new is None else new])
