"""Reading org units from CSV: one row per unit.

Columns (English, case-insensitive): `ref` and `name` (required), `parent_ref`, `type` (default
"Org unit"), `code`, `opening_date`, `closed_date`, `group_refs` (comma list), `uuid`, and a geometry
as `latitude` + `longitude`, or `wkt`, or `geojson`. Delimiter `,` or `;` (sniffed from the header),
UTF-8 with or without a BOM (csv_text reads the rows). Problems are reported per row and field like
the GeoPackage reader's.
"""

import datetime
import json
import operator
import re
from collections.abc import Iterator
from pathlib import Path

import shapely
from shapely.geometry import Point, shape

from chalicelib.imports.csv_text import TOO_MANY_VALUES, CsvError, value_rows
from chalicelib.imports.unit_model import (
    OUTSIDE_GLOBE,
    VALIDATION_STATUSES,
    Feature,
    Package,
    RowProblem,
    Source,
    file_errors,
    guarded,
    normalise_ref,
    overlong,
    place_geometry,
    too_long,
)
from chalicelib.registry.geometry import GLOBE_TOLERANCE

LAYER = "csv"
KNOWN = frozenset(
    {
        "ref",
        "name",
        "parent_ref",
        "type",
        "code",
        "opening_date",
        "closed_date",
        "group_refs",
        "uuid",
        "latitude",
        "longitude",
        "wkt",
        "geojson",
        "validation_status",
        "groups",
    }
)
# Our own CSV export's columns, so that an export imports back unchanged: read or deliberately ignored.
EXPORT_ALIASES = {"org_unit_type": "type"}
EXPORT_IGNORED = {"id", "parent_id", "parent_name", "altitude", "depth"}
ANCESTOR_COLUMN = re.compile(r"^level_\d+_(name|ref)$")
DEFAULT_TYPE = "Org unit"
BATCH = 10_000  # rows whose points are made together
# A row's values in this order (a column the header lacks reads as empty): the unit's attributes, then
# its geometry.
ATTRIBUTES = ("ref", "name", "parent_ref", "type", "code", "opening_date", "closed_date", "group_refs",
              "groups", "uuid", "validation_status")  # fmt: skip
GEOMETRY = ("latitude", "longitude", "wkt", "geojson")
SURVEYED = ("ref", "name", "parent_ref", "type", "group_refs", "groups")


def read(path: str | Path) -> Package:
    """The whole file at once (see `source` for a stream)."""
    package = Package()
    package.features = list(guarded(_features(path, package)))
    return package


def source(path: str | Path) -> Source:
    """The file as a Source whose features are read as they are asked for. A first pass over the file
    finds what must be known before: the types, the groups, how many rows there are and which refs
    rows name as their parent."""
    package = Package()
    with file_errors():
        levels, count, parents = _survey(path, package)
    return Source(package, levels, count, lambda: guarded(_features(path, package)), parents, streamed=True)


def _features(path: str | Path, package: Package) -> Iterator[Feature]:
    header, rows = value_rows(path, rename=_column)  # not the ancestors' columns
    _check_columns(header)
    cells, width = _picker(header, ATTRIBUTES + GEOMETRY), len(header)
    batch, points = [], []
    for row_number, values in rows:
        if len(values) > width:
            package.problems.append(RowProblem(LAYER, row_number, "row", TOO_MANY_VALUES))
            continue
        feature = _feature(package, row_number, list(map(str.strip, cells(values))), points)
        if feature:
            batch.append(feature)
        if len(batch) >= BATCH:
            _place_points(points)
            yield from batch
            batch, points = [], []
    _place_points(points)
    yield from batch


