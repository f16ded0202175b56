"""The task engine: long work runs outside requests, tracked in the `tasks` table.

Writing a task:

    @task("demo.count")
    def count(ctx: TaskContext):
        for i in range(ctx.cursor or 0, ctx.params["n"]):
            ctx.progress(i, ctx.params["n"])      # throttled; raises Killed when a kill was asked
            if ctx.deadline_near():
                return Continue(i)                # commits so far, goes on in a new invocation
        return {"counted": ctx.params["n"]}       # the result; SUCCESS

The function runs inside one database transaction (`ctx.cur`) that commits together with the
SUCCESS (or Continue) update, fenced by the attempt number, so work is applied exactly once even when
SQS delivers a message twice or a worker presumed dead comes back. Progress and logs are written on
a separate autocommit connection, so they are visible while the transaction is open.

Failures: `TaskInputError` (or a 4xx Problem) ends the task ERRORED at once; any other exception is
transient: the task goes back to QUEUED and the exception propagates so SQS redelivers the message
(after a backoff), until the DLQ handler gives up on it. A kill also cancels the statement a task is
stuck in (kills.py): that ends it KILLED.
"""

import contextvars
import functools
import json
import os
import time
import traceback as tracebacks
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from chalicelib.platform import aws, config, db, jsonutil, problems, s3_upload
from chalicelib.platform.limits import TASK_PARAMS_MAX_BYTES, TASK_RESULT_MAX_BYTES, limit_message
from chalicelib.platform.observability import logger, metrics
from chalicelib.tasks import kills, tasks_sql
from chalicelib.tasks.bounds import capped, capped_or_none

REGISTRY: dict[str, Callable[["TaskContext"], Any]] = {}
UNIQUE_KEY_LOCK_TIMEOUT = "5s"
REPORT = "report.json"  # the artifact a cut error message points to, when the task saved one
KILLED_MESSAGE = "Killed on request; its unfinished work was rolled back."


def task(kind: str):
    """Registers a task function under `kind`, the name stored in the row and shown to users."""

    def register(function):
        if kind in REGISTRY:
            raise RuntimeError(f"task kind {kind!r} is registered twice")
        REGISTRY[kind] = function
        return function

    return register


@dataclass(frozen=True)
class Continue:
    """Returned by a task to go on in a new invocation from `cursor` (any JSON value)."""

    cursor: Any


class TaskInputError(Exception):
    """The task's input is wrong: retrying cannot help. The message is shown to the user."""


# BaseException, like KeyboardInterrupt: a task's own `except Exception` must not swallow them.
class Killed(BaseException):
    pass


class LostLease(BaseException):
    """Another worker took this task over (our lease expired); nothing of ours may be committed."""


_running_task_id: contextvars.ContextVar[int | None] = contextvars.ContextVar("running_task_id", default=None)


# Enqueueing


def enqueue(cur, account_id: int, launcher_id: int | None, kind: str, params: dict, unique_key=None, **extra):
    """Writes the task in the caller's transaction and sends its message once that commits.

    With a `unique_key` that a QUEUED or RUNNING task of the account already holds, returns that task.
    """
    if kind not in REGISTRY:
        raise ValueError(f"unknown task kind {kind!r}")
    _check_params(params)
    while True:
        created = _insert(cur, account_id, launcher_id, kind, params, unique_key, extra)
        if created:
            db.after_commit(functools.partial(send, created["id"]))
            return created
        live = tasks_sql.live_by_unique_key(cur, account_id, unique_key)
        if live and live["id"] == _running_task_id.get():
            raise ValueError(
                f"task {live['id']} cannot enqueue a successor under its own unique key {unique_key!r}"
            )
        if live:
            return live
        # The holder ended between our insert and our read: try again.


def _check_params(params: dict) -> None:
    """Parameters are stored and shown with the task: a request cannot make them unbounded."""
    if len(jsonutil.dumps(params)) > TASK_PARAMS_MAX_BYTES:
        message = limit_message("The JSON of the task's parameters", "TASK_PARAMS_MAX_BYTES", "bytes") + "."
        raise problems.Problem(400, "task.params_too_large", message, {"limit": "TASK_PARAMS_MAX_BYTES"})


