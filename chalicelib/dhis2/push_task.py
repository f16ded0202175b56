"""Pushing org-unit changes to DHIS2 (issue 17, item 4): a task that sends what a version changed
since its DHIS2 mirror (the version an import or sync from the connection made) through
POST /api/metadata, in batches, as a dry run (importMode=VALIDATE) or for real (COMMIT,
importStrategy=CREATE_AND_UPDATE).

Units new to DHIS2 get their uid before anything is sent, committed on a side connection
(dhis2_unit_uids): a batch sent again, by a retried task or after an answer lost on the way, updates
what the first try created and never creates it twice. Batches go parents first (by depth); then the
groups whose members changed, each with all its members. atomicMode=NONE: every valid change lands,
every refused one is reported. Units deleted here are not deleted in DHIS2, and groups DHIS2 does not
know (no uid for source_ref) are not created there: both are counted in the report.

The artifact push-report.json lists every object sent: its uid, the fields that changed, what DHIS2
made of it (created, updated, ignored; would_create, would_update or invalid in a dry run) and each
error with its errorCode and message. In a dry run DHIS2 cannot see the units earlier batches would
have created: its E5002 "invalid reference" to such a unit is set aside, counted as `deferred`.
"""

import json
import re
import tempfile
from contextlib import contextmanager

from chalicelib.dhis2 import connections, push_payload, push_sql, uids_sql
from chalicelib.dhis2.client import Dhis2Client, Dhis2Failure
from chalicelib.dhis2.reports import ImportOutcome, read_import_report
from chalicelib.dhis2.uids import is_uid, new_uid
from chalicelib.identity.permissions import RUN_TASKS, WRITE_REGISTRY, Principal, require
from chalicelib.platform import db, problems
from chalicelib.registry import reference_data
from chalicelib.tasks import engine
from chalicelib.tasks.engine import Continue, TaskContext, TaskInputError, task

PUSH = "dhis2.push"
REPORT_NAME = "push-report.json"
DEFAULT_BATCH_SIZE = 500
MAX_BATCH_SIZE = 5000
GROUP_BATCH_SIZE = 50
UID_CHUNK = 5000
_REFERENCE = re.compile(r"\[([A-Za-z][A-Za-z0-9]{10})\]")


# ---- launching ------------------------------------------------------------------------------------


def launch(cur, principal: Principal, connection_id: int, fields: dict) -> dict:
    require(principal, RUN_TASKS)
    require(principal, WRITE_REGISTRY)
    connections.get(cur, principal, connection_id)  # another account's: 404
    version = reference_data.get_version(cur, principal, fields["version_id"])
    reference_data.require_unrestricted(cur, principal, "push a version to DHIS2")
    mirror_id = fields.get("mirror_version_id") or push_sql.last_mirror(
        cur, principal.account_id, connection_id, version["data_source_id"], version["id"]
    )
    if mirror_id is None:
        reason = "is required: no import or sync from this connection made a version of this data source"
        raise problems.invalid_field("mirror_version_id", reason)
    if mirror_id == version["id"]:
        raise problems.invalid_field("mirror_version_id", "must differ from version_id")
    reference_data.get_version(cur, principal, mirror_id)
    dry_run = bool(fields.get("dry_run"))
    params = {
        "connection_id": connection_id,
        "version_id": version["id"],
        "mirror_version_id": mirror_id,
        "dry_run": dry_run,
        "batch_size": fields.get("batch_size") or DEFAULT_BATCH_SIZE,
    }
    unique = f"{PUSH}:{connection_id}:{'dry_run' if dry_run else 'commit'}"
    return engine.enqueue(cur, principal.account_id, principal.user_id, PUSH, params, unique_key=unique)


# ---- the task -------------------------------------------------------------------------------------