def _survey(path: str | Path, package: Package) -> tuple[list[tuple[int, str]], int, frozenset[str]]:
    """The types (as levels) and groups (into `package`) named by rows that have a ref and a name, the
    number of rows, and the refs that rows name as their parent. Parents and types are collected as
    the file spells them and cleaned once each (a pass over a million rows, so the least per row)."""
    header, rows = value_rows(path, rename=_column)
    _check_columns(header)
    cells, width = _picker(header, SURVEYED), len(header)
    types, count, parents = set(), 0, set()
    for _, values in rows:
        count += 1
        if len(values) > width:
            continue
        ref, name, parent_ref, type_name, group_refs, groups = cells(values)
        parents.add(parent_ref)
        if not ref.strip() or not name.strip():
            continue
        types.add(type_name)
        if group_refs := group_refs.strip():
            refs = [g for g in (normalise_ref(part) for part in group_refs.split(",")) if g]
            _name_groups(package, refs, groups.strip())
    levels = sorted({type_name.strip() or DEFAULT_TYPE for type_name in types})
    return [(0, name) for name in levels], count, frozenset(filter(None, map(normalise_ref, parents)))


def _picker(header: list[str], names: tuple[str, ...]):
    """A function giving a row's values of the columns `names`, in that order: empty for a column the
    header lacks or the row is too short to reach (a row too long is the caller's to refuse). A name
    the header repeats reads its last column."""
    width, at = len(header), {name: index for index, name in enumerate(header)}
    pick = operator.itemgetter(*(at.get(name, width) for name in names))

    def picked(values: list[str]) -> tuple[str, ...]:
        if len(values) < width:
            values = values + [""] * (width - len(values))
        values.append("")  # at `width`: where the columns the header lacks are read
        return pick(values)

    return picked


def _place_points(points: list[tuple[Feature, float, float]]) -> None:
    """Locations given as latitude/longitude, made in one vectorised shapely call (one by one, they
    were a large share of a CSV import's time)."""
    if points:
        made = shapely.points([(lon, lat) for _, lon, lat in points])
        for (feature, _, _), point in zip(points, made, strict=True):
            feature.location = point


def _column(name: str | None) -> str:
    name = (name or "").strip().lower()
    return EXPORT_ALIASES.get(name, name)


def _check_columns(columns: list[str]) -> None:
    missing = {"ref", "name"} - set(columns)
    if missing:
        raise CsvError(
            f"the header lacks column(s) {', '.join(sorted(missing))} (found: {', '.join(columns)})"
        )
    unknown = sorted(c for c in set(columns) - KNOWN - EXPORT_IGNORED - {""} if not ANCESTOR_COLUMN.match(c))
    if unknown:
        raise CsvError(f"unknown column(s) {', '.join(unknown)}; known: {', '.join(sorted(KNOWN))}")
    if ("latitude" in columns) != ("longitude" in columns):
        raise CsvError("latitude and longitude come together")


def _feature(package: Package, row: int, cells: list[str], points: list) -> Feature | None:
    """A row's feature from its cleaned values (ATTRIBUTES, then GEOMETRY); a point alone (the common
    case) is queued in `points` to be made in bulk."""
    feature = _unit(package, LAYER, row, cells)
    if feature is None:
        return None
    latitude, longitude, wkt, geojson = cells[len(ATTRIBUTES) :]
    if not wkt and not geojson and (latitude or longitude):
        return _queued_point(package, feature, latitude, longitude, points)

    def problem(field_name: str, message: str, fatal: bool = True) -> None:
        package.problems.append(RowProblem(LAYER, row, field_name, message, fatal, feature.ref))

    try:
        shapes = _geometries(latitude, longitude, wkt, geojson)
    except Exception as error:  # whatever a cell holds, it is this row's problem, not the import's
        field_name = "wkt" if wkt else "geojson" if geojson else "latitude" if latitude else "geometry"
        problem(field_name, f"is not a readable geometry ({error})")
        return None
    for geometry in shapes:  # a territory (wkt or geojson) and a point (latitude/longitude) may both be given
        if place_geometry(feature, geometry, problem) is None:
            return None
    return feature


