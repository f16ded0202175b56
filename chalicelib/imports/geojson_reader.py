"""Reading org units from a GeoJSON FeatureCollection (RFC 7946: longitude/latitude, WGS 84).

Each feature's properties are the CSV's columns (`ref`, `name`, `parent_ref`, `type`, `code`,
`opening_date`, `closed_date`, `group_refs`, `uuid`); its geometry is the unit's point or territory.
Arrays and objects nest at most GEOJSON_MAX_DEPTH deep (checked on the text's brackets: json.loads
recurses, and fails past Python's recursion limit).
"""

import json
import re
from pathlib import Path

from shapely.geometry import Point, shape

from chalicelib.imports import csv_reader
from chalicelib.imports.unit_model import GpkgError, Package, RowProblem, file_errors, place_geometry
from chalicelib.platform.limits import GEOJSON_MAX_DEPTH, limit_message

LAYER = "geojson"
WGS84_NAMES = ("urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:EPSG::4326", "EPSG:4326")
NOT_STRUCTURE = bytes(sorted(set(range(256)) - set(b'"[]{}')))  # what bytes.translate deletes
STRINGS = re.compile(rb'"[^"]*"')  # once their escapes are gone
BRACKET_PAIRS = bytes.maketrans(b"{}", b"[]")
LONE_SURROGATE = "hold a lone surrogate (an escape \\ud800 to \\udfff alone), which is not text"


def read(path: str | Path) -> Package:
    raw = Path(path).read_bytes()
    if not raw:
        raise GpkgError("the file is empty")
    with file_errors():
        document = _parsed(raw)
        if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
            raise GpkgError("the file is not a GeoJSON FeatureCollection")
        crs = _crs_name(document)
        if crs and crs not in WGS84_NAMES:
            raise GpkgError(f"the file is in {crs}; GeoJSON must be WGS 84 longitude/latitude (EPSG:4326)")
        features = document.get("features") or []
        if not isinstance(features, list):
            raise GpkgError("the FeatureCollection's features are not a list")
        package = Package()
        for index, item in enumerate(features, start=1):
            _add(package, index, item)
        return package


def _parsed(raw: bytes):
    try:
        deep = _nests_deeper(raw, GEOJSON_MAX_DEPTH)
        document = json.loads(raw)
    except RecursionError as error:  # deeper than Python's recursion limit
        raise _too_deep() from error
    except ValueError as error:  # UnicodeDecodeError too
        raise GpkgError(f"the file is not JSON ({error})") from error
    if deep:  # valid JSON, nested too deep
        raise _too_deep()
    return document


def _too_deep() -> GpkgError:
    return GpkgError(limit_message("the GeoJSON's nesting", "GEOJSON_MAX_DEPTH", "levels"))


def _nests_deeper(raw: bytes, depth: int) -> bool:
    """Whether the JSON text's arrays and objects nest deeper than `depth`, without recursing: its
    brackets alone, out of strings, the innermost pairs peeled off once per level."""
    if raw.count(b"[") + raw.count(b"{") <= depth:
        return False
    encoding = json.detect_encoding(raw)  # json.loads reads UTF-16 and UTF-32 too
    text = raw if encoding.startswith("utf-8") else raw.decode(encoding).encode()
    text = text.replace(b"\\\\", b"").replace(b'\\"', b"")  # escapes: then a quote opens or closes a string
    brackets = STRINGS.sub(b"", text.translate(None, NOT_STRUCTURE)).translate(BRACKET_PAIRS, b'"')
    for _ in range(depth):
        brackets = brackets.replace(b"[]", b"")
    return b"[" in brackets


def _crs_name(document: dict):
    crs = document.get("crs")
    properties = crs.get("properties") if isinstance(crs, dict) else None
    return properties.get("name") if isinstance(properties, dict) else None


def _add(package: Package, index: int, item) -> None:
    if not isinstance(item, dict) or item.get("type") != "Feature":
        package.problems.append(RowProblem(LAYER, index, "feature", "is not a GeoJSON Feature"))
        return
    raw = item.get("properties") or {}
    if not isinstance(raw, dict):
        package.problems.append(RowProblem(LAYER, index, "properties", "is not an object"))
        return
    properties = {csv_reader.EXPORT_ALIASES.get(k, k): "" if v is None else str(v) for k, v in raw.items()}
    if not _is_text("".join(properties.values())):
        package.problems.append(RowProblem(LAYER, index, "properties", LONE_SURROGATE))
        return
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


def _is_text(value: str) -> bool:
    try:
        value.encode()
        return True
    except UnicodeEncodeError:  # a lone surrogate, which JSON's escapes allow and UTF-8 cannot hold
        return False


def _reporter(package: Package, index: int, ref: str):
    def problem(field_name: str, message: str, fatal: bool = True) -> None:
        package.problems.append(RowProblem(LAYER, index, field_name, message, fatal, ref))

    return problem
