"""forms, their links to projects and org-unit types, and form_versions.

A deleted form (deleted_at set) is gone for every reader here except `version_by_xform` and
`get_version`, which ingestion uses: submissions may still arrive for it from phones.
"""

from chalicelib.platform.db import all_rows, one

FORM_COLUMNS = """
    f.id, f.account_id, f.name, f.xform_id, f.period_type, f.single_per_period, f.created_by,
    f.created_at, f.updated_at,
    coalesce((SELECT array_agg(p.project_id ORDER BY p.project_id) FROM form_projects p
              WHERE p.form_id = f.id AND p.account_id = f.account_id), '{}') AS project_ids,
    coalesce((SELECT array_agg(t.org_unit_type_id ORDER BY t.org_unit_type_id) FROM form_org_unit_types t
              WHERE t.form_id = f.id AND t.account_id = f.account_id), '{}') AS org_unit_type_ids,
    v.id AS latest_id, v.number AS latest_number, v.version AS latest_version,
    v.xform_md5 AS latest_xform_md5, v.created_at AS latest_created_at
"""
LATEST_VERSION = """
LEFT JOIN LATERAL (
    SELECT id, number, version, xform_md5, created_at FROM form_versions
    WHERE form_id = f.id ORDER BY number DESC LIMIT 1
) v ON true
"""
GET_FORM = f"""
SELECT {FORM_COLUMNS} FROM forms f {LATEST_VERSION}
WHERE f.account_id = %(account_id)s AND f.id = %(id)s AND f.deleted_at IS NULL
"""
LIST_FORMS = f"""
SELECT {FORM_COLUMNS} FROM forms f {LATEST_VERSION}
WHERE f.account_id = %(account_id)s AND f.deleted_at IS NULL AND f.id > %(after)s
  AND (%(project_id)s::bigint IS NULL OR EXISTS (
      SELECT 1 FROM form_projects p
      WHERE p.form_id = f.id AND p.account_id = f.account_id AND p.project_id = %(project_id)s))
ORDER BY f.id LIMIT %(limit)s
"""
INSERT_FORM = """
INSERT INTO forms (account_id, name, period_type, single_per_period, created_by)
VALUES (%(account_id)s, %(name)s, %(period_type)s, %(single_per_period)s, %(created_by)s)
RETURNING id
"""
UPDATE_FORM = """
UPDATE forms SET
    name = coalesce(%(name)s, name),
    period_type = CASE WHEN %(set_period_type)s THEN %(period_type)s ELSE period_type END,
    single_per_period = coalesce(%(single_per_period)s, single_per_period),
    updated_at = now()
WHERE account_id = %(account_id)s AND id = %(id)s AND deleted_at IS NULL
RETURNING id
"""
SOFT_DELETE = """
UPDATE forms SET deleted_at = now(), updated_at = now()
WHERE account_id = %(account_id)s AND id = %(id)s AND deleted_at IS NULL
RETURNING id
"""
LOCK_FORM = """
SELECT id, xform_id FROM forms
WHERE account_id = %(account_id)s AND id = %(id)s AND deleted_at IS NULL
FOR UPDATE
"""
SET_XFORM_ID = """
UPDATE forms SET xform_id = %(xform_id)s, updated_at = now() WHERE account_id = %(account_id)s AND id = %(id)s
"""
CLEAR_PROJECTS = "DELETE FROM form_projects WHERE form_id = %(id)s AND account_id = %(account_id)s"
ADD_PROJECTS = """
INSERT INTO form_projects (account_id, form_id, project_id)
SELECT %(account_id)s, %(id)s, unnest(%(ids)s::bigint[])
"""
CLEAR_TYPES = "DELETE FROM form_org_unit_types WHERE form_id = %(id)s AND account_id = %(account_id)s"
ADD_TYPES = """
INSERT INTO form_org_unit_types (account_id, form_id, org_unit_type_id)
SELECT %(account_id)s, %(id)s, unnest(%(ids)s::bigint[])
"""

