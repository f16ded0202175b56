"""org_units: reads that return everything a page needs in one query, and the writes.

Every query names its version, so PostgreSQL reads only that version's partition. Geometries come
out as GeoJSON text (RFC 7946, 6 decimals) only when asked for; coordinates of points always do.
"""

from dataclasses import dataclass, field

from chalicelib.platform.db import all_rows, one

GEOMETRY_COLUMNS = """,
    ST_AsGeoJSON(ou.location, 6) AS location_geojson,
    ST_AsGeoJSON(ou.geom, 6) AS geom_geojson
"""

COLUMNS = """
    ou.id, ou.uuid, ou.version_id, ou.account_id, ou.parent_id, p.name AS parent_name,
    ou.org_unit_type_id, t.name AS org_unit_type_name, ou.name, ou.code, ou.source_ref, ou.aliases,
    ou.validation_status, ou.opening_date, ou.closed_date, ou.extra_fields, ou.depth, ou.path,
    ST_X(ou.location) AS longitude, ST_Y(ou.location) AS latitude, ST_Z(ou.location) AS altitude,
    ou.geom IS NOT NULL AS has_territory,
    coalesce((SELECT array_agg(m.group_id ORDER BY m.group_id) FROM org_unit_groups m
              WHERE m.version_id = ou.version_id AND m.org_unit_id = ou.id), '{}') AS group_ids,
    ou.created_at, ou.updated_at, ou.created_by, ou.updated_by, ou.deleted_at
"""

# What the mobile app gets (mobile.FIELDS), and no more: a sync page is 100 units, often.
MOBILE_COLUMNS = """
    ou.id, ou.uuid, ou.version_id, ou.parent_id, ou.org_unit_type_id, t.name AS org_unit_type_name, ou.name,
    ou.code, ou.source_ref, ou.validation_status, ou.opening_date, ou.closed_date, ou.depth, ou.path,
    ST_X(ou.location) AS longitude, ST_Y(ou.location) AS latitude, ST_Z(ou.location) AS altitude,
    coalesce((SELECT array_agg(m.group_id ORDER BY m.group_id) FROM org_unit_groups m
              WHERE m.version_id = ou.version_id AND m.org_unit_id = ou.id), '{}') AS group_ids,
    ou.updated_at, ou.deleted_at
"""

FROM = """
FROM org_units ou
LEFT JOIN org_unit_types t ON t.id = ou.org_unit_type_id
LEFT JOIN org_units p ON p.version_id = ou.version_id AND p.id = ou.parent_id
"""

INSERT = """
WITH new AS (SELECT nextval('org_units_id_seq') AS id)
INSERT INTO org_units (id, version_id, account_id, parent_id, org_unit_type_id, name, code, source_ref,
                       aliases, validation_status, opening_date, closed_date, extra_fields, path, depth,
                       location, geom, simplified_geom, created_by, updated_by)
SELECT new.id, %(version_id)s, %(account_id)s, %(parent_id)s, %(org_unit_type_id)s, %(name)s, %(code)s,
       %(source_ref)s, %(aliases)s, %(validation_status)s, %(opening_date)s, %(closed_date)s,
       %(extra_fields)s, %(parent_path)s || new.id || '/', %(depth)s,
       ST_Force3D(ST_SetSRID(ST_GeomFromWKB(%(location_wkb)s), 4326)),
       ST_Multi(ST_SetSRID(ST_GeomFromWKB(%(geom_wkb)s), 4326)),
       ST_Multi(ST_SimplifyPreserveTopology(ST_SetSRID(ST_GeomFromWKB(%(geom_wkb)s), 4326), 0.0005)),
       %(user_id)s, %(user_id)s
FROM new
RETURNING id
"""

# Plain columns a PATCH may set; geometry and path have their own statements.
UPDATABLE = ("name", "code", "source_ref", "aliases", "validation_status", "opening_date", "closed_date",
             "extra_fields", "org_unit_type_id")  # fmt: skip

SET_LOCATION = """
UPDATE org_units SET location = ST_Force3D(ST_SetSRID(ST_GeomFromWKB(%(wkb)s), 4326)),
    updated_at = now(), updated_by = %(user_id)s
WHERE version_id = %(version_id)s AND id = %(id)s
"""
SET_GEOM = """
UPDATE org_units SET
    geom = ST_Multi(ST_SetSRID(ST_GeomFromWKB(%(wkb)s), 4326)),
    simplified_geom = ST_Multi(
        ST_SimplifyPreserveTopology(ST_SetSRID(ST_GeomFromWKB(%(wkb)s), 4326), 0.0005)),
    updated_at = now(), updated_by = %(user_id)s
WHERE version_id = %(version_id)s AND id = %(id)s
"""

