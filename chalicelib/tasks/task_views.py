"""What users see of tasks and may do with them: their account's tasks only; admins see all of
the account's, others the ones they launched."""

from chalicelib.identity.permissions import MANAGE_ACCOUNT, READ_ACCOUNT, RUN_TASKS, Principal, require
from chalicelib.platform import aws, config, problems
from chalicelib.tasks import engine, kills, tasks_sql
from chalicelib.tasks.bounds import check_page

STATUSES = tasks_sql.LIVE + tasks_sql.ENDED


def _visible(principal: Principal, row: dict | None, task_id: int) -> dict:
    if row is None or not (principal.can(MANAGE_ACCOUNT) or row["launcher_id"] == principal.user_id):
        raise problems.not_found("task", task_id)
    return row


def get(cur, principal: Principal, task_id: int) -> dict:
    require(principal, READ_ACCOUNT)
    return present(_visible(principal, tasks_sql.get(cur, principal.account_id, task_id), task_id))


def list_page(cur, principal: Principal, filters: dict, before: int | None, limit: int) -> list[dict]:
    """`limit` is the page's size plus the one row that says there is more (paging.page)."""
    require(principal, READ_ACCOUNT)
    if not principal.can(MANAGE_ACCOUNT):
        if filters.get("launcher_id") not in (None, principal.user_id):
            return []
        filters = filters | {"launcher_id": principal.user_id}
    rows = [
        present(row, with_links=False)
        for row in tasks_sql.list_page(cur, principal.account_id, filters, before, limit)
    ]
    check_page(rows[: limit - 1], "tasks")
    return rows


def kill(cur, principal: Principal, task_id: int) -> dict:
    require(principal, RUN_TASKS)
    current = _visible(principal, tasks_sql.get(cur, principal.account_id, task_id), task_id)
    killed = tasks_sql.request_kill(cur, principal.account_id, task_id)
    if killed is None:
        raise problems.conflict(
            "task.already_ended", f"Task {task_id} has already ended ({current['status']})."
        )
    kills.cancel_after_commit(killed)  # a task stuck in one statement reports no progress
    return present(killed)


def relaunch(cur, principal: Principal, task_id: int) -> dict:
    require(principal, RUN_TASKS)
    old = _visible(principal, tasks_sql.get(cur, principal.account_id, task_id), task_id)
    if old["status"] not in ("ERRORED", "KILLED"):
        raise problems.conflict("task.not_relaunchable", "Only ERRORED or KILLED tasks can be relaunched.")
    created = engine.enqueue(
        cur, principal.account_id, principal.user_id, old["kind"], old["params"], old["unique_key"],
        relaunched_from=old["id"],
    )  # fmt: skip
    return present(created)


def logs(cur, principal: Principal, task_id: int, after: int | None, limit: int) -> list[dict]:
    require(principal, READ_ACCOUNT)
    _visible(principal, tasks_sql.get(cur, principal.account_id, task_id), task_id)
    lines = tasks_sql.list_logs(cur, principal.account_id, task_id, after, limit)
    check_page(lines[: limit - 1], "log lines")
    return lines


def present(row: dict, with_links: bool = True) -> dict:
    end, value = row["end_value"], row["progress_value"]
    percent = round(100 * value / end, 1) if end else (100.0 if row["status"] == "SUCCESS" else None)
    return {
        "id": row["id"],
        "kind": row["kind"],
        "status": row["status"],
        "params": row["params"],
        "progress": {"value": value, "end": end, "percent": percent, "message": row["progress_message"]},
        "result": row["result"],
        "error": row["error_message"],
        "artifacts": [_artifact(a, with_links) for a in row["artifacts"]],
        "attempts": row["attempts"],
        "launcher_id": row["launcher_id"],
        "unique_key": row["unique_key"],
        "should_be_killed": row["should_be_killed"],
        "relaunched_from": row["relaunched_from"],
        "created_at": row["created_at"],
        "started_at": row["started_at"],
        "ended_at": row["ended_at"],
        "updated_at": row["updated_at"],
    }


def _artifact(artifact: dict, with_link: bool) -> dict:
    shown = {key: artifact[key] for key in ("name", "content_type", "size")}
    if with_link:
        settings = config.settings()
        shown["url"] = aws.client("s3").generate_presigned_url(
            "get_object",
            Params={
                "Bucket": settings.exports_bucket,
                "Key": artifact["key"],
                "ResponseContentDisposition": f'attachment; filename="{artifact["name"]}"',
            },
            ExpiresIn=settings.tasks.artifact_url_seconds,
        )
        shown["expires_in"] = settings.tasks.artifact_url_seconds
    return shown
