"""Reading org units from CSV: one row per unit.

Columns (English, case-insensitive): `ref` and `name` (required), `parent_ref`, `type` (default
"Org unit"), `code`, `opening_date`, `closed_date`, `group_refs` (comma list), `uuid`, and a geometry
as `latitude` + `longitude`, or `wkt`, or `geojson`. Delimiter `,` or `;` (sniffed from the header),
UTF-8 with or without a BOM. Problems are reported per row and field like the GeoPackage reader's.
"""

import csv
import datetime
import json
import re
from collections.abc import Iterator
from pathlib import Path

import shapely
from shapely.geometry import Point, shape

from chalicelib.geometry import GLOBE_TOLERANCE
from chalicelib.gpkg import (
    VALIDATION_STATUSES,
    Feature,
    GpkgError,
    Package,
    RowProblem,
    Source,
    normalise_ref,
    place_geometry,
)

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
TOO_MANY_VALUES = "has more values than the header has columns"


class CsvError(GpkgError):
    """The file cannot be read as a CSV of org units."""


# Territories as WKT can be long; csv's default field limit (128 KiB) would refuse them.
csv.field_size_limit(64 * 1024 * 1024)


def read(path: str | Path) -> Package:
    """The whole file at once (see `source` for a stream)."""
    package = Package()
    package.features = list(_features(path, package))
    return package


def source(path: str | Path) -> Source:
    """The file as a Source whose features are read as they are asked for. A first pass over the file
    finds what must be known before: the types, the groups, how many rows there are and which refs
    rows name as their parent."""
    package = Package()
    levels, count, parents = _survey(path, package)
    return Source(package, levels, count, lambda: _features(path, package), parents, streamed=True)


BATCH = 10_000  # rows whose points are made together


def _features(path: str | Path, package: Package) -> Iterator[Feature]:
    header, records = rows_of(path, rename=_column, keep=KNOWN)  # not the ancestors' columns
    _check_columns(header)
    batch, points = [], []
    for row_number, record in records:
        if record is None:
            package.problems.append(RowProblem(LAYER, row_number, "row", TOO_MANY_VALUES))
            continue
        feature = _feature(package, row_number, record, points)
        if feature:
            batch.append(feature)
        if len(batch) >= BATCH:
            _place_points(points)
            yield from batch
            batch, points = [], []
    _place_points(points)
    yield from batch


SURVEYED = frozenset({"ref", "name", "parent_ref", "type", "group_refs", "groups"})


def _survey(path: str | Path, package: Package) -> tuple[list[tuple[int, str]], int, frozenset[str]]:
    """The types (as levels) and groups (into `package`) named by rows that have a ref and a name, the
    number of rows, and the refs that rows name as their parent."""
    header, records = rows_of(path, rename=_column, keep=SURVEYED)
    _check_columns(header)
    types, count, parents = set(), 0, set()
    for _, record in records:
        count += 1
        if record is None:
            continue
        if parent := normalise_ref(_clean(record.get("parent_ref"))):
            parents.add(parent)
        if not normalise_ref(_clean(record.get("ref"))) or not _clean(record.get("name")):
            continue
        types.add(_clean(record.get("type")) or DEFAULT_TYPE)
        if group_refs := _clean(record.get("group_refs")):
            refs = [g for g in (normalise_ref(part) for part in group_refs.split(",")) if g]
            _name_groups(package, refs, _clean(record.get("groups")))
    return [(0, name) for name in sorted(types)], count, frozenset(parents)


def _place_points(points: list[tuple[Feature, float, float]]) -> None:
    """Locations given as latitude/longitude, made in one vectorised shapely call (one by one, they
    were a tenth of a CSV import's time)."""
    if points:
        made = shapely.points([(lon, lat) for _, lon, lat in points])
        for (feature, _, _), point in zip(points, made, strict=True):
            feature.location = point


def rows_of(
    path: str | Path, rename=str.strip, keep: frozenset[str] | None = None
) -> tuple[list[str], Iterator[tuple[int, dict]]]:
    """The header (each name through `rename`), and the rows numbered as a spreadsheet shows them (the
    header is row 1), keyed by those names (only those in `keep`, if given), read as they are asked
    for, without NUL characters in their values. A row with more values than the header has columns
    comes as None: its columns cannot be trusted."""
    path = Path(path)
    if path.stat().st_size == 0:
        raise CsvError("the file is empty")
    try:
        with _text(path) as file:
            header_line = file.readline()
    except UnicodeDecodeError as error:
        raise _not_utf8(path, error) from error
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    header = [rename(name or "") for name in next(csv.reader([header_line], delimiter=delimiter), [])]
    kept = [(name, index) for index, name in enumerate(header) if keep is None or name in keep]

    def records() -> Iterator[tuple[int, dict]]:
        row_number = 1
        try:
            with _text(path) as file:
                file.readline()
                nul = [False]  # a NUL character in the lines of the record being read
                lines = (_noting_nul(line, nul) for line in file)
                for values in csv.reader(lines, delimiter=delimiter):
                    if values:  # blank lines are skipped, and not counted
                        row_number += 1
                        if nul[0]:  # PostgreSQL refuses NUL in text: out of the values (not the line)
                            values, nul[0] = [value.replace("\x00", "") for value in values], False
                        yield row_number, _record(values, kept, len(header))
        except UnicodeDecodeError as error:
            raise _not_utf8(path, error) from error

    return header, records()


