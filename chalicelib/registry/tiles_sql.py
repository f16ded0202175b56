"""org_units as a Mapbox Vector Tile, made by PostGIS in one statement (ST_AsMVT).

Two layers, each only when it has features: `territories` (units with a territory) and `points` (units
with a location); or, in place of `points` when the tile would hold more than `points_max` of them,
`overflow`: one feature at the tile's centre saying so (the client shows "zoom in"), since thousands
of points in a tile would neither draw legibly nor stay small and fast. The units are the Query's
(filters and the caller's scope, units_sql.Query), so a tile shows what the list shows.

Territories are clipped in degrees to the tile (with its buffer) before anything else, so that a
country's outline costs the vertices inside the tile, not all of them; then simplified to one tile
unit (the tolerance tippecanoe uses), projected, and encoded. At low zooms they start from
`simplified_geom` (0.0005°, kept beside each territory): finer than a tile unit there, and far
smaller. Territories under `min_size` degrees across (8 pixels, tiles.MIN_PIXELS) are left out:
barely a shape at this zoom, they appear a zoom or two later, as maps show lower administrative
levels from higher zooms (at zoom 6 over bench_registry's data, 1,576 health areas of 7 pixels made
the tile 89 KB and 10 ms of work; without them it is 10 KB and 3 ms).
"""

from chalicelib.platform.db import one
from chalicelib.registry.units_sql import Query

# Fixed choices of the column a tile draws territories from (never user text).
TERRITORY_COLUMNS = ("geom", "simplified_geom")
# The tile and its buffer in degrees, from numbers (tiles.settings): no projection per tile.
AREA = "ST_MakeEnvelope(%(west)s, %(south)s, %(east)s, %(north)s, 4326)"
# For the rest of the request's transaction (the tile is its last statement): the estimated cost
# of encoding thousands of features passes the thresholds of parallel plans and JIT compilation,
# whose workers take 30-40 ms to start and whose compiling took 24 ms, more than a whole tile.
PLAIN_PLAN = "SET LOCAL max_parallel_workers_per_gather = 0; SET LOCAL jit = off"
# With filters or a subtree: the registry is held in memory, so a random page costs about what a
# sequential one does; the planner then walks a region's units to points_max + 1 rather than ANDing
# them with every point of the tile. Without filters the nearest-first walk needs no help (bench/README.md).
CACHED_PAGES = "SET LOCAL random_page_cost = 1.1"

# `located` tells whether the tile holds more than points_max points without reading them all. With
# no filter, nearest the centre first: the planner can walk the location index and stop at
# points_max + 1 (5 ms at zoom 6 over a million units, where collecting the tile's 270,000 matches
# first took 18, and walking another index in the hope of meeting enough, 120). A filter or a
# subtree may leave few points near the centre, and the walk would pass them all (40 ms for a
# region's): the planner then chooses (CACHED_PAGES). The area is written out, not taken from
# `tile`, so that the planner knows how many points it holds.
NEAREST_FIRST = "ORDER BY ou.location <-> ST_SetSRID(ST_MakePoint(%(centre_x)s, %(centre_y)s), 4326)"

_TILE = """
WITH tile AS MATERIALIZED (
    SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS bounds, {area} AS area
),
territories AS (
    SELECT ou.id AS feature_id, ou.id, ou.name, ou.org_unit_type_id AS type_id, t.name AS type,
           ou.validation_status AS status, ou.depth,
           ST_AsMVTGeom(
               ST_Transform(ST_Simplify(
                   CASE WHEN ou.{column} @ tile.area THEN ou.{column}
                        ELSE ST_ClipByBox2D(ou.{column}, tile.area) END,
                   %(tolerance)s), 3857),
               tile.bounds, %(extent)s, %(buffer)s, true) AS geom
    FROM org_units ou
    CROSS JOIN tile
    LEFT JOIN org_unit_types t ON t.id = ou.org_unit_type_id
    WHERE {where} AND ou.geom && tile.area
      AND greatest(ST_XMax(box2d(ou.{column})) - ST_XMin(box2d(ou.{column})),
                   ST_YMax(box2d(ou.{column})) - ST_YMin(box2d(ou.{column}))) >= %(min_size)s
),
located AS MATERIALIZED (
    SELECT ou.id, ou.name, ou.org_unit_type_id, ou.validation_status, ou.depth, ou.location
    FROM org_units ou
    WHERE {where} AND ou.location && {area}
    {order}
    LIMIT %(points_max)s + 1
),
points AS (
    SELECT p.id AS feature_id, p.id, p.name, p.org_unit_type_id AS type_id, t.name AS type,
           p.validation_status AS status, p.depth,
           ST_AsMVTGeom(ST_Transform(p.location, 3857), tile.bounds, %(extent)s, %(buffer)s, true) AS geom
    FROM located p
    CROSS JOIN tile
    LEFT JOIN org_unit_types t ON t.id = p.org_unit_type_id
),
overflow AS (
    SELECT 'points' AS layer, %(points_max)s + 1 AS at_least,
           ST_AsMVTGeom(ST_Centroid(tile.bounds), tile.bounds, %(extent)s, 0, false) AS geom
    FROM tile
)
SELECT (SELECT ST_AsMVT(f, 'territories', %(extent)s, 'geom', 'feature_id') FROM territories f)
    || CASE WHEN (SELECT count(*) FROM located) > %(points_max)s
            THEN (SELECT ST_AsMVT(o, 'overflow', %(extent)s, 'geom') FROM overflow o)
            ELSE (SELECT ST_AsMVT(p, 'points', %(extent)s, 'geom', 'feature_id') FROM points p)
       END AS mvt
"""


def tile_statement(query: Query, column: str) -> tuple[str, dict]:
    """The tile's SQL and the Query's parameters (the caller adds the tile's own)."""
    if column not in TERRITORY_COLUMNS:
        raise ValueError(f"no territory column {column!r}")
    order = NEAREST_FIRST if not query.clauses else ""
    sql = _TILE.format(where=query.sql_where(), column=column, area=AREA, order=order)
    return sql, query.params | {"version_id": query.version_id}


def tile(cur, query: Query, column: str, settings: dict) -> bytes:
    sql, params = tile_statement(query, column)
    cur.execute(f"{PLAIN_PLAN}; {CACHED_PAGES}" if query.clauses else PLAIN_PLAN)
    return bytes(one(cur, sql, params | settings)["mvt"])
