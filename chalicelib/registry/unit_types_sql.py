"""org_unit_types and the sub-types each allows."""

from chalicelib.platform.db import all_rows, one

COLUMNS = """
    t.id, t.account_id, t.name, t.short_name, t.depth, t.created_at, t.updated_at,
    coalesce((SELECT array_agg(s.sub_type_id ORDER BY s.sub_type_id) FROM org_unit_type_sub_types s
              WHERE s.type_id = t.id), '{}') AS sub_type_ids
"""

INSERT = """
INSERT INTO org_unit_types (account_id, name, short_name, depth)
VALUES (%(account_id)s, %(name)s, %(short_name)s, %(depth)s)
RETURNING id
"""
GET = f"SELECT {COLUMNS} FROM org_unit_types t WHERE t.account_id = %(account_id)s AND t.id = %(id)s"
GET_BY_NAME = (
    f"SELECT {COLUMNS} FROM org_unit_types t WHERE t.account_id = %(account_id)s AND t.name = %(name)s"
)
LIST = f"""
SELECT {COLUMNS} FROM org_unit_types t
WHERE t.account_id = %(account_id)s AND t.id > %(after)s ORDER BY t.id LIMIT %(limit)s
"""
UPDATE = """
UPDATE org_unit_types SET
    name = coalesce(%(name)s, name),
    short_name = coalesce(%(short_name)s, short_name),
    depth = CASE WHEN %(set_depth)s THEN %(depth)s ELSE depth END,
    updated_at = now()
WHERE account_id = %(account_id)s AND id = %(id)s
RETURNING id
"""
DELETE = "DELETE FROM org_unit_types WHERE account_id = %(account_id)s AND id = %(id)s RETURNING id"
CLEAR_SUB_TYPES = "DELETE FROM org_unit_type_sub_types WHERE type_id = %(id)s AND account_id = %(account_id)s"
ADD_SUB_TYPES = """
INSERT INTO org_unit_type_sub_types (account_id, type_id, sub_type_id)
SELECT %(account_id)s, %(id)s, unnest(%(sub_type_ids)s::bigint[])
"""
EXISTING_IDS = "SELECT id FROM org_unit_types WHERE account_id = %(account_id)s AND id = ANY(%(ids)s)"
IN_USE = """
SELECT EXISTS (
    SELECT 1 FROM org_units WHERE org_unit_type_id = %(id)s AND account_id = %(account_id)s
) AS used
"""


def delete_unused(cur, account_id: int, type_ids: list[int]) -> None:
    """Of these types, those no unit of any version has (an import made them for an empty layer, or
    for rows it rejected)."""
    if type_ids:
        cur.execute(
            """
            DELETE FROM org_unit_types t WHERE t.account_id = %(account_id)s AND t.id = ANY(%(ids)s)
              AND NOT EXISTS (SELECT 1 FROM org_units u
                              WHERE u.org_unit_type_id = t.id AND u.account_id = t.account_id)
            """,
            {"account_id": account_id, "ids": type_ids},
        )


def create(cur, account_id: int, name: str, short_name: str, depth: int | None) -> int:
    params = {"account_id": account_id, "name": name, "short_name": short_name, "depth": depth}
    return one(cur, INSERT, params)["id"]


def get(cur, account_id: int, type_id: int) -> dict | None:
    return one(cur, GET, {"account_id": account_id, "id": type_id})


def get_by_name(cur, account_id: int, name: str) -> dict | None:
    return one(cur, GET_BY_NAME, {"account_id": account_id, "name": name})


def list_page(cur, account_id: int, after: int | None, limit: int) -> list[dict]:
    return all_rows(cur, LIST, {"account_id": account_id, "after": after or 0, "limit": limit})


def update(cur, account_id: int, type_id: int, changes: dict) -> bool:
    params = {"name": None, "short_name": None, "depth": None} | changes | {"set_depth": "depth" in changes}
    return one(cur, UPDATE, params | {"account_id": account_id, "id": type_id}) is not None


def delete(cur, account_id: int, type_id: int) -> bool:
    return one(cur, DELETE, {"account_id": account_id, "id": type_id}) is not None


def set_sub_types(cur, account_id: int, type_id: int, sub_type_ids: list[int]) -> None:
    params = {"account_id": account_id, "id": type_id, "sub_type_ids": sub_type_ids}
    cur.execute(CLEAR_SUB_TYPES, params)
    cur.execute(ADD_SUB_TYPES, params)


def missing_ids(cur, account_id: int, ids: list[int]) -> list[int]:
    found = {row["id"] for row in all_rows(cur, EXISTING_IDS, {"account_id": account_id, "ids": ids})}
    return [type_id for type_id in ids if type_id not in found]


def in_use(cur, account_id: int, type_id: int) -> bool:
    return one(cur, IN_USE, {"account_id": account_id, "id": type_id})["used"]
