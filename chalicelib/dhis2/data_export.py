"""Sending a mapping's submissions to DHIS2 as data values (POST /api/dataValueSets), as a task.

Submissions are read by id, SUBMISSIONS_PER_READ at a time; each read's values go in requests of at
most VALUES_PER_REQUEST values (a submission's values never split), with `dryRun=true` on a dry run.
Each submission then gets its export status for the mapping (exported; conflict, with DHIS2's words;
skipped, with ours), recorded in the task's transaction, with the hash of what was sent: the next run
sends only what is new or changed, unless forced. A dry run records nothing. DHIS2's importCount,
summed, and every conflict with the submissions it hit are the task's result (and `conflicts.json`
when they do not fit). A run that fails half way sends its batches again when retried: DHIS2 updates
the values it already has (importStrategy CREATE_AND_UPDATE), so nothing is counted twice there.
"""

import copy
import json

from chalicelib.dhis2 import connections, data_sql, mapping_rules, mapping_sql
from chalicelib.dhis2.client import Dhis2Client, Dhis2Failure
from chalicelib.dhis2.data_values import Planned, plan, positions_hit
from chalicelib.dhis2.reports import read_data_value_summary
from chalicelib.identity import authentication
from chalicelib.identity.permissions import MANAGE_FORMS, RUN_TASKS, Principal, require
from chalicelib.platform import problems
from chalicelib.registry import units
from chalicelib.tasks import engine, tasks_sql
from chalicelib.tasks.engine import Continue, TaskContext, TaskInputError, task

KIND = "dhis2.data_values"
SUBMISSIONS_PER_READ = 500
VALUES_PER_REQUEST = 1000
CONFLICTS_IN_RESULT = 15  # the result stays under TASK_RESULT_MAX_BYTES; all go to conflicts.json
CONFLICTS_KEPT = 5000  # carried from one invocation to the next, then written out
IDS_PER_CONFLICT = 10  # in the result; every id in the artifact
COUNT_KEYS = ("imported", "updated", "ignored", "deleted")
# A DHIS2 that cannot be reached may answer later: the task is retried. Anything else is ours to fix.
TRANSIENT = ("unreachable",)


def launch(cur, principal: Principal, mapping_id: int, dry_run: bool, force: bool) -> dict:
    mapping = mapping_rules.get(cur, principal, mapping_id)
    require(principal, MANAGE_FORMS)
    require(principal, RUN_TASKS)
    units.require_unrestricted(cur, principal, "send data values to DHIS2")
    params = {"mapping_id": mapping["id"], "dry_run": dry_run, "force": force}
    return engine.enqueue(
        cur, principal.account_id, principal.user_id, KIND, params, f"dhis2-data:{mapping_id}"
    )


def runs(cur, principal: Principal, mapping_id: int, before: int | None, limit: int) -> list[dict]:
    """The mapping's tasks, newest first: whoever reads the mapping sees its runs."""
    mapping_rules.get(cur, principal, mapping_id)
    ids = data_sql.run_ids(cur, principal.account_id, KIND, mapping_id, before, limit)
    return [tasks_sql.get(cur, principal.account_id, task_id) for task_id in ids]


@task(KIND)
def export_data_values(ctx: TaskContext):
    try:
        principal = authentication.principal_of_launcher(ctx.cur, ctx.task["launcher_id"])
        mapping = mapping_rules.get(ctx.cur, principal, ctx.params["mapping_id"]) | {
            "account_id": principal.account_id
        }
        form = mapping_sql.form(ctx.cur, principal.account_id, mapping["form_id"])
        if form is None:
            raise problems.not_found("form", mapping["form_id"])
        client = connections.client_for(ctx.cur, principal, mapping["connection_id"])
    except problems.Problem as problem:
        raise TaskInputError(problem.message) from problem
    run = Run(ctx, mapping, form["period_type"], client, ctx.cursor)
    return run.go()


