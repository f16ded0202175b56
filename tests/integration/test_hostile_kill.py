"""Kill always works: a task stuck in one PostgreSQL statement ends KILLED within 10 s (kills.py), and
a kill never cancels a statement that is not the killed attempt's."""

import threading
import time

import pytest

from chalicelib.platform import db
from chalicelib.tasks import engine, tasks_sql
from tests.integration.helpers import call, make_tenant
from tests.integration.taskkit import enqueue, probe_count, row

pytestmark = pytest.mark.commits  # the worker runs on its own connection, in another thread

KILL_WITHIN_SECONDS = 10
SLEEP = "SELECT pg_sleep(120)"


def _register():
    if "test.sleeps_in_sql" in engine.REGISTRY:
        return

    @engine.task("test.sleeps_in_sql")
    def sleeps_in_sql(ctx):
        """Writes a probe row, then sits in one statement that never reports progress."""
        ctx.cur.execute("INSERT INTO task_probe (task_id, n) VALUES (%s, 1)", (ctx.task["id"],))
        ctx.cur.execute(SLEEP)
        return {"slept": True}

    @engine.task("test.wraps_cancel")
    def wraps_cancel(ctx):
        """A task that turns any database error into an input error of its own."""
        ctx.cur.execute("INSERT INTO task_probe (task_id, n) VALUES (%s, 1)", (ctx.task["id"],))
        try:
            ctx.cur.execute(SLEEP)
        except Exception as error:
            raise engine.TaskInputError("the query failed") from error
        return {"slept": True}

    @engine.task("test.times_out")
    def times_out(ctx):
        ctx.cur.execute("INSERT INTO task_probe (task_id, n) VALUES (%s, 1)", (ctx.task["id"],))
        ctx.cur.execute("SET LOCAL statement_timeout = '50ms'")
        ctx.cur.execute("SELECT pg_sleep(5)")
        return {"slept": True}


_register()


@pytest.fixture
def alpha(client, task_aws):
    return make_tenant(client, "alpha")


def _worker(*task_ids: int) -> tuple[threading.Thread, dict]:
    """Runs the tasks one after the other on one thread (one connection), as a worker does; records
    each outcome and when it came."""
    outcomes: dict = {}

    def target():
        try:
            for task_id in task_ids:
                try:
                    outcomes[task_id] = engine.run(task_id)
                except engine.Retry as retry:
                    outcomes[task_id] = retry
                outcomes[(task_id, "at")] = time.monotonic()
        finally:
            db.close()

    thread = threading.Thread(target=target)
    thread.start()
    return thread, outcomes


def _session(sql: str, started: threading.Event) -> tuple[threading.Thread, dict]:
    """Another session running `sql`; records its pid and how the statement ended."""
    outcome: dict = {}

    def target():
        try:
            with db.transaction() as cur:
                outcome["pid"] = db.one(cur, "SELECT pg_backend_pid() AS pid")["pid"]
                started.set()
                cur.execute(sql)
            outcome["ended"] = "normally"
        except Exception as error:
            outcome["ended"] = error
        finally:
            db.close()

    thread = threading.Thread(target=target)
    thread.start()
    return thread, outcome


