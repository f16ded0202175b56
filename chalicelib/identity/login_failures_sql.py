"""login_failures: failed logins counted per (kind, key), kind 'email' or 'address', in windows of a
given length. Times are statement_timestamp(), not now(): a request's transaction may have begun
earlier than the failure it counts (and in the tests it begins with the test)."""

from chalicelib.platform.db import one

# The window starts at the first failure; a failure after it has ended starts a new one.
COUNT_FAILURE = """
INSERT INTO login_failures AS f (kind, key, window_start, failures)
SELECT kind, key, statement_timestamp(), 1
FROM unnest(%(kinds)s::text[], %(keys)s::text[]) AS given(kind, key)
ON CONFLICT (kind, key) DO UPDATE SET
    window_start = CASE WHEN f.window_start > statement_timestamp() - make_interval(secs => %(window)s)
                        THEN f.window_start ELSE statement_timestamp() END,
    failures = CASE WHEN f.window_start > statement_timestamp() - make_interval(secs => %(window)s)
                    THEN f.failures + 1 ELSE 1 END
"""

THROTTLED_FOR = """
SELECT max(ceil(extract(epoch FROM
           window_start + make_interval(secs => %(window)s) - statement_timestamp())))::int AS seconds
FROM login_failures
WHERE (kind, key) IN (SELECT * FROM unnest(%(kinds)s::text[], %(keys)s::text[]))
  AND failures >= %(limit)s
  AND window_start > statement_timestamp() - make_interval(secs => %(window)s)
"""

FORGET = "DELETE FROM login_failures WHERE kind = %(kind)s AND key = %(key)s"

# Rows being counted are skipped, not waited for: a purge never blocks a login nor deadlocks with one.
PURGE = """
DELETE FROM login_failures WHERE (kind, key) IN (
    SELECT kind, key FROM login_failures
    WHERE window_start < statement_timestamp() - make_interval(secs => %(window)s)
    FOR UPDATE SKIP LOCKED
)
"""


def _columns(keys: list[tuple[str, str]]) -> dict:
    return {"kinds": [kind for kind, _ in keys], "keys": [key for _, key in keys]}


def count_failure(cur, keys: list[tuple[str, str]], window_seconds: int) -> None:
    cur.execute(COUNT_FAILURE, _columns(keys) | {"window": window_seconds})


def throttled_for(cur, keys: list[tuple[str, str]], limit: int, window_seconds: int) -> int | None:
    """Seconds until the longest window of these keys that reached `limit` ends; None if none has."""
    params = _columns(keys) | {"limit": limit, "window": window_seconds}
    return one(cur, THROTTLED_FOR, params)["seconds"]


def forget(cur, kind: str, key: str) -> None:
    cur.execute(FORGET, {"kind": kind, "key": key})


def purge(cur, window_seconds: int) -> None:
    cur.execute(PURGE, {"window": window_seconds})
