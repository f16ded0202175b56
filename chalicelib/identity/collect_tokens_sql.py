"""collect_tokens: a project's app-user tokens for ODK Collect. Only the token's SHA-256 is stored."""

from chalicelib.platform.db import all_rows, one

COLUMNS = "id, project_id, name, created_by, created_at, last_used_at, revoked_at"

INSERT = f"""
INSERT INTO collect_tokens (account_id, project_id, name, secret_sha256, created_by)
VALUES (%(account_id)s, %(project_id)s, %(name)s, %(secret_sha256)s, %(created_by)s)
RETURNING {COLUMNS}
"""

LIST = f"""
SELECT {COLUMNS} FROM collect_tokens
WHERE account_id = %(account_id)s AND project_id = %(project_id)s AND id > %(after)s
ORDER BY id
LIMIT %(limit)s
"""

REVOKE = f"""
UPDATE collect_tokens SET revoked_at = coalesce(revoked_at, now())
WHERE account_id = %(account_id)s AND project_id = %(project_id)s AND id = %(id)s
RETURNING {COLUMNS}
"""

USABLE = """
SELECT id, account_id, project_id, created_by FROM collect_tokens
WHERE secret_sha256 = %(secret_sha256)s AND revoked_at IS NULL
"""

# At most one write a minute per token: a phone syncing is many reads.
TOUCH = """
UPDATE collect_tokens SET last_used_at = now()
WHERE id = %(id)s AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
"""


def create(cur, account_id: int, project_id: int, name: str, secret_sha256: bytes, created_by: int) -> dict:
    params = {"account_id": account_id, "project_id": project_id, "name": name, "created_by": created_by}
    return one(cur, INSERT, params | {"secret_sha256": secret_sha256})


def list_page(cur, account_id: int, project_id: int, after: int | None, limit: int) -> list[dict]:
    params = {"account_id": account_id, "project_id": project_id, "after": after or 0, "limit": limit}
    return all_rows(cur, LIST, params)


def revoke(cur, account_id: int, project_id: int, token_id: int) -> dict | None:
    return one(cur, REVOKE, {"account_id": account_id, "project_id": project_id, "id": token_id})


def usable(cur, secret_sha256: bytes) -> dict | None:
    return one(cur, USABLE, {"secret_sha256": secret_sha256})


def touch(cur, token_id: int) -> None:
    cur.execute(TOUCH, {"id": token_id})
