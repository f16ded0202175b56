"""submissions, submission_files, submission_upload_grants, quarantined_uploads: the SQL."""

from chalicelib.platform.db import Json, all_rows, one

FORM_VERSION_IN_PROJECT = """
SELECT v.id, v.form_id, v.version
FROM form_versions v
JOIN forms f ON f.id = v.form_id AND f.account_id = v.account_id AND f.deleted_at IS NULL
JOIN form_projects fp ON fp.form_id = f.id AND fp.account_id = f.account_id
WHERE v.account_id = %(account_id)s AND v.form_id = %(form_id)s AND v.version = %(version)s
  AND fp.project_id = %(project_id)s
"""

SET_REVIEW = """
UPDATE submissions SET validation_status = %(status)s, review_comment = %(comment)s, updated_at = now()
WHERE account_id = %(account_id)s AND id = %(id)s
"""

SET_DELETED = """
UPDATE submissions SET deleted_at = CASE WHEN %(deleted)s THEN now() END, updated_at = now()
WHERE account_id = %(account_id)s AND id = %(id)s
"""

SAVE_GRANT = """
INSERT INTO submission_upload_grants (account_id, project_id, instance_uuid, user_id, form_id,
                                      form_version_id, org_unit_id, period, files)
VALUES (%(account_id)s, %(project_id)s, %(instance_uuid)s, %(user_id)s, %(form_id)s, %(form_version_id)s,
        %(org_unit_id)s, %(period)s, %(files)s)
ON CONFLICT (account_id, instance_uuid) DO UPDATE SET
    project_id = EXCLUDED.project_id, user_id = EXCLUDED.user_id, form_id = EXCLUDED.form_id,
    form_version_id = EXCLUDED.form_version_id, org_unit_id = EXCLUDED.org_unit_id,
    period = EXCLUDED.period, files = EXCLUDED.files, created_at = now()
"""

GRANT = """
SELECT * FROM submission_upload_grants WHERE account_id = %(account_id)s AND instance_uuid = %(instance_uuid)s
"""

BY_INSTANCE = """
SELECT id, root_id, instance_uuid, xml_md5, is_current, deprecated_uuid
FROM submissions WHERE account_id = %(account_id)s AND instance_uuid = %(instance_uuid)s
"""

# Whether the instance is here already, and whether an edit of it (naming it as deprecatedID) is.
INSTANCE_STATE = """
SELECT (SELECT to_jsonb(s) FROM (SELECT id, root_id, instance_uuid, xml_md5 FROM submissions
                                 WHERE account_id = %(account_id)s AND instance_uuid = %(instance_uuid)s) s)
           AS existing,
       EXISTS (SELECT 1 FROM submissions
               WHERE account_id = %(account_id)s AND deprecated_uuid = %(instance_uuid)s) AS edited
"""

# A concurrent delivery of the same instance inserts nothing (ON CONFLICT) and returns no row.
INSERT = """
INSERT INTO submissions (account_id, project_id, form_id, form_version_id, instance_uuid, root_id,
                         deprecated_uuid, is_current, org_unit_id, org_unit_version_id, org_unit_path, period,
                         answers, location, accuracy, started_at, ended_at, device_id, xml_key, xml_md5,
                         created_by)
VALUES (%(account_id)s, %(project_id)s, %(form_id)s, %(form_version_id)s, %(instance_uuid)s, %(root_id)s,
        %(deprecated_uuid)s, %(is_current)s, %(org_unit_id)s, %(org_unit_version_id)s, %(org_unit_path)s,
        %(period)s, %(answers)s,
        CASE WHEN %(lon)s::float8 IS NULL THEN NULL
             ELSE ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s, %(altitude)s), 4326) END,
        %(accuracy)s, %(started_at)s, %(ended_at)s, %(device_id)s, %(xml_key)s, %(xml_md5)s, %(created_by)s)
ON CONFLICT (account_id, instance_uuid) DO NOTHING
RETURNING id
"""

SUPERSEDE = """
UPDATE submissions SET is_current = false, updated_at = now()
WHERE account_id = %(account_id)s AND id = %(id)s
"""