def _insert(cur, account_id, launcher_id, kind, params, unique_key, extra) -> dict | None:
    if unique_key is None:
        return tasks_sql.insert(cur, account_id, launcher_id, kind, params, None, **extra)
    # A transaction that is still creating a task with the same key holds us up, but not for long.
    try:
        with db.local_settings(cur, {"lock_timeout": UNIQUE_KEY_LOCK_TIMEOUT}):
            return tasks_sql.insert(cur, account_id, launcher_id, kind, params, unique_key, **extra)
    except db.LockNotAvailable as error:
        message = f"A task with unique key {unique_key!r} is being created right now; try again."
        raise problems.conflict("task.enqueue_busy", message) from error


def send(task_id: int) -> bool:
    """Puts the task's message on the queue. A failure is logged and left to the sweeper."""
    try:
        aws.client("sqs").send_message(
            QueueUrl=config.settings().tasks_queue_url, MessageBody=json.dumps({"task_id": task_id})
        )
    except Exception:
        logger().exception(
            "could not send task message; the sweeper will resend it", extra={"task_id": task_id}
        )
        return False
    with db.transaction() as cur:
        tasks_sql.mark_sent(cur, task_id)
    return True


# Running


@dataclass
class TaskContext:
    """What a running task can use. `cur` is its transaction."""

    task: dict
    cur: Any
    lambda_context: Any = None
    artifacts: list[dict] = field(default_factory=list)
    _last: dict = field(default_factory=lambda: {"value": None, "end": None, "message": None})
    _last_write: float = 0.0

    @property
    def params(self) -> dict:
        return self.task["params"]

    @property
    def cursor(self) -> Any:
        return self.task["cursor"]

    def progress(self, value: int, end: int | None = None, message: str | None = None) -> None:
        """Records progress (at most once per interval) and stops the task if a kill was requested."""
        message = capped_or_none(message)
        self._last = {
            "value": value,
            "end": end if end is not None else self._last["end"],
            "message": message,
        }
        now = time.monotonic()
        if now - self._last_write < config.settings().tasks.progress_interval_seconds:
            return
        self._last_write = now
        with db.side_cursor() as side:
            kill = tasks_sql.report_progress(
                side, self.task["id"], self.task["attempts"], value, end, message
            )
        if kill is None:
            raise LostLease()
        if kill:
            raise Killed()

    def log(self, message: str, level: str = "INFO") -> None:
        """A line in the task's log, kept even if the task's transaction rolls back."""
        message = capped(message)
        with db.side_cursor() as side:
            tasks_sql.add_log(side, self.task["id"], level, message)
        logger().info(message, extra={"task_log": True})

    def save_artifact(self, name: str, body: bytes | str | BinaryIO, content_type: str) -> str:
        """Stores a result file under the account's prefix; its download link appears on the task.
        A file object is streamed (multipart for big ones), so memory does not grow with its size."""
        key = artifact_key(self.task, name)
        bucket = config.settings().exports_bucket
        if isinstance(body, str | bytes):
            data = body.encode() if isinstance(body, str) else body
            aws.client("s3").put_object(Bucket=bucket, Key=key, Body=data, ContentType=content_type)
            size = len(data)
        else:
            start = body.tell()
            size = body.seek(0, os.SEEK_END) - start
            body.seek(start)
            # upload_fileobj may close the file when done: measure first
            aws.client("s3").upload_fileobj(body, bucket, key, ExtraArgs={"ContentType": content_type})
        self.artifacts.append({"name": name, "key": key, "content_type": content_type, "size": size})
        return key

    @contextmanager
    def artifact_stream(self, name: str, content_type: str) -> Iterator[s3_upload.Upload]:
        """A result file written as it is produced, its parts uploaded meanwhile (s3_upload); on an
        error the upload is dropped."""
        key = artifact_key(self.task, name)
        upload = s3_upload.Upload(aws.client("s3"), config.settings().exports_bucket, key, content_type)
        try:
            yield upload
            size = upload.complete()
        except BaseException:
            with suppress(Exception):  # the task's own error is the one to report
                upload.abort()
            raise
        self.artifacts.append({"name": name, "key": key, "content_type": content_type, "size": size})

    def deadline_near(self) -> bool:
        if self.lambda_context is None:
            return False
        margin_ms = config.settings().tasks.deadline_margin_seconds * 1000
        return self.lambda_context.get_remaining_time_in_millis() < margin_ms

    def final_progress(self) -> dict:
        return dict(self._last)


