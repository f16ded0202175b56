"""Reading GeoPackages in Iaso's layout, with Python's sqlite3 and shapely (no GDAL in the Lambda).

Layout (ARCHITECTURE.md §4): one feature layer per org-unit type, named `level-{depth}-{type name}`,
with columns `ref` and `name` (required), `parent_ref`, `group_refs` (comma list), `code`,
`opening_date`, `closed_date`, `uuid`; other columns are ignored. Points are locations,
(Multi)Polygons territories. An attribute table `groups(ref, name)` names the groups.
Refs written as `iaso#123` or `iaso:123` (Iaso's internal ids) are the same ref.

Problems that make the file unusable raise GpkgError; problems of one feature are collected with
their layer, row and field so that the importer can report them all at once.
"""

import datetime
import re
import sqlite3
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import shapely
from shapely.geometry import MultiPolygon, Point, Polygon

from chalicelib.geometry import outside_globe, repaired

LAYER_NAME = re.compile(r"^level-(\d+)-(.+)$")
SQLITE_MAGIC = b"SQLite format 3\x00"
ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
WGS84 = 4326
# A layer's attribute columns in Iaso's layout (plus validation_status, which Iaso ignores and our
# exports write so that round trips keep it); others are ignored on reading.
IASO_COLUMNS = (
    "ref",
    "name",
    "parent_ref",
    "group_refs",
    "code",
    "opening_date",
    "closed_date",
    "uuid",
    "validation_status",
)
VALIDATION_STATUSES = ("NEW", "VALID", "REJECTED")


class GpkgError(Exception):
    """The file cannot be read as a GeoPackage in Iaso's layout."""


@dataclass(frozen=True, slots=True)
class RowProblem:
    layer: str
    row: int
    field: str
    message: str
    fatal: bool = True  # False: repaired, reported as a warning
    ref: str | None = None  # the row's ref, when it has one

    def __str__(self) -> str:
        return f"{self.layer}, row {self.row}, {self.field}: {self.message}"


@dataclass(slots=True)  # a million of them at once in a big import: no per-instance dict
class Feature:
    layer: str
    row: int
    depth: int
    type_name: str
    ref: str
    name: str
    parent_ref: str | None = None
    group_refs: list[str] = field(default_factory=list)
    code: str | None = None
    opening_date: datetime.date | None = None
    closed_date: datetime.date | None = None
    uuid: str | None = None
    validation_status: str | None = (
        None  # NEW, VALID or REJECTED when the file says; else the importer decides
    )
    location: Point | None = None
    territory: MultiPolygon | None = None


MAX_PROBLEMS = 10_000


class ProblemList(list):
    """Row problems, up to a point: a file where thousands of rows are wrong is the wrong file, and
    listing a million errors would only exhaust the worker's memory."""

    def append(self, problem: RowProblem) -> None:
        if len(self) >= MAX_PROBLEMS:
            first = "; ".join(str(p) for p in self[:5])
            raise GpkgError(
                f"more than {MAX_PROBLEMS} rows have problems; is this the right file? First: {first}"
            )
        super().append(problem)


@dataclass
class Package:
    features: list[Feature] = field(default_factory=list)
    groups: dict[str, str] = field(default_factory=dict)  # ref -> name
    problems: ProblemList = field(default_factory=ProblemList)

    @property
    def errors(self) -> list[RowProblem]:
        return [problem for problem in self.problems if problem.fatal]

    @property
    def warnings(self) -> list[RowProblem]:
        return [problem for problem in self.problems if not problem.fatal]


def normalise_ref(ref: str | None) -> str | None:
    """`iaso:123` and `iaso#123` name the same unit; blanks are no ref."""
    if ref is None:
        return None
    ref = str(ref).strip()
    if not ref:
        return None
    return "iaso#" + ref[5:] if ref.startswith("iaso:") else ref


def read(path: str | Path) -> Package:
    _check_is_sqlite(Path(path))
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise GpkgError(f"cannot open the file as SQLite: {error}") from error
    try:
        return _read(connection)
    except sqlite3.DatabaseError as error:
        raise GpkgError(f"the GeoPackage is damaged or truncated: {error}") from error
    finally:
        connection.close()


def _check_is_sqlite(path: Path) -> None:
    with path.open("rb") as file:
        head = file.read(len(SQLITE_MAGIC))
    if not head:
        raise GpkgError("the file is empty")
    if head != SQLITE_MAGIC:
        raise GpkgError("this is not a GeoPackage (not an SQLite database)")


