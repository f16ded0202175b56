"""api_keys: long-lived credentials for scripts. Only the secret's SHA-256 is stored."""

from chalicelib.platform.db import all_rows, one

COLUMNS = "id, user_id, name, prefix, created_at, expires_at, last_used_at, revoked_at"

INSERT = f"""
INSERT INTO api_keys (user_id, name, prefix, secret_sha256, expires_at)
VALUES (%(user_id)s, %(name)s, %(prefix)s, %(secret_sha256)s, %(expires_at)s)
RETURNING {COLUMNS}
"""

LIST = f"""
SELECT {COLUMNS} FROM api_keys
WHERE user_id = %(user_id)s AND id > %(after)s
ORDER BY id
LIMIT %(limit)s
"""

REVOKE = f"""
UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
WHERE id = %(id)s AND user_id = %(user_id)s
RETURNING {COLUMNS}
"""

USABLE_BY_PREFIX = """
SELECT id, user_id, secret_sha256 FROM api_keys
WHERE prefix = %(prefix)s AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
"""

# At most one write a minute per key, so a busy script does not turn every read into a write.
TOUCH = """
UPDATE api_keys SET last_used_at = now()
WHERE id = %(id)s AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
"""


REVOKE_ALL = "UPDATE api_keys SET revoked_at = now() WHERE user_id = %(user_id)s AND revoked_at IS NULL"


def revoke_all(cur, user_id: int) -> None:
    cur.execute(REVOKE_ALL, {"user_id": user_id})


def create(cur, user_id: int, name: str, prefix: str, secret_sha256: bytes, expires_at=None) -> dict:
    params = {"user_id": user_id, "name": name, "prefix": prefix, "expires_at": expires_at}
    return one(cur, INSERT, params | {"secret_sha256": secret_sha256})


def list_page(cur, user_id: int, after: int | None, limit: int) -> list[dict]:
    return all_rows(cur, LIST, {"user_id": user_id, "after": after or 0, "limit": limit})


def revoke(cur, user_id: int, key_id: int) -> dict | None:
    return one(cur, REVOKE, {"user_id": user_id, "id": key_id})


def usable_by_prefix(cur, prefix: str) -> dict | None:
    return one(cur, USABLE_BY_PREFIX, {"prefix": prefix})


def touch(cur, key_id: int) -> None:
    cur.execute(TOUCH, {"id": key_id})
