"""What an import's two writers share (import_writer into a new version, version_merge into an existing
one): where the import writes, the ids of the types and groups it names, and its units encoded
(geometries as hex EWKB, in vectorised shapely calls) then placed as COPY lines."""

import functools
import re
import uuid as uuids
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

import numpy
import shapely

from chalicelib.imports import tree_plan, unit_loader_sql
from chalicelib.imports.unit_model import Feature, Package, overlong_text
from chalicelib.registry import groups_sql, unit_types_sql

SIMPLIFY_DEGREES = 0.0005
BATCH = 10_000  # units whose geometries are encoded together
CANONICAL_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# Little-endian EWKB of a PointZ with an SRID (type 0xA0000001), SRID 4326: three doubles follow.
POINT_Z_4326 = "01010000A0E6100000"
POINT_HEX = 48  # hex digits of three doubles


@dataclass(frozen=True)
class Target:
    """Where an import writes."""

    account_id: int
    version_id: int | None  # None: a new version of the data source
    data_source_id: int
    user_id: int


def type_ids_for(cur, account_id: int, levels: list[tuple[int, str]], create: bool,
                 created: list[int] | None = None) -> dict[str, int | None]:  # fmt: skip
    """Type ids by name, created (with the layer's depth, and listed in `created`) when missing, or
    None in a dry run."""
    ids: dict[str, int | None] = {}
    for depth, name in sorted(levels):
        if overlong_text(name):  # its rows are refused (unit_model.overlong): the index would refuse it
            continue
        found = unit_types_sql.get_by_name(cur, account_id, name)
        if found:
            ids[name] = found["id"]
        elif create:
            ids[name] = unit_types_sql.create(cur, account_id, name, "", min(depth, 20))
            if created is not None:
                created.append(ids[name])
        else:
            ids[name] = None
    return ids


def group_ids_for(cur, target: Target, package: Package, create: bool) -> dict[str, int | None]:
    """Group ids by ref: the version's, and the file's others created when missing, or None in a dry run."""
    listed = groups_sql.list_groups(cur, target.account_id, target.version_id, None, 10**6)
    known: dict[str, int | None] = {row["source_ref"]: row["id"] for row in listed}
    for ref, name in package.groups.items():
        if ref not in known and not overlong_text(ref):  # as types are
            known[ref] = (
                groups_sql.create_group(cur, target.account_id, target.version_id, name, ref)
                if create
                else None
            )
    return known


class Unit(NamedTuple):
    """A unit read and encoded, to be placed (tree_plan.Placer takes it as it takes a Feature): its
    uuid, and its COPY line's columns from org_unit_type_id to closed_date (`middle`)."""

    layer: str
    row: int
    depth: int
    ref: str
    parent_ref: str | None
    uuid: str
    middle: str
    group_refs: list[str]


# A Unit from a plain tuple of its fields, without the Python-level __new__ of a named tuple: units
# travel from the reading process as plain tuples, which pickle faster (bench/README.md).
as_unit = functools.partial(tuple.__new__, Unit)


def encoded_units(features: list[Feature], type_ids: dict, seen_uuids: set[str] | None) -> list[tuple]:
    """The features as the fields of Units (plain tuples: see as_unit), their geometries encoded in
    vectorised shapely calls (one by one, this was the import's costliest Python step). `seen_uuids`,
    when kept, gets each uuid given."""
    null, match_uuid = unit_loader_sql.NULL, CANONICAL_UUID.match
    text = _copy_text_for(features)
    locations = _points_ewkb([feature.location for feature in features])
    territories = _ewkb_all([feature.territory for feature in features], three_d=False)
    simplified = _simplified_all([feature.territory for feature in features])
    units = []
    for f, location, territory, simpler in zip(features, locations, territories, simplified, strict=True):
        opened, closed, uuid = f.opening_date, f.closed_date, f.uuid
        middle = (  # UNIT_COLUMNS from org_unit_type_id: only names, codes and refs may need escapes
            f"{type_ids[f.type_name]}\t{text(f.name)}\t{text(f.code)}\t{text(f.ref)}"
            f"\t{f.validation_status or 'VALID'}\t{location or null}\t{territory or null}\t{simpler or null}"
            f"\t{null if opened is None else opened}\t{null if closed is None else closed}"
        )
        if seen_uuids is not None or not (uuid and match_uuid(uuid)):  # else the file's, as it is
            uuid = _uuid(uuid, seen_uuids)
        units.append((f.layer, f.row, f.depth, f.ref, f.parent_ref, uuid, middle, f.group_refs))
    return units


