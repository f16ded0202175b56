"""The one place that talks to psycopg2.

A Lambda container keeps one lazy connection and reuses it across warm invocations; a broken one is
dropped and replaced on next use. (Connections are per thread: a Lambda has one thread, the local
worker loop and the tests have several.) Every unit of work runs in `transaction()`, which commits
or rolls back, so no connection is ever left idle in a transaction. Unique and foreign-key
violations are turned into Problems by constraint name (see problems.CONSTRAINTS); what the database
refuses in the values themselves (any other check, a data exception such as a number out of range, a
NUL in text) is a 400: the same values would be refused again, so it is an input error, never a 500
nor a retried task.

`side_connection()` is a second, autocommit connection for writes that must be visible, and must
survive, while the main transaction is still open: task progress and task logs.

Nothing else imports psycopg2: what the other modules need of it is here under db names (Json, the
errors they catch, Identifier and composed() for SQL that names tables, savepoint(), set_local() and
local_settings() for timeouts, bytea_as_bytes()).
"""

import re
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

import psycopg2
import psycopg2.extras
from psycopg2 import errors as pg_errors
from psycopg2 import sql
from psycopg2.extensions import connection as Connection
from psycopg2.extensions import register_adapter

from chalicelib.platform import aws, config, problems
from chalicelib.platform.observability import logger

register_adapter(dict, psycopg2.extras.Json)

# What other modules use of the driver, under db names.
Json = psycopg2.extras.Json  # a jsonb parameter (dicts are adapted without it)
LockNotAvailable = pg_errors.LockNotAvailable
QueryCanceled = pg_errors.QueryCanceled  # a statement timeout, or a kill cancelling a task's statement
UniqueViolation = pg_errors.UniqueViolation
Identifier = sql.Identifier

_local = threading.local()
NUL_REFUSED = "cannot contain NUL (0x00) characters"  # psycopg2's ValueError for such a str parameter
# bytea as bytes, not psycopg2's memoryview (which does not pickle: export records go to another process)
_BYTEA_AS_BYTES = psycopg2.extensions.new_type(
    psycopg2.BINARY.values,
    "BLOBS_AS_BYTES",
    lambda value, cur: None if value is None else bytes(psycopg2.BINARY(value, cur)),
)


class DictCursor(psycopg2.extensions.cursor):
    """Rows as plain dicts, built in one zip per row. psycopg2's RealDictCursor fills each row value by
    value through Python-level __setitem__, which cost ~3 ms per 100-row page (bench/README.md)."""

    def _names(self) -> list[str]:
        return [column.name for column in self.description]

    def fetchone(self) -> dict | None:
        row = super().fetchone()
        return None if row is None else dict(zip(self._names(), row, strict=True))

    def fetchmany(self, size: int | None = None) -> list[dict]:
        rows = super().fetchmany(size) if size is not None else super().fetchmany()
        names = self._names() if rows else []
        return [dict(zip(names, row, strict=True)) for row in rows]

    def fetchall(self) -> list[dict]:
        rows = super().fetchall()
        names = self._names() if rows else []
        return [dict(zip(names, row, strict=True)) for row in rows]

    def __iter__(self):
        rows, names = super().__iter__(), None
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            names = names or self._names()
            yield dict(zip(names, row, strict=True))


def dsn(refresh_secret: bool = False) -> str:
    current = config.settings()
    if current.database_url:
        return current.database_url
    if current.database_secret_arn:
        secret = aws.secret_json(current.database_secret_arn, refresh=refresh_secret)
        return psycopg2.extensions.make_dsn(
            host=secret["host"],
            port=secret.get("port", 5432),
            user=secret["username"],
            password=secret["password"],
            dbname=secret.get("dbname", "georegistry"),
        )
    raise RuntimeError("No database configured: set DATABASE_URL or DB_SECRET_ARN.")


def connect(refresh_secret: bool = False) -> Connection:
    stage = config.settings().stage
    return psycopg2.connect(dsn(refresh_secret), connect_timeout=5, application_name=f"georegistry-{stage}")


def connection() -> Connection:
    conn = getattr(_local, "main", None)
    if conn is None or conn.closed:
        conn = _local.main = _connect_refreshing_secret()
    return conn


def side_connection() -> Connection:
    conn = getattr(_local, "side", None)
    if conn is None or conn.closed:
        conn = _local.side = _connect_refreshing_secret()
        conn.autocommit = True
    return conn


