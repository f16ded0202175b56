"""Reading submissions: a list query of fixed clauses, paged by id, and a submission's versions."""

from dataclasses import dataclass, field

from chalicelib.platform.db import all_rows

COLUMNS = """
    s.id, s.account_id, s.project_id, s.form_id, s.form_version_id, v.version AS form_version,
    v.number AS form_version_number, u.email AS created_by_email,
    s.instance_uuid, s.root_id, s.deprecated_uuid, s.is_current, s.org_unit_id, s.org_unit_version_id,
    s.org_unit_path, s.period, s.validation_status, s.review_comment,
    ST_X(s.location) AS longitude, ST_Y(s.location) AS latitude, ST_Z(s.location) AS altitude, s.accuracy,
    s.started_at, s.ended_at, s.device_id, s.created_by, s.created_at, s.updated_at, s.deleted_at
"""

FROM = """
FROM submissions s
JOIN form_versions v ON v.id = s.form_version_id AND v.account_id = s.account_id
LEFT JOIN users u ON u.id = s.created_by
"""

# The names of a page's units, read apart with the versions as constants: joined in the list query,
# org_units (partitioned by version) would be planned over every version of every account.
UNIT_NAMES = """
SELECT version_id, id, name FROM org_units WHERE version_id = ANY(%(versions)s) AND id = ANY(%(ids)s)
"""

VERSIONS = """
SELECT id, instance_uuid, deprecated_uuid, is_current, created_at FROM submissions
WHERE account_id = %(account_id)s AND (id = %(root_id)s OR root_id = %(root_id)s)
ORDER BY id
"""


@dataclass
class Query:
    account_id: int
    deleted: bool | None = False  # None: deleted or not
    current_only: bool = True  # False: older versions of edited submissions too
    clauses: list[str] = field(default_factory=list)
    params: dict = field(default_factory=dict)

    def where(self, clause: str, **params) -> None:
        self.clauses.append(clause)
        self.params.update(params)

    def under_any(self, paths: list[str]) -> None:
        """Only submissions linked to a unit under one of these paths (none: no submission)."""
        if not paths:
            self.where("false")
            return
        alternatives = " OR ".join(f"s.org_unit_path LIKE %(root_{i})s" for i in range(len(paths)))
        self.where(f"({alternatives})", **{f"root_{i}": f"{path}%" for i, path in enumerate(paths)})

    def sql_where(self) -> str:
        clauses = ["s.account_id = %(account_id)s"] + (["s.is_current"] if self.current_only else [])
        if self.deleted is not None:
            clauses.append("s.deleted_at IS NOT NULL" if self.deleted else "s.deleted_at IS NULL")
        return " AND ".join(clauses + self.clauses)


# Filters for Query.where (submission_rules), each with the parameter it names.
FORM_IS = "s.form_id = %(form_id)s"
UNDER_UNIT = "s.org_unit_path LIKE %(unit_path)s"
PERIOD_IS = "s.period = %(period)s"
CREATED_FROM = "s.created_at >= %(created_from)s"
CREATED_BEFORE = "s.created_at < %(created_to)s"
STATUS_IS = "s.validation_status = %(status)s"
HAS_LOCATION = "(s.location IS NOT NULL) = %(has_location)s"
ID_IS = "s.id = %(id)s"


def list_page(cur, query: Query, after: int, limit: int, with_answers: bool = False) -> list[dict]:
    answers = ", s.answers" if with_answers else ""
    sql = f"""
        SELECT {COLUMNS}{answers}
        {FROM}
        WHERE {query.sql_where()} AND s.id > %(after)s
        ORDER BY s.id
        LIMIT %(limit)s
    """
    rows = all_rows(cur, sql, query.params | {"account_id": query.account_id, "after": after, "limit": limit})
    return _with_unit_names(cur, rows)


def _with_unit_names(cur, rows: list[dict]) -> list[dict]:
    linked = [row for row in rows if row["org_unit_id"] is not None]
    names = {}
    if linked:
        params = {"versions": sorted({row["org_unit_version_id"] for row in linked}),
                  "ids": [row["org_unit_id"] for row in linked]}  # fmt: skip
        names = {(unit["version_id"], unit["id"]): unit["name"] for unit in all_rows(cur, UNIT_NAMES, params)}
    for row in rows:
        row["org_unit_name"] = names.get((row["org_unit_version_id"], row["org_unit_id"]))
    return rows


def versions(cur, account_id: int, root_id: int) -> list[dict]:
    return all_rows(cur, VERSIONS, {"account_id": account_id, "root_id": root_id})
