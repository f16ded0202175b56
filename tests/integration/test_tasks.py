"""The task engine against real PostGIS and moto SQS/S3 (issue acceptance lines in brackets)."""

import dataclasses
import functools
import threading
from datetime import datetime
from urllib.parse import parse_qs, urlparse

import pytest

from chalicelib.platform import config, db
from chalicelib.tasks import engine, sweeper, tasks_sql
from tests.integration.helpers import call, make_tenant
from tests.integration.taskkit import (
    BUCKET,
    MAX_RECEIVES,
    drain,
    enqueue,
    gate,
    probe_count,
    row,
    run_in_thread,
)

pytestmark = pytest.mark.commits  # workers race on other connections and threads


@pytest.fixture
def alpha(client, task_aws):
    return make_tenant(client, "alpha", roles=("viewer", "registry_editor"))


def _launch_demo(client, tenant, role="admin", **params):
    status, created, _ = call(client, "POST", "/api/tasks/demo", tenant.tokens[role], {"n": 5} | params)
    assert status == 201, created
    return created


def test_enqueue_run_and_read_the_result_artifact_and_logs(client, alpha, task_aws):
    # [1] Given a demo task enqueued through the API
    created = _launch_demo(client, alpha, n=5)
    assert created["status"] == "QUEUED"
    assert task_aws.depth(task_aws.queue_url) == 1
    # When the worker drains the queue
    drain(task_aws)
    # Then it succeeded with its result, full progress and a downloadable artifact
    status, shown, _ = call(client, "GET", f"/api/tasks/{created['id']}", alpha.tokens["admin"])
    assert status == 200
    assert shown["status"] == "SUCCESS" and shown["result"] == {"counted": 5}
    assert shown["progress"] == {"value": 5, "end": 5, "percent": 100.0, "message": "counted 5 of 5"}
    assert shown["attempts"] == 1 and shown["error"] is None
    [artifact] = shown["artifacts"]
    key = f"tasks/{alpha.account_id}/{created['id']}/count.csv"
    assert task_aws.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode() == "n\n1\n2\n3\n4\n5\n"
    assert artifact["size"] == 12 and artifact["content_type"] == "text/csv"
    _, logs, _ = call(client, "GET", f"/api/tasks/{created['id']}/logs", alpha.tokens["admin"])
    assert [line["message"] for line in logs["results"]] == ["counted to 5"]


def test_a_tasks_end_is_when_it_ended_not_when_its_work_began(client, alpha, task_aws):
    created = _launch_demo(client, alpha, n=2, sleep_seconds=0.3)
    drain(task_aws)
    _, shown, _ = call(client, "GET", f"/api/tasks/{created['id']}", alpha.tokens["admin"])
    started, ended = (datetime.fromisoformat(shown[name]) for name in ("started_at", "ended_at"))
    assert (ended - started).total_seconds() >= 0.5, shown  # two counts of 0.3 s each


def test_artifact_links_are_presigned_expire_and_stay_in_the_accounts_prefix(client, alpha, task_aws):
    # [8] links
    created = _launch_demo(client, alpha, n=2)
    drain(task_aws)
    _, shown, _ = call(client, "GET", f"/api/tasks/{created['id']}", alpha.tokens["admin"])
    url = urlparse(shown["artifacts"][0]["url"])
    query = parse_qs(url.query)
    assert url.path.endswith(f"/tasks/{alpha.account_id}/{created['id']}/count.csv")
    assert query["X-Amz-Expires"] == ["3600"] and "X-Amz-Signature" in query
    assert query["response-content-disposition"] == ['attachment; filename="count.csv"']
    assert shown["artifacts"][0]["expires_in"] == 3600