def _queued_point(package: Package, feature: Feature, latitude: str, longitude: str, points: list):
    try:
        lon, lat = float(longitude), float(latitude)
    except ValueError as error:
        _problem(package, feature.row, "latitude", f"is not a readable geometry ({error})", feature.ref)
        return None
    limit_x, limit_y = 180 + GLOBE_TOLERANCE, 90 + GLOBE_TOLERANCE
    if not (-limit_x <= lon <= limit_x and -limit_y <= lat <= limit_y):  # NaN fails too
        _problem(package, feature.row, "geom", OUTSIDE_GLOBE, feature.ref)
        return None
    points.append((feature, lon, lat))
    return feature


def feature_from_values(package: Package, layer: str, row: int, values: dict) -> Feature | None:
    """A feature from its attributes keyed by column (geometry aside); problems go to `package`."""
    return _unit(package, layer, row, [_clean(values.get(name)) for name in ATTRIBUTES])


def _unit(package: Package, layer: str, row: int, cells: list[str]) -> Feature | None:
    """A feature from its cleaned values in ATTRIBUTES' order (geometry aside), or None when a problem
    (reported in `package`) makes it unusable."""
    ref, name, parent_ref, type_name, code, opened, closed, group_refs, groups, uuid, status = cells[
        : len(ATTRIBUTES)
    ]
    ref = normalise_ref(ref)
    if not ref or not name:
        _problem(package, row, "ref" if not ref else "name", "is missing", ref, layer)
        return None
    refs = []
    if group_refs:  # most rows name no group
        refs = [g for g in (normalise_ref(part) for part in group_refs.split(",")) if g]
        _name_groups(package, refs, groups)
    status = status.upper() or None
    if status and status not in VALIDATION_STATUSES:
        message = f"{status!r} is not one of {', '.join(VALIDATION_STATUSES)}"
        _problem(package, row, "validation_status", message, ref, layer)
        return None
    feature = Feature(layer, row, 0, type_name or DEFAULT_TYPE, ref, name, normalise_ref(parent_ref), refs,
                      code or None, None, None, uuid or None, status)  # fmt: skip
    if (too_long_field := overlong(feature)) is not None:
        _problem(package, row, too_long_field, too_long(), ref, layer)
        return None
    if (opened or closed) and not _dates(package, feature, opened, closed):
        return None
    return feature


def _dates(package: Package, feature: Feature, opened: str, closed: str) -> bool:
    for date_field, value in (("opening_date", opened), ("closed_date", closed)):
        if value:
            try:
                setattr(feature, date_field, datetime.date.fromisoformat(value))
            except ValueError:
                message = f"{value!r} is not a date (YYYY-MM-DD)"
                _problem(package, feature.row, date_field, message, feature.ref, feature.layer)
                return False
    if feature.opening_date and feature.closed_date and feature.closed_date < feature.opening_date:
        _problem(package, feature.row, "closed_date", "is before opening_date", feature.ref, feature.layer)
        return False
    return True


def _problem(package: Package, row: int, field_name: str, message: str, ref: str | None, layer: str = LAYER):
    package.problems.append(RowProblem(layer, row, field_name, message, True, ref))


def _clean(value: str | None) -> str:
    if not value:
        return ""
    value = value.strip()
    return value.replace("\x00", "") if "\x00" in value else value


def _name_groups(package: Package, refs: list[str], names: str) -> None:
    """Group names come from a `groups` column listing them in the order of `group_refs` (our exports
    do); otherwise a group is named after its ref."""
    listed = [name.strip() for name in names.split(",")] if names else []
    for index, ref in enumerate(refs):
        named = listed[index] if len(listed) == len(refs) and listed[index] else ref
        package.groups.setdefault(ref, named)


def _geometries(latitude: str, longitude: str, wkt: str, geojson: str) -> list:
    found = []
    if wkt:
        found.append(shapely.from_wkt(wkt))
    elif geojson:
        found.append(shape(json.loads(geojson)))
    if latitude or longitude:
        found.append(Point(float(longitude), float(latitude)))
    return found
