"""Streaming units out for exports: a server-side cursor, so memory stays flat whatever the count."""

from collections.abc import Iterator

from chalicelib.platform.db import all_rows, bytea_as_bytes, local_settings, one, streamed
from chalicelib.registry.units_sql import Query

# Refs as files carry them: the source ref, or Iaso's `iaso#<id>` for a unit or group without one.
EXPORT_COLUMNS = """
    ou.id, ou.uuid::text AS uuid, coalesce(ou.source_ref, 'iaso#' || ou.id) AS ref, ou.name, ou.code,
    t.name AS org_unit_type, coalesce(t.depth, ou.depth + 1) AS type_depth, ou.validation_status,
    ou.parent_id, coalesce(p.source_ref, 'iaso#' || p.id) AS parent_ref, p.name AS parent_name,
    ST_X(ou.location) AS longitude, ST_Y(ou.location) AS latitude, ST_Z(ou.location) AS altitude,
    ou.opening_date, ou.closed_date, ou.depth, ou.path,
    encode(ST_AsBinary(coalesce(ou.geom, ou.location)), 'hex') AS wkb, ST_AsText(ou.geom) AS territory_wkt,
    (SELECT array_agg(coalesce(g.source_ref, 'iaso#' || g.id) ORDER BY g.name)
     FROM org_unit_groups m JOIN groups g ON g.id = m.group_id
     WHERE m.version_id = ou.version_id AND m.org_unit_id = ou.id) AS group_refs,
    (SELECT array_agg(g.name ORDER BY g.name)
     FROM org_unit_groups m JOIN groups g ON g.id = m.group_id
     WHERE m.version_id = ou.version_id AND m.org_unit_id = ou.id) AS group_names,
    (SELECT array_agg(a.name ORDER BY a.depth) FROM org_units a
     WHERE a.version_id = ou.version_id AND a.id = ANY(ancestor_ids(ou.path))) AS ancestor_names,
    (SELECT array_agg(coalesce(a.source_ref, 'iaso#' || a.id) ORDER BY a.depth) FROM org_units a
     WHERE a.version_id = ou.version_id AND a.id = ANY(ancestor_ids(ou.path))) AS ancestor_refs
"""

FROM = """
FROM org_units ou
LEFT JOIN org_unit_types t ON t.id = ou.org_unit_type_id
LEFT JOIN org_units p ON p.version_id = ou.version_id AND p.id = ou.parent_id
"""


def units(cur, query: Query, order: str = "ou.depth, ou.id") -> Iterator[dict]:
    """Every unit the query selects, parents before children."""
    sql = f"SELECT {EXPORT_COLUMNS} {FROM} WHERE {query.sql_where()} ORDER BY {order}"
    yield from streamed(cur, "unit_export", sql, query.params | {"version_id": query.version_id}, 2000)


# The CSV export's columns (unit_writers.HEADERS, then name and ref per ancestor level) in SQL, for
# COPY: the server writes the file's lines itself, ~10x faster than building them row by row in
# Python (bench/README.md).
CSV_COLUMNS = """
    ou.id, ou.uuid, coalesce(ou.source_ref, 'iaso#' || ou.id), ou.name, t.name, ou.validation_status, ou.code,
    ou.parent_id, a.ref, a.name,
    ST_Y(ou.location), ST_X(ou.location), ST_Z(ou.location), ou.opening_date, ou.closed_date,
    g.names, g.refs, ou.depth, ST_AsText(ou.geom)
"""
CSV_GROUPS = """
LEFT JOIN (SELECT m.org_unit_id,
                  string_agg(g.name, ', ' ORDER BY g.name) AS names,
                  string_agg(coalesce(g.source_ref, 'iaso#' || g.id), ', ' ORDER BY g.name) AS refs
           FROM org_unit_groups m JOIN groups g ON g.id = m.group_id
           WHERE m.version_id = %(version_id)s
           GROUP BY m.org_unit_id) g ON g.org_unit_id = ou.id
"""
# Every unit that has children: its own name and ref (what its children's parent columns show), and
# the names and refs from its root down to itself, one column per level (what its children's
# ancestor columns show). Few units have children (a tenth of a pyramid), so this small table joined
# to each row by its parent replaces both the join to the parent row and a lookup per ancestor
# (0.04 s against 1.1 s at 100k units), and its columns cost nothing to read, where subscripting an
# array per level did (bench/README.md).
EXPORT_ANCESTORS = """
CREATE TEMP TABLE export_ancestors ON COMMIT DROP AS
WITH RECURSIVE parents AS MATERIALIZED (
    SELECT id, parent_id, name, coalesce(source_ref, 'iaso#' || id) AS ref FROM org_units
    WHERE version_id = %(version_id)s
      AND id IN (SELECT parent_id FROM org_units WHERE version_id = %(version_id)s)
), chain AS (
    SELECT id, name, ref, ARRAY[name] AS names, ARRAY[ref] AS refs FROM parents WHERE parent_id IS NULL
    UNION ALL
    SELECT p.id, p.name, p.ref, c.names || p.name, c.refs || p.ref
    FROM chain c JOIN parents p ON p.parent_id = c.id
)
SELECT id, name, ref {levels} FROM chain;
ALTER TABLE export_ancestors ADD PRIMARY KEY (id);
ANALYZE export_ancestors;
"""
# For the one COPY of a whole export: a parallel scan (the planner's default costs keep a COPY's
# million rows in one process, whose output is then most of the time) and no JIT compilation, which
# cost a third to a whole second per million rows and gained nothing (bench/README.md).
COPY_SETTINGS = {"jit": "off", "parallel_setup_cost": "0", "parallel_tuple_cost": "0.0001"}


