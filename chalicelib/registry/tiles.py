"""Vector tiles of the registry for maps: the units GET /api/orgunits would list with the same
filters, as a Mapbox Vector Tile (tiles_sql.py says what a tile holds).

The filters are parsed by unit_filters and the caller's scope (account, the profile's subtrees) is
units.scope: one definition of what a caller may see, for lists, exports and tiles alike.
"""

import math
from dataclasses import dataclass
from typing import Annotated

from chalicelib.identity.permissions import READ_REGISTRY, Principal, require
from chalicelib.platform import contract, problems
from chalicelib.registry import tiles_sql, unit_filters, units

MVT = "application/vnd.mapbox-vector-tile"
MAX_ZOOM = 22  # MapLibre's own limit; a tile unit is then under a millimetre
EXTENT = 4096  # tile units across a tile, the MVT default
BUFFER = 64  # units drawn beyond each edge, so that lines and point symbols meet across tiles
POINTS_MAX = 4_000  # more in one tile: an `overflow` feature instead (~60 bytes a point: ~240 KB)
PRECOMPUTED_UNTIL = 7  # up to this zoom simplified_geom (0.0005°) is finer than one tile unit
MIN_PIXELS = 8  # territories under 8 pixels (of a 256-pixel tile) across are left out
TILE_MAX_BYTES = 4 * 1024 * 1024  # base64 in Lambda's 6 MB response: 4 MiB is 5.6 MB


def _described(text: str):
    return Annotated[str | None, contract.Meta(description=text)]


class TileFilters(contract.Query):
    """The filters of GET /api/orgunits that select units (not those that shape a page or a row)."""

    version: _described("version id (default: the account's)") = None
    type: _described("org-unit type ids") = None
    validation_status: _described("NEW, VALID, REJECTED (comma list)") = None
    group: _described("group ids") = None
    descendants_of: _described("every unit below this one") = None
    parent: _described("direct children of this unit") = None
    roots: _described("true: top-level units") = None
    search: _described("name contains (or starts with, match=prefix) this text") = None
    match: _described("prefix or contains (default)") = None
    ids: _described("comma-separated ids") = None
    open_at: _described("open on this date (YYYY-MM-DD)") = None
    closed_at: _described("closed on or before this date") = None


@dataclass(frozen=True)
class Address:
    z: int
    x: int
    y: int


def address(z: str, x: str, y: str) -> Address:
    """z/x/y as a URL has them (y may end in .mvt), each checked against the zoom's grid."""
    zoom = _number("z", z, MAX_ZOOM)
    last = 2**zoom - 1
    return Address(zoom, _number("x", x, last), _number("y", y.removesuffix(".mvt"), last))


def _number(name: str, raw: str, highest: int) -> int:
    if not raw.isdigit() or len(raw) > 8 or int(raw) > highest:
        raise problems.Problem(
            400,
            "request.invalid_path",
            f"Path parameter '{name}' must be an integer from 0 to {highest}.",
            {"parameter": name},
        )
    return int(raw)


def tile(cur, principal: Principal, at: Address, params: dict[str, str]) -> bytes:
    """The tile's bytes; empty when it holds nothing."""
    require(principal, READ_REGISTRY)
    query, _ = unit_filters.parse(cur, principal, params, None)
    units.scope(principal, query.version_id).restrict(query)
    column = "simplified_geom" if at.z <= PRECOMPUTED_UNTIL else "geom"
    mvt = tiles_sql.tile(cur, query, column, settings(at))
    if len(mvt) > TILE_MAX_BYTES:
        raise problems.Problem(
            400,
            "tile.too_large",
            f"The tile, {len(mvt):,} bytes, exceeds the limit of {TILE_MAX_BYTES:,} bytes (TILE_MAX_BYTES):"
            " zoom in, or filter the units (type, status, group, descendants_of).",
            {"limit": "TILE_MAX_BYTES", "bytes": len(mvt)},
        )
    return mvt


def settings(at: Address) -> dict:
    """The statement's tile parameters: where, and the sizes that follow from the zoom."""
    unit = 360 / (2**at.z * EXTENT)  # degrees of longitude per tile unit
    margin = BUFFER / EXTENT
    return {
        "z": at.z,
        "x": at.x,
        "y": at.y,
        "west": _longitude(at.x - margin, at.z),
        "east": _longitude(at.x + 1 + margin, at.z),
        "north": _latitude(at.y - margin, at.z),
        "south": _latitude(at.y + 1 + margin, at.z),
        "centre_x": _longitude(at.x + 0.5, at.z),
        "centre_y": _latitude(at.y + 0.5, at.z),
        "extent": EXTENT,
        "buffer": BUFFER,
        # Mercator stretches latitude by 1/cos(lat): a unit in degrees of latitude is cos(lat) of one
        # in longitude, so the tolerance taken at the tile's centre keeps the error within a unit.
        "tolerance": unit * math.cos(math.radians(_latitude(at.y + 0.5, at.z))),
        "min_size": unit * EXTENT / 256 * MIN_PIXELS,
        "points_max": POINTS_MAX,
    }


def _longitude(x: float, z: int) -> float:
    return x / 2**z * 360 - 180


def _latitude(y: float, z: int) -> float:
    """Of a row boundary of the zoom's grid (Web Mercator's inverse), in degrees."""
    return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / 2**z))))
