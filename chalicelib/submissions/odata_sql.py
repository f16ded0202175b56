"""The Submissions feed of a form as ODK Central serves it (OData), and a `$filter` tree in SQL.

Rows come newest first, as Central orders them: by the first version's submission time, then id.
`submissionDate` is the first version's (an edit keeps it), to the millisecond as Central keeps it;
`updatedAt` is null until the submission changes. The WHERE clause is submission_reads_sql.Query's
(account, current versions, the caller's subtrees, the form), with the feed's own clauses added.
"""

import datetime

from chalicelib.platform import problems
from chalicelib.platform.db import all_rows, one
from chalicelib.submissions.odata_filter import FIELDS
from chalicelib.submissions.submission_reads_sql import Query

SUBMITTED = "coalesce(r.created_at, s.created_at)"
EXPRESSIONS = {
    "__id": "coalesce(r.instance_uuid, s.instance_uuid)",  # an edited submission keeps its first id
    "__system/submissionDate": f"date_trunc('milliseconds', {SUBMITTED})",
    "__system/updatedAt": "CASE WHEN s.updated_at > s.created_at OR s.root_id IS NOT NULL "
    "THEN date_trunc('milliseconds', s.updated_at) END",
    "__system/submitterId": "s.created_by::text",
    "__system/reviewState": "CASE s.validation_status WHEN 'APPROVED' THEN 'approved' "
    "WHEN 'REJECTED' THEN 'rejected' END",
    "__system/deletedAt": "date_trunc('milliseconds', s.deleted_at)",
}
OPERATORS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}
FROM = """
FROM submissions s
JOIN form_versions v ON v.id = s.form_version_id AND v.account_id = s.account_id
LEFT JOIN submissions r ON r.id = s.root_id AND r.account_id = s.account_id
LEFT JOIN users u ON u.id = s.created_by
"""
COLUMNS = f"""
    s.id, s.instance_uuid, r.instance_uuid AS root_uuid, s.answers, s.device_id, s.created_by,
    u.full_name AS submitter_name,
    {EXPRESSIONS["__system/submissionDate"]} AS submission_date,
    {EXPRESSIONS["__system/updatedAt"]} AS updated_at,
    {EXPRESSIONS["__system/reviewState"]} AS review_state,
    {EXPRESSIONS["__system/deletedAt"]} AS deleted_at,
    v.version AS form_version,
    (SELECT count(*) FROM submissions e
     WHERE e.account_id = s.account_id AND e.root_id = coalesce(s.root_id, s.id)) AS edits,
    coalesce((SELECT array_agg(f.name ORDER BY f.name) FROM submission_files f
              WHERE f.account_id = s.account_id AND f.instance_uuid = s.instance_uuid), '{{}}') AS file_names
"""
# Where a $skiptoken's submission sits in the order (deleted or not, as Central finds it).
CURSOR = f"""
SELECT {SUBMITTED} AS submitted, s.id {FROM}
WHERE s.account_id = %(account_id)s AND s.form_id = %(form_id)s AND s.is_current
  AND {EXPRESSIONS["__id"]} = %(instance_uuid)s
"""
INSTANCE_IS = f"{EXPRESSIONS['__id']} = %(instance_uuid)s"
PROJECT_IS = "s.project_id = %(project_id)s"
NOT_DELETED = "s.deleted_at IS NULL"
AFTER_CURSOR = f"({SUBMITTED}, s.id) < (%(cursor_submitted)s, %(cursor_id)s)"


def compile_filter(query: Query, tree) -> None:
    """Adds the tree's condition to the query, its literals as parameters."""
    if tree is not None:
        query.where(_sql(tree, query.params))


def _sql(node, params: dict) -> str:
    kind = node[0]
    if kind in ("and", "or"):
        return f"({_sql(node[1], params)} {kind.upper()} {_sql(node[2], params)})"
    if kind == "not":
        return f"(NOT {_sql(node[1], params)})"
    _, operator, left, right = node
    field_kind = _field_kind(left) or _field_kind(right)
    left_sql, right_sql = _operand(left, params, field_kind), _operand(right, params, field_kind)
    if operator in ("eq", "ne"):
        if "NULL" in (left_sql, right_sql):
            other = right_sql if left_sql == "NULL" else left_sql
            test = "TRUE" if other == "NULL" else f"{other} IS NULL"
        else:
            test = f"{left_sql} IS NOT DISTINCT FROM {right_sql}"
        return f"({test})" if operator == "eq" else f"(NOT ({test}))"
    return f"({left_sql} {OPERATORS[operator]} {right_sql})"


def _field_kind(node) -> str | None:
    if node[0] == "field":
        return FIELDS[node[1]]
    return "number" if node[0] == "call" and node[1] != "now" else "time" if node[0] == "call" else None


def _operand(node, params: dict, kind: str | None) -> str:
    if node[0] == "field":
        return EXPRESSIONS[node[1]]
    if node[0] == "call":
        if node[1] == "now":
            return "now()"
        if node[2][0] != "field" or _field_kind(node[2]) != "time":
            raise problems.invalid_parameter("$filter", f"{node[1]}() takes a date field")
        return f"extract({node[1]} FROM {EXPRESSIONS[node[2][1]]} AT TIME ZONE 'UTC')"
    value = node[1]
    if value is None:
        return "NULL"
    name = f"odata_{len(params)}"
    params[name] = _literal(value, kind)
    return f"%({name})s"


def _literal(value, kind: str | None):
    if kind == "time":
        if isinstance(value, datetime.datetime):
            return value
        if isinstance(value, str):
            try:
                moment = datetime.datetime.fromisoformat(value)
            except ValueError:
                pass
            else:
                return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)
        raise problems.invalid_parameter("$filter", f"compares a date with {value!r}, which is not one")
    if kind == "number":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        raise problems.invalid_parameter("$filter", f"compares a number with {value!r}")
    if isinstance(value, datetime.datetime):
        raise problems.invalid_parameter("$filter", f"compares a text field with {value.isoformat()}")
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return text.removeprefix("uuid:")


def cursor(cur, account_id: int, form_id: int, instance_uuid: str) -> dict | None:
    return one(cur, CURSOR, {"account_id": account_id, "form_id": form_id, "instance_uuid": instance_uuid})


def count(cur, query: Query) -> int:
    sql = f"SELECT count(*) AS n {FROM} WHERE {query.sql_where()}"
    return one(cur, sql, query.params | {"account_id": query.account_id})["n"]


def page(cur, query: Query, offset: int, limit: int | None) -> list[dict]:
    sql = f"""
        SELECT {COLUMNS} {FROM}
        WHERE {query.sql_where()}
        ORDER BY {SUBMITTED} DESC, s.id DESC
        OFFSET %(offset)s LIMIT %(limit)s
    """
    params = query.params | {"account_id": query.account_id, "offset": offset, "limit": limit}
    return all_rows(cur, sql, params)
