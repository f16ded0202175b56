"""profile_org_units: the subtrees a restricted profile is confined to, by their root units."""

from chalicelib.platform.db import all_rows, one

# Live roots only: a root unit deleted since leaves its profile with nothing under it there.
SUBTREE_ROOTS = """
SELECT ou.version_id, ou.path
FROM profile_org_units r
JOIN org_units ou ON ou.version_id = r.version_id AND ou.id = r.org_unit_id AND ou.deleted_at IS NULL
WHERE r.user_id = %(user_id)s AND r.account_id = %(account_id)s
ORDER BY ou.version_id, ou.path
"""

UNITS_OF_ACCOUNT = """
SELECT id, version_id, path FROM org_units
WHERE version_id = ANY(ARRAY(SELECT id FROM source_versions WHERE account_id = %(account_id)s))
  AND id = ANY(%(ids)s) AND deleted_at IS NULL
"""

SET_RESTRICTED = """
UPDATE profiles SET restricted = %(restricted)s, updated_at = now()
WHERE user_id = %(user_id)s AND account_id = %(account_id)s
"""

CLEAR_RESTRICTIONS = (
    "DELETE FROM profile_org_units WHERE user_id = %(user_id)s AND account_id = %(account_id)s"
)

ADD_RESTRICTION = """
INSERT INTO profile_org_units (user_id, account_id, version_id, org_unit_id)
VALUES (%(user_id)s, %(account_id)s, %(version_id)s, %(org_unit_id)s)
"""

RESTRICTION_IDS = """
SELECT coalesce(array_agg(org_unit_id ORDER BY org_unit_id), '{}') AS ids FROM profile_org_units
WHERE user_id = %(user_id)s AND account_id = %(account_id)s
"""


def subtree_roots(cur, account_id: int, user_id: int) -> list[dict]:
    """(version_id, path) of each live root of a restricted profile."""
    return all_rows(cur, SUBTREE_ROOTS, {"account_id": account_id, "user_id": user_id})


def units_of_account(cur, account_id: int, ids: list[int]) -> list[dict]:
    return all_rows(cur, UNITS_OF_ACCOUNT, {"account_id": account_id, "ids": ids})


def set_restrictions(cur, account_id: int, user_id: int, units: list[dict]) -> None:
    """Restricts the profile to these units' subtrees; none lifts the restriction."""
    params = {"account_id": account_id, "user_id": user_id}
    cur.execute(CLEAR_RESTRICTIONS, params)
    cur.execute(SET_RESTRICTED, params | {"restricted": bool(units)})
    for unit in units:
        cur.execute(ADD_RESTRICTION, params | {"version_id": unit["version_id"], "org_unit_id": unit["id"]})


def restriction_ids(cur, account_id: int, user_id: int) -> list[int]:
    return one(cur, RESTRICTION_IDS, {"account_id": account_id, "user_id": user_id})["ids"]
