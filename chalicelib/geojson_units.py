"""Reading org units from a GeoJSON FeatureCollection (RFC 7946: longitude/latitude, WGS 84).

Each feature's properties are the CSV's columns (`ref`, `name`, `parent_ref`, `type`, `code`,
`opening_date`, `closed_date`, `group_refs`, `uuid`); its geometry is the unit's point or territory.
"""

import json
from pathlib import Path

from shapely.geometry import shape

from chalicelib import csv_units
from chalicelib.gpkg import GpkgError, Package, RowProblem, place_geometry

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
    package.groups = {ref: ref for feature in package.features for ref in feature.group_refs}
    return package


def _add(package: Package, index: int, item) -> None:
    if not isinstance(item, dict) or item.get("type") != "Feature":
        package.problems.append(RowProblem(LAYER, index, "feature", "is not a GeoJSON Feature"))
        return
    properties = {
        key: "" if value is None else str(value) for key, value in (item.get("properties") or {}).items()
    }
    without_geometry = {key: value for key, value in properties.items() if key in csv_units.KNOWN}
    feature = csv_units.feature_from_values(package, LAYER, index, without_geometry)
    if feature is None:
        return
    geometry = item.get("geometry")
    try:
        parsed = shape(geometry) if geometry else None
    except (ValueError, TypeError, AttributeError, KeyError, IndexError) as error:
        package.problems.append(
            RowProblem(LAYER, index, "geometry", f"is not valid GeoJSON ({error})", True, feature.ref)
        )
        return
    placed = place_geometry(feature, parsed, _reporter(package, index, feature.ref))
    if placed:
        package.features.append(placed)


def _reporter(package: Package, index: int, ref: str):
    def problem(field_name: str, message: str, fatal: bool = True) -> None:
        package.problems.append(RowProblem(LAYER, index, field_name, message, fatal, ref))

    return problem
