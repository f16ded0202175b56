"""dhis2_unit_uids: the DHIS2 uid of each unit a push sends to a connection (migration 0021)."""

from chalicelib.platform.db import all_rows

# Units of the version that match no unit of the mirror (by uuid, else by source_ref) and have no
# uid on this connection yet: the ones a push creates in DHIS2.
WITHOUT_UID = """
SELECT v.uuid::text AS uuid
FROM org_units v
LEFT JOIN org_units m1 ON m1.version_id = %(mirror)s AND m1.uuid = v.uuid AND m1.deleted_at IS NULL
                          AND m1.source_ref IS NOT NULL
LEFT JOIN org_units m2 ON m2.version_id = %(mirror)s AND m2.source_ref = v.source_ref
                          AND m2.deleted_at IS NULL
LEFT JOIN dhis2_unit_uids u ON u.connection_id = %(connection)s AND u.unit_uuid = v.uuid
WHERE v.version_id = %(version)s AND v.deleted_at IS NULL AND m1.id IS NULL AND m2.id IS NULL
  AND u.unit_uuid IS NULL
ORDER BY v.id
"""

# ON CONFLICT: a push running at the same time gave the unit its uid first; theirs stands.
STORE = """
INSERT INTO dhis2_unit_uids (connection_id, account_id, unit_uuid, dhis2_uid)
SELECT %(connection)s, %(account)s, pair.uuid, pair.uid
FROM unnest(%(uuids)s::uuid[], %(uids)s::text[]) AS pair(uuid, uid)
ON CONFLICT DO NOTHING
"""


def units_without_uid(cur, connection_id: int, version_id: int, mirror_id: int) -> list[str]:
    params = {"connection": connection_id, "version": version_id, "mirror": mirror_id}
    return [row["uuid"] for row in all_rows(cur, WITHOUT_UID, params)]


def store(cur, connection_id: int, account_id: int, uuids: list[str], uids: list[str]) -> int:
    params = {"connection": connection_id, "account": account_id, "uuids": uuids, "uids": uids}
    cur.execute(STORE, params)
    return cur.rowcount
