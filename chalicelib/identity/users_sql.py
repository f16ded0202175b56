"""users, their profile (account + role) and the projects the profile may use.

Every read or write below is scoped by account through the profile, except the two lookups that
authentication needs before it knows the account (by email, by id).
"""

from chalicelib.platform.db import all_rows, one

PUBLIC_COLUMNS = """
    u.id, u.email, u.full_name, u.is_active, u.last_login_at, u.created_at, u.updated_at,
    p.account_id, p.role,
    coalesce(array_agg(pp.project_id ORDER BY pp.project_id)
             FILTER (WHERE pp.project_id IS NOT NULL), '{}') AS project_ids
"""

FROM_ACCOUNT_USERS = """
FROM users u
JOIN profiles p ON p.user_id = u.id
LEFT JOIN profile_projects pp ON pp.user_id = u.id
"""

GET = f"""
SELECT {PUBLIC_COLUMNS} {FROM_ACCOUNT_USERS}
WHERE p.account_id = %(account_id)s AND u.id = %(id)s
GROUP BY u.id, p.user_id
"""

LIST = f"""
SELECT {PUBLIC_COLUMNS} {FROM_ACCOUNT_USERS}
WHERE p.account_id = %(account_id)s AND u.id > %(after)s
GROUP BY u.id, p.user_id
ORDER BY u.id
LIMIT %(limit)s
"""

INSERT_USER = """
INSERT INTO users (email, full_name, password_hash)
VALUES (%(email)s, %(full_name)s, %(password_hash)s)
RETURNING id
"""

INSERT_PROFILE = """
INSERT INTO profiles (user_id, account_id, role) VALUES (%(user_id)s, %(account_id)s, %(role)s)
"""

UPDATE_USER = """
UPDATE users SET
    email = coalesce(%(email)s, email),
    full_name = coalesce(%(full_name)s, full_name),
    updated_at = now()
WHERE id = %(id)s AND id IN (SELECT user_id FROM profiles WHERE account_id = %(account_id)s)
RETURNING id
"""

UPDATE_ROLE = """
UPDATE profiles SET role = %(role)s, updated_at = now()
WHERE user_id = %(id)s AND account_id = %(account_id)s
"""

CLEAR_PROJECTS = "DELETE FROM profile_projects WHERE user_id = %(id)s AND account_id = %(account_id)s"

ADD_PROJECTS = """
INSERT INTO profile_projects (user_id, account_id, project_id)
SELECT %(id)s, %(account_id)s, unnest(%(project_ids)s::bigint[])
"""

SET_ACTIVE = """
UPDATE users SET
    is_active = %(active)s,
    token_version = CASE WHEN %(active)s THEN token_version ELSE token_version + 1 END,
    updated_at = now()
WHERE id = %(id)s AND id IN (SELECT user_id FROM profiles WHERE account_id = %(account_id)s)
RETURNING id
"""

SET_PASSWORD = """
UPDATE users SET password_hash = %(password_hash)s, token_version = token_version + 1, updated_at = now()
WHERE id = %(id)s
"""

# A stronger hash of the same password: sessions stay valid.
REHASH_PASSWORD = "UPDATE users SET password_hash = %(password_hash)s WHERE id = %(id)s"

LOGIN_BY_EMAIL = """
SELECT u.id, u.email, u.password_hash, u.is_active, u.token_version, u.digest_ha1_sealed
FROM users u WHERE lower(u.email) = lower(%(email)s)
"""

EMAIL_OF = "SELECT email FROM users WHERE id = %(id)s"

SET_DIGEST_HA1 = "UPDATE users SET digest_ha1_sealed = %(sealed)s WHERE id = %(id)s"

RECORD_LOGIN = "UPDATE users SET last_login_at = now() WHERE id = %(id)s"

# With what most requests ask next (the default version, whether the profile is restricted): one
# round trip. A restricted profile's subtrees are read apart (profiles_sql.subtree_roots): joining
# org_units here made every request plan over every version's partition, 0.6 ms more with three.
PRINCIPAL = f"""
SELECT {PUBLIC_COLUMNS}, u.token_version, p.restricted,
       (SELECT a.default_version_id FROM accounts a WHERE a.id = p.account_id) AS default_version_id
{FROM_ACCOUNT_USERS}
WHERE u.id = %(id)s
GROUP BY u.id, p.user_id
"""


def create(cur, account_id: int, email: str, full_name: str, role: str, password_hash: str | None) -> int:
    user_id = one(cur, INSERT_USER, {"email": email, "full_name": full_name, "password_hash": password_hash})[
        "id"
    ]
    cur.execute(INSERT_PROFILE, {"user_id": user_id, "account_id": account_id, "role": role})
    return user_id


def get(cur, account_id: int, user_id: int) -> dict | None:
    return one(cur, GET, {"account_id": account_id, "id": user_id})


def list_page(cur, account_id: int, after: int | None, limit: int) -> list[dict]:
    return all_rows(cur, LIST, {"account_id": account_id, "after": after or 0, "limit": limit})


def update(cur, account_id: int, user_id: int, email: str | None, full_name: str | None) -> bool:
    params = {"account_id": account_id, "id": user_id, "email": email, "full_name": full_name}
    return one(cur, UPDATE_USER, params) is not None


def set_role(cur, account_id: int, user_id: int, role: str) -> None:
    cur.execute(UPDATE_ROLE, {"account_id": account_id, "id": user_id, "role": role})


def set_projects(cur, account_id: int, user_id: int, project_ids: list[int]) -> None:
    params = {"account_id": account_id, "id": user_id, "project_ids": project_ids}
    cur.execute(CLEAR_PROJECTS, params)
    cur.execute(ADD_PROJECTS, params)


def set_active(cur, account_id: int, user_id: int, active: bool) -> bool:
    return one(cur, SET_ACTIVE, {"account_id": account_id, "id": user_id, "active": active}) is not None


def set_password(cur, user_id: int, password_hash: str) -> None:
    cur.execute(SET_PASSWORD, {"id": user_id, "password_hash": password_hash})


def rehash_password(cur, user_id: int, password_hash: str) -> None:
    cur.execute(REHASH_PASSWORD, {"id": user_id, "password_hash": password_hash})


def login_by_email(cur, email: str) -> dict | None:
    return one(cur, LOGIN_BY_EMAIL, {"email": email})


def email_of(cur, user_id: int) -> str:
    return one(cur, EMAIL_OF, {"id": user_id})["email"]


def set_digest_ha1(cur, user_id: int, sealed: bytes) -> None:
    cur.execute(SET_DIGEST_HA1, {"id": user_id, "sealed": sealed})


def record_login(cur, user_id: int) -> None:
    cur.execute(RECORD_LOGIN, {"id": user_id})


def principal_row(cur, user_id: int) -> dict | None:
    return one(cur, PRINCIPAL, {"id": user_id})
