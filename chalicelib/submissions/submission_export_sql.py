"""Streaming a form's submissions out for exports, with their org unit's ancestors."""

from collections.abc import Iterator

from chalicelib.platform.db import all_rows, one, streamed
from chalicelib.submissions.submission_reads_sql import Query

COLUMNS = """
    s.id AS submission_id, s.instance_uuid, v.version AS form_version, s.period, s.validation_status,
    to_json(s.created_at) #>> '{}' AS created_at, s.org_unit_id, ou.name AS org_unit_name,
    ST_Y(s.location) AS latitude, ST_X(s.location) AS longitude, ST_Z(s.location) AS altitude, s.accuracy,
    s.device_id, s.answers,
    (SELECT array_agg(a.name ORDER BY a.depth) FROM org_units a
     WHERE a.version_id = s.org_unit_version_id
       AND a.id = ANY(ancestor_ids(s.org_unit_path))) AS ancestor_names
"""

FROM = """
FROM submissions s
JOIN form_versions v ON v.id = s.form_version_id AND v.account_id = s.account_id
LEFT JOIN org_units ou ON ou.version_id = s.org_unit_version_id AND ou.id = s.org_unit_id
"""

FORM = "SELECT id, name FROM forms WHERE account_id = %(account_id)s AND id = %(id)s AND deleted_at IS NULL"

DESCRIPTORS = """
SELECT descriptor FROM form_versions WHERE account_id = %(account_id)s AND form_id = %(form_id)s
ORDER BY number DESC
"""


def form(cur, account_id: int, form_id: int) -> dict | None:
    return one(cur, FORM, {"account_id": account_id, "id": form_id})


def descriptors(cur, account_id: int, form_id: int) -> list[dict]:
    """The form's versions' descriptors, newest first."""
    return [
        row["descriptor"]
        for row in all_rows(cur, DESCRIPTORS, {"account_id": account_id, "form_id": form_id})
    ]


def count(cur, query: Query) -> int:
    sql = f"SELECT count(*) AS n FROM submissions s WHERE {query.sql_where()}"
    return one(cur, sql, query.params | {"account_id": query.account_id})["n"]


def deepest_unit(cur, query: Query) -> int:
    """How many ancestors the deepest linked unit has: the number of ancestor columns."""
    sql = f"""SELECT coalesce(max(cardinality(ancestor_ids(s.org_unit_path))), 0) AS n
              FROM submissions s WHERE {query.sql_where()}"""
    return one(cur, sql, query.params | {"account_id": query.account_id})["n"]


def submissions(cur, query: Query) -> Iterator[dict]:
    sql = f"SELECT {COLUMNS} {FROM} WHERE {query.sql_where()} ORDER BY s.id"
    yield from streamed(cur, "submission_export", sql, query.params | {"account_id": query.account_id}, 1000)
