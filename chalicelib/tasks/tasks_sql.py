"""tasks and task_logs: the rows that say what every background job is doing.

Every write by a worker is fenced by `attempts`: the claim increments it, and finishing, continuing
or failing only applies to the attempt that claimed. A worker whose lease was taken over by another
changes nothing.
"""

from chalicelib.platform.db import Json, all_rows, one

LIVE = ("QUEUED", "RUNNING")
ENDED = ("SUCCESS", "ERRORED", "KILLED")

COLUMNS = """
    id, account_id, launcher_id, kind, params, status, progress_value, end_value, progress_message,
    result, artifacts, cursor, error_message, attempts, failures, lease_until, heartbeat_at, unique_key,
    should_be_killed, relaunched_from, sent_at, created_at, queued_at, started_at, ended_at, updated_at,
    backend_pid
"""

INSERT = f"""
INSERT INTO tasks (account_id, launcher_id, kind, params, unique_key, relaunched_from)
VALUES (%(account_id)s, %(launcher_id)s, %(kind)s, %(params)s, %(unique_key)s, %(relaunched_from)s)
ON CONFLICT (account_id, unique_key) WHERE unique_key IS NOT NULL AND status IN ('QUEUED', 'RUNNING')
DO NOTHING
RETURNING {COLUMNS}
"""

LIVE_BY_UNIQUE_KEY = f"""
SELECT {COLUMNS} FROM tasks
WHERE account_id = %(account_id)s AND unique_key = %(unique_key)s AND status IN ('QUEUED', 'RUNNING')
"""

GET = f"SELECT {COLUMNS} FROM tasks WHERE account_id = %(account_id)s AND id = %(id)s"

GET_ANY = f"SELECT {COLUMNS} FROM tasks WHERE id = %(id)s"

LIST = f"""
SELECT {COLUMNS} FROM tasks
WHERE account_id = %(account_id)s
  AND id < %(before)s
  AND (%(status)s::text IS NULL OR status = %(status)s)
  AND (%(kind)s::text IS NULL OR kind = %(kind)s)
  AND (%(launcher_id)s::bigint IS NULL OR launcher_id = %(launcher_id)s)
ORDER BY id DESC
LIMIT %(limit)s
"""

MARK_SENT = "UPDATE tasks SET sent_at = now() WHERE id = %(id)s AND status = 'QUEUED'"

CLAIM = f"""
UPDATE tasks SET
    status = 'RUNNING',
    attempts = attempts + 1,
    lease_until = now() + make_interval(secs => %(lease_seconds)s),
    heartbeat_at = now(),
    started_at = coalesce(started_at, now()),
    updated_at = now(),
    backend_pid = pg_backend_pid()  -- the claim runs on the connection that runs the task
WHERE id = %(id)s
  AND (status = 'QUEUED' OR (status = 'RUNNING' AND lease_until < now()))
RETURNING {COLUMNS}
"""

# Never waits for a row lock: if someone holds the row (the API recording a kill, say), this report
# is skipped and the next one goes through. STATE then tells a skipped report from a lost lease.
PROGRESS = """
WITH mine AS (
    SELECT id FROM tasks
    WHERE id = %(id)s AND status = 'RUNNING' AND attempts = %(attempt)s
    FOR NO KEY UPDATE SKIP LOCKED
)
UPDATE tasks SET
    progress_value = %(value)s,
    end_value = coalesce(%(end)s, end_value),
    progress_message = coalesce(%(message)s, progress_message),
    heartbeat_at = now(),
    updated_at = now()
FROM mine WHERE tasks.id = mine.id
RETURNING tasks.should_be_killed
"""

STATE = "SELECT status, attempts, should_be_killed FROM tasks WHERE id = %(id)s"

SUCCEED = """
UPDATE tasks SET
    status = 'SUCCESS',
    result = %(result)s,
    artifacts = artifacts || %(artifacts)s,
    progress_value = coalesce(%(value)s, end_value, progress_value),
    end_value = coalesce(%(end)s, end_value),
    progress_message = coalesce(%(message)s, progress_message),
    cursor = NULL, lease_until = NULL, error_message = NULL, error_traceback = NULL,
    ended_at = clock_timestamp(), updated_at = clock_timestamp()  -- now() is when the work began
WHERE id = %(id)s AND status = 'RUNNING' AND attempts = %(attempt)s AND NOT should_be_killed
RETURNING id
"""