def artifact_key(task_row: dict, name: str) -> str:
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
    return f"tasks/{task_row['account_id']}/{task_row['id']}/{safe}"


class Retry(Exception):
    """Raised by run() after a transient failure, so that the queue delivers the message again."""

    def __init__(self, task_id: int, attempts: int, cause: BaseException):
        super().__init__(f"task {task_id} attempt {attempts} failed: {cause}")
        self.attempts = attempts


def run(task_id: int, lambda_context=None) -> str:
    """Claims and runs one task; returns what happened. Raises Retry after a transient failure."""
    with db.transaction() as cur:
        claimed = tasks_sql.claim(cur, task_id, _lease_seconds(lambda_context))
    if claimed is None:
        logger().info("task not claimable (done, running elsewhere, or unknown)", extra={"task_id": task_id})
        return "skipped"
    logger().append_keys(task_id=task_id, task_kind=claimed["kind"], account_id=claimed["account_id"])
    started, outcome = time.monotonic(), "retried"
    try:
        outcome = _execute(claimed, lambda_context)
        return outcome
    finally:
        _record_metrics(claimed["kind"], outcome, time.monotonic() - started)
        logger().remove_keys(["task_id", "task_kind", "account_id"])


def _lease_seconds(lambda_context) -> float:
    """Until the invocation cannot possibly be alive any more, plus a grace period."""
    if lambda_context is None:
        return config.settings().tasks.default_lease_seconds
    return lambda_context.get_remaining_time_in_millis() / 1000 + 30


def _execute(claimed: dict, lambda_context) -> str:
    function = REGISTRY.get(claimed["kind"])
    if function is None:
        return _end(claimed, "ERRORED", f"Unknown task kind {claimed['kind']!r}.")
    if claimed["should_be_killed"]:
        return _end(claimed, "KILLED", "Killed before it started.")
    running = _running_task_id.set(claimed["id"])
    saved: list[dict] = []  # artifacts, kept with an input error (an import's report.json)
    try:
        with db.transaction() as cur:
            _allow_until_deadline(cur, claimed, lambda_context)
            ctx = TaskContext(claimed, cur, lambda_context, artifacts=saved)
            returned = function(ctx)
            outcome = _settle(cur, ctx, returned)
    except Killed:
        return _end(claimed, "KILLED", KILLED_MESSAGE)
    except LostLease:
        logger().warning("lease lost to another worker; this attempt's work was rolled back")
        return "lost"
    except Exception as error:
        return _failed(claimed, error, saved)
    finally:
        _running_task_id.reset(running)
    if outcome == "continued":
        send(claimed["id"])
    logger().info(f"task {outcome}")
    return outcome


def _allow_until_deadline(cur, claimed: dict, lambda_context) -> None:
    """The role's timeouts suit API requests; a task's transaction may last until its Lambda ends.
    (SET LOCAL ends with the transaction; worker connections are never shared through a proxy.)
    The backend carries the attempt's name meanwhile: what a kill's cancel checks (kills.py)."""
    limit_ms = str(int(_lease_seconds(lambda_context) * 1000))
    name = tasks_sql.backend_name(claimed["id"], claimed["attempts"])
    timeouts = {"statement_timeout": limit_ms, "idle_in_transaction_session_timeout": limit_ms}
    db.set_local(cur, timeouts | {"application_name": name})


def _failed(claimed: dict, error: Exception, saved: list[dict]) -> str:
    """A kill that cancelled the task's statement, wrong input (ERRORED at once), else a retry."""
    if kills.cancelled_by_kill(claimed, error):
        return _end(claimed, "KILLED", KILLED_MESSAGE)
    if isinstance(error, TaskInputError):
        return _end(claimed, "ERRORED", str(error), saved)
    if isinstance(error, problems.Problem) and error.status < 500:
        return _end(claimed, "ERRORED", error.message, saved)
    return _release(claimed, error)