@task(PUSH)
def push(ctx: TaskContext):
    p = ctx.params
    client = connections.task_client(ctx)
    connection_id, version_id, mirror_id = p["connection_id"], p["version_id"], p["mirror_version_id"]
    _assign_uids(ctx, connection_id, version_id, mirror_id)
    cursor = ctx.cursor or {"batch": 0, "part": 0, "totals": _Report.empty_totals()}
    part = cursor["part"]
    name = REPORT_NAME if part == 0 else f"push-report-{part + 1}.json"
    with _Report(ctx, name, cursor["totals"]) as report, _explained(report):
        sender = _Sender(client, p["dry_run"], report)
        plan = push_sql.plan_rows(ctx.cur, connection_id, version_id, mirror_id)
        for number, batch in enumerate(_unit_batches(plan, p["batch_size"], sender)):
            if number < cursor["batch"]:  # sent by an earlier invocation
                sender.remember(batch)
                continue
            sender.send("organisationUnits", batch)
            ctx.progress(number + 1, None, f"sent {report.totals['objects']} units in {number + 1} batches")
            if ctx.deadline_near():
                report.close_part(continued=True)
                return Continue({"batch": number + 1, "part": part + 1, "totals": report.totals})
        groups = push_sql.group_rows(ctx.cur, connection_id, version_id, mirror_id)
        changed = [push_payload.group_object(g) for g in groups if push_payload.group_changed(g)]
        report.totals["groups_not_in_dhis2"] = sum(not is_uid(g["source_ref"]) for g in groups)
        for start in range(0, len(changed), GROUP_BATCH_SIZE):
            sender.send_groups(changed[start : start + GROUP_BATCH_SIZE])
        report.totals["units_unchanged"] = sender.unchanged  # this invocation walked the whole plan
        report.totals["units_removed_not_pushed"] = push_sql.removed_count(ctx.cur, version_id, mirror_id)
        report.close_part(continued=False)
    ctx.log(f"push {'dry run' if p['dry_run'] else 'commit'}: {json.dumps(report.totals)}")
    return report.totals


@contextmanager
def _explained(report: "_Report"):
    """Wrong credentials, not a DHIS2, a refusal: ERRORED in words, with the report of the batches
    DHIS2 took before (they stay applied there). Unreachable: the push is tried again later."""
    try:
        yield
    except Dhis2Failure as failure:
        if failure.kind == "unreachable":
            raise
        report.totals["stopped_by"] = failure.message
        report.close_part(continued=False)
        raise TaskInputError(f"DHIS2: {failure.message}") from failure


def _assign_uids(ctx: TaskContext, connection_id: int, version_id: int, mirror_id: int) -> None:
    """Uids for the units DHIS2 has not seen, committed at once on the side connection: whatever
    happens to this task later, the next try sends the same uids."""
    given = 0
    with db.side_cursor() as side:
        for _ in range(3):  # a uid drawn twice (1 in 62^10) is skipped by the insert: draw again
            missing = uids_sql.units_without_uid(side, connection_id, version_id, mirror_id)
            if not missing:
                break
            for start in range(0, len(missing), UID_CHUNK):
                chunk = missing[start : start + UID_CHUNK]
                uids = [new_uid() for _ in chunk]
                given += uids_sql.store(side, connection_id, ctx.task["account_id"], chunk, uids)
    if given:
        ctx.log(f"gave DHIS2 uids to {given} units new to DHIS2")


def _unit_batches(plan, size: int, sender: "_Sender"):
    """The changed units in batches of `size`, as (object, changed fields, planned action) triples."""
    batch = []
    for row in plan:
        fields = push_payload.changed_fields(row)
        if not fields:
            sender.unchanged += 1
            continue
        action = "update" if row["in_mirror"] else "create"
        batch.append((push_payload.unit_object(row), fields, action, row["uuid"]))
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class _Sender:
    """Posts batches and hands each object's fate to the report."""

    def __init__(self, client: Dhis2Client, dry_run: bool, report: "_Report"):
        self.client, self.dry_run, self.report = client, dry_run, report
        self.params = {
            "importMode": "VALIDATE" if dry_run else "COMMIT",
            "importStrategy": "CREATE_AND_UPDATE",
            "atomicMode": "NONE",
        }
        self.planned_new: set[str] = set()  # uids this push creates: a dry run's deferred references
        self.unchanged = 0

    def send(self, key: str, batch: list[tuple]) -> None:
        objects = [entry[0] for entry in batch]
        outcome = read_import_report(self.client.post("/api/metadata", {key: objects}, self.params))
        self.remember(batch)
        self.report.batch(key, batch, outcome, self._deferrable if self.dry_run else None)

    def remember(self, batch: list[tuple]) -> None:
        self.planned_new.update(entry[0]["id"] for entry in batch if entry[2] == "create")

    def send_groups(self, groups: list[dict]) -> None:
        self.send("organisationUnitGroups", [(g, ["organisationUnits"], "update", None) for g in groups])

    def _deferrable(self, error) -> bool:
        if error.error_code != "E5002":
            return False
        found = _REFERENCE.search(error.message or "")
        return found is not None and found.group(1) in self.planned_new


