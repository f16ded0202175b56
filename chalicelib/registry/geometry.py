"""GeoJSON geometries in and out: checked, repaired when they can be, refused when they cannot.

Input is RFC 7946 (longitude, latitude[, altitude]) in EPSG:4326. A point is a unit's location; a
Polygon or MultiPolygon its territory. A self-intersecting polygon is repaired with make_valid and
the caller is told; coordinates outside the globe, empty or unknown geometries are refused.
"""

import json
from dataclasses import dataclass

import numpy
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, shape
from shapely.validation import explain_validity

from chalicelib.platform import problems

# Real files carry coordinates a hair beyond ±180 from floating-point round trips (Natural Earth's Russia).
GLOBE_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Parsed:
    wkb: bytes | None  # None clears the geometry
    warning: str | None = None


def _shape(field: str, value) -> shapely.Geometry:
    if not isinstance(value, dict) or "type" not in value:
        raise problems.invalid_field(field, "must be a GeoJSON geometry object")
    try:
        geometry = shape(value)
    except (ValueError, TypeError, AttributeError, IndexError, KeyError) as error:
        raise problems.invalid_field(field, f"is not valid GeoJSON ({error})") from error
    if geometry.is_empty:
        raise problems.invalid_field(field, "is empty")
    _check_range(field, geometry)
    return geometry


def outside_globe(geometry: shapely.Geometry) -> bool:
    """Also true for NaN or infinite coordinates (written so that NaN fails every comparison)."""
    min_x, min_y, max_x, max_y = geometry.bounds
    limit_x, limit_y = 180 + GLOBE_TOLERANCE, 90 + GLOBE_TOLERANCE
    inside = -limit_x <= min_x <= max_x <= limit_x and -limit_y <= min_y <= max_y <= limit_y
    return not inside


def outside_globe_all(geometries) -> "numpy.ndarray":
    """outside_globe of each geometry of an array in one vectorised call (False for None)."""
    min_x, min_y, max_x, max_y = shapely.bounds(geometries).T
    limit_x, limit_y = 180 + GLOBE_TOLERANCE, 90 + GLOBE_TOLERANCE
    with numpy.errstate(invalid="ignore"):
        inside = (-limit_x <= min_x) & (min_x <= max_x) & (max_x <= limit_x)
        inside &= (-limit_y <= min_y) & (min_y <= max_y) & (max_y <= limit_y)
    return ~inside & ~shapely.is_missing(geometries)


def _check_range(field: str, geometry: shapely.Geometry) -> None:
    if outside_globe(geometry):
        raise problems.invalid_field(
            field,
            "has coordinates outside longitude -180..180 / latitude -90..90 "
            "(are they swapped, or not in EPSG:4326?)",
        )


def location(value) -> Parsed:
    if value is None:
        return Parsed(None)
    geometry = _shape("location", value)
    if not isinstance(geometry, Point):
        raise problems.invalid_field("location", f"must be a Point, not a {geometry.geom_type}")
    return Parsed(shapely.to_wkb(geometry, output_dimension=3))


def territory(value) -> Parsed:
    if value is None:
        return Parsed(None)
    geometry = _shape("geom", value)
    if not isinstance(geometry, Polygon | MultiPolygon):
        raise problems.invalid_field("geom", f"must be a Polygon or MultiPolygon, not a {geometry.geom_type}")
    geometry, reason = repaired(geometry)
    if geometry.is_empty:
        raise problems.invalid_field("geom", f"is invalid ({reason}) and cannot be repaired")
    warning = f"geom was invalid ({reason}) and has been repaired" if reason else None
    return Parsed(shapely.to_wkb(geometry, output_dimension=2), warning)


def repaired(geometry: Polygon | MultiPolygon) -> tuple[MultiPolygon, str | None]:
    """The territory as a valid MultiPolygon, and why it was invalid (None when it was valid).
    An empty result means it could not be repaired."""
    if geometry.is_valid:
        return (geometry if isinstance(geometry, MultiPolygon) else MultiPolygon([geometry])), None
    reason = explain_validity(geometry)
    return _polygons_only(shapely.make_valid(geometry)), reason


def _polygons_only(geometry: shapely.Geometry) -> MultiPolygon:
    """make_valid may return a collection with lines and points: keep the areas."""
    parts = getattr(geometry, "geoms", [geometry])
    polygons = []
    for part in parts:
        if isinstance(part, Polygon):
            polygons.append(part)
        elif isinstance(part, MultiPolygon):
            polygons.extend(part.geoms)
    return MultiPolygon(polygons)


def as_geojson(text: str | None) -> dict | None:
    return json.loads(text) if text else None


def point_geojson(row: dict) -> dict | None:
    """A row's `longitude`, `latitude` and `altitude` as a GeoJSON Point (6 decimals), or None."""
    if row["longitude"] is None:
        return None
    coordinates = [round(row["longitude"], 6), round(row["latitude"], 6)]
    if row["altitude"]:
        coordinates.append(row["altitude"])
    return {"type": "Point", "coordinates": coordinates}
