"""A kill of a task stuck in one PostgreSQL statement (a long query, a huge UPDATE): such a task never
reaches its next progress report to see should_be_killed, so the kill also cancels that statement
(pg_cancel_backend on the backend its claim recorded), and the engine ends the task KILLED when the
QueryCanceled it gets was asked for by a kill (a statement timeout stays what it was).

Only the attempt's own statement is cancelled: the task's transaction names its backend after the
attempt (tasks_sql.backend_name) and the cancel requires that name, so a backend that has finished
the task, or a session that reused the pid, is left alone. A kill landing between two statements
cancels nothing (PostgreSQL ignores a cancel while idle): the task sees it at its next progress report.
"""

import functools

from chalicelib.platform import db
from chalicelib.tasks import tasks_sql


def cancel_after_commit(killed: dict) -> None:
    """After the kill request commits (the cancelled task must read it), cancels the statement of a
    task that is RUNNING."""
    if killed["status"] == "RUNNING" and killed["backend_pid"] is not None:
        db.after_commit(
            functools.partial(cancel_statement, killed["id"], killed["attempts"], killed["backend_pid"])
        )


def cancel_statement(task_id: int, attempt: int, pid: int) -> bool:
    """True when a statement of the attempt was running and is now cancelled."""
    with db.transaction() as cur:
        return tasks_sql.cancel_statement(cur, task_id, attempt, pid)


def cancelled_by_kill(claimed: dict, error: BaseException) -> bool:
    """Whether `error` is (or was caused by) a cancelled statement of an attempt a kill was asked for."""
    if not _caused_by(error, db.QueryCanceled):
        return False
    with db.side_cursor() as side:
        return bool(tasks_sql.still_mine(side, claimed["id"], claimed["attempts"]))


def _caused_by(error: BaseException | None, kind: type[BaseException]) -> bool:
    """A task may wrap the database's error in its own: the chain is searched (cycles cannot loop)."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, kind):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False