def test_progress_is_visible_while_the_tasks_transaction_is_open(client, alpha, task_aws):
    # [1] Given a task that reports half-way progress and then waits inside its transaction
    created = enqueue(alpha.account_id, alpha.user_ids["admin"], "test.hold")
    thread, outcome = run_in_thread(created["id"])
    assert gate(created["id"])["reached"].wait(10)
    # Then the API shows the progress, while the task's own write is not yet visible
    _, shown, _ = call(client, "GET", f"/api/tasks/{created['id']}", alpha.tokens["admin"])
    assert shown["status"] == "RUNNING"
    assert shown["progress"] == {"value": 5, "end": 10, "percent": 50.0, "message": "half way"}
    assert probe_count(created["id"]) == 0
    # When released, it commits its work together with SUCCESS
    gate(created["id"])["release"].set()
    thread.join(10)
    assert outcome == {"value": "succeeded"}
    assert row(created["id"])["status"] == "SUCCESS" and probe_count(created["id"]) == 1


def test_a_duplicate_delivery_runs_the_task_once(alpha, task_aws):
    # [2] The same message delivered twice
    created = enqueue(alpha.account_id, alpha.user_ids["admin"], "test.record")
    task_aws.sqs.send_message(QueueUrl=task_aws.queue_url, MessageBody=f'{{"task_id": {created["id"]}}}')
    assert drain(task_aws) == 2
    assert row(created["id"])["status"] == "SUCCESS"
    assert row(created["id"])["attempts"] == 1
    assert probe_count(created["id"]) == 1