class _Report:
    """push-report.json, written to a temporary file as batches come back (memory stays flat)."""

    OUTCOMES = ("created", "updated", "ignored", "would_create", "would_update", "invalid")

    def __init__(self, ctx: TaskContext, name: str, totals: dict):
        self.ctx, self.name, self.totals = ctx, name, totals
        self.first = True

    @staticmethod
    def empty_totals() -> dict:
        totals = {"objects": 0, "units_unchanged": 0, "batches": 0, "errors": 0, "deferred": 0}
        totals |= {outcome: 0 for outcome in _Report.OUTCOMES}
        return totals | {"dhis2_stats": {"created": 0, "updated": 0, "deleted": 0, "ignored": 0}}

    def __enter__(self) -> "_Report":
        self.file = tempfile.TemporaryFile("w+b")
        params = self.ctx.params
        head = {key: params[key] for key in ("connection_id", "version_id", "mirror_version_id", "dry_run")}
        self._write(json.dumps(head)[:-1] + ', "batches": [')
        return self

    def _write(self, text: str) -> None:
        self.file.write(text.encode())

    def __exit__(self, *exc) -> None:
        self.file.close()

    def batch(self, key: str, batch: list[tuple], outcome: ImportOutcome, deferrable) -> None:
        errors: dict[str | None, list[dict]] = {}
        for error in outcome.errors:
            deferred = deferrable is not None and deferrable(error)
            self.totals["deferred" if deferred else "errors"] += 1
            if not deferred:
                entry = {"error_code": error.error_code, "message": error.message, "property": error.property}
                errors.setdefault(error.uid, []).append(entry)
        objects = [self._object(entry, errors.get(entry[0]["id"], []), outcome) for entry in batch]
        for stat in self.totals["dhis2_stats"]:
            self.totals["dhis2_stats"][stat] += outcome.stats.get(stat, 0)
        self.totals["batches"] += 1
        unassigned = errors.get(None, [])  # a report with no object to hang on (a bare WebMessage)
        record = {"number": self.totals["batches"], "type": key, "status": outcome.status}
        record |= {"stats": outcome.stats, "errors": unassigned, "objects": objects}
        self._write(("" if self.first else ",") + json.dumps(record))
        self.first = False

    def _object(self, entry: tuple, errors: list[dict], outcome: ImportOutcome) -> dict:
        obj, fields, action, unit_uuid = entry
        dry_run = self.ctx.params["dry_run"]
        failed = bool(errors) or outcome.status == "ERROR"
        if dry_run:
            fate = "invalid" if failed else f"would_{action}"
        elif failed:
            fate = "ignored"
        else:
            fate = "created" if action == "create" else "updated"
        self.totals["objects"] += 1
        self.totals[fate] += 1
        described = {"uid": obj["id"], "name": obj.get("name"), "unit_uuid": unit_uuid, "action": action}
        return described | {"changed": fields, "outcome": fate, "errors": errors}

    def close_part(self, continued: bool) -> None:
        """The report so far as an artifact; a push that continues writes its next part anew."""
        self._write(f'], "continued": {json.dumps(continued)}, "totals": {json.dumps(self.totals)}}}')
        self.file.seek(0)
        self.ctx.save_artifact(self.name, self.file, "application/json")
