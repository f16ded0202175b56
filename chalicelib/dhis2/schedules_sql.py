"""dhis2_schedules: when each (connection, data source) syncs."""

from chalicelib.platform.db import all_rows, one

COLUMNS = """s.id, s.account_id, s.connection_id, s.data_source_id, s.expression, s.enabled, s.next_run_at,
    s.last_fired_at, s.created_by, s.created_at, s.updated_at"""


def insert(cur, values: dict) -> dict:
    return one(
        cur,
        f"""INSERT INTO dhis2_schedules AS s (account_id, connection_id, data_source_id, expression, enabled,
                                             next_run_at, created_by)
            VALUES (%(account_id)s, %(connection_id)s, %(data_source_id)s, %(expression)s, %(enabled)s,
                    %(next_run_at)s, %(created_by)s)
            RETURNING {COLUMNS}""",
        values,
    )


def get(cur, account_id: int, schedule_id: int) -> dict | None:
    return one(
        cur,
        f"SELECT {COLUMNS} FROM dhis2_schedules s WHERE s.account_id = %(a)s AND s.id = %(id)s",
        {"a": account_id, "id": schedule_id},
    )


def list_page(cur, account_id: int, connection_id: int, after: int | None, limit: int) -> list[dict]:
    return all_rows(
        cur,
        f"""SELECT {COLUMNS} FROM dhis2_schedules s
            WHERE s.account_id = %(a)s AND s.connection_id = %(c)s AND s.id > %(after)s
            ORDER BY s.id LIMIT %(limit)s""",
        {"a": account_id, "c": connection_id, "after": after or 0, "limit": limit},
    )


def update(cur, account_id: int, schedule_id: int, values: dict) -> dict | None:
    return one(
        cur,
        f"""UPDATE dhis2_schedules s SET expression = %(expression)s, enabled = %(enabled)s,
                   next_run_at = %(next_run_at)s, updated_at = now()
            WHERE s.account_id = %(a)s AND s.id = %(id)s RETURNING {COLUMNS}""",
        values | {"a": account_id, "id": schedule_id},
    )


def delete(cur, account_id: int, schedule_id: int) -> dict | None:
    return one(
        cur,
        "DELETE FROM dhis2_schedules WHERE account_id = %(a)s AND id = %(id)s RETURNING id",
        {"a": account_id, "id": schedule_id},
    )


def take_due(cur, limit: int) -> list[dict]:
    """Due schedules of every account, locked: a second trigger running meanwhile skips them."""
    return all_rows(
        cur,
        f"""SELECT {COLUMNS} FROM dhis2_schedules s WHERE s.enabled AND s.next_run_at <= now()
            ORDER BY s.next_run_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED""",
        {"limit": limit},
    )


def fired(cur, schedule_id: int, next_run_at) -> None:
    cur.execute(
        "UPDATE dhis2_schedules SET last_fired_at = now(), next_run_at = %(next)s WHERE id = %(id)s",
        {"id": schedule_id, "next": next_run_at},
    )