def close_side() -> None:
    """For an API container that used the side connection once (a failed login): it does not keep a
    second connection of the database's budget open while warm."""
    side = getattr(_local, "side", None)
    if side is not None and not side.closed:
        side.close()
    _local.side = None


def _connect_refreshing_secret() -> Connection:
    try:
        return connect()
    except psycopg2.OperationalError as error:
        if "password authentication failed" not in str(error):
            raise
        # The secret may have been rotated since we cached it.
        return connect(refresh_secret=True)


def close() -> None:
    for name in ("main", "side"):
        conn = getattr(_local, name, None)
        if conn is not None and not conn.closed:
            conn.close()
        setattr(_local, name, None)


def after_commit(callback: Callable[[], None]) -> None:
    """Runs `callback` once the current transaction has committed; dropped if it rolls back."""
    _local.after_commit.append(callback)


@contextmanager
def transaction() -> Iterator[DictCursor]:
    """One transaction on this thread's connection. Not re-entrant: an inner transaction() would
    commit the outer one's work, so nesting is refused. Inside `enclosed()` it is a savepoint."""
    if getattr(_local, "in_transaction", False):
        raise RuntimeError("db.transaction() is already open on this thread; pass its cursor down instead")
    conn = connection()
    enclosed = getattr(_local, "enclosed", False)
    _local.after_commit = []
    _local.in_transaction = True
    try:
        with conn.cursor(cursor_factory=DictCursor) as cur:
            if enclosed:
                cur.execute("SAVEPOINT unit_of_work")
            yield cur
            if enclosed:
                cur.execute("RELEASE SAVEPOINT unit_of_work")
        if not enclosed:
            conn.commit()
    except (psycopg2.OperationalError, psycopg2.InterfaceError):
        close()
        raise
    except BaseException as error:
        if not conn.closed:
            _roll_back(conn, enclosed)
        known = _input_problem(error)
        if known:
            raise known from error
        raise
    finally:
        callbacks, _local.after_commit = _local.after_commit, []
        _local.in_transaction = False
    for callback in callbacks:
        try:
            callback()
        except Exception:
            # The transaction has committed: its outcome stands; what the callback did is retried
            # elsewhere (the task sweeper re-sends unsent messages).
            logger().exception("after-commit callback failed", extra={"callback": repr(callback)})


def _roll_back(conn: Connection, enclosed: bool) -> None:
    if not enclosed:
        conn.rollback()
        return
    with conn.cursor() as cur:
        cur.execute("ROLLBACK TO SAVEPOINT unit_of_work")
        cur.execute("RELEASE SAVEPOINT unit_of_work")


@contextmanager
def enclosed() -> Iterator[None]:
    """For tests: this thread's transactions become savepoints of one transaction that is rolled
    back at the end, so a test leaves nothing behind without committing anything. Work that needs
    other connections to see it (task progress, concurrent workers) needs real commits instead."""
    conn = connection()
    _local.enclosed = True
    try:
        yield
    finally:
        _local.enclosed = False
        if not conn.closed:
            conn.rollback()


@contextmanager
def side_cursor() -> Iterator[DictCursor]:
    try:
        with side_connection().cursor(cursor_factory=DictCursor) as cur:
            yield cur
    except (psycopg2.OperationalError, psycopg2.InterfaceError):
        side = getattr(_local, "side", None)
        if side is not None:
            side.close()
        raise


def _input_problem(error: BaseException) -> problems.Problem | None:
    """The Problem for a value the database refused, if that is what happened."""
    if isinstance(error, pg_errors.IntegrityError):
        name = _partition_neutral(error.diag.constraint_name or "")
        make = problems.CONSTRAINTS.get(name)
        if make:
            return make()
        if not isinstance(error, pg_errors.CheckViolation):
            return None
        logger().warning("a check the catalogue does not name", exc_info=error)  # a bug looks like this too
        return problems.check_failed(name)
    if isinstance(error, psycopg2.DataError):
        logger().warning("the database refused a value", exc_info=error)
        return problems.invalid_value(error.diag.message_primary or str(error).strip())
    if isinstance(error, ValueError) and NUL_REFUSED in str(error):
        return problems.invalid_value("text cannot contain NUL characters")
    return None