def _read(connection: sqlite3.Connection) -> Package:
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "gpkg_contents" not in tables or "gpkg_geometry_columns" not in tables:
        raise GpkgError("this SQLite file is not a GeoPackage (no gpkg_contents / gpkg_geometry_columns)")
    package = Package(groups=_groups(connection, tables))
    layers = connection.execute(
        "SELECT c.table_name, g.column_name, g.srs_id FROM gpkg_contents c"
        " JOIN gpkg_geometry_columns g ON g.table_name = c.table_name WHERE c.data_type = 'features'"
        " ORDER BY c.table_name"
    ).fetchall()
    levels = [(LAYER_NAME.match(name), name, column, srs) for name, column, srs in layers]
    usable = [(match, name, column, srs) for match, name, column, srs in levels if match]
    if not usable:
        names = ", ".join(name for _, name, _, _ in levels) or "none"
        raise GpkgError(f"no layer named level-<depth>-<type> (layers found: {names})")
    for match, name, column, srs in sorted(usable, key=lambda layer: int(layer[0].group(1))):
        if srs != WGS84:
            raise GpkgError(
                f"layer {name!r} is in EPSG:{srs}; only EPSG:4326 (longitude/latitude) is accepted"
            )
        type_name = match.group(2).strip() or f"Level {match.group(1)}"
        _read_layer(connection, package, name, column, int(match.group(1)), type_name)
    return package


def _groups(connection: sqlite3.Connection, tables: set[str]) -> dict[str, str]:
    if "groups" not in tables:
        return {}
    columns = _columns(connection, "groups")
    if not {"ref", "name"} <= columns:
        raise GpkgError("the groups table needs columns ref and name")
    rows = connection.execute('SELECT ref, name FROM "groups"').fetchall()
    return {
        normalise_ref(ref): (name or "").strip() or normalise_ref(ref)
        for ref, name in rows
        if normalise_ref(ref)
    }


def _columns(connection: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in connection.execute(f'PRAGMA table_info("{_quoted(table)}")')}


def _quoted(name: str) -> str:
    return name.replace('"', '""')


BATCH = 10_000


def _read_layer(
    connection, package: Package, layer: str, geometry_column: str, depth: int, type_name: str
) -> None:
    columns = _columns(connection, layer)
    missing = {"ref", "name"} - columns
    if missing:
        raise GpkgError(f"layer {layer!r} has no column {', '.join(sorted(missing))}")
    present = [column for column in IASO_COLUMNS if column in columns]
    selected = ", ".join(f'"{column}"' for column in [*present, geometry_column])
    cursor = connection.execute(f'SELECT {selected} FROM "{_quoted(layer)}" ORDER BY rowid')
    row_number = 0
    while rows := cursor.fetchmany(BATCH):
        geometries = _geometries([values[-1] for values in rows])
        for values, geometry in zip(rows, geometries, strict=True):
            row_number += 1
            record = dict(zip(present, values, strict=False))
            feature = _feature(package, layer, row_number, depth, type_name.strip(), record, geometry)
            if feature:
                package.features.append(feature)


def _geometries(blobs: list) -> list:
    """The layer's geometry blobs parsed in one vectorised shapely call; each entry is a geometry,
    None (no geometry), or the GpkgError saying why this blob is unusable."""
    wkbs, found = [], []
    for blob in blobs:
        try:
            wkb = _wkb_of(blob)
        except GpkgError as error:
            found.append(error)
            continue
        found.append(None)
        if wkb is not None:
            wkbs.append(wkb)
            found[-1] = len(wkbs) - 1  # its place among the parsed
    parsed = shapely.from_wkb(wkbs, on_invalid="ignore") if wkbs else []
    geometries = []
    for entry in found:
        if isinstance(entry, int):
            geometry = parsed[entry]
            if geometry is None:
                geometry = GpkgError("has unreadable WKB")
            elif geometry.is_empty:
                geometry = None
            geometries.append(geometry)
        else:
            geometries.append(entry)
    return geometries