class Run:
    def __init__(self, ctx: TaskContext, mapping: dict, period_type: str | None, client: Dhis2Client, state):
        self.ctx, self.mapping, self.period_type, self.client = ctx, mapping, period_type, client
        self.dry_run, self.force = bool(ctx.params.get("dry_run")), bool(ctx.params.get("force"))
        # A copy: the engine compares the cursor it gave with the one returned, to see progress.
        self.state = copy.deepcopy(state) if state else {
            "after": 0, "done": 0, "requests": 0, "conflicts": [],
            "submissions": dict.fromkeys(("exported", "conflict", "skipped", "unchanged"), 0),
            "import_count": dict.fromkeys(COUNT_KEYS, 0),
        }  # fmt: skip

    def go(self):
        total = data_sql.count(self.ctx.cur, self.mapping)
        while rows := data_sql.submissions(
            self.ctx.cur, self.mapping, self.state["after"], SUBMISSIONS_PER_READ
        ):
            planned = [plan(row, self.mapping, self.period_type, self.force) for row in rows]
            self._send_and_record(planned)
            self.state["after"] = rows[-1]["id"]
            self.state["done"] += len(rows)
            self.ctx.progress(self.state["done"], total, f"{self.state['done']} of {total} submissions")
            if self.ctx.deadline_near():
                return Continue(self.state)
        return self._result()

    def _send_and_record(self, planned: list[Planned]) -> None:
        counts, statuses = self.state["submissions"], []
        for item in planned:
            if item.skipped:
                counts["skipped"] += 1
                statuses.append(_status(item, "skipped", item.skipped))
            elif item.unchanged:
                counts["unchanged"] += 1
        for batch in _batches([item for item in planned if item.values and not item.unchanged]):
            statuses += self._send(batch)
        if not self.dry_run:
            data_sql.record(self.ctx.cur, self.mapping, self.ctx.task["id"], statuses)

    def _send(self, batch: list[Planned]) -> list[dict]:
        sent, owners = [], []
        for item in batch:
            sent += item.values
            owners += [item.submission_id] * len(item.values)
        body = {"dataSet": self.mapping["data_set"], "dataValues": sent}
        params = {"dryRun": str(self.dry_run).lower(), "importStrategy": "CREATE_AND_UPDATE"}
        try:
            answer = self.client.post("/api/dataValueSets", body, params)
        except Dhis2Failure as failure:
            if failure.kind in TRANSIENT:
                raise
            raise TaskInputError(f"DHIS2 refused the data values: {failure.message}") from failure
        outcome = read_data_value_summary(answer)
        self.state["requests"] += 1
        for key in COUNT_KEYS:
            self.state["import_count"][key] += outcome.import_count[key]
        messages: dict[int, list[str]] = {}
        whole_batch = outcome.status == "ERROR" and outcome.import_count["imported"] == 0
        for conflict in outcome.conflicts:
            hit = positions_hit(conflict, sent)
            ids = sorted({owners[p] for p in hit}) if hit or not whole_batch else sorted(set(owners))
            for submission_id in ids:
                messages.setdefault(submission_id, []).append(conflict.message)
            self._keep(conflict, ids)
        return [self._status_after(item, messages.get(item.submission_id)) for item in batch]

    def _status_after(self, item: Planned, messages: list[str] | None) -> dict:
        if messages:
            self.state["submissions"]["conflict"] += 1
            return _status(item, "conflict", "; ".join(dict.fromkeys(messages))[:2000])
        self.state["submissions"]["exported"] += 1
        return _status(item, "exported", None)

    def _keep(self, conflict, submission_ids: list[int]) -> None:
        kept = self.state["conflicts"]
        for entry in kept:
            if (entry["error_code"], entry["object"], entry["message"]) == (
                conflict.error_code, conflict.object, conflict.message):  # fmt: skip
                entry["submission_ids"] = sorted(set(entry["submission_ids"]) | set(submission_ids))
                return
        if len(kept) < CONFLICTS_KEPT:
            kept.append({"object": conflict.object, "error_code": conflict.error_code,
                         "message": conflict.message, "submission_ids": submission_ids})  # fmt: skip

    def _result(self) -> dict:
        conflicts = self.state["conflicts"]
        result = {"mapping_id": self.mapping["id"], "data_set": self.mapping["data_set"],
                  "dry_run": self.dry_run, "force": self.force, "requests": self.state["requests"],
                  "submissions": self.state["submissions"], "import_count": self.state["import_count"],
                  "conflict_count": len(conflicts)}  # fmt: skip
        result["conflicts"] = [
            entry | {"submission_ids": entry["submission_ids"][:IDS_PER_CONFLICT]}
            for entry in conflicts[:CONFLICTS_IN_RESULT]
        ]
        if len(conflicts) > CONFLICTS_IN_RESULT or any(
            len(c["submission_ids"]) > IDS_PER_CONFLICT for c in conflicts
        ):
            self.ctx.save_artifact("conflicts.json", json.dumps(conflicts, indent=1), "application/json")
            result["conflicts_artifact"] = "conflicts.json"
        return result


def _status(item: Planned, status: str, message: str | None) -> dict:
    count = len(item.values) if status != "skipped" else 0
    sent_hash = item.sent_hash if status != "skipped" else None
    return {"submission_id": item.submission_id, "status": status, "message": message,
            "sent_hash": sent_hash, "value_count": count}  # fmt: skip


def _batches(items: list[Planned]):
    batch, size = [], 0
    for item in items:
        if batch and size + len(item.values) > VALUES_PER_REQUEST:
            yield batch
            batch, size = [], 0
        batch.append(item)
        size += len(item.values)
    if batch:
        yield batch
