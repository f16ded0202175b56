"""What holds the reading of an imported file to its budgets (platform/limits): the task may stop it
(`stoppable`), an SQLite statement over a GeoPackage ends after GPKG_MAX_STATEMENT_SECONDS (a view may
never end), and SQLite refuses a value over GPKG_MAX_BLOB_BYTES before making it (a view of
zeroblob(), a few bytes of file, would take gigabytes).

A kill reaches a task at its next progress report; a reader inside one SQLite statement, or waiting
for a child stuck in one, reports nothing, so it asks `check_stop` (at most every STOP_CHECK_SECONDS).
Only in the process that entered `stoppable`: a forked reader must not use its parent's connections,
and its parent kills it when the task stops.
"""

import contextvars
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from chalicelib.imports.unit_model import GpkgError
from chalicelib.platform import limits

STOP_CHECK_SECONDS = 1.0
HANDLER_STEPS = 10_000  # SQLite VM instructions between two calls of the progress handler: well under 1 ms


@dataclass
class _Stopper:
    check: Callable[[], None]
    pid: int
    last: float = 0.0


_stopper: contextvars.ContextVar[_Stopper | None] = contextvars.ContextVar("file_stopper", default=None)


@contextmanager
def stoppable(check: Callable[[], None]) -> Iterator[None]:
    """While inside, reading a file calls `check` now and then; what it raises (the task's Killed)
    stops the reading."""
    token = _stopper.set(_Stopper(check, os.getpid()))
    try:
        yield
    finally:
        _stopper.reset(token)


def check_stop() -> None:
    """The `stoppable` check, if STOP_CHECK_SECONDS have passed since the last one (in its process)."""
    stopper = _stopper.get()
    if stopper is None or stopper.pid != os.getpid():
        return
    now = time.monotonic()
    if now - stopper.last >= STOP_CHECK_SECONDS:
        stopper.last = now
        stopper.check()


def connect(path) -> "Guard":
    """A read-only connection to the GeoPackage at `path`, guarded."""
    try:
        return Guard(sqlite3.connect(f"file:{path}?mode=ro", uri=True))
    except sqlite3.Error as error:
        raise GpkgError(f"cannot open the file as SQLite: {error}") from error


class Guard:
    """A connection to an imported file whose statements run through `execute` and `fetchmany`: its
    progress handler interrupts one that has run GPKG_MAX_STATEMENT_SECONDS since it started or was
    last fetched from, or the task is to stop; `error_of` then says why."""

    def __init__(self, connection: sqlite3.Connection):
        self.connection, self._reason, self._since = connection, None, time.monotonic()
        connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, limits.GPKG_MAX_BLOB_BYTES)
        connection.set_progress_handler(self._interrupts, HANDLER_STEPS)

    def execute(self, sql: str) -> sqlite3.Cursor:
        self._since = time.monotonic()
        return self.connection.execute(sql)

    def fetchmany(self, cursor: sqlite3.Cursor, size: int) -> list:
        self._since = time.monotonic()
        return cursor.fetchmany(size)

    def close(self) -> None:
        self.connection.close()

    def _interrupts(self) -> bool:
        # What the handler raises SQLite never sees: the reason is kept for error_of.
        try:
            if time.monotonic() - self._since > limits.GPKG_MAX_STATEMENT_SECONDS:
                what = "a statement over the GeoPackage"
                raise GpkgError(limits.limit_message(what, "GPKG_MAX_STATEMENT_SECONDS", "seconds"))
            check_stop()
        except BaseException as reason:
            self._reason = reason
            return True
        return False

    def error_of(self, error: sqlite3.DatabaseError) -> BaseException:
        """What to raise for what SQLite raised: why the guard interrupted it, a value over the limit, or
        a damaged file."""
        if self._reason is not None:
            return self._reason
        if getattr(error, "sqlite_errorname", None) == "SQLITE_TOOBIG":
            return GpkgError(
                limits.limit_message("a value of the GeoPackage", "GPKG_MAX_BLOB_BYTES", "bytes")
            )
        return GpkgError(f"the GeoPackage is damaged or truncated: {error}")
