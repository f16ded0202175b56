"""accounts: one row per tenant."""

from chalicelib.platform.db import one

COLUMNS = "id, name, created_at, updated_at"

INSERT = f"INSERT INTO accounts (name) VALUES (%(name)s) RETURNING {COLUMNS}"
GET = f"SELECT {COLUMNS} FROM accounts WHERE id = %(id)s"
GET_BY_NAME = f"SELECT {COLUMNS} FROM accounts WHERE name = %(name)s"
RENAME = f"UPDATE accounts SET name = %(name)s, updated_at = now() WHERE id = %(id)s RETURNING {COLUMNS}"


def create(cur, name: str) -> dict:
    return one(cur, INSERT, {"name": name})


def get(cur, account_id: int) -> dict | None:
    return one(cur, GET, {"id": account_id})


def get_by_name(cur, name: str) -> dict | None:
    return one(cur, GET_BY_NAME, {"name": name})


def rename(cur, account_id: int, name: str) -> dict | None:
    return one(cur, RENAME, {"id": account_id, "name": name})
