"""A sync's diff artifact, for a registry manager: what DHIS2 changed, unit by unit, in diff.json and
diff.csv. Made by comparing the version before and after the sync (registry/version_data_sql's diff):

    created  a unit new in DHIS2               moved    its parent changed (from, to)
    updated  fields changed (before, after)    closed   it got a closing date
    deleted  gone from DHIS2                   groups   group membership (added, removed)
"""

import csv
import io
import json

from chalicelib.registry import version_data_sql
from chalicelib.tasks.engine import TaskContext

CHANGES = ("created", "updated", "moved", "closed", "deleted", "groups")


def write(ctx: TaskContext, before: int, after: int) -> dict:
    """Writes diff.json and diff.csv; returns the count of each kind of change."""
    listed: dict[str, list] = {kind: [] for kind in CHANGES}
    for ref, old, new in version_data_sql.diff_rows(ctx.cur, before, after):
        for kind, entry in entries(ref, old, new):
            listed[kind].append(entry)
    ctx.save_artifact(
        "diff.json",
        json.dumps({"before_version_id": before, "after_version_id": after} | listed, indent=1),
        "application/json",
    )
    ctx.save_artifact("diff.csv", _csv(listed), "text/csv")
    return {kind: len(entries_) for kind, entries_ in listed.items()}


def entries(ref: str, old: dict | None, new: dict | None) -> list[tuple[str, dict]]:
    if old is None:
        return [("created", {"uid": ref, "name": new["name"], "parent": new["parent_ref"]})]
    if new is None:
        return [("deleted", {"uid": ref, "name": old["name"]})]
    name, found = new["name"], []
    fields = {
        f: [old[f], new[f]]
        for f in version_data_sql.COMPARED
        if old[f] != new[f] and f not in ("parent_ref", "groups")
    }
    if old["closed_date"] is None and new["closed_date"] is not None:
        found.append(("closed", {"uid": ref, "name": name, "closed_date": new["closed_date"]}))
        fields.pop("closed_date")
    if fields:
        found.append(("updated", {"uid": ref, "name": name, "fields": fields}))
    if old["parent_ref"] != new["parent_ref"]:
        found.append(
            ("moved", {"uid": ref, "name": name, "from": old["parent_ref"], "to": new["parent_ref"]})
        )
    before, after = _groups(old["groups"]), _groups(new["groups"])
    if before != after:
        found.append(
            (
                "groups",
                {
                    "uid": ref,
                    "name": name,
                    "added": sorted(after - before),
                    "removed": sorted(before - after),
                },
            )
        )
    return found


def _groups(names: str | None) -> set[str]:
    return set(names.split(", ")) if names else set()


def _csv(listed: dict[str, list]) -> str:
    out = io.StringIO()
    table = csv.writer(out)
    table.writerow(["uid", "name", "change", "field", "before", "after"])
    for kind in CHANGES:
        for e in listed[kind]:
            for field, old, new in _rows(kind, e):
                table.writerow(
                    [e["uid"], e["name"], kind, field, "" if old is None else old, "" if new is None else new]
                )
    return out.getvalue()


def _rows(kind: str, entry: dict) -> list[tuple]:
    if kind == "created":
        return [("parent", None, entry["parent"])]
    if kind == "deleted":
        return [("name", entry["name"], None)]
    if kind == "closed":
        return [("closed_date", None, entry["closed_date"])]
    if kind == "moved":
        return [("parent", entry["from"], entry["to"])]
    if kind == "groups":
        return [("groups", ", ".join(entry["removed"]), ", ".join(entry["added"]))]
    return [(field, old, new) for field, (old, new) in entry["fields"].items()]
