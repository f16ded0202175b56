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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon

from chalicelib.imports import gpkg_reader_sql
from chalicelib.registry.geometry import outside_globe, outside_globe_all, repaired

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


def normalise_ref(ref) -> str | None:
    """`iaso:123` and `iaso#123` name the same unit; blanks are no ref."""
    if ref is None:
        return None
    ref = (ref if type(ref) is str else str(ref)).strip()
    if ref[:5] == "iaso:":
        return "iaso#" + ref[5:]
    return ref or None


def read(path: str | Path) -> Package:
    """The whole file at once (see `opened` for a stream)."""
    with opened(path) as source:
        source.package.features = list(source.features())
        return source.package


@dataclass
class Source:
    """A file's features, read as they are asked for, with what is known before: the groups, the
    levels (depth, type name), at most how many features there are, and the refs that features name
    as their parent (or None when not known). `features()` may be called again to read them again."""

    package: Package  # groups now; problems as the features are read
    levels: list[tuple[int, str]]
    count: int
    features: Callable[[], Iterator[Feature]]
    parents: frozenset[str] | None = None
    streamed: bool = False  # read from the file as they are asked for (not from memory)

    @classmethod
    def of(cls, package: Package) -> "Source":
        """A file read whole (CSV, GeoJSON) as a source."""
        levels = sorted({(feature.depth, feature.type_name) for feature in package.features})
        parents = frozenset(feature.parent_ref for feature in package.features if feature.parent_ref)
        return cls(package, levels, len(package.features), lambda: iter(package.features), parents)


@contextmanager
def opened(path: str | Path) -> Iterator[Source]:
    """The GeoPackage as a Source whose features are read layer by layer, a batch at a time, so that
    its geometries are never all in memory (each reading on its own connection)."""
    _check_is_sqlite(Path(path))
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise GpkgError(f"cannot open the file as SQLite: {error}") from error
    try:
        try:
            source = _open(connection, Path(path))
        except sqlite3.DatabaseError as error:
            raise GpkgError(f"the GeoPackage is damaged or truncated: {error}") from error
        yield source
    finally:
        connection.close()


def _check_is_sqlite(path: Path) -> None:
    with path.open("rb") as file:
        head = file.read(len(SQLITE_MAGIC))
    if not head:
        raise GpkgError("the file is empty")
    if head != SQLITE_MAGIC:
        raise GpkgError("this is not a GeoPackage (not an SQLite database)")


def _open(connection: sqlite3.Connection, path: Path) -> Source:
    tables = {row[0] for row in connection.execute(gpkg_reader_sql.TABLES)}
    if "gpkg_contents" not in tables or "gpkg_geometry_columns" not in tables:
        raise GpkgError("this SQLite file is not a GeoPackage (no gpkg_contents / gpkg_geometry_columns)")
    package = Package(groups=_groups(connection, tables))
    layers = connection.execute(gpkg_reader_sql.FEATURE_LAYERS).fetchall()
    levels = [(LAYER_NAME.match(name), name, column, srs) for name, column, srs in layers]
    usable = [(match, name, column, srs) for match, name, column, srs in levels if match]
    if not usable:
        names = ", ".join(name for _, name, _, _ in levels) or "none"
        raise GpkgError(f"no layer named level-<depth>-<type> (layers found: {names})")
    readers = []
    for match, name, column, srs in sorted(usable, key=lambda layer: int(layer[0].group(1))):
        if srs != WGS84:
            raise GpkgError(
                f"layer {name!r} is in EPSG:{srs}; only EPSG:4326 (longitude/latitude) is accepted"
            )
        type_name = match.group(2).strip() or f"Level {match.group(1)}"
        readers.append(_LayerReader(name, column, int(match.group(1)), type_name))
    count = sum(reader.count(connection) for reader in readers)
    parents = frozenset(ref for reader in readers for ref in reader.parent_refs(connection))

    def features() -> Iterator[Feature]:  # on a connection of its own: it may run in another process
        own = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            for reader in readers:
                yield from reader.features(own, package)
        except sqlite3.DatabaseError as error:
            raise GpkgError(f"the GeoPackage is damaged or truncated: {error}") from error
        finally:
            own.close()

    levels = [(reader.depth, reader.type_name) for reader in readers]
    return Source(package, levels, count, features, parents, streamed=True)


