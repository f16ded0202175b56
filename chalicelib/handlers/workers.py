"""Event handlers: the tasks queue, its dead-letter queue, the ingestion queue, the housekeeping
schedule and the DHIS2 sync schedules' minute trigger.

The task queues are read one message at a time: raising fails exactly that message, which SQS then
redelivers. Ingestion reads batches of 10 and returns `batchItemFailures`, which Lambda honours only
because infra/app.yaml adds `ReportBatchItemFailures` to its event source (Chalice cannot).
"""

import json
import urllib.parse

from chalicelib.dhis2 import schedules
from chalicelib.handlers import task_kinds  # noqa: F401 (task_kinds registers)
from chalicelib.platform import aws, config  # noqa: F401 (task_kinds registers)
from chalicelib.platform.observability import logger
from chalicelib.submissions import ingestion  # noqa: F401 (task_kinds registers)
from chalicelib.tasks import engine, sweeper  # noqa: F401 (task_kinds registers)

MAX_VISIBILITY_SECONDS = 12 * 3600


def run_tasks(event) -> None:
    for record in event:
        _fresh_log_context(record)
        task_id = _task_id(record.body)
        if task_id is None:
            continue
        receive_count = _receive_count(record)
        logger().info("task message", extra={"task_id": task_id, "receive_count": receive_count})
        try:
            engine.run(task_id, event.context)
        except engine.Retry:
            _back_off(record.receipt_handle, receive_count)
            raise


def task_dead_letters(event) -> None:
    for record in event:
        _fresh_log_context(record)
        task_id = _task_id(record.body)
        if task_id is not None and engine.give_up(task_id):
            logger().error("task gave up after repeated failures", extra={"task_id": task_id})


def ingest_uploads(event) -> dict:
    """S3 "Object Created" events (from EventBridge, or S3 notifications) for uploaded submissions.
    Each object is handled on its own; the ones that failed for a reason a retry may cure are
    reported back, so that SQS redelivers only those (ReportBatchItemFailures, set in infra/)."""
    failures = []
    for record in event:
        _fresh_log_context(record)
        for bucket, key, size in _created_objects(record.body):
            try:
                outcome = ingestion.ingest_object(bucket, key, size)
                logger().info("upload ingested", extra={"s3_key": key, "outcome": outcome})
            except Exception:
                logger().exception("upload ingestion failed; it will be retried", extra={"s3_key": key})
                failures.append({"itemIdentifier": record.to_dict().get("messageId")})
                break
    return {"batchItemFailures": failures}


def _created_objects(body: str) -> list[tuple[str, str, int | None]]:
    try:
        message = json.loads(body)
        if message.get("detail-type") == "Object Created":
            detail = message["detail"]
            return [(detail["bucket"]["name"], detail["object"]["key"], detail["object"].get("size"))]
        return [
            (
                r["s3"]["bucket"]["name"],
                urllib.parse.unquote_plus(r["s3"]["object"]["key"]),
                r["s3"]["object"].get("size"),
            )
            for r in message.get("Records", [])
            if r.get("eventName", "").startswith("ObjectCreated")
        ]
    except (ValueError, KeyError, TypeError, AttributeError):
        logger().error("malformed upload event dropped", extra={"body": body[:200]})
        return []


def housekeeping(event) -> None:
    sweeper.sweep()
    sweeper.purge()


def fire_dhis2_schedules(event) -> None:
    """Every minute: a sync queued for each DHIS2 schedule that is due (dhis2/schedules.py)."""
    schedules.fire_due()


def _fresh_log_context(record) -> None:
    """Log lines of this message carry its id, and nothing left by an earlier invocation."""
    logger().remove_keys(["user_id", "account_id", "task_id", "task_kind"])
    logger().set_correlation_id(record.to_dict().get("messageId"))


def _task_id(body: str) -> int | None:
    try:
        task_id = json.loads(body)["task_id"]
        if isinstance(task_id, int) and not isinstance(task_id, bool):
            return task_id
    except (ValueError, KeyError, TypeError):
        pass
    logger().error("malformed task message dropped", extra={"body": body[:200]})
    return None


def _receive_count(record) -> int:
    return int(record.to_dict().get("attributes", {}).get("ApproximateReceiveCount", 1))


def _back_off(receipt_handle: str, receive_count: int) -> None:
    """Exponential backoff through the message's visibility timeout."""
    delay = min(MAX_VISIBILITY_SECONDS, config.settings().tasks.retry_base_seconds * 2 ** (receive_count - 1))
    try:
        aws.client("sqs").change_message_visibility(
            QueueUrl=config.settings().tasks_queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=delay
        )
    except Exception:
        logger().exception("could not set the retry backoff; the queue's visibility timeout applies")