def _settle(cur, ctx: TaskContext, returned: Any) -> str:
    """Records what the function returned, in its transaction, fenced by the attempt and by kills."""
    task_row, progress = ctx.task, ctx.final_progress()
    _check_returned(ctx, returned)
    task_id, attempt = task_row["id"], task_row["attempts"]
    if isinstance(returned, Continue):
        recorded = tasks_sql.continue_later(cur, task_id, attempt, returned.cursor, ctx.artifacts, progress)
    else:
        recorded = tasks_sql.succeed(cur, task_id, attempt, returned, ctx.artifacts, progress)
    if not recorded:
        with db.side_cursor() as side:
            kill = tasks_sql.still_mine(side, task_id, attempt)
        raise Killed() if kill else LostLease()
    return "continued" if isinstance(returned, Continue) else "succeeded"


def _check_returned(ctx: TaskContext, returned: Any) -> None:
    """Mistakes in what a task returns cannot be fixed by running it again."""
    value = returned.cursor if isinstance(returned, Continue) else returned
    try:
        size = len(jsonutil.dumps(value))
    except (TypeError, ValueError) as error:
        raise TaskInputError(f"{ctx.task['kind']} returned something that is not JSON: {error}") from error
    if size > TASK_RESULT_MAX_BYTES:
        returned_too_much = limit_message(
            f"What {ctx.task['kind']} returned", "TASK_RESULT_MAX_BYTES", "bytes"
        )
        raise TaskInputError(returned_too_much)
    if isinstance(returned, Continue) and returned.cursor == ctx.cursor:
        raise TaskInputError(
            f"{ctx.task['kind']} made no progress before its deadline (cursor {ctx.cursor!r})."
        )


def _end(claimed: dict, status: str, message: str, artifacts: list[dict] | None = None) -> str:
    artifacts = artifacts or []
    message = capped(message, REPORT if any(a["name"] == REPORT for a in artifacts) else None)
    with db.transaction() as cur:
        tasks_sql.end(cur, claimed["id"], claimed["attempts"], status, message, artifacts=artifacts)
    logger().info("task ended", extra={"status": status, "reason": message})
    return status.lower()


def _release(claimed: dict, error: BaseException) -> str:
    trace = capped("".join(tracebacks.format_exception(error)), keep_end=True)
    message = capped(f"Attempt {claimed['attempts']} failed: {error}")
    logger().warning("task failed; it will be retried", extra={"error": message}, exc_info=error)
    with db.transaction() as cur:
        tasks_sql.release(cur, claimed["id"], claimed["attempts"], message, trace)
    raise Retry(claimed["id"], claimed["attempts"], error) from error


def give_up(task_id: int) -> bool:
    """The DLQ's verdict on a task whose message was delivered too often: ERRORED, with the last error."""
    with db.transaction() as cur:
        current = tasks_sql.get_any(cur, task_id)
        if current is None:
            return False
        reason = current["error_message"] or "its worker never finished"
        message = capped(f"Gave up after {current['failures']} failed attempt(s). Last error: {reason}")
        return tasks_sql.give_up(cur, task_id, message)


def _record_metrics(kind: str, outcome: str, seconds: float) -> None:
    """EMF metrics by kind: TasksStarted, and one of TasksSucceeded, TasksErrored, TasksKilled,
    TasksRetried, TasksContinued, TasksLost; TaskDuration of the invocation."""
    recorder = metrics()
    recorder.clear_metrics()  # flush leaves them in place when metrics are disabled (local stack)
    recorder.add_dimension(name="kind", value=kind)
    recorder.add_metric(name="TasksStarted", unit="Count", value=1)
    recorder.add_metric(name=f"Tasks{outcome.capitalize()}", unit="Count", value=1)
    recorder.add_metric(name="TaskDuration", unit="Seconds", value=seconds)
    recorder.flush_metrics()