CONTINUE = """
UPDATE tasks SET
    status = 'QUEUED',
    cursor = %(cursor)s,
    artifacts = artifacts || %(artifacts)s,
    progress_value = coalesce(%(value)s, progress_value),
    end_value = coalesce(%(end)s, end_value),
    progress_message = coalesce(%(message)s, progress_message),
    lease_until = NULL, sent_at = NULL, queued_at = now(), updated_at = now()
WHERE id = %(id)s AND status = 'RUNNING' AND attempts = %(attempt)s AND NOT should_be_killed
RETURNING id
"""

END = """
UPDATE tasks SET
    status = %(status)s,
    error_message = %(message)s,
    error_traceback = %(traceback)s,
    artifacts = artifacts || %(artifacts)s,
    lease_until = NULL, ended_at = clock_timestamp(), updated_at = clock_timestamp()
WHERE id = %(id)s AND status = 'RUNNING' AND attempts = %(attempt)s
RETURNING id
"""

# A transient failure: back in the queue; the same SQS message will bring it back after a backoff.
RELEASE = """
UPDATE tasks SET
    status = 'QUEUED',
    failures = failures + 1,
    error_message = %(message)s,
    error_traceback = %(traceback)s,
    lease_until = NULL, queued_at = now(), updated_at = now()
WHERE id = %(id)s AND status = 'RUNNING' AND attempts = %(attempt)s
RETURNING id
"""

REQUEST_KILL = f"""
UPDATE tasks SET
    should_be_killed = true,
    -- Nobody is running a queued task: it ends now. A running one ends at its next progress report,
    -- or when the statement it is stuck in is cancelled (kills.py).
    status = CASE WHEN status = 'QUEUED' THEN 'KILLED' ELSE status END,
    ended_at = CASE WHEN status = 'QUEUED' THEN now() ELSE ended_at END,
    error_message = CASE WHEN status = 'QUEUED' THEN 'Killed before it started.' ELSE error_message END,
    updated_at = now()
WHERE account_id = %(account_id)s AND id = %(id)s AND status IN ('QUEUED', 'RUNNING')
RETURNING {COLUMNS}
"""

# A kill's cancel of the statement a running task is stuck in: only while the backend still carries the
# attempt's name (backend_name), never a backend that has finished the task or a session that reused the pid.
CANCEL_STATEMENT = """
SELECT pg_cancel_backend(pid) AS cancelled FROM pg_stat_activity
WHERE pid = %(pid)s AND application_name = %(name)s
"""

# The DLQ's verdict. A task that some worker still holds a live lease on is left to that worker.
GIVE_UP = """
UPDATE tasks SET
    status = 'ERRORED',
    error_message = %(message)s,
    lease_until = NULL, ended_at = now(), updated_at = now()
WHERE id = %(id)s
  AND (status = 'QUEUED' OR (status = 'RUNNING' AND lease_until < now()))
RETURNING id
"""

UNSENT = """
SELECT id FROM tasks
WHERE status = 'QUEUED'
  AND (sent_at IS NULL AND updated_at < now() - make_interval(secs => %(grace_seconds)s)
       OR sent_at < now() - make_interval(secs => %(resend_after_seconds)s))
ORDER BY sent_at NULLS FIRST
LIMIT %(limit)s
FOR UPDATE SKIP LOCKED
"""

EXPIRED = """
SELECT id, failures FROM tasks
WHERE status = 'RUNNING' AND lease_until < now()
ORDER BY lease_until
LIMIT %(limit)s
FOR UPDATE SKIP LOCKED
"""

REQUEUE_EXPIRED = """
UPDATE tasks SET status = 'QUEUED', lease_until = NULL, sent_at = NULL, failures = failures + 1,
    queued_at = now(), updated_at = now(),
    error_message = 'The worker stopped before finishing (timeout or crash); retrying.'
WHERE id = %(id)s AND status = 'RUNNING' AND lease_until < now()
"""

