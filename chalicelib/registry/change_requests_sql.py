"""org_unit_change_requests: proposed values for a unit (or a proposed new unit), and their review."""

from chalicelib.platform.db import all_rows, one
from chalicelib.platform.jsonutil import jsonb

COLUMNS = """
    cr.id, cr.account_id, cr.version_id, cr.org_unit_id, ou.name AS org_unit_name, ou.path,
    cr.proposed, cr.creates_unit, cr.status, cr.approved_fields, cr.rejection_reason,
    cr.created_by, cu.email AS created_by_email, cr.reviewed_by, ru.email AS reviewed_by_email,
    cr.created_at, cr.reviewed_at
"""
FROM = """
FROM org_unit_change_requests cr
JOIN org_units ou ON ou.version_id = cr.version_id AND ou.id = cr.org_unit_id
LEFT JOIN users cu ON cu.id = cr.created_by
LEFT JOIN users ru ON ru.id = cr.reviewed_by
"""

INSERT = """
INSERT INTO org_unit_change_requests (account_id, version_id, org_unit_id, proposed, creates_unit, created_by)
VALUES (%(account_id)s, %(version_id)s, %(org_unit_id)s, %(proposed)s, %(creates_unit)s, %(created_by)s)
RETURNING id
"""

REVIEW = """
UPDATE org_unit_change_requests SET
    status = %(status)s, approved_fields = %(approved_fields)s, rejection_reason = %(reason)s,
    reviewed_by = %(reviewer)s, reviewed_at = now()
WHERE account_id = %(account_id)s AND id = %(id)s AND status = 'new'
RETURNING id
"""


def create(cur, account_id: int, version_id: int, org_unit_id: int, proposed: dict, creates_unit: bool,
           created_by: int) -> int:  # fmt: skip
    params = {"account_id": account_id, "version_id": version_id, "org_unit_id": org_unit_id}
    params |= {"proposed": jsonb(proposed), "creates_unit": creates_unit, "created_by": created_by}
    return one(cur, INSERT, params)["id"]


def get(cur, account_id: int, request_id: int) -> dict | None:
    return one(cur, f"SELECT {COLUMNS} {FROM} WHERE cr.account_id = %(account_id)s AND cr.id = %(id)s",
               {"account_id": account_id, "id": request_id})  # fmt: skip


def list_page(cur, account_id: int, status: str | None, unit_id: int | None,
              roots: list[tuple[int, str]] | None, after: int | None, limit: int) -> list[dict]:  # fmt: skip
    """`roots`: the (version id, path) of each subtree a restricted profile sees; None: everywhere."""
    clauses, params = [], {}
    if status:
        clauses.append("cr.status = %(status)s")
        params["status"] = status
    if unit_id:
        clauses.append("cr.org_unit_id = %(unit_id)s")
        params["unit_id"] = unit_id
    if roots is not None:
        clauses.append(_under_roots(roots))
        params |= {f"rv{i}": version_id for i, (version_id, _) in enumerate(roots)}
        params |= {f"rp{i}": path + "%" for i, (_, path) in enumerate(roots)}
    where = " AND ".join(["cr.account_id = %(account_id)s", "cr.id > %(after)s", *clauses])
    sql = f"SELECT {COLUMNS} {FROM} WHERE {where} ORDER BY cr.id LIMIT %(limit)s"
    return all_rows(cur, sql, params | {"account_id": account_id, "after": after or 0, "limit": limit})


def _under_roots(roots: list[tuple[int, str]]) -> str:
    if not roots:
        return "false"
    alternatives = [f"(cr.version_id = %(rv{i})s AND ou.path LIKE %(rp{i})s)" for i in range(len(roots))]
    return "(" + " OR ".join(alternatives) + ")"


def review(cur, account_id: int, request_id: int, status: str, approved_fields: list[str], reason: str | None,
           reviewer: int) -> bool:  # fmt: skip
    params = {
        "account_id": account_id,
        "id": request_id,
        "status": status,
        "approved_fields": approved_fields,
    }
    return one(cur, REVIEW, params | {"reason": reason, "reviewer": reviewer}) is not None