def _copy_text_for(features: list[Feature]):
    """How this batch's names, codes and refs become COPY text: as they are, when none of them holds
    a character to escape (one look at them all, the common case), else each through loader.text."""
    probe = "".join([f"{f.name}{f.ref}{f.code or ''}" for f in features])
    if "\\" in probe or not probe.isprintable():
        return unit_loader_sql.text
    null = unit_loader_sql.NULL
    return lambda value: null if value is None else value


def copy_lines(target: Target, placed: Iterable[list[tree_plan.Placed]], group_ids: dict,
               memberships) -> Iterator[str]:  # fmt: skip
    """The COPY lines (UNIT_COLUMNS) of placed Units, which come in lists: a string of them per list.
    Their group memberships (GROUP_COLUMNS) are added to `memberships` meanwhile."""
    null, user, account_id, version_id = (
        unit_loader_sql.NULL,
        target.user_id,
        target.account_id,
        target.version_id,
    )
    constants = f"{version_id}\t{account_id}\t"
    for units in placed:
        yield "".join([
            f"{p.id}\t{constants}{p.feature.uuid}\t{null if p.parent_id is None else p.parent_id}"
            f"\t{p.feature.middle}\t{p.path}\t{p.depth}\t{user}\t{user}\n"
            for p in units
        ])  # fmt: skip
        for p in units:
            for ref in p.feature.group_refs:
                memberships.append((account_id, version_id, p.id, group_ids[ref]))


def _uuid(given: str | None, seen: set[str] | None) -> str:
    """The file's uuid when it is one and not already used in this import (`seen`, when the caller
    keeps track), else a new one."""
    if given and CANONICAL_UUID.match(given):
        value = given  # already as PostgreSQL writes it: no need to parse it
    else:
        try:
            value = str(uuids.UUID(given)) if given else None
        except ValueError:
            value = None
    if value is None or (seen is not None and value in seen):
        value = str(uuids.uuid4())
    if seen is not None:
        seen.add(value)
    return value


def _ewkb_all(geometries: list, three_d: bool) -> list[str | None]:
    """Hex EWKB (SRID 4326) of each geometry, None staying None, in a few vectorised shapely calls:
    one by one, this was the import's costliest Python step (bench/README.md)."""
    if not geometries:
        return []
    array = numpy.array(geometries, dtype=object)
    array = shapely.force_3d(array) if three_d else shapely.force_2d(array)
    return shapely.to_wkb(shapely.set_srid(array, 4326), hex=True, include_srid=True,
                          output_dimension=3 if three_d else 2).tolist()  # fmt: skip


def _points_ewkb(points: list) -> list[str | None]:
    """Hex EWKB of each point (3D, SRID 4326, as _ewkb_all writes it), None staying None: the
    coordinates taken out in one call and hexed at once, faster than shapely's writer (bench/README.md)."""
    present = [index for index, point in enumerate(points) if point is not None]
    if not present:
        return [None] * len(points)
    array = numpy.array([points[index] for index in present], dtype=object)
    coordinates = shapely.get_coordinates(array, include_z=True)
    has_z = shapely.has_z(array)
    if (
        len(coordinates) != len(present)
        or shapely.has_m(array).any()
        or numpy.isnan(coordinates[has_z, 2]).any()
    ):
        return _ewkb_all(
            points, three_d=True
        )  # an empty point (no coordinates), M or a NaN Z: the general way
    numpy.nan_to_num(coordinates[:, 2], copy=False, nan=0.0)  # a 2D point's Z
    hexed = coordinates.astype("<f8").tobytes().hex().upper()
    encoded: list[str | None] = [None] * len(points)
    for nth, index in enumerate(present):
        encoded[index] = POINT_Z_4326 + hexed[nth * POINT_HEX : (nth + 1) * POINT_HEX]
    return encoded


def _simplified_all(territories: list) -> list[str | None]:
    if not territories:
        return []
    simpler = shapely.simplify(
        numpy.array(territories, dtype=object), SIMPLIFY_DEGREES, preserve_topology=True
    )
    simpler[shapely.is_empty(simpler)] = None
    polygons = shapely.get_type_id(simpler) == shapely.GeometryType.POLYGON
    simpler[polygons] = [shapely.MultiPolygon([polygon]) for polygon in simpler[polygons]]
    return _ewkb_all(simpler.tolist(), three_d=False)