def _feature(
    package: Package, layer: str, row: int, depth: int, type_name: str, record: dict, geometry
) -> Feature | None:
    for key, value in record.items():
        if isinstance(value, str) and "\x00" in value:
            record[key] = value.replace("\x00", "")
    ref, name = normalise_ref(record.get("ref")), (str(record.get("name") or "")).strip()

    def problem(field_name: str, message: str, fatal: bool = True) -> None:
        package.problems.append(RowProblem(layer, row, field_name, message, fatal, ref))

    if not ref:
        problem("ref", "is missing")
    if not name:
        problem("name", "is missing")
    if not ref or not name:
        return None
    feature = Feature(layer, row, depth, type_name, ref, name)
    feature.parent_ref = normalise_ref(record.get("parent_ref"))
    group_refs = record.get("group_refs")
    if group_refs:
        feature.group_refs = [group for group in map(normalise_ref, str(group_refs).split(",")) if group]
    code = record.get("code")
    feature.code = (str(code).strip() or None) if code is not None else None
    feature.uuid = (str(record["uuid"]).strip() or None) if record.get("uuid") else None
    status = record.get("validation_status")
    if status:
        status = str(status).strip().upper() or None
        if status and status not in VALIDATION_STATUSES:
            problem("validation_status", f"{status!r} is not one of {', '.join(VALIDATION_STATUSES)}")
            return None
        feature.validation_status = status
    if not _dates(feature, record, problem):
        return None
    unknown_groups = [group for group in feature.group_refs if group not in package.groups]
    if unknown_groups:
        problem("group_refs", f"names groups missing from the groups table: {', '.join(unknown_groups)}")
        return None
    if isinstance(geometry, GpkgError):
        problem("geom", str(geometry))
        return None
    return place_geometry(feature, geometry, problem)


def _dates(feature: Feature, record: dict, problem) -> bool:
    for date_field in ("opening_date", "closed_date"):
        raw = record.get(date_field)
        if raw not in (None, ""):
            try:
                setattr(feature, date_field, datetime.date.fromisoformat(str(raw)[:10]))
            except ValueError:
                problem(date_field, f"{raw!r} is not a date (YYYY-MM-DD)")
                return False
    if feature.opening_date and feature.closed_date and feature.closed_date < feature.opening_date:
        problem("closed_date", "is before opening_date")
        return False
    return True


def place_geometry(feature: Feature, geometry, problem) -> Feature | None:
    """Sets the point or territory of `feature`; reports (through `problem`) what cannot be used."""
    if geometry is None:
        return feature
    if geometry.is_empty:
        problem("geom", "is an empty geometry")
        return None
    if outside_globe(geometry):
        problem("geom", "has coordinates outside longitude -180..180 / latitude -90..90")
        return None
    if isinstance(geometry, Point):
        feature.location = geometry
        return feature
    if isinstance(geometry, Polygon | MultiPolygon):
        territory, reason = repaired(geometry)
        if territory.is_empty:
            problem("geom", f"is invalid ({reason}) and cannot be repaired")
            return None
        if reason:
            problem("geom", f"was invalid ({reason}) and has been repaired", fatal=False)
        feature.territory = territory
        return feature
    problem("geom", f"is a {geometry.geom_type}; a unit has a Point or a (Multi)Polygon")
    return None


def parse_geometry(blob: bytes | None):
    """A GeoPackage geometry blob (header, envelope, then WKB) as a shapely geometry, or None."""
    wkb = _wkb_of(blob)
    if wkb is None:
        return None
    try:
        geometry = shapely.from_wkb(wkb)
    except shapely.errors.GEOSException as error:
        raise GpkgError(f"has unreadable WKB ({error})") from error
    return None if geometry.is_empty else geometry


def _wkb_of(blob: bytes | None) -> bytes | None:
    """The WKB inside a GeoPackage geometry blob, after its header is checked; None when empty."""
    if blob is None:
        return None
    if len(blob) < 8 or blob[:2] != b"GP":
        raise GpkgError("is not a GeoPackage geometry")
    flags = blob[3]
    envelope = ENVELOPE_BYTES.get((flags >> 1) & 0b111)
    if envelope is None:
        raise GpkgError("has an unknown envelope type")
    if flags & 0b10000:  # the empty-geometry flag
        return None
    order = "<" if flags & 1 else ">"
    srs_id = struct.unpack(f"{order}i", blob[4:8])[0]
    if srs_id not in (WGS84, 0, -1):
        raise GpkgError(f"is in EPSG:{srs_id}; only EPSG:4326 is accepted")
    return bytes(blob[8 + envelope :])


def iter_layers(package: Package) -> Iterator[tuple[int, str]]:
    """(depth, type name) of each level present, top first."""
    yield from sorted({(feature.depth, feature.type_name) for feature in package.features})
