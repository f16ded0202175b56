"""The submissions a data-value mapping sends, with each one's unit uid and last export, and the
export statuses (dhis2_data_exports) a run records."""

from chalicelib.platform.db import Json, all_rows, one

UID_PATTERN = "^[A-Za-z][A-Za-z0-9]{10}$"

# A unit's DHIS2 uid on the connection: the one a push gave it (dhis2_unit_uids), else its source_ref
# when that is a DHIS2 uid (units imported from DHIS2 keep their uid there). `latest_id` is the newest
# submission of the form for the same unit and period: an older one is superseded, not sent.
SUBMISSIONS = f"""
SELECT s.id, s.period, s.answers, s.org_unit_id, s.validation_status,
       coalesce(u.dhis2_uid,
                CASE WHEN ou.source_ref ~ '{UID_PATTERN}' THEN ou.source_ref END) AS org_unit_uid,
       e.status AS last_status, e.sent_hash AS last_hash,
       (SELECT max(o.id) FROM submissions o
        WHERE o.account_id = s.account_id AND o.form_id = s.form_id AND o.is_current AND o.deleted_at IS NULL
          AND o.org_unit_id = s.org_unit_id AND o.period = s.period
          AND (%(version_id)s::bigint IS NULL OR o.form_version_id = %(version_id)s)
          AND o.validation_status = ANY(%(statuses)s)) AS latest_id
FROM submissions s
LEFT JOIN org_units ou ON ou.version_id = s.org_unit_version_id AND ou.id = s.org_unit_id
LEFT JOIN dhis2_unit_uids u ON u.connection_id = %(connection_id)s AND u.unit_uuid = ou.uuid
LEFT JOIN dhis2_data_exports e ON e.mapping_id = %(mapping_id)s AND e.submission_id = s.id
WHERE s.account_id = %(account_id)s AND s.form_id = %(form_id)s AND s.is_current AND s.deleted_at IS NULL
  AND (%(version_id)s::bigint IS NULL OR s.form_version_id = %(version_id)s)
  AND s.validation_status = ANY(%(statuses)s)
  AND s.id > %(after)s
ORDER BY s.id
LIMIT %(limit)s
"""

COUNT = """
SELECT count(*) AS n FROM submissions s
WHERE s.account_id = %(account_id)s AND s.form_id = %(form_id)s AND s.is_current AND s.deleted_at IS NULL
  AND (%(version_id)s::bigint IS NULL OR s.form_version_id = %(version_id)s)
  AND s.validation_status = ANY(%(statuses)s)
"""

RECORD = """
INSERT INTO dhis2_data_exports (account_id, mapping_id, submission_id, status, message, sent_hash,
                                value_count, task_id)
SELECT %(account_id)s, %(mapping_id)s, r.submission_id, r.status, r.message, r.sent_hash, r.value_count,
       %(task_id)s
FROM jsonb_to_recordset(%(rows)s) AS r(submission_id bigint, status text, message text, sent_hash text,
                                       value_count integer)
ON CONFLICT (mapping_id, submission_id) DO UPDATE SET
    status = EXCLUDED.status, message = EXCLUDED.message, sent_hash = EXCLUDED.sent_hash,
    value_count = EXCLUDED.value_count, task_id = EXCLUDED.task_id, updated_at = now()
"""

EXPORTS = """
SELECT e.submission_id, e.status, e.message, e.value_count, e.task_id, e.updated_at
FROM dhis2_data_exports e
WHERE e.mapping_id = %(mapping_id)s AND e.account_id = %(account_id)s
  AND (%(status)s::text IS NULL OR e.status = %(status)s) AND e.submission_id > %(after)s
ORDER BY e.submission_id
LIMIT %(limit)s
"""

RUNS = """
SELECT id FROM tasks
WHERE account_id = %(account_id)s AND kind = %(kind)s AND params->>'mapping_id' = %(mapping_id)s::text
  AND id < %(before)s
ORDER BY id DESC
LIMIT %(limit)s
"""


def _scope(mapping: dict) -> dict:
    statuses = ["APPROVED"] if mapping["approved_only"] else ["PENDING", "APPROVED"]
    return {"account_id": mapping["account_id"], "form_id": mapping["form_id"],
            "version_id": mapping["form_version_id"], "statuses": statuses}  # fmt: skip


def submissions(cur, mapping: dict, after: int, limit: int) -> list[dict]:
    params = _scope(mapping) | {"connection_id": mapping["connection_id"], "mapping_id": mapping["id"]}
    return all_rows(cur, SUBMISSIONS, params | {"after": after, "limit": limit})


def count(cur, mapping: dict) -> int:
    return one(cur, COUNT, _scope(mapping))["n"]


def record(cur, mapping: dict, task_id: int, rows: list[dict]) -> None:
    """rows: [{submission_id, status, message, sent_hash, value_count}]"""
    if rows:
        params = {"account_id": mapping["account_id"], "mapping_id": mapping["id"], "task_id": task_id}
        cur.execute(RECORD, params | {"rows": Json(rows)})


def exports(
    cur, account_id: int, mapping_id: int, status: str | None, after: int | None, limit: int
) -> list[dict]:
    params = {"mapping_id": mapping_id, "account_id": account_id, "status": status}
    return all_rows(cur, EXPORTS, params | {"after": after or 0, "limit": limit})


def run_ids(cur, account_id: int, kind: str, mapping_id: int, before: int | None, limit: int) -> list[int]:
    params = {"account_id": account_id, "kind": kind, "mapping_id": mapping_id}
    rows = all_rows(cur, RUNS, params | {"before": before or 2**62, "limit": limit})
    return [row["id"] for row in rows]