def _noting_nul(line: str, nul: list[bool]) -> str:
    if "\x00" in line:
        nul[0] = True
    return line


def _record(values: list[str], kept: list[tuple[str, int]], width: int) -> dict | None:
    if len(values) == width:
        return {name: values[index] for name, index in kept}
    if len(values) > width:
        return None
    return {name: values[index] if index < len(values) else "" for name, index in kept}  # the rest is empty


def _text(path: Path):
    return open(path, encoding="utf-8-sig", newline="")  # the callers close it


def _not_utf8(path: Path, error: UnicodeDecodeError) -> CsvError:
    """The error, naming the first line that is not UTF-8 (the decoder reads ahead, so where it failed
    does not say which line)."""
    with path.open("rb") as file:
        line = next((number for number, raw in enumerate(file, start=1) if not _is_utf8(raw)), None)
    where = f"line {line}: " if line else ""
    return CsvError(
        f"the file is not UTF-8 ({where}{error.reason}); save it as 'CSV UTF-8' and upload it again"
    )


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


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


def _feature(package: Package, row: int, record: dict, points: list) -> Feature | None:
    """A row's feature; a point alone (the common case) is queued in `points` to be made in bulk."""
    values = {key: value.strip() for key, value in record.items()}  # rows_of took out NUL characters
    feature = feature_from_values(package, LAYER, row, values, cleaned=True)
    if feature is None:
        return None

    def problem(field_name: str, message: str, fatal: bool = True) -> None:
        package.problems.append(RowProblem(LAYER, row, field_name, message, fatal, feature.ref))

    if (
        not values.get("wkt")
        and not values.get("geojson")
        and (values.get("latitude") or values.get("longitude"))
    ):
        return _queued_point(feature, values, points, problem)

    try:
        shapes = _geometries(values)
    except Exception as error:  # whatever a cell holds, it is this row's problem, not the import's
        field_name = next((f for f in ("wkt", "geojson", "latitude") if values.get(f)), "geometry")
        problem(field_name, f"is not a readable geometry ({error})")
        return None
    for geometry in shapes:  # a territory (wkt or geojson) and a point (latitude/longitude) may both be given
        if place_geometry(feature, geometry, problem) is None:
            return None
    return feature


def _queued_point(feature: Feature, values: dict, points: list, problem) -> Feature | None:
    try:
        lon, lat = float(values["longitude"]), float(values["latitude"])
    except ValueError as error:
        problem("latitude", f"is not a readable geometry ({error})")
        return None
    limit_x, limit_y = 180 + GLOBE_TOLERANCE, 90 + GLOBE_TOLERANCE
    if not (-limit_x <= lon <= limit_x and -limit_y <= lat <= limit_y):  # NaN fails too
        problem("geom", "has coordinates outside longitude -180..180 / latitude -90..90")
        return None
    points.append((feature, lon, lat))
    return feature


def feature_from_values(
    package: Package, layer: str, row: int, values: dict, cleaned: bool = False
) -> Feature | None:
    """A feature from its attributes (geometry aside); problems go to `package`."""
    if not cleaned:
        values = {key: _clean(value) for key, value in values.items()}
    ref, name = normalise_ref(values.get("ref")), values.get("name", "")

    def problem(field_name: str, message: str) -> None:
        package.problems.append(RowProblem(layer, row, field_name, message, True, ref))

    if not ref or not name:
        problem("ref" if not ref else "name", "is missing")
        return None
    feature = Feature(layer, row, 0, values.get("type") or DEFAULT_TYPE, ref, name)
    feature.parent_ref = normalise_ref(values.get("parent_ref"))
    feature.code = values.get("code") or None
    feature.uuid = values.get("uuid") or None
    if group_refs := values.get("group_refs"):  # most rows name no group
        feature.group_refs = [g for g in (normalise_ref(part) for part in group_refs.split(",")) if g]
        _name_groups(package, feature.group_refs, values.get("groups", ""))
    status = values.get("validation_status", "").upper() or None
    if status and status not in VALIDATION_STATUSES:
        problem("validation_status", f"{status!r} is not one of {', '.join(VALIDATION_STATUSES)}")
        return None
    feature.validation_status = status
    for date_field in ("opening_date", "closed_date"):
        if values.get(date_field):
            try:
                setattr(feature, date_field, datetime.date.fromisoformat(values[date_field]))
            except ValueError:
                problem(date_field, f"{values[date_field]!r} is not a date (YYYY-MM-DD)")
                return None
    if feature.opening_date and feature.closed_date and feature.closed_date < feature.opening_date:
        problem("closed_date", "is before opening_date")
        return None
    return feature


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


def _geometries(values: dict) -> list:
    found = []
    if values.get("wkt"):
        found.append(shapely.from_wkt(values["wkt"]))
    elif values.get("geojson"):
        found.append(shape(json.loads(values["geojson"])))
    if values.get("latitude") or values.get("longitude"):
        found.append(Point(float(values["longitude"]), float(values["latitude"])))
    return found