# One statement moves a unit and its whole subtree: new paths, depths, and the unit's parent; where
# each was is kept in org_unit_moves (mobile sync's tombstones for phones the subtree leaves).
MOVE_SUBTREE = """
WITH moved AS (
    UPDATE org_units SET
        path = %(new_path)s || substr(path, length(%(old_path)s) + 1),
        depth = depth + %(depth_change)s,
        parent_id = CASE WHEN id = %(id)s THEN %(parent_id)s ELSE parent_id END,
        updated_at = now(),
        updated_by = CASE WHEN id = %(id)s THEN %(user_id)s ELSE updated_by END
    WHERE version_id = %(version_id)s AND path LIKE %(old_path)s || '%%' AND deleted_at IS NULL
    RETURNING version_id, account_id, id, path
)
INSERT INTO org_unit_moves (version_id, account_id, org_unit_id, old_path, new_path)
SELECT version_id, account_id, id, %(old_path)s || substr(path, length(%(new_path)s) + 1), path FROM moved
"""

SOFT_DELETE = """
UPDATE org_units SET deleted_at = now(), updated_at = now(), updated_by = %(user_id)s
WHERE version_id = %(version_id)s AND id = %(id)s AND deleted_at IS NULL
"""

HAS_CHILDREN = """
SELECT EXISTS (SELECT 1 FROM org_units
               WHERE version_id = %(version_id)s AND parent_id = %(id)s AND deleted_at IS NULL) AS has
"""

HAS_SUBMISSIONS = """
SELECT EXISTS (SELECT 1 FROM submissions
               WHERE org_unit_version_id = %(version_id)s AND org_unit_id = %(id)s
                 AND deleted_at IS NULL) AS has
"""

LOCATE_VERSION = """
SELECT version_id FROM org_units
WHERE version_id = ANY(%(version_ids)s) AND id = %(id)s AND deleted_at IS NULL
"""

PATHS_OF = """
SELECT id, version_id, path FROM org_units
WHERE version_id = ANY(%(version_ids)s) AND id = ANY(%(ids)s) AND deleted_at IS NULL
"""


@dataclass
class Query:
    """A list query: WHERE clauses with named parameters, composed by the caller from fixed SQL."""

    version_id: int | None  # None: the account has no version yet, so the query matches nothing
    clauses: list[str] = field(default_factory=list)
    params: dict = field(default_factory=dict)
    include_deleted: bool = False  # mobile sync sends deleted units as tombstones
    # A selective filter with its own index (name prefix, subtree): collect its matches first rather
    # than let the planner walk every id in order hoping to meet the page (a 220 ms miss at 1M units).
    narrow: bool = False

    def where(self, clause: str, **params) -> None:
        self.clauses.append(clause)
        self.params.update(params)

    def under_any(self, paths: tuple[str, ...]) -> None:
        """Only units under one of these paths (none: no unit)."""
        if not paths:
            self.where("false")
            return
        alternatives = " OR ".join(f"ou.path LIKE %(scope_{i})s" for i in range(len(paths)))
        self.where(f"({alternatives})", **{f"scope_{i}": f"{path}%" for i, path in enumerate(paths)})

    def under_any_or_moved_out(self, paths: tuple[str, ...], since) -> None:
        """`under_any`, and the units that moved out from under those paths since `since`."""
        roots = {f"scope_{i}": f"{path}%" for i, path in enumerate(paths)}
        inside = " OR ".join(f"ou.path LIKE %({name})s" for name in roots)
        was_inside = " OR ".join(f"m.old_path LIKE %({name})s" for name in roots)
        self.where(
            f"(({inside}) OR EXISTS (SELECT 1 FROM org_unit_moves m WHERE m.version_id = ou.version_id"
            f" AND m.org_unit_id = ou.id AND m.moved_at >= %(moved_since)s AND ({was_inside})))",
            moved_since=since,
            **roots,
        )

    def sql_where(self) -> str:
        if self.version_id is None:
            return "false"
        alive = [] if self.include_deleted else ["ou.deleted_at IS NULL"]
        return " AND ".join(["ou.version_id = %(version_id)s", *alive, *self.clauses])


