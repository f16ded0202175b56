"""projects: an account's apps; `app_id` is what the mobile app sends to find its project."""

from chalicelib.platform.db import all_rows, one

COLUMNS = "id, account_id, name, app_id, needs_authentication, created_at, updated_at"

INSERT = f"""
INSERT INTO projects (account_id, name, app_id, needs_authentication)
VALUES (%(account_id)s, %(name)s, %(app_id)s, %(needs_authentication)s)
RETURNING {COLUMNS}
"""

GET = f"SELECT {COLUMNS} FROM projects WHERE account_id = %(account_id)s AND id = %(id)s"

LIST = f"""
SELECT {COLUMNS} FROM projects
WHERE account_id = %(account_id)s AND id > %(after)s
ORDER BY id
LIMIT %(limit)s
"""

UPDATE = f"""
UPDATE projects SET
    name = coalesce(%(name)s, name),
    app_id = coalesce(%(app_id)s, app_id),
    needs_authentication = coalesce(%(needs_authentication)s, needs_authentication),
    updated_at = now()
WHERE account_id = %(account_id)s AND id = %(id)s
RETURNING {COLUMNS}
"""

DELETE = "DELETE FROM projects WHERE account_id = %(account_id)s AND id = %(id)s RETURNING id"

EXISTING_IDS = "SELECT id FROM projects WHERE account_id = %(account_id)s AND id = ANY(%(ids)s)"


def create(cur, account_id: int, name: str, app_id: str, needs_authentication: bool = True) -> dict:
    params = {"account_id": account_id, "name": name, "app_id": app_id}
    return one(cur, INSERT, params | {"needs_authentication": needs_authentication})


def get(cur, account_id: int, project_id: int) -> dict | None:
    return one(cur, GET, {"account_id": account_id, "id": project_id})


def list_page(cur, account_id: int, after: int | None, limit: int) -> list[dict]:
    return all_rows(cur, LIST, {"account_id": account_id, "after": after or 0, "limit": limit})


def update(cur, account_id: int, project_id: int, changes: dict) -> dict | None:
    params = {"name": None, "app_id": None, "needs_authentication": None} | changes
    return one(cur, UPDATE, params | {"account_id": account_id, "id": project_id})


def delete(cur, account_id: int, project_id: int) -> bool:
    return one(cur, DELETE, {"account_id": account_id, "id": project_id}) is not None


def missing_ids(cur, account_id: int, ids: list[int]) -> list[int]:
    """Those of `ids` that are not projects of this account."""
    found = {row["id"] for row in all_rows(cur, EXISTING_IDS, {"account_id": account_id, "ids": ids})}
    return [project_id for project_id in ids if project_id not in found]