def test_two_workers_racing_run_the_task_once(alpha, task_aws):
    # [2] Two workers claim at the same moment
    created = enqueue(alpha.account_id, alpha.user_ids["admin"], "test.record")
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def worker():
        start.wait()
        outcomes.append(engine.run(created["id"]))
        db.close()

    racers = [threading.Thread(target=worker) for _ in range(2)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(10)
    assert sorted(outcomes) == ["skipped", "succeeded"]
    assert probe_count(created["id"]) == 1


def test_a_transient_error_is_retried_then_succeeds(client, alpha, task_aws):
    # [3] Fails on attempts 1 and 2, succeeds on 3
    created = _launch_demo(client, alpha, n=3, fail="transient", fail_times=2)
    drain(task_aws)
    done = row(created["id"])
    assert done["status"] == "SUCCESS" and done["attempts"] == 3
    assert done["result"] == {"counted": 3}


def test_a_task_that_keeps_failing_ends_in_the_dlq_and_errored(client, alpha, task_aws):
    # [3] Always fails: after maxReceiveCount deliveries the DLQ handler marks it ERRORED
    created = _launch_demo(client, alpha, n=3, fail="transient")
    drain(task_aws)
    failed = row(created["id"])
    assert failed["status"] == "ERRORED"
    assert failed["attempts"] == MAX_RECEIVES
    assert "Gave up after 3 failed attempt(s)" in failed["error_message"]
    assert "transient failure on attempt 3" in failed["error_message"]
    assert task_aws.depth(task_aws.queue_url) == 0 and task_aws.depth(task_aws.dlq_url) == 0
    _, shown, _ = call(client, "GET", f"/api/tasks/{created['id']}", alpha.tokens["admin"])
    assert "Traceback" not in str(shown)


def test_an_input_error_ends_errored_on_the_first_attempt(client, alpha, task_aws):
    # [3]
    created = _launch_demo(client, alpha, fail="input")
    assert drain(task_aws) == 1
    failed = row(created["id"])
    assert failed["status"] == "ERRORED" and failed["attempts"] == 1
    assert failed["error_message"] == "demo.count: asked to fail with an input error"


def test_kill_while_running_rolls_back_its_partial_writes(client, alpha, task_aws):
    # [4] Given a task writing rows and reporting progress
    created = enqueue(alpha.account_id, alpha.user_ids["admin"], "test.slow_writer")
    thread, outcome = run_in_thread(created["id"])
    assert gate(created["id"])["reached"].wait(10)
    # When it is killed through the API
    status, shown, _ = call(client, "POST", f"/api/tasks/{created['id']}/kill", alpha.tokens["admin"])
    assert status == 200 and shown["should_be_killed"] is True
    thread.join(20)
    # Then it stops at its next progress report as KILLED, and nothing it wrote remains
    assert outcome == {"value": "killed"}
    killed = row(created["id"])
    assert killed["status"] == "KILLED" and killed["progress_value"] < 500
    assert probe_count(created["id"]) == 0


def test_kill_of_a_queued_task_ends_it_at_once_and_an_ended_task_cannot_be_killed(client, alpha, task_aws):
    created = _launch_demo(client, alpha)
    status, shown, _ = call(client, "POST", f"/api/tasks/{created['id']}/kill", alpha.tokens["admin"])
    assert status == 200 and shown["status"] == "KILLED"
    drain(task_aws)  # its message finds nothing to do
    assert row(created["id"])["attempts"] == 0
    status, error, _ = call(client, "POST", f"/api/tasks/{created['id']}/kill", alpha.tokens["admin"])
    assert status == 409 and error["error"]["code"] == "task.already_ended"


def test_a_task_whose_worker_died_is_reclaimed_by_the_sweeper_and_completes_once(alpha, task_aws):
    # [5] Given a task claimed by a worker that then died (its message is gone, its lease expires)
    created = enqueue(alpha.account_id, alpha.user_ids["admin"], "test.record")
    task_aws.sqs.purge_queue(QueueUrl=task_aws.queue_url)
    with db.transaction() as cur:
        assert tasks_sql.claim(cur, created["id"], lease_seconds=0) is not None
    # When the sweeper runs, then the task is queued again and completes once
    assert sweeper.sweep()["requeued"] == [created["id"]]
    drain(task_aws)
    done = row(created["id"])
    assert done["status"] == "SUCCESS" and done["attempts"] == 2
    assert probe_count(created["id"]) == 1


def test_a_presumed_dead_worker_that_comes_back_commits_nothing(alpha, task_aws):
    # [5] Worker A holds the task; its lease expires; worker B reclaims and finishes it
    created = enqueue(alpha.account_id, alpha.user_ids["admin"], "test.hold")
    task_aws.sqs.purge_queue(QueueUrl=task_aws.queue_url)
    first, outcome = run_in_thread(created["id"])
    assert gate(created["id"])["reached"].wait(10)
    with db.transaction() as cur:
        cur.execute(
            "UPDATE tasks SET lease_until = now() - interval '1 second' WHERE id = %s", (created["id"],)
        )
    sweeper.sweep()
    second, second_outcome = run_in_thread(created["id"])
    second.join(1)  # B is held at the same gate, which is already open for it once released
    gate(created["id"])["release"].set()
    second.join(10)
    first.join(10)
    # Then exactly one of them committed: B, the current holder; A's work was rolled back
    assert second_outcome == {"value": "succeeded"} and outcome == {"value": "lost"}
    assert row(created["id"])["attempts"] == 2
    assert probe_count(created["id"]) == 1


def test_the_sweeper_gives_up_on_a_task_that_keeps_dying(alpha, task_aws, monkeypatch):
    monkeypatch.setenv("TASK_MAX_ATTEMPTS", "1")
    config.reset()
    created = enqueue(alpha.account_id, alpha.user_ids["admin"], "test.record")
    with db.transaction() as cur:
        tasks_sql.claim(cur, created["id"], lease_seconds=0)
    assert sweeper.sweep()["errored"] == [created["id"]]
    assert "stopped before finishing; 1 failed attempt(s)" in row(created["id"])["error_message"]


def test_the_sweeper_resends_a_task_whose_message_was_never_sent(alpha, task_aws, monkeypatch):
    monkeypatch.setattr(engine, "send", lambda task_id: False)  # the send after commit fails
    created = enqueue(alpha.account_id, alpha.user_ids["admin"], "test.record")
    monkeypatch.undo()
    assert task_aws.depth(task_aws.queue_url) == 0
    assert sweeper.sweep(unsent_grace_seconds=0)["resent"] == [created["id"]]
    drain(task_aws)
    assert row(created["id"])["status"] == "SUCCESS"


class DeadlineAfter:
    """A Lambda context whose deadline becomes near after `calls` checks (one invocation)."""

    def __init__(self, name: str, calls: int = 10):
        self.calls, self.limit = 0, calls

    def get_remaining_time_in_millis(self) -> int:
        self.calls += 1
        return 900_000 if self.calls <= self.limit else 1_000


def test_a_long_task_continues_over_several_invocations(client, alpha, task_aws):
    # [6] 30 steps, about 9 per invocation before the (injected) deadline
    created = _launch_demo(client, alpha, n=30)
    invocations = drain(task_aws, context_factory=DeadlineAfter)
    done = row(created["id"])
    assert done["status"] == "SUCCESS" and done["result"] == {"counted": 30}
    assert invocations >= 3 and done["attempts"] == invocations
    assert done["failures"] == 0  # continuing is not failing
    body = task_aws.s3.get_object(Bucket=BUCKET, Key=f"tasks/{alpha.account_id}/{created['id']}/count.csv")
    assert body["Body"].read().decode().splitlines() == ["n"] + [str(i) for i in range(1, 31)]
    _, logs, _ = call(client, "GET", f"/api/tasks/{created['id']}/logs", alpha.tokens["admin"])
    assert sum("resuming at" in line["message"] for line in logs["results"]) == invocations - 1


def test_a_unique_key_returns_the_live_task(alpha, task_aws):
    # [7]
    first = enqueue(alpha.account_id, alpha.user_ids["admin"], "test.record", unique_key="sync:dhis2")
    again = enqueue(alpha.account_id, alpha.user_ids["admin"], "test.record", unique_key="sync:dhis2")
    assert again["id"] == first["id"]
    assert task_aws.depth(task_aws.queue_url) == 1
    drain(task_aws)
    later = enqueue(alpha.account_id, alpha.user_ids["admin"], "test.record", unique_key="sync:dhis2")
    assert later["id"] != first["id"]


def test_relaunch_creates_a_new_attempt_of_an_errored_task(client, alpha, task_aws):
    created = _launch_demo(client, alpha, fail="input")
    drain(task_aws)
    status, relaunched, _ = call(
        client, "POST", f"/api/tasks/{created['id']}/relaunch", alpha.tokens["admin"]
    )
    assert status == 201
    assert relaunched["relaunched_from"] == created["id"] and relaunched["params"] == created["params"]
    status, error, _ = call(client, "POST", f"/api/tasks/{relaunched['id']}/relaunch", alpha.tokens["admin"])
    assert status == 409 and error["error"]["code"] == "task.not_relaunchable"


def test_another_account_cannot_see_kill_or_relaunch_a_task(client, alpha, task_aws):
    # [8]
    beta = make_tenant(client, "beta")
    created = _launch_demo(client, alpha, fail="input")
    drain(task_aws)
    path = f"/api/tasks/{created['id']}"
    for method, route in [
        ("GET", path),
        ("POST", f"{path}/kill"),
        ("POST", f"{path}/relaunch"),
        ("GET", f"{path}/logs"),
    ]:
        status, error, _ = call(client, method, route, beta.tokens["admin"])
        assert status == 404, route
        assert error["error"]["code"] == "task.not_found"
    _, listed, _ = call(client, "GET", "/api/tasks", beta.tokens["admin"])
    assert listed["results"] == []


def test_non_admins_see_only_the_tasks_they_launched(client, alpha, task_aws):
    mine = _launch_demo(client, alpha, role="registry_editor")
    admins = _launch_demo(client, alpha)
    editor = alpha.tokens["registry_editor"]
    _, listed, _ = call(client, "GET", "/api/tasks", editor)
    assert [task["id"] for task in listed["results"]] == [mine["id"]]
    assert call(client, "GET", f"/api/tasks/{admins['id']}", editor)[0] == 404
    assert call(client, "POST", f"/api/tasks/{admins['id']}/kill", editor)[0] == 404
    _, everything, _ = call(client, "GET", "/api/tasks", alpha.tokens["admin"])
    assert [task["id"] for task in everything["results"]] == [admins["id"], mine["id"]]
    # A viewer may not launch tasks at all
    assert call(client, "POST", "/api/tasks/demo", alpha.tokens["viewer"], {"n": 1})[0] == 403


def test_task_list_filters_and_pages_newest_first(client, alpha, task_aws):
    ids = [_launch_demo(client, alpha, n=1)["id"] for _ in range(3)]
    failing = _launch_demo(client, alpha, fail="input")
    drain(task_aws)
    token = alpha.tokens["admin"]
    _, errored, _ = call(client, "GET", "/api/tasks?status=ERRORED", token)
    assert [task["id"] for task in errored["results"]] == [failing["id"]]
    _, first, _ = call(client, "GET", "/api/tasks?limit=2&kind=demo.count", token)
    _, second, _ = call(
        client, "GET", f"/api/tasks?limit=2&kind=demo.count&cursor={first['next_cursor']}", token
    )
    assert [t["id"] for t in first["results"] + second["results"]] == [failing["id"]] + ids[::-1]
    assert second["next_cursor"] is None
    assert call(client, "GET", "/api/tasks?status=DONE", token)[0] == 400


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"n": 0}, "n"),
        ({"n": "5"}, "n"),
        ({}, "n"),
        ({"n": 1, "fail": "always"}, "fail"),
        ({"n": 1, "sleep_seconds": 99}, "sleep_seconds"),
    ],
)
def test_demo_task_input_is_checked(client, alpha, task_aws, body, field):
    status, error, _ = call(client, "POST", "/api/tasks/demo", alpha.tokens["admin"], body)
    assert status == 400 and error["error"]["details"]["field"] == field
    assert task_aws.depth(task_aws.queue_url) == 0