def _partition_neutral(name: str) -> str:
    """Indexes of a version's partition are named after it (org_units_v12_…): name them as one."""
    return re.sub(r"^org_units_v\d+_", "org_units_vN_", name)


def streamed(cur, name: str, sql: str, params: dict[str, Any], batch: int) -> Iterator[dict]:
    """The rows of a large query through a server-side cursor, `batch` at a time (memory stays
    flat), as `cur` makes them."""
    with cur.connection.cursor(name=name, cursor_factory=type(cur)) as stream:
        stream.itersize = batch
        stream.execute(sql, params)
        yield from stream


def one(cur, sql: str, params: dict[str, Any] | None = None) -> dict | None:
    cur.execute(sql, params or {})
    return cur.fetchone()


def all_rows(cur, sql: str, params: dict[str, Any] | None = None) -> list[dict]:
    cur.execute(sql, params or {})
    return cur.fetchall()


def ping() -> str:
    """The server's version string; raises when the database cannot be reached."""
    with transaction() as cur:
        return one(cur, "SELECT version() AS version")["version"]


def set_local(cur, settings: dict[str, str]) -> None:
    """Server settings (timeouts, say) until the current transaction ends. This and local_settings are
    how the code sets them: never for the session, which outlives the request on a reused connection."""
    cur.execute(
        "SELECT " + ", ".join("set_config(%s, %s, true)" for _ in settings),
        [item for pair in settings.items() for item in pair],
    )


@contextmanager
def local_settings(cur, settings: dict[str, str]) -> Iterator[None]:
    """Server settings for the statements inside only (then back to what they were), within the
    current transaction. After an error the transaction is lost anyway, so nothing is restored."""
    names = list(settings)
    cur.execute("SELECT " + ", ".join(f"current_setting(%s) AS s{i}" for i in range(len(names))), names)
    row = cur.fetchone()
    before = list(row.values()) if isinstance(row, dict) else list(row)
    set_local(cur, settings)
    try:
        yield
    finally:
        if cur.connection.info.transaction_status == psycopg2.extensions.TRANSACTION_STATUS_INTRANS:
            set_local(cur, dict(zip(names, before, strict=True)))


class Savepoint:
    """What `savepoint()` yields: the block can undo its work so far with `roll_back()`."""

    def __init__(self, cur, name: str):
        self._cur, self.name = cur, sql.Identifier(name)

    def roll_back(self) -> None:
        """Undoes what was done since the savepoint, which stays: the block may go on."""
        self._cur.execute(sql.SQL("ROLLBACK TO SAVEPOINT {}").format(self.name))


@contextmanager
def savepoint(cur, name: str) -> Iterator[Savepoint]:
    """A savepoint around the block: released when the block ends, rolled back to when it raises (so
    the caller may catch the error and go on with the transaction)."""
    point = Savepoint(cur, name)
    cur.execute(sql.SQL("SAVEPOINT {}").format(point.name))
    try:
        yield point
    except BaseException:
        if not cur.connection.closed:
            # A lost connection is the error to report, not our failing to roll back on it.
            with suppress(psycopg2.OperationalError, psycopg2.InterfaceError):
                point.roll_back()
                cur.execute(sql.SQL("RELEASE SAVEPOINT {}").format(point.name))
        raise
    cur.execute(sql.SQL("RELEASE SAVEPOINT {}").format(point.name))


def composed(template: str, **parts: str | int | sql.Composable) -> sql.Composed:
    """SQL that names tables, indexes or constraints: each {part} of `template` is filled with a
    quoted identifier (a str), a literal (an int) or SQL composed already. The template is a constant
    of an SQL module, so its braces are placeholders only."""
    return sql.SQL(template).format(**{name: _part(value) for name, value in parts.items()})


def _part(value: str | int | sql.Composable) -> sql.Composable:
    if isinstance(value, sql.Composable):
        return value
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise TypeError(f"an SQL name is a str and a literal an int, not {type(value).__name__}")
    return sql.Identifier(value) if isinstance(value, str) else sql.Literal(value)


def identifiers(names: Iterable[str]) -> sql.Composed:
    """Column or table names, quoted and comma-separated."""
    return sql.SQL(", ").join(sql.Identifier(name) for name in names)


def bytea_as_bytes(cur) -> None:
    """Makes `cur` return bytea columns as bytes."""
    psycopg2.extensions.register_type(_BYTEA_AS_BYTES, cur)