def _wait_active(where: str, value, timeout: float = 10) -> None:
    """Until a backend (by application_name or pid) is inside a pg_sleep statement."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db.transaction() as cur:
            found = db.one(
                cur,
                f"SELECT 1 AS found FROM pg_stat_activity WHERE {where} = %(value)s"
                " AND state = 'active' AND query LIKE 'SELECT pg_sleep%%'",
                {"value": value},
            )
        if found:
            return
        time.sleep(0.05)
    raise AssertionError(f"no backend with {where} = {value!r} entered its statement")


def _kill(client, tenant, task_id: int) -> tuple[int, dict]:
    status, shown, _ = call(client, "POST", f"/api/tasks/{task_id}/kill", tenant.tokens["admin"])
    return status, shown


def test_a_task_stuck_in_one_statement_ends_killed_within_10_s_and_the_worker_goes_on(client, alpha):
    # Given a task inside SELECT pg_sleep(120), after a write, and another task queued behind it
    stuck = enqueue(alpha.account_id, alpha.user_ids["admin"], "test.sleeps_in_sql")
    after = enqueue(alpha.account_id, alpha.user_ids["admin"], "test.record")
    thread, outcomes = _worker(stuck["id"], after["id"])
    _wait_active("application_name", tasks_sql.backend_name(stuck["id"], 1))
    assert row(stuck["id"])["backend_pid"] is not None
    # When it is killed through the API
    status, shown = _kill(client, alpha, stuck["id"])
    killed_at = time.monotonic()
    assert status == 200 and shown["should_be_killed"] is True
    thread.join(KILL_WITHIN_SECONDS + 5)
    # Then it ended KILLED within 10 s, saying why, with its write rolled back
    assert outcomes[stuck["id"]] == "killed"
    assert outcomes[(stuck["id"], "at")] - killed_at < KILL_WITHIN_SECONDS
    ended = row(stuck["id"])
    assert ended["status"] == "KILLED" and ended["error_message"] == engine.KILLED_MESSAGE
    assert ended["attempts"] == 1 and ended["failures"] == 0
    assert probe_count(stuck["id"]) == 0
    # And the same worker then ran the next task
    assert outcomes[after["id"]] == "succeeded" and row(after["id"])["status"] == "SUCCESS"
    assert probe_count(after["id"]) == 1


def test_a_task_that_wraps_the_cancel_in_its_own_error_still_ends_killed(client, alpha):
    stuck = enqueue(alpha.account_id, alpha.user_ids["admin"], "test.wraps_cancel")
    thread, outcomes = _worker(stuck["id"])
    _wait_active("application_name", tasks_sql.backend_name(stuck["id"], 1))
    assert _kill(client, alpha, stuck["id"])[0] == 200
    thread.join(KILL_WITHIN_SECONDS)
    assert outcomes[stuck["id"]] == "killed"
    ended = row(stuck["id"])
    assert ended["status"] == "KILLED" and ended["error_message"] == engine.KILLED_MESSAGE
    assert probe_count(stuck["id"]) == 0


def test_a_statement_timeout_without_a_kill_stays_a_transient_failure(alpha):
    timed_out = enqueue(alpha.account_id, alpha.user_ids["admin"], "test.times_out")
    thread, outcomes = _worker(timed_out["id"])
    thread.join(10)
    assert isinstance(outcomes[timed_out["id"]], engine.Retry)
    retried = row(timed_out["id"])
    assert retried["status"] == "QUEUED" and retried["failures"] == 1
    assert "statement timeout" in retried["error_message"]
    assert probe_count(timed_out["id"]) == 0


def test_a_kill_of_an_ended_task_cancels_nothing(client, alpha):
    # Given a task that succeeded on a worker whose connection then runs something else
    done = enqueue(alpha.account_id, alpha.user_ids["admin"], "test.record")
    assert engine.run(done["id"]) == "succeeded"
    pid = row(done["id"])["backend_pid"]
    sleeping = threading.Event()
    thread, outcome = _session("SELECT pg_sleep(1.5)", sleeping)
    assert sleeping.wait(10)
    _wait_active("pid", outcome["pid"])
    # When the ended task is killed
    status, error = _kill(client, alpha, done["id"])
    # Then the kill is refused and no statement was cancelled
    assert status == 409 and error["error"]["code"] == "task.already_ended"
    assert "already ended (SUCCESS)" in error["error"]["message"]
    thread.join(10)
    assert outcome["ended"] == "normally"
    assert pid is not None and row(done["id"])["status"] == "SUCCESS" and probe_count(done["id"]) == 1


def test_a_kill_never_cancels_a_session_that_reused_the_recorded_pid(client, alpha):
    # Given a RUNNING task whose recorded backend is now an unrelated session (its worker died)
    task = enqueue(alpha.account_id, alpha.user_ids["admin"], "test.record")
    sleeping = threading.Event()
    thread, outcome = _session("SELECT pg_sleep(1.5)", sleeping)
    assert sleeping.wait(10)
    _wait_active("pid", outcome["pid"])
    with db.transaction() as cur:
        assert tasks_sql.claim(cur, task["id"], 300)["status"] == "RUNNING"
        cur.execute("UPDATE tasks SET backend_pid = %s WHERE id = %s", (outcome["pid"], task["id"]))
    # When it is killed
    status, shown = _kill(client, alpha, task["id"])
    # Then the kill is recorded, and the unrelated session's statement is not cancelled
    assert status == 200 and shown["should_be_killed"] is True and shown["status"] == "RUNNING"
    thread.join(10)
    assert outcome["ended"] == "normally"
    assert probe_count(task["id"]) == 0
