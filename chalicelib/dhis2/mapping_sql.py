"""dhis2_data_mappings: a form's questions → a DHIS2 data set's data elements, on a connection; and
what the mapping needs to check itself (the connection, the form, its versions' descriptors)."""

from chalicelib.platform.db import Json, all_rows, one

COLUMNS = """
    m.id, m.connection_id, m.form_id, m.form_version_id, m.name, m.data_set,
    m.attribute_option_combo, m.elements, m.approved_only, m.created_by, m.created_at,
    (SELECT max(e.updated_at) FROM dhis2_data_exports e WHERE e.mapping_id = m.id) AS last_exported_at
"""

INSERT = """
INSERT INTO dhis2_data_mappings (account_id, connection_id, form_id, form_version_id, name, data_set,
                                 attribute_option_combo, elements, approved_only, created_by)
VALUES (%(account_id)s, %(connection_id)s, %(form_id)s, %(form_version_id)s, %(name)s, %(data_set)s,
        %(attribute_option_combo)s, %(elements)s, %(approved_only)s, %(created_by)s)
RETURNING id
"""

GET = f"SELECT {COLUMNS} FROM dhis2_data_mappings m WHERE m.id = %(id)s AND m.account_id = %(account_id)s"

LIST = f"""
SELECT {COLUMNS} FROM dhis2_data_mappings m
WHERE m.account_id = %(account_id)s AND m.id > %(after)s
ORDER BY m.id
LIMIT %(limit)s
"""

DELETE = "DELETE FROM dhis2_data_mappings WHERE id = %(id)s AND account_id = %(account_id)s RETURNING id"

CONNECTION = "SELECT id FROM dhis2_connections WHERE id = %(id)s AND account_id = %(account_id)s"

FORM = """
SELECT id, name, period_type FROM forms
WHERE id = %(id)s AND account_id = %(account_id)s AND deleted_at IS NULL
"""

# The version the mapping names, or else the form's newest: the questions a mapping is checked against.
DESCRIPTOR = """
SELECT id, number, descriptor FROM form_versions
WHERE form_id = %(form_id)s AND account_id = %(account_id)s
  AND (%(version_id)s::bigint IS NULL OR id = %(version_id)s)
ORDER BY number DESC
LIMIT 1
"""


def insert(cur, values: dict) -> int:
    return one(cur, INSERT, values | {"elements": Json(values["elements"])})["id"]


def get(cur, account_id: int, mapping_id: int) -> dict | None:
    return one(cur, GET, {"account_id": account_id, "id": mapping_id})


def list_page(cur, account_id: int, after: int | None, limit: int) -> list[dict]:
    return all_rows(cur, LIST, {"account_id": account_id, "after": after or 0, "limit": limit})


def delete(cur, account_id: int, mapping_id: int) -> bool:
    return one(cur, DELETE, {"account_id": account_id, "id": mapping_id}) is not None


def connection_exists(cur, account_id: int, connection_id: int) -> bool:
    return one(cur, CONNECTION, {"account_id": account_id, "id": connection_id}) is not None


def form(cur, account_id: int, form_id: int) -> dict | None:
    return one(cur, FORM, {"account_id": account_id, "id": form_id})


def descriptor(cur, account_id: int, form_id: int, version_id: int | None) -> dict | None:
    params = {"account_id": account_id, "form_id": form_id, "version_id": version_id}
    return one(cur, DESCRIPTOR, params)
