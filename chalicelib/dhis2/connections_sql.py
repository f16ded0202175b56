"""dhis2_connections: an account's DHIS2 instances. The credential is in Secrets Manager; the row
keeps its ARN (never returned by the API) and what the last check found."""

from chalicelib.platform.db import all_rows, one

COLUMNS = (
    "id, account_id, name, base_url, auth_kind, username, secret_arn, dhis2_version, checked_at,"
    " check_error, created_by, created_at, updated_at"
)
# The ARN is written once the row has its id (the secret's name carries it): a placeholder until then.
PENDING_ARN = "pending"

INSERT = f"""
INSERT INTO dhis2_connections (account_id, name, base_url, auth_kind, username, secret_arn, created_by)
VALUES (%(account_id)s, %(name)s, %(base_url)s, %(auth_kind)s, %(username)s, %(secret_arn)s, %(created_by)s)
RETURNING {COLUMNS}
"""

SET_ARN = f"""
UPDATE dhis2_connections SET secret_arn = %(secret_arn)s
WHERE id = %(id)s AND account_id = %(account_id)s
RETURNING {COLUMNS}
"""

GET = f"SELECT {COLUMNS} FROM dhis2_connections WHERE id = %(id)s AND account_id = %(account_id)s"

LIST = f"""
SELECT {COLUMNS} FROM dhis2_connections
WHERE account_id = %(account_id)s AND id > %(after)s
ORDER BY id
LIMIT %(limit)s
"""

# A changed address or credential makes the last check's findings stale: they are cleared.
UPDATE = f"""
UPDATE dhis2_connections SET
    name = %(name)s, base_url = %(base_url)s, auth_kind = %(auth_kind)s, username = %(username)s,
    dhis2_version = CASE WHEN %(stale)s THEN NULL ELSE dhis2_version END,
    checked_at = CASE WHEN %(stale)s THEN NULL ELSE checked_at END,
    check_error = CASE WHEN %(stale)s THEN NULL ELSE check_error END,
    updated_at = now()
WHERE id = %(id)s AND account_id = %(account_id)s
RETURNING {COLUMNS}
"""

RECORD_CHECK = f"""
UPDATE dhis2_connections SET
    dhis2_version = coalesce(%(dhis2_version)s, dhis2_version), check_error = %(check_error)s,
    checked_at = now()
WHERE id = %(id)s AND account_id = %(account_id)s
RETURNING {COLUMNS}
"""

DELETE = f"""
DELETE FROM dhis2_connections WHERE id = %(id)s AND account_id = %(account_id)s
RETURNING {COLUMNS}
"""


def insert(cur, values: dict) -> dict:
    return one(cur, INSERT, values | {"secret_arn": PENDING_ARN})


def set_arn(cur, account_id: int, connection_id: int, arn: str) -> dict:
    return one(cur, SET_ARN, {"account_id": account_id, "id": connection_id, "secret_arn": arn})


def get(cur, account_id: int, connection_id: int) -> dict | None:
    return one(cur, GET, {"account_id": account_id, "id": connection_id})


def list_page(cur, account_id: int, after: int | None, limit: int) -> list[dict]:
    return all_rows(cur, LIST, {"account_id": account_id, "after": after or 0, "limit": limit})


def update(cur, account_id: int, connection_id: int, values: dict, stale: bool) -> dict | None:
    return one(cur, UPDATE, values | {"account_id": account_id, "id": connection_id, "stale": stale})


def record_check(cur, account_id: int, connection_id: int, version: str | None, error: str | None) -> dict:
    params = {"account_id": account_id, "id": connection_id, "dhis2_version": version, "check_error": error}
    return one(cur, RECORD_CHECK, params)


def delete(cur, account_id: int, connection_id: int) -> dict | None:
    return one(cur, DELETE, {"account_id": account_id, "id": connection_id})
