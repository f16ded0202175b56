"""Sync schedules: per (connection, data source), an EventBridge rate or cron expression. A trigger
(app.py, every minute) queues a sync for each due schedule; a sync of the pair already queued or
running makes the firing a recorded no-op (tree_import.queue_run). Two triggers at once: the due
rows are locked by the first (SKIP LOCKED for the second), and queueing takes the pair's advisory lock."""

import datetime

from chalicelib.dhis2 import schedules_cron, schedules_sql, sync_sql, tree_import
from chalicelib.identity.permissions import READ_REGISTRY, Principal, require
from chalicelib.platform import db, problems
from chalicelib.platform.observability import logger

DUE_PER_FIRING = 100


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _next(expression: str) -> datetime.datetime:
    try:
        return schedules_cron.next_after(expression, _now())
    except schedules_cron.ExpressionError as error:
        raise problems.invalid_field("expression", str(error)) from error


def create(
    cur, principal: Principal, connection_id: int, data_source_id: int, expression: str, enabled: bool
) -> dict:
    tree_import.check_launch(cur, principal, connection_id, data_source_id)
    values = {
        "account_id": principal.account_id,
        "connection_id": connection_id,
        "data_source_id": data_source_id,
        "expression": expression,
        "enabled": enabled,
        "next_run_at": _next(expression),
        "created_by": principal.user_id,
    }
    return schedules_sql.insert(cur, values)


def list_page(cur, principal: Principal, connection_id: int, after: int | None, limit: int) -> list[dict]:
    require(principal, READ_REGISTRY)
    _connection(cur, principal, connection_id)
    return schedules_sql.list_page(cur, principal.account_id, connection_id, after, limit)


def get(cur, principal: Principal, schedule_id: int) -> dict:
    require(principal, READ_REGISTRY)
    row = schedules_sql.get(cur, principal.account_id, schedule_id)
    if row is None:
        raise problems.not_found("dhis2_schedule", schedule_id)
    return row


def update(cur, principal: Principal, schedule_id: int, expression: str | None, enabled: bool | None) -> dict:
    row = get(cur, principal, schedule_id)
    tree_import.check_launch(cur, principal, row["connection_id"], row["data_source_id"])
    expression = expression or row["expression"]
    values = {
        "expression": expression,
        "enabled": row["enabled"] if enabled is None else enabled,
        "next_run_at": _next(expression) if expression != row["expression"] else row["next_run_at"],
    }
    return schedules_sql.update(cur, principal.account_id, schedule_id, values)


def delete(cur, principal: Principal, schedule_id: int) -> None:
    row = get(cur, principal, schedule_id)
    tree_import.check_launch(cur, principal, row["connection_id"], row["data_source_id"])
    schedules_sql.delete(cur, principal.account_id, schedule_id)


def list_runs(cur, principal: Principal, connection_id: int, after: int | None, limit: int) -> list[dict]:
    require(principal, READ_REGISTRY)
    _connection(cur, principal, connection_id)
    return sync_sql.list_runs(cur, principal.account_id, connection_id, after, limit)


def _connection(cur, principal: Principal, connection_id: int) -> None:
    if sync_sql.connection(cur, principal.account_id, connection_id) is None:
        raise problems.not_found("dhis2_connection", connection_id)


def fire_due() -> list[dict]:
    """What the minute trigger does: a run queued (or recorded as a no-op) per due schedule."""
    with db.transaction() as cur:
        runs = []
        for schedule in schedules_sql.take_due(cur, DUE_PER_FIRING):
            runs.append(
                tree_import.queue_run(
                    cur,
                    schedule["account_id"],
                    schedule["created_by"],
                    schedule["connection_id"],
                    schedule["data_source_id"],
                    "sync",
                    schedule["id"],
                )
            )
            schedules_sql.fired(
                cur, schedule["id"], schedules_cron.next_after(schedule["expression"], _now())
            )
    if runs:
        logger().info("dhis2 schedules fired", extra={"runs": [run["id"] for run in runs]})
    return runs