# Filters for Query.where (unit_filters, units.locate), each with the parameters it names.
NAME_MATCHES = "search_text(ou.name) LIKE search_text(%(search)s)"
REF_IN = "ou.source_ref = ANY(%(refs)s)"
CODE_IN = "ou.code = ANY(%(codes)s)"
ID_IN = "ou.id = ANY(%(ids)s)"
TYPE_IN = "ou.org_unit_type_id = ANY(%(types)s)"
PARENT_IS = "ou.parent_id = %(parent)s"
IS_ROOT = "ou.parent_id IS NULL"
BELOW = "ou.path LIKE %(descendants)s AND ou.path <> %(ancestor_path)s"
IN_GROUPS = (
    "EXISTS (SELECT 1 FROM org_unit_groups m"
    " WHERE m.version_id = ou.version_id AND m.org_unit_id = ou.id AND m.group_id = ANY(%(groups)s))"
)
STATUS_IN = "ou.validation_status = ANY(%(statuses)s)"
IN_BBOX = (
    "(ou.location && ST_MakeEnvelope(%(west)s, %(south)s, %(east)s, %(north)s, 4326)"
    " OR ou.geom && ST_MakeEnvelope(%(west)s, %(south)s, %(east)s, %(north)s, 4326))"
)
HAS_GEOMETRY = "(ou.location IS NOT NULL OR ou.geom IS NOT NULL) = %(has_geometry)s"
OPEN_AT = (
    "(ou.opening_date IS NULL OR ou.opening_date <= %(open_at)s)"
    " AND (ou.closed_date IS NULL OR ou.closed_date > %(open_at)s)"
)
CLOSED_BY = "ou.closed_date <= %(closed_at)s"
CONTAINS_POINT = (
    "ou.geom && ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)"
    " AND ST_Intersects(ou.geom, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326))"
)


def _page_of_units(columns: str, page: str, order: str, with_parent: bool = True) -> str:
    """The page's ids first (an index-only walk), then the joins for those rows only: joining every
    match before LIMIT cost 8 ms for a district's 1,800 descendants (bench/README.md)."""
    parent = (
        "LEFT JOIN org_units p ON p.version_id = ou.version_id AND p.id = ou.parent_id" if with_parent else ""
    )
    return f"""
        SELECT {columns}
        FROM ({page}) page
        JOIN org_units ou ON ou.version_id = %(version_id)s AND ou.id = page.id
        LEFT JOIN org_unit_types t ON t.id = ou.org_unit_type_id
        {parent}
        ORDER BY {order}
    """


def select(query: Query, with_geometry: bool, after: int | None, limit: int) -> tuple[str, dict]:
    columns = COLUMNS + (GEOMETRY_COLUMNS if with_geometry else "")
    where = f"{query.sql_where()} AND ou.id > %(after)s"
    page = f"SELECT ou.id FROM org_units ou WHERE {where} ORDER BY ou.id LIMIT %(limit)s"
    if query.narrow:
        matches = f"SELECT ou.id FROM org_units ou WHERE {where}"
        page = f"WITH matches AS MATERIALIZED ({matches}) SELECT id FROM matches ORDER BY id LIMIT %(limit)s"
    sql = _page_of_units(columns, page, "ou.id")
    return sql, query.params | {"version_id": query.version_id, "after": after or 0, "limit": limit}


def changed_since(cur, query: Query, since, after_id: int, limit: int) -> list[dict]:
    """Units (deleted ones included) changed after (since, after_id), oldest change first."""
    where = f"{query.sql_where()} AND (ou.updated_at, ou.id) > (%(since)s, %(after_id)s)"
    page = f"SELECT ou.id FROM org_units ou WHERE {where} ORDER BY ou.updated_at, ou.id LIMIT %(limit)s"
    sql = _page_of_units(MOBILE_COLUMNS, page, "ou.updated_at, ou.id", with_parent=False)
    params = {"version_id": query.version_id, "since": since, "after_id": after_id, "limit": limit}
    return all_rows(cur, sql, query.params | params)


def list_page(cur, query: Query, with_geometry: bool, after: int | None, limit: int) -> list[dict]:
    sql, params = select(query, with_geometry, after, limit)
    return all_rows(cur, sql, params)


def count(cur, query: Query) -> int:
    sql = f"SELECT count(*) AS n FROM org_units ou WHERE {query.sql_where()}"
    return one(cur, sql, query.params | {"version_id": query.version_id})["n"]


def get(cur, version_id: int, unit_id: int, with_geometry: bool = True) -> dict | None:
    query = Query(version_id)
    query.where("ou.id = %(id)s", id=unit_id)
    rows = list_page(cur, query, with_geometry, None, 1)
    return rows[0] if rows else None


