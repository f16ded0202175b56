"""Whole-version operations: copying a version's units and groups, and comparing two versions."""

from chalicelib.platform.db import all_rows, one

MAP_UNITS = """
CREATE TEMP TABLE unit_map ON COMMIT DROP AS
SELECT id AS old_id, nextval('org_units_id_seq') AS new_id
FROM org_units WHERE version_id = %(source)s AND deleted_at IS NULL;
CREATE UNIQUE INDEX ON unit_map (old_id);
ANALYZE unit_map;
"""

# New ids, parents and paths through the map; the uuid stays: it names the unit across versions.
COPY_UNITS = """
INSERT INTO org_units (id, version_id, account_id, uuid, parent_id, org_unit_type_id, name, code, source_ref,
                       aliases, validation_status, location, geom, simplified_geom, opening_date, closed_date,
                       extra_fields, path, depth, created_by, updated_by)
SELECT m.new_id, %(target)s, ou.account_id, ou.uuid, pm.new_id, ou.org_unit_type_id, ou.name, ou.code,
       ou.source_ref, ou.aliases, ou.validation_status, ou.location, ou.geom, ou.simplified_geom,
       ou.opening_date, ou.closed_date, ou.extra_fields,
       (SELECT '/' || string_agg(step.new_id::text, '/' ORDER BY part.ord) || '/'
        FROM unnest(string_to_array(btrim(ou.path, '/'), '/')::bigint[]) WITH ORDINALITY AS part(old_id, ord)
        JOIN unit_map step ON step.old_id = part.old_id),
       ou.depth, %(user_id)s, %(user_id)s
FROM org_units ou
JOIN unit_map m ON m.old_id = ou.id
LEFT JOIN unit_map pm ON pm.old_id = ou.parent_id
WHERE ou.version_id = %(source)s AND ou.deleted_at IS NULL
"""

SOURCE_GROUPS = "SELECT id, name, source_ref FROM groups WHERE version_id = %(source)s ORDER BY id"
INSERT_GROUP = """
INSERT INTO groups (account_id, version_id, name, source_ref)
VALUES (%(account_id)s, %(target)s, %(name)s, %(source_ref)s) RETURNING id
"""
COPY_MEMBERSHIP = """
INSERT INTO org_unit_groups (account_id, version_id, org_unit_id, group_id)
SELECT m.account_id, %(target)s, um.new_id, %(new_group)s
FROM org_unit_groups m JOIN unit_map um ON um.old_id = m.org_unit_id
WHERE m.version_id = %(source)s AND m.group_id = %(old_group)s
"""

# Units of two versions side by side, matched on source_ref; geometries compared by their bytes.
DIFF = """
WITH side AS (
    SELECT ou.version_id, ou.source_ref, ou.name, ou.code, p.source_ref AS parent_ref,
           t.name AS org_unit_type, ou.validation_status, ou.opening_date::text AS opening_date,
           ou.closed_date::text AS closed_date,
           ST_AsText(ou.location, 6) AS location, md5(ST_AsText(ou.geom, 6)) AS territory,
           (SELECT string_agg(g.name, ', ' ORDER BY g.name) FROM org_unit_groups m
            JOIN groups g ON g.id = m.group_id
            WHERE m.version_id = ou.version_id AND m.org_unit_id = ou.id) AS groups
    FROM org_units ou
    LEFT JOIN org_units p ON p.version_id = ou.version_id AND p.id = ou.parent_id
    LEFT JOIN org_unit_types t ON t.id = ou.org_unit_type_id
    WHERE ou.version_id = ANY(%(versions)s) AND ou.deleted_at IS NULL AND ou.source_ref IS NOT NULL
)
SELECT coalesce(a.source_ref, b.source_ref) AS source_ref, row_to_json(a)::jsonb AS before,
       row_to_json(b)::jsonb AS after
FROM (SELECT * FROM side WHERE version_id = %(before)s) a
FULL JOIN (SELECT * FROM side WHERE version_id = %(after)s) b ON a.source_ref = b.source_ref
ORDER BY 1
"""

COMPARED = ("name", "code", "parent_ref", "org_unit_type", "validation_status", "opening_date", "closed_date",
            "location", "territory", "groups")  # fmt: skip


def map_units(cur, source: int) -> int:
    cur.execute(MAP_UNITS, {"source": source})
    return one(cur, "SELECT count(*) AS n FROM unit_map")["n"]


def copy_units(cur, source: int, target: int, user_id: int | None) -> int:
    cur.execute(COPY_UNITS, {"source": source, "target": target, "user_id": user_id})
    return cur.rowcount


def copy_groups(cur, account_id: int, source: int, target: int) -> int:
    groups = all_rows(cur, SOURCE_GROUPS, {"source": source})
    for group in groups:
        values = {
            "account_id": account_id,
            "target": target,
            "name": group["name"],
            "source_ref": group["source_ref"],
        }
        new_group = one(cur, INSERT_GROUP, values)["id"]
        membership = {"target": target, "source": source, "new_group": new_group, "old_group": group["id"]}
        cur.execute(COPY_MEMBERSHIP, membership)
    return len(groups)


def diff_rows(cur, before: int, after: int):
    """Streams (source_ref, before, after) through a server-side cursor: memory stays flat."""
    with cur.connection.cursor(name="version_diff") as stream:
        stream.itersize = 2000
        stream.execute(DIFF, {"versions": [before, after], "before": before, "after": after})
        yield from stream