def _groups(connection: sqlite3.Connection, tables: set[str]) -> dict[str, str]:
    if "groups" not in tables:
        return {}
    columns = _columns(connection, "groups")
    if not {"ref", "name"} <= columns:
        raise GpkgError("the groups table needs columns ref and name")
    rows = connection.execute(gpkg_reader_sql.GROUPS).fetchall()
    return {
        normalise_ref(ref): (name or "").strip() or normalise_ref(ref)
        for ref, name in rows
        if normalise_ref(ref)
    }


def _columns(connection: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in connection.execute(gpkg_reader_sql.table_info(table))}


BATCH = 10_000


@dataclass(frozen=True)
class _LayerReader:
    layer: str
    geometry_column: str
    depth: int
    type_name: str

    def count(self, connection) -> int:
        self._columns(connection)  # a layer without its columns is refused before anything is read
        return connection.execute(gpkg_reader_sql.count_rows(self.layer)).fetchone()[0]

    def _columns(self, connection) -> list[str]:
        columns = _columns(connection, self.layer)
        missing = {"ref", "name"} - columns
        if missing:
            raise GpkgError(f"layer {self.layer!r} has no column {', '.join(sorted(missing))}")
        return [column for column in IASO_COLUMNS if column in columns]

    def parent_refs(self, connection) -> Iterator[str]:
        """The refs the layer's rows name as their parent (read as `features` reads them)."""
        if "parent_ref" not in self._columns(connection):
            return
        cursor = connection.execute(gpkg_reader_sql.parent_refs(self.layer))
        for (raw,) in cursor:
            if (ref := normalise_ref(raw)) is not None:
                yield ref

    def features(self, connection, package: Package) -> Iterator[Feature]:
        present = set(self._columns(connection))
        # Rows unpack at once, cleaned by SQLite (see gpkg_reader_sql.layer_rows).
        rows_sql = gpkg_reader_sql.layer_rows(self.layer, self.geometry_column, IASO_COLUMNS, present)
        cursor = connection.execute(rows_sql)
        row_number, type_name = 0, self.type_name.strip()
        while rows := cursor.fetchmany(BATCH):
            geometries = _geometries([values[-1] for values in rows])
            for values, geometry in zip(rows, geometries, strict=True):
                row_number += 1
                feature = _feature(package, self.layer, row_number, self.depth, type_name, values, geometry)
                if feature:
                    yield feature


def _geometries(blobs: list) -> list:
    """The layer's geometry blobs parsed and checked in a few vectorised shapely calls; each entry is
    a Point, a (Multi)Polygon, None (no geometry), or the GpkgError saying why it is unusable."""
    wkbs, found = [], []
    for blob in blobs:
        start = PLAIN_HEADERS.get(blob[:8]) if blob is not None else None
        if start is not None:  # the usual header, checked once for all: skip it
            wkb = blob[start:]
        else:
            try:
                wkb = _wkb_of(blob)
            except GpkgError as error:
                found.append(error)
                continue
        found.append(None)
        if wkb is not None:
            wkbs.append(wkb)
            found[-1] = len(wkbs) - 1  # its place among the parsed
    parsed = shapely.from_wkb(wkbs, on_invalid="ignore") if wkbs else numpy.array([])
    types = shapely.get_type_id(parsed).tolist()
    outside = outside_globe_all(parsed).tolist()
    geometries = []
    for entry in found:
        if type(entry) is int:
            geometries.append(_usable(parsed[entry], types[entry], outside[entry]))
        else:
            geometries.append(entry)
    return geometries


def _usable(geometry, type_id: int, outside: bool):
    """The checks of place_geometry, in its order, with the range and type found for the batch."""
    if geometry is None:
        return GpkgError("has unreadable WKB")
    if geometry.is_empty:
        return None
    if outside:
        return GpkgError(OUTSIDE_GLOBE)
    if type_id in (POINT, POLYGON, MULTIPOLYGON):
        return geometry
    return GpkgError(f"is a {geometry.geom_type}; {WHAT_A_UNIT_HAS}")