ERROR_EXPIRED = """
UPDATE tasks SET status = 'ERRORED', lease_until = NULL, ended_at = now(), updated_at = now(),
    failures = failures + 1, error_message = %(message)s
WHERE id = %(id)s AND status = 'RUNNING' AND lease_until < now()
"""

INSERT_LOG = "INSERT INTO task_logs (task_id, level, message) VALUES (%(task_id)s, %(level)s, %(message)s)"

LIST_LOGS = """
SELECT l.id, l.created_at, l.level, l.message
FROM task_logs l JOIN tasks t ON t.id = l.task_id
WHERE t.account_id = %(account_id)s AND l.task_id = %(task_id)s AND l.id > %(after)s
ORDER BY l.id
LIMIT %(limit)s
"""

PURGE_LOGS = """
DELETE FROM task_logs WHERE id IN (
    SELECT id FROM task_logs WHERE created_at < now() - make_interval(days => %(days)s) LIMIT %(limit)s)
"""

EXPIRED_ARTIFACTS = """
SELECT id, artifacts FROM tasks
WHERE ended_at < now() - make_interval(days => %(days)s) AND artifacts <> '[]'::jsonb
LIMIT %(limit)s
FOR UPDATE SKIP LOCKED
"""

CLEAR_ARTIFACTS = "UPDATE tasks SET artifacts = '[]'::jsonb, updated_at = now() WHERE id = %(id)s"

OLDEST_QUEUED_AGE = """
SELECT extract(epoch FROM now() - min(queued_at)) AS seconds FROM tasks WHERE status = 'QUEUED'
"""


def insert(cur, account_id, launcher_id, kind, params, unique_key=None, relaunched_from=None) -> dict | None:
    """The new row, or None when a live task already holds `unique_key`."""
    values = {"account_id": account_id, "launcher_id": launcher_id, "kind": kind, "params": params}
    return one(cur, INSERT, values | {"unique_key": unique_key, "relaunched_from": relaunched_from})


def live_by_unique_key(cur, account_id: int, unique_key: str) -> dict | None:
    return one(cur, LIVE_BY_UNIQUE_KEY, {"account_id": account_id, "unique_key": unique_key})


def get(cur, account_id: int, task_id: int) -> dict | None:
    return one(cur, GET, {"account_id": account_id, "id": task_id})


def get_any(cur, task_id: int) -> dict | None:
    """By id alone: for workers, which get nothing but the id from their queue."""
    return one(cur, GET_ANY, {"id": task_id})


def list_page(cur, account_id: int, filters: dict, before: int | None, limit: int) -> list[dict]:
    params = {"status": None, "kind": None, "launcher_id": None} | filters
    return all_rows(cur, LIST, params | {"account_id": account_id, "before": before or 2**62, "limit": limit})


def mark_sent(cur, task_id: int) -> None:
    cur.execute(MARK_SENT, {"id": task_id})


def claim(cur, task_id: int, lease_seconds: float) -> dict | None:
    return one(cur, CLAIM, {"id": task_id, "lease_seconds": lease_seconds})


def report_progress(cur, task_id: int, attempt: int, value: int, end: int | None, message: str | None):
    """should_be_killed, or None when this attempt no longer holds the task."""
    params = {"id": task_id, "attempt": attempt, "value": value, "end": end, "message": message}
    row = one(cur, PROGRESS, params)
    if row is not None:
        return row["should_be_killed"]
    return still_mine(cur, task_id, attempt)


def still_mine(cur, task_id: int, attempt: int):
    """should_be_killed if `attempt` still holds the task, else None."""
    state = one(cur, STATE, {"id": task_id})
    if state is None or state["status"] != "RUNNING" or state["attempts"] != attempt:
        return None
    return state["should_be_killed"]


def succeed(cur, task_id: int, attempt: int, result, artifacts: list, progress: dict) -> bool:
    params = {"id": task_id, "attempt": attempt, "result": _json(result), "artifacts": _json(artifacts)}
    return one(cur, SUCCEED, params | progress) is not None