def ancestors(cur, version_id: int, path: str) -> list[dict]:
    """The units above `path`, root first (ids read from the path itself: no recursion)."""
    ids = [int(part) for part in path.strip("/").split("/")[:-1]]
    if not ids:
        return []
    query = Query(version_id)
    query.where("ou.id = ANY(%(ancestor_ids)s)", ancestor_ids=ids)
    rows = list_page(cur, query, False, None, len(ids))
    return sorted(rows, key=lambda row: row["depth"])


def version_of(cur, version_ids: list[int], unit_id: int) -> int | None:
    row = one(cur, LOCATE_VERSION, {"version_ids": version_ids, "id": unit_id})
    return row["version_id"] if row else None


def insert(cur, values: dict) -> int:
    return one(cur, INSERT, values)["id"]


def update_columns(cur, version_id: int, unit_id: int, changes: dict, user_id: int) -> None:
    names = [name for name in changes if name in UPDATABLE]
    if not names:
        return
    assignments = ", ".join(f"{name} = %({name})s" for name in names)
    sql = f"""
        UPDATE org_units SET {assignments}, updated_at = now(), updated_by = %(user_id)s
        WHERE version_id = %(version_id)s AND id = %(id)s
    """
    cur.execute(
        sql,
        {name: changes[name] for name in names}
        | {"version_id": version_id, "id": unit_id, "user_id": user_id},
    )


def set_location(cur, version_id: int, unit_id: int, wkb: bytes | None, user_id: int) -> None:
    cur.execute(SET_LOCATION, {"version_id": version_id, "id": unit_id, "wkb": wkb, "user_id": user_id})


def set_geom(cur, version_id: int, unit_id: int, wkb: bytes | None, user_id: int) -> None:
    cur.execute(SET_GEOM, {"version_id": version_id, "id": unit_id, "wkb": wkb, "user_id": user_id})


def lock_tree(cur, version_id: int) -> None:
    """Serialises what reads paths to write paths in a version (creates, moves, imports) until commit;
    plain edits and reads do not wait for it."""
    cur.execute("SELECT pg_advisory_xact_lock(%(key)s)", {"key": version_id})


def move_subtree(cur, unit: dict, parent: dict | None, user_id: int) -> int:
    """Moves `unit` under `parent` (None: makes it a root); returns how many rows changed. Callers hold
    lock_tree and read `unit` and `parent` after taking it, so the paths they carry are current."""
    lock_tree(cur, unit["version_id"])  # re-entrant: a no-op when the caller holds it already
    new_path = (parent["path"] if parent else "/") + f"{unit['id']}/"
    cur.execute(
        MOVE_SUBTREE,
        {
            "new_path": new_path,
            "old_path": unit["path"],
            "depth_change": (parent["depth"] + 1 if parent else 0) - unit["depth"],
            "id": unit["id"],
            "parent_id": parent["id"] if parent else None,
            "version_id": unit["version_id"],
            "user_id": user_id,
        },
    )
    return cur.rowcount


def soft_delete(cur, version_id: int, unit_id: int, user_id: int) -> None:
    cur.execute(SOFT_DELETE, {"version_id": version_id, "id": unit_id, "user_id": user_id})


def has_children(cur, version_id: int, unit_id: int) -> bool:
    return one(cur, HAS_CHILDREN, {"version_id": version_id, "id": unit_id})["has"]


def has_submissions(cur, version_id: int, unit_id: int) -> bool:
    return one(cur, HAS_SUBMISSIONS, {"version_id": version_id, "id": unit_id})["has"]


def paths_of(cur, version_ids: list[int], ids: list[int]) -> list[dict]:
    return all_rows(cur, PATHS_OF, {"version_ids": version_ids, "ids": ids})


CHILD_COUNTS = """
SELECT c.parent_id AS id, c.org_unit_type_id, t.name AS org_unit_type_name, count(*) AS count
FROM org_units c
LEFT JOIN org_unit_types t ON t.id = c.org_unit_type_id
WHERE c.version_id = %(version_id)s AND c.parent_id = ANY(%(ids)s) AND c.deleted_at IS NULL
GROUP BY c.parent_id, c.org_unit_type_id, t.name
ORDER BY c.parent_id, count(*) DESC, t.name
"""


def child_counts(cur, version_id: int, ids: list[int]) -> list[dict]:
    """(parent id, type id, type name, count) of the live children of `ids`, per type."""
    return all_rows(cur, CHILD_COUNTS, {"version_id": version_id, "ids": ids})