VERSION_COLUMNS = """
    v.id, v.form_id, v.number, v.version, f.xform_id, v.xform_md5, v.xlsform_key, v.xform_key,
    v.created_by, v.created_at
"""
GET_VERSION_BY_NUMBER = f"""
SELECT {VERSION_COLUMNS}, v.descriptor FROM form_versions v JOIN forms f ON f.id = v.form_id
WHERE f.account_id = %(account_id)s AND f.id = %(form_id)s AND f.deleted_at IS NULL
  AND v.account_id = %(account_id)s AND v.number = %(number)s
"""
LIST_VERSIONS = f"""
SELECT {VERSION_COLUMNS} FROM form_versions v JOIN forms f ON f.id = v.form_id
WHERE f.account_id = %(account_id)s AND f.id = %(form_id)s AND v.account_id = %(account_id)s
  AND v.number > %(after)s
ORDER BY v.number LIMIT %(limit)s
"""
VERSION_STRINGS = (
    "SELECT version FROM form_versions WHERE form_id = %(form_id)s AND account_id = %(account_id)s"
)
NEXT_NUMBER = """
SELECT coalesce(max(number), 0) + 1 AS number FROM form_versions
WHERE form_id = %(form_id)s AND account_id = %(account_id)s
"""
INSERT_VERSION = """
INSERT INTO form_versions (account_id, form_id, number, version, xlsform_key, xform_key, xform_md5,
                           descriptor, created_by)
VALUES (%(account_id)s, %(form_id)s, %(number)s, %(version)s, %(xlsform_key)s, %(xform_key)s,
        %(xform_md5)s, %(descriptor)s, %(created_by)s)
RETURNING id
"""

# For ingestion: what a submission names (its form's XForm id and version), found straight from SQL.
INGESTION_COLUMNS = """
    v.id, v.form_id, v.number, v.version, f.xform_id, v.descriptor, v.xform_key, v.xform_md5,
    f.name AS form_name, f.period_type, f.single_per_period, f.deleted_at AS form_deleted_at,
    coalesce((SELECT array_agg(p.project_id ORDER BY p.project_id) FROM form_projects p
              WHERE p.form_id = f.id AND p.account_id = f.account_id), '{}') AS project_ids
"""
VERSION_BY_XFORM = f"""
SELECT {INGESTION_COLUMNS}
FROM forms f JOIN form_versions v ON v.form_id = f.id AND v.account_id = f.account_id
WHERE f.account_id = %(account_id)s AND f.xform_id = %(xform_id)s AND v.version = %(version)s
ORDER BY f.deleted_at IS NOT NULL, f.deleted_at DESC LIMIT 1
"""
GET_VERSION = f"""
SELECT {INGESTION_COLUMNS}
FROM forms f JOIN form_versions v ON v.form_id = f.id AND v.account_id = f.account_id
WHERE v.account_id = %(account_id)s AND v.id = %(id)s
"""

# What phones download: the live forms of a project that have a version, each with its latest.
PROJECT_FORMS = """
SELECT f.id, f.name, f.xform_id, f.period_type, f.single_per_period,
    coalesce((SELECT array_agg(t.org_unit_type_id ORDER BY t.org_unit_type_id) FROM form_org_unit_types t
              WHERE t.form_id = f.id AND t.account_id = f.account_id), '{}') AS org_unit_type_ids,
    v.id AS form_version_id, v.number, v.version, v.xform_md5, v.xform_key, v.created_at,
    EXISTS (SELECT 1 FROM form_media m WHERE m.form_version_id = v.id AND m.account_id = f.account_id)
        AS has_media
FROM form_projects p
JOIN forms f ON f.id = p.form_id AND f.account_id = p.account_id AND f.deleted_at IS NULL
JOIN LATERAL (
    SELECT id, number, version, xform_md5, xform_key, created_at FROM form_versions
    WHERE form_id = f.id ORDER BY number DESC LIMIT 1
) v ON true
WHERE p.account_id = %(account_id)s AND p.project_id = %(project_id)s
  AND (%(form_id)s::bigint IS NULL OR f.id = %(form_id)s)
  AND (%(xform_id)s::text IS NULL OR f.xform_id = %(xform_id)s)
ORDER BY f.id
"""


def create_form(cur, account_id: int, name: str, period_type: str | None, single_per_period: bool,
                created_by: int | None) -> int:  # fmt: skip
    params = {"account_id": account_id, "name": name, "period_type": period_type,
              "single_per_period": single_per_period, "created_by": created_by}  # fmt: skip
    return one(cur, INSERT_FORM, params)["id"]