def continue_later(cur, task_id: int, attempt: int, cursor, artifacts: list, progress: dict) -> bool:
    params = {"id": task_id, "attempt": attempt, "cursor": _json(cursor), "artifacts": _json(artifacts)}
    return one(cur, CONTINUE, params | progress) is not None


def end(cur, task_id: int, attempt: int, status: str, message: str, traceback: str | None = None,
        artifacts: list | None = None) -> bool:  # fmt: skip
    """Ends the attempt; `artifacts` saved before an input error stay with the task (a report)."""
    params = {"id": task_id, "attempt": attempt, "status": status, "message": message, "traceback": traceback}
    return one(cur, END, params | {"artifacts": _json(artifacts or [])}) is not None


def release(cur, task_id: int, attempt: int, message: str, traceback: str | None) -> bool:
    params = {"id": task_id, "attempt": attempt, "message": message, "traceback": traceback}
    return one(cur, RELEASE, params) is not None


def request_kill(cur, account_id: int, task_id: int) -> dict | None:
    return one(cur, REQUEST_KILL, {"account_id": account_id, "id": task_id})


def backend_name(task_id: int, attempt: int) -> str:
    """The application_name of the backend while it runs this attempt's transaction."""
    return f"georegistry-task-{task_id}.{attempt}"


def cancel_statement(cur, task_id: int, attempt: int, pid: int) -> bool:
    """Cancels the statement of the attempt's transaction on backend `pid`; False when it runs none."""
    row = one(cur, CANCEL_STATEMENT, {"pid": pid, "name": backend_name(task_id, attempt)})
    return bool(row and row["cancelled"])


def give_up(cur, task_id: int, message: str) -> bool:
    return one(cur, GIVE_UP, {"id": task_id, "message": message}) is not None


def unsent(cur, grace_seconds: int, resend_after_seconds: int, limit: int) -> list[int]:
    params = {"grace_seconds": grace_seconds, "resend_after_seconds": resend_after_seconds, "limit": limit}
    return [row["id"] for row in all_rows(cur, UNSENT, params)]


def expired(cur, limit: int) -> list[dict]:
    return all_rows(cur, EXPIRED, {"limit": limit})


def requeue_expired(cur, task_id: int) -> None:
    cur.execute(REQUEUE_EXPIRED, {"id": task_id})


def error_expired(cur, task_id: int, message: str) -> None:
    cur.execute(ERROR_EXPIRED, {"id": task_id, "message": message})


def add_log(cur, task_id: int, level: str, message: str) -> None:
    cur.execute(INSERT_LOG, {"task_id": task_id, "level": level, "message": message})


def list_logs(cur, account_id: int, task_id: int, after: int | None, limit: int) -> list[dict]:
    params = {"account_id": account_id, "task_id": task_id, "after": after or 0, "limit": limit}
    return all_rows(cur, LIST_LOGS, params)


def purge_logs(cur, days: int, limit: int) -> int:
    cur.execute(PURGE_LOGS, {"days": days, "limit": limit})
    return cur.rowcount


def expired_artifacts(cur, days: int, limit: int) -> list[dict]:
    return all_rows(cur, EXPIRED_ARTIFACTS, {"days": days, "limit": limit})


def clear_artifacts(cur, task_id: int) -> None:
    cur.execute(CLEAR_ARTIFACTS, {"id": task_id})


def oldest_queued_age_seconds(cur) -> float | None:
    seconds = one(cur, OLDEST_QUEUED_AGE)["seconds"]
    return None if seconds is None else float(seconds)


SERVER_VERSIONS = "SELECT current_setting('server_version') AS server, postgis_lib_version() AS postgis"


def server_versions(cur) -> dict:
    """PostgreSQL's and PostGIS's versions (the health check)."""
    return one(cur, SERVER_VERSIONS)


def _json(value) -> Json:
    """Lists and scalars need wrapping for jsonb (dicts are adapted by db.py already)."""
    return Json(value)
