"""Reading org units from a GeoJSON FeatureCollection (RFC 7946: longitude/latitude, WGS 84).

Each feature's properties are the CSV's columns (`ref`, `name`, `parent_ref`, `type`, `code`,
`opening_date`, `closed_date`, `group_refs`, `uuid`); its geometry is the unit's point or territory.
"""

import json
from pathlib import Path

from shapely.geometry import Point, shape

from chalicelib.imports import csv_reader
from chalicelib.imports.unit_model import GpkgError, Package, RowProblem, place_geometry

LAYER = "geojson"
WGS84_NAMES = ("urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:EPSG::4326", "EPSG:4326")


def read(path: str | Path) -> Package:
    raw = Path(path).read_bytes()
    if not raw:
        raise GpkgError("the file is empty")
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise GpkgError(f"the file is not JSON ({error})") from error
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise GpkgError("the file is not a GeoJSON FeatureCollection")
    crs = (document.get("crs") or {}).get("properties", {}).get("name")
    if crs and crs not in WGS84_NAMES:
        raise GpkgError(f"the file is in {crs}; GeoJSON must be WGS 84 longitude/latitude (EPSG:4326)")
    package = Package()
    for index, item in enumerate(document.get("features") or [], start=1):
        _add(package, index, item)
    return package


def _add(package: Package, index: int, item) -> None:
    if not isinstance(item, dict) or item.get("type") != "Feature":
        package.problems.append(RowProblem(LAYER, index, "feature", "is not a GeoJSON Feature"))
        return
    raw = item.get("properties") or {}
    properties = {csv_reader.EXPORT_ALIASES.get(k, k): "" if v is None else str(v) for k, v in raw.items()}
    without_geometry = {key: value for key, value in properties.items() if key in csv_reader.KNOWN}
    feature = csv_reader.feature_from_values(package, LAYER, index, without_geometry)
    if feature is None:
        return
    geometry = item.get("geometry")
    try:
        parsed = shape(geometry) if geometry else None
    except Exception as error:  # whatever the member holds, it is this feature's problem
        package.problems.append(
            RowProblem(LAYER, index, "geometry", f"is not valid GeoJSON ({error})", True, feature.ref)
        )
        return
    report = _reporter(package, index, feature.ref)
    placed = place_geometry(feature, parsed, report)
    if placed and placed.location is None and properties.get("latitude") and properties.get("longitude"):
        # Our exports carry a unit's point in properties when its geometry is the territory
        try:
            point = Point(float(properties["longitude"]), float(properties["latitude"]))
        except ValueError:
            report("latitude", "is not a number")
            return
        placed = place_geometry(placed, point, report)
    if placed:
        package.features.append(placed)


def _reporter(package: Package, index: int, ref: str):
    def problem(field_name: str, message: str, fatal: bool = True) -> None:
        package.problems.append(RowProblem(LAYER, index, field_name, message, fatal, ref))

    return problem
