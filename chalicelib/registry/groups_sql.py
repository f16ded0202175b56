"""groups (per source version), group_sets, and the units in each group."""

from chalicelib.platform.db import all_rows, one

GROUP_COLUMNS = """
    g.id, g.account_id, g.version_id, g.name, g.source_ref, g.created_at, g.updated_at,
    (SELECT count(*) FROM org_unit_groups m WHERE m.group_id = g.id AND m.version_id = g.version_id)
        AS org_unit_count
"""
SET_COLUMNS = """
    s.id, s.account_id, s.name, s.created_at, s.updated_at,
    coalesce((SELECT array_agg(m.group_id ORDER BY m.group_id) FROM group_set_groups m
              WHERE m.group_set_id = s.id), '{}') AS group_ids
"""

INSERT_GROUP = """
INSERT INTO groups (account_id, version_id, name, source_ref)
VALUES (%(account_id)s, %(version_id)s, %(name)s, %(source_ref)s)
RETURNING id
"""
GET_GROUP = f"SELECT {GROUP_COLUMNS} FROM groups g WHERE g.account_id = %(account_id)s AND g.id = %(id)s"
LIST_GROUPS = f"""
SELECT {GROUP_COLUMNS} FROM groups g
WHERE g.account_id = %(account_id)s AND (%(version_id)s::bigint IS NULL OR g.version_id = %(version_id)s)
  AND g.id > %(after)s
ORDER BY g.id LIMIT %(limit)s
"""
UPDATE_GROUP = """
UPDATE groups SET name = coalesce(%(name)s, name), source_ref = coalesce(%(source_ref)s, source_ref),
    updated_at = now()
WHERE account_id = %(account_id)s AND id = %(id)s
RETURNING id
"""
DELETE_GROUP = "DELETE FROM groups WHERE account_id = %(account_id)s AND id = %(id)s RETURNING id"
GROUPS_OF_VERSION = """
SELECT id FROM groups WHERE account_id = %(account_id)s AND version_id = %(version_id)s AND id = ANY(%(ids)s)
"""

INSERT_SET = "INSERT INTO group_sets (account_id, name) VALUES (%(account_id)s, %(name)s) RETURNING id"
GET_SET = f"SELECT {SET_COLUMNS} FROM group_sets s WHERE s.account_id = %(account_id)s AND s.id = %(id)s"
LIST_SETS = f"""
SELECT {SET_COLUMNS} FROM group_sets s
WHERE s.account_id = %(account_id)s AND s.id > %(after)s ORDER BY s.id LIMIT %(limit)s
"""
RENAME_SET = """
UPDATE group_sets SET name = %(name)s, updated_at = now()
WHERE account_id = %(account_id)s AND id = %(id)s RETURNING id
"""
DELETE_SET = "DELETE FROM group_sets WHERE account_id = %(account_id)s AND id = %(id)s RETURNING id"
CLEAR_SET = "DELETE FROM group_set_groups WHERE group_set_id = %(id)s AND account_id = %(account_id)s"
FILL_SET = """
INSERT INTO group_set_groups (account_id, group_set_id, group_id)
SELECT %(account_id)s, %(id)s, unnest(%(group_ids)s::bigint[])
"""
ACCOUNT_GROUP_IDS = "SELECT id FROM groups WHERE account_id = %(account_id)s AND id = ANY(%(ids)s)"

CLEAR_UNIT_GROUPS = (
    "DELETE FROM org_unit_groups WHERE version_id = %(version_id)s AND org_unit_id = %(org_unit_id)s"
)
ADD_UNIT_GROUPS = """
INSERT INTO org_unit_groups (account_id, version_id, org_unit_id, group_id)
SELECT %(account_id)s, %(version_id)s, %(org_unit_id)s, unnest(%(group_ids)s::bigint[])
"""


def create_group(cur, account_id: int, version_id: int, name: str, source_ref: str | None) -> int:
    params = {"account_id": account_id, "version_id": version_id, "name": name, "source_ref": source_ref}
    return one(cur, INSERT_GROUP, params)["id"]


def get_group(cur, account_id: int, group_id: int) -> dict | None:
    return one(cur, GET_GROUP, {"account_id": account_id, "id": group_id})


def list_groups(cur, account_id: int, version_id: int | None, after: int | None, limit: int) -> list[dict]:
    params = {"account_id": account_id, "version_id": version_id, "after": after or 0, "limit": limit}
    return all_rows(cur, LIST_GROUPS, params)


def update_group(cur, account_id: int, group_id: int, name: str | None, source_ref: str | None) -> bool:
    params = {"account_id": account_id, "id": group_id, "name": name, "source_ref": source_ref}
    return one(cur, UPDATE_GROUP, params) is not None


def delete_group(cur, account_id: int, group_id: int) -> bool:
    return one(cur, DELETE_GROUP, {"account_id": account_id, "id": group_id}) is not None


def missing_in_version(cur, account_id: int, version_id: int, ids: list[int]) -> list[int]:
    params = {"account_id": account_id, "version_id": version_id, "ids": ids}
    found = {row["id"] for row in all_rows(cur, GROUPS_OF_VERSION, params)}
    return [group_id for group_id in ids if group_id not in found]


def missing_in_account(cur, account_id: int, ids: list[int]) -> list[int]:
    found = {row["id"] for row in all_rows(cur, ACCOUNT_GROUP_IDS, {"account_id": account_id, "ids": ids})}
    return [group_id for group_id in ids if group_id not in found]


def create_set(cur, account_id: int, name: str) -> int:
    return one(cur, INSERT_SET, {"account_id": account_id, "name": name})["id"]


def get_set(cur, account_id: int, set_id: int) -> dict | None:
    return one(cur, GET_SET, {"account_id": account_id, "id": set_id})


def list_sets(cur, account_id: int, after: int | None, limit: int) -> list[dict]:
    return all_rows(cur, LIST_SETS, {"account_id": account_id, "after": after or 0, "limit": limit})


def rename_set(cur, account_id: int, set_id: int, name: str) -> bool:
    return one(cur, RENAME_SET, {"account_id": account_id, "id": set_id, "name": name}) is not None


def delete_set(cur, account_id: int, set_id: int) -> bool:
    return one(cur, DELETE_SET, {"account_id": account_id, "id": set_id}) is not None


def set_groups_of_set(cur, account_id: int, set_id: int, group_ids: list[int]) -> None:
    params = {"account_id": account_id, "id": set_id, "group_ids": group_ids}
    cur.execute(CLEAR_SET, params)
    cur.execute(FILL_SET, params)


def set_unit_groups(cur, account_id: int, version_id: int, org_unit_id: int, group_ids: list[int]) -> None:
    params = {"account_id": account_id, "version_id": version_id, "org_unit_id": org_unit_id}
    cur.execute(CLEAR_UNIT_GROUPS, params)
    cur.execute(ADD_UNIT_GROUPS, params | {"group_ids": group_ids})
