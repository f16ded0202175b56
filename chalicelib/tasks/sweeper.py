"""Housekeeping of the task table, run on a schedule: nothing is left QUEUED unsent or RUNNING forever,
and old logs and artifacts go away after the retention period."""

from chalicelib.platform import aws, config, db
from chalicelib.platform.observability import logger
from chalicelib.tasks import engine, tasks_sql

BATCH = 500


def sweep(unsent_grace_seconds: int = 60) -> dict:
    """Requeues tasks whose worker died (lease expired), or errors them after too many attempts;
    re-sends QUEUED tasks whose message was never sent or is long overdue."""
    settings = config.settings().tasks
    requeued, errored = [], []
    with db.transaction() as cur:
        for row in tasks_sql.expired(cur, BATCH):
            if row["failures"] + 1 >= settings.max_attempts:
                message = (
                    f"The worker stopped before finishing; {row['failures'] + 1} failed attempt(s) in all."
                )
                tasks_sql.error_expired(cur, row["id"], message)
                errored.append(row["id"])
            else:
                tasks_sql.requeue_expired(cur, row["id"])
                requeued.append(row["id"])
        overdue = tasks_sql.unsent(cur, unsent_grace_seconds, settings.resend_after_seconds, BATCH)
    resent = [task_id for task_id in requeued + overdue if engine.send(task_id)]
    summary = {"requeued": requeued, "errored": errored, "resent": resent}
    if requeued or errored or overdue:
        logger().info("task sweep", extra=summary)
    return summary


def purge() -> dict:
    """Deletes logs and artifact files of tasks older than the retention period."""
    days = config.settings().tasks.retention_days
    with db.transaction() as cur:
        logs = tasks_sql.purge_logs(cur, days, BATCH * 10)
        expired = tasks_sql.expired_artifacts(cur, days, BATCH)
        for row in expired:
            _delete_files([artifact["key"] for artifact in row["artifacts"]])
            tasks_sql.clear_artifacts(cur, row["id"])
    summary = {"logs_deleted": logs, "tasks_with_artifacts_purged": len(expired)}
    logger().info("task purge", extra=summary)
    return summary


def _delete_files(keys: list[str]) -> None:
    if keys:
        aws.client("s3").delete_objects(
            Bucket=config.settings().exports_bucket, Delete={"Objects": [{"Key": key} for key in keys]}
        )