POINT, POLYGON, MULTIPOLYGON = (int(t) for t in (shapely.GeometryType.POINT, shapely.GeometryType.POLYGON,
                                                  shapely.GeometryType.MULTIPOLYGON))  # fmt: skip
OUTSIDE_GLOBE = "has coordinates outside longitude -180..180 / latitude -90..90"
WHAT_A_UNIT_HAS = "a unit has a Point or a (Multi)Polygon"


def _feature(
    package: Package, layer: str, row: int, depth: int, type_name: str, values: tuple, geometry
) -> Feature | None:
    """A row's feature (values in IASO_COLUMNS' order, then the geometry already parsed), or None
    when its problems (reported in the package) make it unusable."""
    raw_ref, raw_name, parent_ref, group_refs, code, opening_date, closed_date, uuid, status, _ = values
    ref, name = normalise_ref(raw_ref), str(raw_name).strip() if raw_name is not None else ""

    def problem(field_name: str, message: str, fatal: bool = True) -> None:
        package.problems.append(RowProblem(layer, row, field_name, message, fatal, ref))

    if not ref or not name:
        if not ref:
            problem("ref", "is missing")
        if not name:
            problem("name", "is missing")
        return None
    feature = Feature(layer, row, depth, type_name, ref, name, normalise_ref(parent_ref))
    if group_refs:
        feature.group_refs = [group for group in map(normalise_ref, str(group_refs).split(",")) if group]
    if code is not None:
        feature.code = str(code).strip() or None
    if uuid:
        feature.uuid = str(uuid).strip() or None
    if status:
        status = str(status).strip().upper() or None
        if status and status not in VALIDATION_STATUSES:
            problem("validation_status", f"{status!r} is not one of {', '.join(VALIDATION_STATUSES)}")
            return None
        feature.validation_status = status
    if (opening_date or closed_date) and not _dates(feature, opening_date, closed_date, problem):
        return None
    unknown_groups = [group for group in feature.group_refs if group not in package.groups]
    if unknown_groups:
        problem("group_refs", f"names groups missing from the groups table: {', '.join(unknown_groups)}")
        return None
    if geometry is None:
        return feature
    if type(geometry) is Point:
        feature.location = geometry
        return feature
    if isinstance(geometry, GpkgError):
        problem("geom", str(geometry))
        return None
    return _territory(feature, geometry, problem)


def _dates(feature: Feature, opening_date, closed_date, problem) -> bool:
    for date_field, raw in (("opening_date", opening_date), ("closed_date", closed_date)):
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
        problem("geom", OUTSIDE_GLOBE)
        return None
    if isinstance(geometry, Point):
        feature.location = geometry
        return feature
    if isinstance(geometry, Polygon | MultiPolygon):
        return _territory(feature, geometry, problem)
    problem("geom", f"is a {geometry.geom_type}; {WHAT_A_UNIT_HAS}")
    return None


def _territory(feature: Feature, geometry: Polygon | MultiPolygon, problem) -> Feature | None:
    territory, reason = repaired(geometry)
    if territory.is_empty:
        problem("geom", f"is invalid ({reason}) and cannot be repaired")
        return None
    if reason:
        problem("geom", f"was invalid ({reason}) and has been repaired", fatal=False)
    feature.territory = territory
    return feature


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


def _plain_headers() -> dict[bytes, int]:
    """The 8-byte headers of version-0 blobs in EPSG:4326 (or undefined) that are not empty, and
    where their WKB starts: what _wkb_of would accept, known in advance."""
    headers = {}
    for flags in range(32):  # the bits above (extended types) are left to _wkb_of
        envelope = ENVELOPE_BYTES.get((flags >> 1) & 0b111)
        if envelope is None or flags & 0b10000:
            continue
        for srs_id in (WGS84, 0, -1):
            headers[b"GP\x00" + bytes([flags]) + struct.pack("<i" if flags & 1 else ">i", srs_id)] = (
                8 + envelope
            )
    return headers


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


PLAIN_HEADERS = _plain_headers()
