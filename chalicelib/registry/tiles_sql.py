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
smaller. Territories under `min_size` degrees across are left out: invisible at this zoom.
"""

from chalicelib.platform.db import one
from chalicelib.registry.units_sql import Query

# Fixed choices of the column a tile draws territories from (never user text).
TERRITORY_COLUMNS = ("geom", "simplified_geom")

_TILE = """
WITH tile AS (
    SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS bounds,
           ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => %(margin)s), 4326) AS area
),
territories AS (
    SELECT ou.id AS feature_id, ou.id, ou.name, ou.org_unit_type_id AS type_id, t.name AS type,
           ou.validation_status AS status, ou.depth,
           ST_AsMVTGeom(
               ST_Transform(ST_Simplify(ST_ClipByBox2D(ou.{column}, box2d(tile.area)), %(tolerance)s), 3857),
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
    FROM org_units ou CROSS JOIN tile
    WHERE {where} AND ou.location && tile.area
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
SELECT coalesce((SELECT ST_AsMVT(f, 'territories', %(extent)s, 'geom', 'feature_id')
                 FROM territories f WHERE f.geom IS NOT NULL), '')
    || CASE WHEN (SELECT count(*) FROM located) > %(points_max)s
            THEN (SELECT ST_AsMVT(o, 'overflow', %(extent)s, 'geom') FROM overflow o)
            ELSE coalesce((SELECT ST_AsMVT(p, 'points', %(extent)s, 'geom', 'feature_id')
                           FROM points p WHERE p.geom IS NOT NULL), '')
       END AS mvt
"""


def tile_statement(query: Query, column: str) -> tuple[str, dict]:
    """The tile's SQL and the Query's parameters (the caller adds the tile's own)."""
    if column not in TERRITORY_COLUMNS:
        raise ValueError(f"no territory column {column!r}")
    sql = _TILE.format(where=query.sql_where(), column=column)
    return sql, query.params | {"version_id": query.version_id}


def tile(cur, query: Query, column: str, settings: dict) -> bytes:
    sql, params = tile_statement(query, column)
    return bytes(one(cur, sql, params | settings)["mvt"])
