"""What a push reads: the units of a version beside their DHIS2 mirror, each with its DHIS2 uid, and
the groups' members on both sides (chalicelib/dhis2/push_task.py)."""

from chalicelib.platform.db import all_rows, one, streamed

# Each unit of the version with its uid: the source_ref of the mirror unit it matches (the same uuid,
# a copy's lineage; else the same source_ref), else the uid a push gave it (dhis2_unit_uids).
_SIDE = """
side AS (
    SELECT v.id, v.uuid, v.depth, v.parent_id, v.name, v.code, v.opening_date, v.closed_date,
           coalesce(v.extra_fields->>'shortName', v.extra_fields->>'short_name') AS short_name,
           ST_AsGeoJSON(coalesce(v.geom, ST_Force2D(v.location)), 6) AS geometry,
           coalesce(m1.id, m2.id) AS mirror_id,
           coalesce(m1.source_ref, m2.source_ref, u.dhis2_uid) AS uid
    FROM org_units v
    LEFT JOIN org_units m1 ON m1.version_id = %(mirror)s AND m1.uuid = v.uuid AND m1.deleted_at IS NULL
                              AND m1.source_ref IS NOT NULL
    LEFT JOIN org_units m2 ON m1.id IS NULL AND m2.version_id = %(mirror)s AND m2.source_ref = v.source_ref
                              AND m2.deleted_at IS NULL
    LEFT JOIN dhis2_unit_uids u ON u.connection_id = %(connection)s AND u.unit_uuid = v.uuid
    WHERE v.version_id = %(version)s AND v.deleted_at IS NULL
)"""

# Parents before children (depth), in a stable order so that a continued push skips what it sent.
PLAN = f"""
WITH {_SIDE}
SELECT s.uuid::text AS uuid, s.uid, s.mirror_id IS NOT NULL AS in_mirror,
       s.name, s.short_name, s.code, s.opening_date::text AS opening_date,
       s.closed_date::text AS closed_date, s.geometry, p.uid AS parent_uid,
       m.name AS m_name,
       coalesce(m.extra_fields->>'shortName', m.extra_fields->>'short_name') AS m_short_name,
       m.code AS m_code, m.opening_date::text AS m_opening_date, m.closed_date::text AS m_closed_date,
       ST_AsGeoJSON(coalesce(m.geom, ST_Force2D(m.location)), 6) AS m_geometry, mp.source_ref AS m_parent_uid
FROM side s
LEFT JOIN side p ON p.id = s.parent_id
LEFT JOIN org_units m ON m.version_id = %(mirror)s AND m.id = s.mirror_id
LEFT JOIN org_units mp ON mp.version_id = %(mirror)s AND mp.id = m.parent_id
ORDER BY s.depth, s.id
"""

# Mirror units no unit of the version matches: deleted here, left alone in DHIS2.
REMOVED = """
SELECT count(*) AS n FROM org_units m
WHERE m.version_id = %(mirror)s AND m.deleted_at IS NULL AND m.source_ref IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM org_units v WHERE v.version_id = %(version)s AND v.deleted_at IS NULL
                  AND v.uuid = m.uuid)
  AND NOT EXISTS (SELECT 1 FROM org_units v WHERE v.version_id = %(version)s AND v.deleted_at IS NULL
                  AND v.source_ref = m.source_ref)
"""

# Groups of the version with their members' uids, beside the same group (source_ref) in the mirror.
GROUPS = f"""
WITH {_SIDE},
here AS (
    SELECT g.source_ref, min(g.name) AS name,
           coalesce(array_agg(s.uid ORDER BY s.uid) FILTER (WHERE s.uid IS NOT NULL), '{{}}') AS members
    FROM groups g
    LEFT JOIN org_unit_groups og ON og.version_id = g.version_id AND og.group_id = g.id
    LEFT JOIN side s ON s.id = og.org_unit_id
    WHERE g.version_id = %(version)s
    GROUP BY g.id, g.source_ref
),
there AS (
    SELECT g.source_ref,
           coalesce(array_agg(ou.source_ref ORDER BY ou.source_ref)
                    FILTER (WHERE ou.source_ref IS NOT NULL), '{{}}') AS members
    FROM groups g
    LEFT JOIN org_unit_groups og ON og.version_id = g.version_id AND og.group_id = g.id
    LEFT JOIN org_units ou ON ou.version_id = g.version_id AND ou.id = og.org_unit_id
                              AND ou.deleted_at IS NULL
    WHERE g.version_id = %(mirror)s AND g.source_ref IS NOT NULL
    GROUP BY g.id, g.source_ref
)
SELECT here.source_ref, here.name, here.members, there.members AS m_members
FROM here LEFT JOIN there ON there.source_ref = here.source_ref
ORDER BY here.name, here.source_ref
"""


def _params(connection_id: int, version_id: int, mirror_id: int) -> dict:
    return {"connection": connection_id, "version": version_id, "mirror": mirror_id}


def plan_rows(cur, connection_id: int, version_id: int, mirror_id: int):
    """Streams the plan through a server-side cursor: memory stays flat on big versions."""
    yield from streamed(cur, "dhis2_push_plan", PLAN, _params(connection_id, version_id, mirror_id), 2000)


def removed_count(cur, version_id: int, mirror_id: int) -> int:
    return one(cur, REMOVED, {"version": version_id, "mirror": mirror_id})["n"]


def group_rows(cur, connection_id: int, version_id: int, mirror_id: int) -> list[dict]:
    return all_rows(cur, GROUPS, _params(connection_id, version_id, mirror_id))


# The import or sync from this connection that last made a version of the source: its mirror.
LAST_MIRROR = """
SELECT r.version_id FROM dhis2_runs r
WHERE r.account_id = %(account)s AND r.connection_id = %(connection)s AND r.data_source_id = %(source)s
  AND r.version_id IS NOT NULL AND r.version_id <> %(version)s
ORDER BY r.id DESC LIMIT 1
"""


def last_mirror(cur, account_id: int, connection_id: int, data_source_id: int, version_id: int) -> int | None:
    params = {"account": account_id, "connection": connection_id, "source": data_source_id}
    found = one(cur, LAST_MIRROR, params | {"version": version_id})
    return found["version_id"] if found else None