def copy_csv(cur, query: Query, levels: int, file) -> int:
    """The CSV export's lines (no header), written by the server into `file` (binary); how many."""
    per_level = "".join(f", names[{n}] AS name_{n}, refs[{n}] AS ref_{n}" for n in range(1, levels))
    cur.execute(EXPORT_ANCESTORS.replace("{levels}", per_level), {"version_id": query.version_id})
    ancestors = "".join(f", a.name_{n}, a.ref_{n}" for n in range(1, levels))
    sql = f"""
        SELECT {CSV_COLUMNS} {ancestors}
        FROM org_units ou
        LEFT JOIN org_unit_types t ON t.id = ou.org_unit_type_id
        LEFT JOIN export_ancestors a ON a.id = ou.parent_id
        {CSV_GROUPS}
        WHERE {query.sql_where()}
    """  # in no set order (a parallel scan): sorting a million wide rows spilled to disk, and our import
    # places a unit listed before its parent when the parent comes
    select = cur.mogrify(sql, query.params | {"version_id": query.version_id}).decode()
    with local_settings(cur, COPY_SETTINGS):
        cur.copy_expert(f"COPY ({select}) TO STDOUT WITH (FORMAT csv)", file)
        written = cur.rowcount
    cur.execute("DROP TABLE export_ancestors")
    return written


# GeoPackage features (unit_writers.GPKG_RECORD) straight from SQL: the geometry blob is built by
# the server ('GP', version 0, flags 0 = big-endian header without envelope, srs 4326, ISO WKB), so
# Python only hands the fetched rows to SQLite.
GPKG_COLUMNS = """
    coalesce(t.name, 'Unknown'),
    CASE WHEN coalesce(ou.geom, ou.location) IS NOT NULL
         THEN '\\x47500000'::bytea || int4send(4326) || ST_AsBinary(coalesce(ou.geom, ou.location), 'NDR')
    END,
    coalesce(ou.source_ref, 'iaso#' || ou.id), ou.name, coalesce(p.source_ref, 'iaso#' || p.id), g.refs,
    ou.code, ou.opening_date::text, ou.closed_date::text, ou.uuid::text, ou.validation_status,
    coalesce(t.depth, ou.depth + 1), ou.geom IS NOT NULL
"""
GPKG_BATCH = 5000


def gpkg_records(cur, query: Query) -> Iterator[list[tuple]]:
    """Every unit the query selects as GeoPackage records, in batches, a type's units together (the
    types by depth, their units parents first)."""
    sql = f"""
        SELECT {GPKG_COLUMNS} {FROM} {CSV_GROUPS} WHERE {query.sql_where()}
        ORDER BY coalesce(t.depth, ou.depth + 1), t.name, ou.depth, ou.id
    """
    with cur.connection.cursor(name="gpkg_export") as stream:  # plain tuples, handed to SQLite as they are
        bytea_as_bytes(stream)  # the records are pickled to the process writing the file
        stream.execute(sql, query.params | {"version_id": query.version_id})
        yield from iter(lambda: stream.fetchmany(GPKG_BATCH), [])


def summary(cur, query: Query, with_layers: bool = True) -> dict:
    """Count and deepest level; for GeoPackages also, per type (layer), the geometry kinds and the
    bounding box (`extents`, gpkg_contents' extent), from the same scan: to lay out files before
    streaming."""
    where = query.sql_where()
    params = query.params | {"version_id": query.version_id}
    if not with_layers:
        head = one(
            cur,
            f"SELECT count(*) AS n, coalesce(max(ou.depth), -1) AS depth FROM org_units ou WHERE {where}",
            params,
        )
        return {"count": head["n"], "levels": head["depth"] + 1, "layers": [], "extents": {}}
    layers = all_rows(cur, f"{LAYERS} WHERE {where} GROUP BY t.name, t.depth ORDER BY 2, 1", params)
    extents = {layer["org_unit_type"]: (layer["min_x"], layer["min_y"], layer["max_x"], layer["max_y"])
               for layer in layers if layer["min_x"] is not None}  # fmt: skip
    return {"count": sum(layer["n"] for layer in layers),
            "levels": max((layer["deepest"] + 1 for layer in layers), default=0),
            "layers": layers, "extents": extents}  # fmt: skip


# ST_Extent is computed once for the four corners: PostgreSQL shares identical aggregates.
LAYERS = """
SELECT coalesce(t.name, 'Unknown') AS org_unit_type, coalesce(t.depth, min(ou.depth) + 1) AS depth,
       count(*) AS n, bool_or(ou.geom IS NOT NULL) AS territories,
       bool_or(ou.geom IS NULL AND ou.location IS NOT NULL) AS points, max(ou.depth) AS deepest,
       ST_XMin(ST_Extent(coalesce(ou.geom, ou.location))) AS min_x,
       ST_YMin(ST_Extent(coalesce(ou.geom, ou.location))) AS min_y,
       ST_XMax(ST_Extent(coalesce(ou.geom, ou.location))) AS max_x,
       ST_YMax(ST_Extent(coalesce(ou.geom, ou.location))) AS max_y
FROM org_units ou LEFT JOIN org_unit_types t ON t.id = ou.org_unit_type_id
"""


def groups_of(cur, query: Query) -> list[dict]:
    """Every group of the version, members or not (a GeoPackage's `groups` table, as Iaso's export of
    a version writes it: the file then imports back with the same groups). Groups are the version's
    reference data, listed to anyone who reads the registry, like the types."""
    if query.version_id is None:
        return []
    return all_rows(
        cur,
        "SELECT coalesce(g.source_ref, 'iaso#' || g.id) AS ref, g.name FROM groups g"
        " WHERE g.version_id = %(version_id)s ORDER BY 1",
        {"version_id": query.version_id},
    )
