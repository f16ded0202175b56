"""Reading GeoPackages in Iaso's layout, with Python's sqlite3 and shapely (no GDAL in the Lambda).

Iaso's layout (what its GeoPackage export writes): one feature layer per org-unit type, named
`level-{depth}-{type name}`, with columns `ref` and `name` (required), `parent_ref`, `group_refs`
(comma list), `code`, `opening_date`, `closed_date`, `uuid`; other columns are ignored. Points are
locations, (Multi)Polygons territories. An attribute table `groups(ref, name)` names the groups.
Refs written as `iaso#123` or `iaso:123` (Iaso's internal ids) are the same ref.

Problems that make the file unusable raise GpkgError (unit_model); problems of one feature are
collected with their layer, row and field so that the importer can report them all at once. Every
connection to the file is guarded (file_guard: statement time, value size, the task stopping).
"""

import datetime
import re
import sqlite3
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy
import shapely
from shapely.geometry import Point

from chalicelib.imports import file_guard, gpkg_reader_sql
from chalicelib.imports.unit_model import (
    OUTSIDE_GLOBE,
    VALIDATION_STATUSES,
    WHAT_A_UNIT_HAS,
    Feature,
    GpkgError,
    Package,
    RowProblem,
    Source,
    file_errors,
    normalise_ref,
    overlong,
    overlong_text,
    place_territory,
    too_long,
)
from chalicelib.platform import limits
from chalicelib.registry.geometry import outside_globe_all

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
BATCH = 10_000


def read(path: str | Path) -> Package:
    """The whole file at once (see `opened` for a stream)."""
    with opened(path) as source:
        source.package.features = list(source.features())
        return source.package


@contextmanager
def opened(path: str | Path) -> Iterator[Source]:
    """The GeoPackage as a Source whose features are read layer by layer, a batch at a time, so that
    its geometries are never all in memory (each reading on its own connection)."""
    _check_is_sqlite(Path(path))
    guard = file_guard.connect(path)
    try:
        try:
            with file_errors():
                source = _open(guard, Path(path))
        except sqlite3.DatabaseError as error:
            raise guard.error_of(error) from error
        yield source
    finally:
        guard.close()


def _check_is_sqlite(path: Path) -> None:
    with path.open("rb") as file:
        head = file.read(len(SQLITE_MAGIC))
    if not head:
        raise GpkgError("the file is empty")
    if head != SQLITE_MAGIC:
        raise GpkgError("this is not a GeoPackage (not an SQLite database)")


def _open(guard: file_guard.Guard, path: Path) -> Source:
    tables = {row[0] for row in guard.execute(gpkg_reader_sql.TABLES)}
    if "gpkg_contents" not in tables or "gpkg_geometry_columns" not in tables:
        raise GpkgError("this SQLite file is not a GeoPackage (no gpkg_contents / gpkg_geometry_columns)")
    package = Package(groups=_groups(guard, tables))
    layers = guard.execute(gpkg_reader_sql.FEATURE_LAYERS).fetchall()
    # names as text whatever the file stores (SQLite's columns take any type)
    levels = [(LAYER_NAME.match(str(name)), str(name), str(column), srs) for name, column, srs in layers]
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
        if overlong_text(type_name):
            raise GpkgError(too_long(f"the type named by layer {name[:100]!r}…"))
        readers.append(_LayerReader(name, column, int(match.group(1)), type_name))
    count = sum(reader.count(guard) for reader in readers)
    if count > limits.GPKG_MAX_FEATURES:  # a view's rows: a file holds fewer
        raise GpkgError(limits.limit_message(f"its {count:,} features", "GPKG_MAX_FEATURES", "features"))
    parents = frozenset(ref for reader in readers for ref in reader.parent_refs(guard))

    def features() -> Iterator[Feature]:  # on a connection of its own: it may run in another process
        own = file_guard.connect(path)
        try:
            with file_errors():
                for reader in readers:
                    yield from reader.features(own, package)
        except sqlite3.DatabaseError as error:
            raise own.error_of(error) from error
        finally:
            own.close()

    levels = [(reader.depth, reader.type_name) for reader in readers]
    return Source(package, levels, count, features, parents, streamed=True)


def _groups(guard: file_guard.Guard, tables: set[str]) -> dict[str, str]:
    if "groups" not in tables:
        return {}
    columns = _columns(guard, "groups")
    if not {"ref", "name"} <= columns:
        raise GpkgError("the groups table needs columns ref and name")
    rows = guard.execute(gpkg_reader_sql.GROUPS).fetchall()
    groups = {
        normalise_ref(ref): (name or "").strip() or normalise_ref(ref)
        for ref, name in rows
        if normalise_ref(ref)
    }
    if any(overlong_text(ref) for ref in groups):
        raise GpkgError(too_long("a ref of the groups table"))
    return groups


def _columns(guard: file_guard.Guard, table: str) -> set[str]:
    return {row[1] for row in guard.execute(gpkg_reader_sql.table_info(table))}


@dataclass(frozen=True)
class _LayerReader:
    layer: str
    geometry_column: str
    depth: int
    type_name: str

    def count(self, guard: file_guard.Guard) -> int:
        self._columns(guard)  # a layer without its columns is refused before anything is read
        return guard.execute(gpkg_reader_sql.count_rows(self.layer)).fetchone()[0]

    def _columns(self, guard: file_guard.Guard) -> list[str]:
        columns = _columns(guard, self.layer)
        missing = {"ref", "name"} - columns
        if missing:
            raise GpkgError(f"layer {self.layer!r} has no column {', '.join(sorted(missing))}")
        return [column for column in IASO_COLUMNS if column in columns]

    def parent_refs(self, guard: file_guard.Guard) -> Iterator[str]:
        """The refs the layer's rows name as their parent (read as `features` reads them)."""
        if "parent_ref" not in self._columns(guard):
            return
        cursor = guard.execute(gpkg_reader_sql.parent_refs(self.layer))
        while rows := guard.fetchmany(cursor, BATCH):
            for (raw,) in rows:
                if (ref := normalise_ref(raw)) is not None:
                    yield ref

    def features(self, guard: file_guard.Guard, package: Package) -> Iterator[Feature]:
        present = set(self._columns(guard))
        # Rows unpack at once, cleaned by SQLite (see gpkg_reader_sql.layer_rows).
        rows_sql = gpkg_reader_sql.layer_rows(self.layer, self.geometry_column, IASO_COLUMNS, present)
        cursor = guard.execute(rows_sql)
        row_number, type_name = 0, self.type_name.strip()
        while rows := guard.fetchmany(cursor, BATCH):
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
        start = PLAIN_HEADERS.get(blob[:8]) if type(blob) is bytes else None
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
    if (too_long_field := overlong(feature)) is not None:
        problem(too_long_field, too_long())
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
    return place_territory(feature, geometry, problem)


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
    if type(blob) is not bytes or len(blob) < 8 or blob[:2] != b"GP":  # SQLite stores what it is given
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


PLAIN_HEADERS = _plain_headers()
