"""audit_log: who changed what, and the values before and after."""

from chalicelib.platform.db import all_rows

INSERT = """
INSERT INTO audit_log (account_id, user_id, task_id, source, object_type, object_id, action, before, after)
VALUES (%(account_id)s, %(user_id)s, %(task_id)s, %(source)s, %(object_type)s, %(object_id)s, %(action)s,
        %(before)s, %(after)s)
"""

FOR_OBJECT = """
SELECT a.id, a.created_at, a.user_id, u.email AS user_email, a.task_id, a.source, a.action, a.before, a.after
FROM audit_log a LEFT JOIN users u ON u.id = a.user_id
WHERE a.account_id = %(account_id)s AND a.object_type = %(object_type)s AND a.object_id = %(object_id)s
  AND a.id > %(after)s
ORDER BY a.id
LIMIT %(limit)s
"""


def insert(cur, entry: dict) -> None:
    cur.execute(INSERT, {"task_id": None} | entry)


def for_object(
    cur, account_id: int, object_type: str, object_id: int, after: int | None, limit: int
) -> list[dict]:
    params = {"account_id": account_id, "object_type": object_type, "object_id": object_id}
    return all_rows(cur, FOR_OBJECT, params | {"after": after or 0, "limit": limit})