def get_form(cur, account_id: int, form_id: int) -> dict | None:
    return one(cur, GET_FORM, {"account_id": account_id, "id": form_id})


def list_forms(cur, account_id: int, project_id: int | None, after: int | None, limit: int) -> list[dict]:
    params = {"account_id": account_id, "project_id": project_id, "after": after or 0, "limit": limit}
    return all_rows(cur, LIST_FORMS, params)


def update_form(cur, account_id: int, form_id: int, changes: dict) -> bool:
    """`changes` may set name, single_per_period, and period_type (None clears it)."""
    params = {"name": None, "single_per_period": None, "period_type": None} | changes
    params |= {"set_period_type": "period_type" in changes, "account_id": account_id, "id": form_id}
    return one(cur, UPDATE_FORM, params) is not None


def soft_delete(cur, account_id: int, form_id: int) -> bool:
    return one(cur, SOFT_DELETE, {"account_id": account_id, "id": form_id}) is not None


def set_projects(cur, account_id: int, form_id: int, project_ids: list[int]) -> None:
    params = {"account_id": account_id, "id": form_id, "ids": project_ids}
    cur.execute(CLEAR_PROJECTS, params)
    cur.execute(ADD_PROJECTS, params)


def set_org_unit_types(cur, account_id: int, form_id: int, type_ids: list[int]) -> None:
    params = {"account_id": account_id, "id": form_id, "ids": type_ids}
    cur.execute(CLEAR_TYPES, params)
    cur.execute(ADD_TYPES, params)


def lock_form(cur, account_id: int, form_id: int) -> dict | None:
    """The live form's row, locked until commit: versions of one form are numbered one at a time."""
    return one(cur, LOCK_FORM, {"account_id": account_id, "id": form_id})


def set_xform_id(cur, account_id: int, form_id: int, xform_id: str) -> None:
    cur.execute(SET_XFORM_ID, {"account_id": account_id, "id": form_id, "xform_id": xform_id})


def version_strings(cur, account_id: int, form_id: int) -> set[str]:
    return {
        row["version"]
        for row in all_rows(cur, VERSION_STRINGS, {"account_id": account_id, "form_id": form_id})
    }


def next_number(cur, account_id: int, form_id: int) -> int:
    """The number the form's next version gets (callers hold the form's lock)."""
    return one(cur, NEXT_NUMBER, {"account_id": account_id, "form_id": form_id})["number"]


def insert_version(cur, account_id: int, form_id: int, row: dict) -> int:
    """`row`: number, version, xlsform_key, xform_key, xform_md5, descriptor, created_by."""
    return one(cur, INSERT_VERSION, row | {"account_id": account_id, "form_id": form_id})["id"]


def version_by_number(cur, account_id: int, form_id: int, number: int) -> dict | None:
    return one(cur, GET_VERSION_BY_NUMBER, {"account_id": account_id, "form_id": form_id, "number": number})


def list_versions(cur, account_id: int, form_id: int, after: int | None, limit: int) -> list[dict]:
    params = {"account_id": account_id, "form_id": form_id, "after": after or 0, "limit": limit}
    return all_rows(cur, LIST_VERSIONS, params)


def version_by_xform(cur, account_id: int, xform_id: str, version: str) -> dict | None:
    """The form version a submission names, with its form's descriptor and projects. A live form's
    version comes first; a deleted form's (`form_deleted_at` set) only when no live form matches."""
    return one(cur, VERSION_BY_XFORM, {"account_id": account_id, "xform_id": xform_id, "version": version})


def get_version(cur, account_id: int, form_version_id: int) -> dict | None:
    """One form version by id, with the same columns as `version_by_xform`."""
    return one(cur, GET_VERSION, {"account_id": account_id, "id": form_version_id})


def project_forms(cur, account_id: int, project_id: int, form_id: int | None = None,
                  xform_id: str | None = None) -> list[dict]:  # fmt: skip
    params = {"account_id": account_id, "project_id": project_id, "form_id": form_id, "xform_id": xform_id}
    return all_rows(cur, PROJECT_FORMS, params)
