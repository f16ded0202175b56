"""What the ODK Central API (/v1) reads of users, projects and forms, in the shapes Central gives them.

A form is listed once it has a version (Central's published forms), with its latest version.
"""

from chalicelib.platform.db import all_rows, one

USER = "SELECT id, email, full_name, created_at, updated_at FROM users WHERE id = %(id)s"
PROJECTS = """
SELECT id, name, created_at, updated_at FROM projects
WHERE account_id = %(account_id)s AND (%(every)s OR id = ANY(%(ids)s))
ORDER BY id
"""
FORM_COLUMNS = """
    f.id, f.name, f.xform_id, f.created_at, f.updated_at, p.project_id,
    v.id AS version_id, v.version, v.xform_md5, v.xform_key, v.created_at AS published_at
"""
FORMS = f"""
SELECT {FORM_COLUMNS}{{descriptor}}
FROM form_projects p
JOIN forms f ON f.id = p.form_id AND f.account_id = p.account_id AND f.deleted_at IS NULL
JOIN LATERAL (
    SELECT id, version, xform_md5, xform_key, created_at, descriptor FROM form_versions
    WHERE form_id = f.id AND account_id = f.account_id ORDER BY number DESC LIMIT 1
) v ON true
WHERE p.account_id = %(account_id)s AND p.project_id = %(project_id)s
  AND (%(xform_id)s::text IS NULL OR f.xform_id = %(xform_id)s)
ORDER BY f.xform_id, f.id
"""


def user(cur, user_id: int) -> dict | None:
    return one(cur, USER, {"id": user_id})


def projects(cur, account_id: int, every: bool, ids: list[int]) -> list[dict]:
    return all_rows(cur, PROJECTS, {"account_id": account_id, "every": every, "ids": ids})


def forms(cur, account_id: int, project_id: int) -> list[dict]:
    params = {"account_id": account_id, "project_id": project_id, "xform_id": None}
    return all_rows(cur, FORMS.format(descriptor=""), params)


def form(cur, account_id: int, project_id: int, xform_id: str) -> dict | None:
    """The live form of the project with this XForm id, with its latest version's descriptor."""
    params = {"account_id": account_id, "project_id": project_id, "xform_id": xform_id}
    return one(cur, FORMS.format(descriptor=", v.descriptor"), params)