def test_demo_task_route_is_absent_outside_local_stages(client, alpha, task_aws, monkeypatch):
    # The test client sets the stage's variables during each call, so replace the settings instead
    prod = dataclasses.replace(config.settings(), stage="prod")
    prod_settings = functools.cache(lambda: prod)
    monkeypatch.setattr(config, "settings", prod_settings)
    status, error, _ = call(client, "POST", "/api/tasks/demo", alpha.tokens["admin"], {"n": 1})
    assert status == 404


def test_malformed_messages_are_dropped(alpha, task_aws):
    for body in ("not json", '{"task": 1}', '{"task_id": "7"}', '{"task_id": 99999}'):
        task_aws.sqs.send_message(QueueUrl=task_aws.queue_url, MessageBody=body)
        task_aws.sqs.send_message(QueueUrl=task_aws.dlq_url, MessageBody=body)
    assert drain(task_aws) == 8
    assert task_aws.depth(task_aws.queue_url) == 0


def test_health_reports_the_age_of_the_oldest_queued_task(client, alpha, task_aws):
    _launch_demo(client, alpha)
    _, health, _ = call(client, "GET", "/api/health")
    assert health["database"]["oldest_queued_task_seconds"] >= 0
    assert health["queues"]["tasks"]["visible"] == 1 and health["queues"]["tasks_dlq"]["visible"] == 0