# An edit that arrived before the instance it replaces: it now joins that instance's history.
ADOPT_EARLY_EDITS = """
UPDATE submissions SET root_id = %(root_id)s, updated_at = now()
WHERE account_id = %(account_id)s AND deprecated_uuid = %(instance_uuid)s AND root_id IS NULL
RETURNING id
"""

SAVE_FILE = """
INSERT INTO submission_files (account_id, instance_uuid, name, s3_key, size, content_type)
VALUES (%(account_id)s, %(instance_uuid)s, %(name)s, %(s3_key)s, %(size)s, %(content_type)s)
ON CONFLICT (account_id, instance_uuid, name) DO UPDATE SET
    s3_key = EXCLUDED.s3_key, size = EXCLUDED.size, content_type = EXCLUDED.content_type
"""

FILES = """
SELECT name, s3_key, size, content_type, created_at FROM submission_files
WHERE account_id = %(account_id)s AND instance_uuid = %(instance_uuid)s ORDER BY name
"""

QUARANTINE = """
INSERT INTO quarantined_uploads (account_id, bucket, s3_key, size, reason)
VALUES (%(account_id)s, %(bucket)s, %(s3_key)s, %(size)s, %(reason)s)
ON CONFLICT (bucket, s3_key) DO UPDATE SET
    account_id = EXCLUDED.account_id, size = EXCLUDED.size, reason = EXCLUDED.reason, created_at = now()
"""

QUARANTINED = """
SELECT id, s3_key, size, reason, created_at FROM quarantined_uploads
WHERE account_id = %(account_id)s AND id > %(after)s ORDER BY id LIMIT %(limit)s
"""


def form_version_in_project(cur, account_id: int, form_id: int, project_id: int, version: str) -> dict | None:
    params = {"account_id": account_id, "form_id": form_id, "project_id": project_id, "version": version}
    return one(cur, FORM_VERSION_IN_PROJECT, params)


def set_review(cur, account_id: int, submission_id: int, status: str, comment: str | None) -> None:
    cur.execute(
        SET_REVIEW, {"account_id": account_id, "id": submission_id, "status": status, "comment": comment}
    )


def set_deleted(cur, account_id: int, submission_id: int, deleted: bool) -> None:
    cur.execute(SET_DELETED, {"account_id": account_id, "id": submission_id, "deleted": deleted})


def save_grant(cur, grant: dict) -> None:
    cur.execute(SAVE_GRANT, grant | {"files": Json(grant["files"])})


def grant(cur, account_id: int, instance_uuid: str) -> dict | None:
    return one(cur, GRANT, {"account_id": account_id, "instance_uuid": instance_uuid})


def by_instance(cur, account_id: int, instance_uuid: str) -> dict | None:
    return one(cur, BY_INSTANCE, {"account_id": account_id, "instance_uuid": instance_uuid})


def instance_state(cur, account_id: int, instance_uuid: str) -> dict:
    return one(cur, INSTANCE_STATE, {"account_id": account_id, "instance_uuid": instance_uuid})


def insert(cur, values: dict) -> int | None:
    row = one(cur, INSERT, values | {"answers": Json(values["answers"])})
    return row["id"] if row else None


def supersede(cur, account_id: int, submission_id: int) -> None:
    cur.execute(SUPERSEDE, {"account_id": account_id, "id": submission_id})


def adopt_early_edits(cur, account_id: int, instance_uuid: str, root_id: int) -> list[int]:
    params = {"account_id": account_id, "instance_uuid": instance_uuid, "root_id": root_id}
    return [row["id"] for row in all_rows(cur, ADOPT_EARLY_EDITS, params)]


def save_file(cur, values: dict) -> None:
    cur.execute(SAVE_FILE, values)


def files(cur, account_id: int, instance_uuid: str) -> list[dict]:
    return all_rows(cur, FILES, {"account_id": account_id, "instance_uuid": instance_uuid})


def quarantine(cur, account_id: int | None, bucket: str, key: str, size: int | None, reason: str) -> None:
    params = {"account_id": account_id, "bucket": bucket, "s3_key": key, "size": size, "reason": reason}
    cur.execute(QUARANTINE, params)


def quarantined(cur, account_id: int, after: int, limit: int) -> list[dict]:
    return all_rows(cur, QUARANTINED, {"account_id": account_id, "after": after, "limit": limit})
