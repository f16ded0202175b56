"""Test support for the task engine: moto queues and bucket, a drained worker, probe task kinds."""

import contextlib
import json
import sys
import threading
from dataclasses import dataclass

import pytest
from moto import mock_aws

import app as app_module
from chalicelib.platform import aws, config, db
from chalicelib.platform.config import TASKS_DLQ_NAME, TASKS_QUEUE_NAME
from chalicelib.tasks import engine
from devstack.worker import LocalContext, Worker
from tests.integration.helpers import aws_client

BUCKET = "georegistry-test-exports"
UPLOADS = "georegistry-test-uploads"
MAX_RECEIVES = 3

# Probe kinds record each execution in task_probe (inside the task's transaction) so tests can
# count runs and see rollbacks. `gates` lets a test hold a running task at a known point.
gates: dict[int, dict[str, threading.Event]] = {}


def gate(task_id: int) -> dict[str, threading.Event]:
    return gates.setdefault(task_id, {"reached": threading.Event(), "release": threading.Event()})


def _probe(ctx, n: int) -> None:
    ctx.cur.execute("INSERT INTO task_probe (task_id, n) VALUES (%s, %s)", (ctx.task["id"], n))


def _register():
    if "test.record" in engine.REGISTRY:
        return

    @engine.task("test.record")
    def record(ctx):
        _probe(ctx, 1)
        return {"recorded": True}

    @engine.task("test.hold")
    def hold(ctx):
        """Writes a probe row, reports progress half way, then waits for the test to release it."""
        _probe(ctx, 1)
        ctx.progress(5, 10, "half way")
        g = gate(ctx.task["id"])
        g["reached"].set()
        assert g["release"].wait(30), "test never released the task"
        return {"held": True}

    @engine.task("test.slow_writer")
    def slow_writer(ctx):
        for i in range(1, 501):
            _probe(ctx, i)
            ctx.progress(i, 500)
            gate(ctx.task["id"])["reached"].set()
            threading.Event().wait(0.01)
        return {"wrote": 500}

    @engine.task("test.timeouts")
    def timeouts(ctx):
        ctx.cur.execute("SHOW statement_timeout")
        statement = ctx.cur.fetchone()["statement_timeout"]
        ctx.cur.execute("SHOW idle_in_transaction_session_timeout")
        return {"statement": statement, "idle": ctx.cur.fetchone()["idle_in_transaction_session_timeout"]}

    @engine.task("test.stuck")
    def stuck(ctx):
        return engine.Continue(ctx.cursor or 0)

    @engine.task("test.locks_own_row")
    def locks_own_row(ctx):
        ctx.cur.execute("SELECT id FROM tasks WHERE id = %s FOR UPDATE", (ctx.task["id"],))
        ctx.progress(1, 2, "own row locked")
        return {"done": True}

    @engine.task("test.swallows_kill")
    def swallows_kill(ctx):
        _probe(ctx, 1)
        with db.side_cursor() as side:  # the API records a kill request meanwhile
            side.execute("UPDATE tasks SET should_be_killed = true WHERE id = %s", (ctx.task["id"],))
        with contextlib.suppress(BaseException):  # a careless task swallows everything
            ctx.progress(1, 2)
        return {"finished": "anyway"}

    @engine.task("test.not_json")
    def not_json(ctx):
        return {"when": object()}


_register()


@dataclass
class Aws:
    sqs: object
    s3: object
    queue_url: str
    dlq_url: str

    def depth(self, url: str) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )


@pytest.fixture
def task_aws(database, monkeypatch):
    with mock_aws():
        sqs = aws_client("sqs")
        dlq_url = sqs.create_queue(QueueName=TASKS_DLQ_NAME)["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVES)})
        queue_url = sqs.create_queue(
            QueueName=TASKS_QUEUE_NAME, Attributes={"VisibilityTimeout": "30", "RedrivePolicy": redrive}
        )["QueueUrl"]
        s3 = aws_client("s3")
        for bucket in (BUCKET, UPLOADS):
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        for name, value in {
            "TASKS_QUEUE_URL": queue_url,
            "TASKS_DLQ_URL": dlq_url,
            "EXPORTS_BUCKET": BUCKET,
            "UPLOADS_BUCKET": UPLOADS,
            "TASK_PROGRESS_INTERVAL_SECONDS": "0",
            "TASK_RETRY_BASE_SECONDS": "0",
        }.items():
            monkeypatch.setenv(name, value)
        config.reset()
        aws.reset()
        with db.transaction() as cur:
            cur.execute("CREATE TABLE IF NOT EXISTS task_probe (task_id bigint NOT NULL, n integer NOT NULL)")
        yield Aws(sqs, s3, queue_url, dlq_url)
        aws.reset()
        gates.clear()


def drain(env: Aws, context_factory=LocalContext, limit: int = 200) -> int:
    """Feeds both queues to the app's handlers until they are empty; returns messages handled."""
    worker = Worker(sys.modules["app"], env.sqs, context_factory=context_factory)
    arns = {
        url: env.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        for url in (env.queue_url, env.dlq_url)
    }
    handled = 0
    for _ in range(limit):
        step = worker.poll_once(env.queue_url, arns[env.queue_url], app_module.run_task, "run_task")
        step += worker.poll_once(
            env.dlq_url, arns[env.dlq_url], app_module.task_dead_letter, "task_dead_letter"
        )
        handled += step
        if step == 0:
            return handled
    raise AssertionError("queues did not drain")


def enqueue(
    account_id: int, user_id: int | None, kind: str, params: dict | None = None, unique_key=None
) -> dict:
    with db.transaction() as cur:
        return engine.enqueue(cur, account_id, user_id, kind, params or {}, unique_key)


def row(task_id: int) -> dict:
    with db.transaction() as cur:
        return db.one(cur, "SELECT * FROM tasks WHERE id = %(id)s", {"id": task_id})


def probe_count(task_id: int) -> int:
    with db.transaction() as cur:
        return db.one(cur, "SELECT count(*) AS n FROM task_probe WHERE task_id = %(id)s", {"id": task_id})[
            "n"
        ]


def run_in_thread(task_id: int, context=None) -> tuple[threading.Thread, dict]:
    """tasks.run in another thread (with its own connections); its outcome lands in the dict."""
    outcome: dict = {}

    def target():
        try:
            outcome["value"] = engine.run(task_id, context)
        except Exception as error:
            outcome["error"] = error
        finally:
            db.close()

    thread = threading.Thread(target=target)
    thread.start()
    return thread, outcome