def test_outcomes_are_published_as_emf_metrics_by_kind(client, alpha, task_aws, capsys):
    _launch_demo(client, alpha, n=1)
    capsys.readouterr()
    drain(task_aws)
    emitted = [line for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert any(
        '"TasksSucceeded"' in line and '"kind": "demo.count"' in line.replace('":"', '": "')
        for line in emitted
    )


def test_purge_removes_old_logs_and_artifacts(client, alpha, task_aws):
    created = _launch_demo(client, alpha, n=2)
    drain(task_aws)
    with db.transaction() as cur:
        cur.execute("UPDATE tasks SET ended_at = now() - interval '400 days' WHERE id = %s", (created["id"],))
        cur.execute(
            "UPDATE task_logs SET created_at = now() - interval '400 days' WHERE task_id = %s",
            (created["id"],),
        )
    summary = sweeper.purge()
    assert summary == {"logs_deleted": 1, "tasks_with_artifacts_purged": 1}
    assert task_aws.s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0
    assert row(created["id"])["artifacts"] == []


class ShortLambda:
    """A Lambda context with two minutes left."""

    def __init__(self, name: str):
        self.name = name

    def get_remaining_time_in_millis(self) -> int:
        return 120_000


def test_a_tasks_transaction_may_last_until_its_lambda_ends(alpha, task_aws):
    # The role's 25 s statement timeout suits requests; a task gets its Lambda's remaining time
    created = enqueue(alpha.account_id, alpha.user_ids["admin"], "test.timeouts")
    drain(task_aws, context_factory=ShortLambda)
    assert row(created["id"])["result"] == {"statement": "150s", "idle": "150s"}


def test_a_task_that_makes_no_progress_across_invocations_ends_errored(alpha, task_aws):
    created = enqueue(alpha.account_id, alpha.user_ids["admin"], "test.stuck")
    drain(task_aws)
    stuck = row(created["id"])
    assert stuck["status"] == "ERRORED" and "made no progress" in stuck["error_message"]
    assert stuck["attempts"] == 2


def test_progress_never_waits_for_a_lock_on_the_task_row(alpha, task_aws):
    created = enqueue(alpha.account_id, alpha.user_ids["admin"], "test.locks_own_row")
    thread, outcome = run_in_thread(created["id"])
    thread.join(10)
    assert not thread.is_alive() and outcome == {"value": "succeeded"}


def test_a_kill_swallowed_by_the_task_still_ends_it_killed(alpha, task_aws):
    created = enqueue(alpha.account_id, alpha.user_ids["admin"], "test.swallows_kill")
    assert engine.run(created["id"]) == "killed"
    assert row(created["id"])["status"] == "KILLED" and probe_count(created["id"]) == 0


def test_a_result_that_is_not_json_ends_errored_at_once(alpha, task_aws):
    created = enqueue(alpha.account_id, alpha.user_ids["admin"], "test.not_json")
    drain(task_aws)
    failed = row(created["id"])
    assert failed["status"] == "ERRORED" and failed["attempts"] == 1 and "not JSON" in failed["error_message"]


def test_a_task_cannot_enqueue_a_successor_under_its_own_unique_key(alpha, task_aws):
    created = enqueue(alpha.account_id, alpha.user_ids["admin"], "test.record", unique_key="k")
    running = engine._running_task_id.set(created["id"])
    try:
        with pytest.raises(ValueError, match="its own unique key"):
            enqueue(alpha.account_id, alpha.user_ids["admin"], "test.record", unique_key="k")
    finally:
        engine._running_task_id.reset(running)


def test_a_failing_send_after_commit_does_not_fail_the_request(client, alpha, task_aws, monkeypatch):
    def broken(task_id):
        raise RuntimeError("SQS is down")

    monkeypatch.setattr(engine, "send", broken)
    created = _launch_demo(client, alpha, n=1)
    monkeypatch.undo()
    assert row(created["id"])["sent_at"] is None
    assert sweeper.sweep(unsent_grace_seconds=0)["resent"] == [created["id"]]


def test_nested_transactions_are_refused(database):
    with db.transaction(), pytest.raises(RuntimeError, match="already open"), db.transaction():
        pass


def test_a_cursor_that_is_not_ours_is_a_400(client, alpha, task_aws):
    from chalicelib.platform import paging

    for key in ("abc", [1, 2]):
        status, error, _ = call(
            client, "GET", f"/api/tasks?cursor={paging.encode_cursor(key)}", alpha.tokens["admin"]
        )
        assert status == 400 and error["error"]["details"] == {"parameter": "cursor"}
