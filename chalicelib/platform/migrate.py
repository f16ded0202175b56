"""Applies chalicelib/migrations/NNNN_name.sql in order, each once, each in its own transaction.

Applied names are recorded in schema_migrations; a session advisory lock keeps two runners (two
Lambdas after a deploy, say) from racing. A merged migration is never edited: add a new one.
"""

import re
from pathlib import Path

from chalicelib.platform.db import Connection

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
NAME_PATTERN = re.compile(r"^\d{4}_[a-z0-9_]+\.sql$")
LOCK_KEY = 7_462_318_001  # any constant: the advisory lock that serialises runners

CREATE_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    name        text PRIMARY KEY,
    applied_at  timestamptz NOT NULL DEFAULT now()
)
"""


def available() -> list[Path]:
    files = sorted(MIGRATIONS_DIR.glob("*.sql"))
    misnamed = [path.name for path in files if not NAME_PATTERN.match(path.name)]
    if misnamed:
        raise RuntimeError(f"Migration files must be named NNNN_description.sql: {misnamed}")
    return files


def applied(conn: Connection) -> set[str]:
    with conn.cursor() as cur:
        cur.execute(CREATE_LEDGER)
        cur.execute("SELECT name FROM schema_migrations")
        names = {row[0] for row in cur.fetchall()}
    conn.commit()
    return names


def migrate(conn: Connection, statement_timeout_ms: int, idle_timeout_ms: int) -> list[str]:
    """Applies what is pending; returns the names applied now. Re-running is a no-op."""
    with conn.cursor() as cur:
        # A migration may run longer than the API's role-level timeout allows.
        cur.execute("SET statement_timeout = 0")
        cur.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
    conn.commit()
    try:
        done = applied(conn)
        newly = [path.name for path in available() if path.name not in done]
        for name in newly:
            _apply(conn, MIGRATIONS_DIR / name)
        _set_role_timeouts(conn, statement_timeout_ms, idle_timeout_ms)
        return newly
    finally:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
        conn.commit()


def _apply(conn: Connection, path: Path) -> None:
    try:
        with conn.cursor() as cur:
            cur.execute(path.read_text())
            cur.execute("INSERT INTO schema_migrations (name) VALUES (%s)", (path.name,))
        conn.commit()
    except Exception:
        conn.rollback()
        raise


def _set_role_timeouts(conn: Connection, statement_timeout_ms: int, idle_timeout_ms: int) -> None:
    """Timeouts live on the role, not in per-session SETs, so that a connection proxy never pins."""
    with conn.cursor() as cur:
        cur.execute("ALTER ROLE CURRENT_USER SET statement_timeout = %s", (statement_timeout_ms,))
        cur.execute(
            "ALTER ROLE CURRENT_USER SET idle_in_transaction_session_timeout = %s", (idle_timeout_ms,)
        )
    conn.commit()
