"""What a DHIS2 organisation unit becomes in the registry: a unit_model.Feature, as the file readers
make them, so that the import writer places and copies it as it does a file's rows.

A unit's uid is its `source_ref`; its parent is the uid before its own in `path` (never the page
order); its level gives its type (organisationUnitLevels' name, "Level N" when DHIS2 names none).
Geometry: a Point is its location; a Polygon or MultiPolygon its territory (repaired with make_valid
when invalid, and reported); featureType NONE, no geometry, or any other kind: none (reported).
"""

import datetime
import functools
import hashlib
import uuid

import numpy
import shapely
from shapely.errors import ShapelyError

from chalicelib.imports.unit_model import Feature, RowProblem, place_territory
from chalicelib.registry.geometry import outside_globe

LAYER = "organisationUnits"
UNIT_FIELDS = (
    "id,name,shortName,code,level,path,parent[id],geometry,featureType,openingDate,closedDate,"
    "lastUpdated,organisationUnitGroups[id]"
)
LEVEL_FIELDS = "id,level,name"
GROUP_FIELDS = "id,name,code,groupSets[id]"
GROUP_SET_FIELDS = "id,name,organisationUnitGroups[id]"
OUTSIDE = "outside longitude -180..180 / latitude -90..90"


def record(unit: dict) -> tuple:
    """The part of a DHIS2 unit the import keeps, as a plain tuple (small to spool, quick to encode):
    uid, name, code, parent uid, level, opening, closing, geometry, group uids."""
    uid = str(unit.get("id") or "")
    ids = [part for part in str(unit.get("path") or "").split("/") if part]
    parent = ids[-2] if len(ids) > 1 and ids[-1] == uid else (unit.get("parent") or {}).get("id")
    level = unit.get("level") or len(ids) or 1
    name = unit.get("name") or unit.get("shortName") or uid
    geometry = None if unit.get("featureType") == "NONE" else unit.get("geometry")
    groups = [g["id"] for g in unit.get("organisationUnitGroups") or () if isinstance(g, dict) and "id" in g]
    return (
        uid,
        name,
        unit.get("code"),
        parent,
        int(level),
        _day(unit.get("openingDate")),
        _day(unit.get("closedDate")),
        geometry,
        groups,
    )


def _day(value) -> str | None:
    return str(value)[:10] if value else None


def features(
    rows: list[tuple[int, list]],
    type_names: dict[int, str],
    groups: dict[str, str],
    problems: list,
    namespace: bytes,
) -> list[Feature]:
    """Features of (row, record) pairs, their points made in one vectorised call (one by one, making
    the shapely Points was most of the reading's time)."""
    made = [feature(row, fields, type_names, groups, problems, namespace, False) for row, fields in rows]
    at = [i for i, (_, fields) in enumerate(rows) if _is_point(fields[7])]
    try:
        xy = numpy.array([rows[i][1][7]["coordinates"][:2] for i in at], dtype=float).reshape(len(at), 2)
    except (ValueError, TypeError):  # a malformed point: each is read on its own, and reported
        for i in at:
            _place(made[i], rows[i][1][7], _warner(problems, rows[i][0], made[i].ref))
        return made
    inside = numpy.isfinite(xy).all(axis=1) & (numpy.abs(xy[:, 0]) <= 180) & (numpy.abs(xy[:, 1]) <= 90)
    for i, point, ok in zip(at, shapely.points(xy), inside, strict=True):
        if ok:
            made[i].location = point
        else:
            _warner(problems, rows[i][0], made[i].ref)("geometry", f"{OUTSIDE}; the unit has none")
    return made


def _is_point(geometry) -> bool:
    return isinstance(geometry, dict) and geometry.get("type") == "Point"


def _warner(problems: list, row: int, uid: str):
    def warn(field: str, message: str, fatal: bool = False) -> None:
        problems.append(RowProblem(LAYER, row, field, message, fatal=fatal, ref=uid))

    return warn


def feature(
    row: int,
    fields: tuple,
    type_names: dict[int, str],
    groups: dict[str, str],
    problems: list,
    namespace: bytes,
    points: bool = True,
) -> Feature:
    """A Feature of a record (see `record`); what is wrong with its geometry or dates goes to `problems`
    as a warning: the unit is imported without it. Without `points`, a Point is left to the caller."""
    uid, name, code, parent, level, opened, closed, geometry, group_uids = fields

    warn = _warner(problems, row, uid)
    unit = Feature(
        LAYER,
        row,
        level - 1,
        type_name(type_names, level),
        uid,
        name,
        parent,
        [g for g in group_uids if g in groups],
        code or None,
    )
    unit.uuid = unit_uuid(namespace, uid)
    unit.opening_date, unit.closed_date = (
        _date(opened, "openingDate", warn),
        _date(closed, "closedDate", warn),
    )
    if unit.opening_date and unit.closed_date and unit.closed_date < unit.opening_date:
        warn("openingDate", f"is after closedDate {closed}; the opening date is left out")
        unit.opening_date = None
    if geometry and (points or not _is_point(geometry)):
        _place(unit, geometry, warn)
    return unit


def namespace_of(base_url: str) -> bytes:
    """What a DHIS2 instance's unit uuids are made from (unit_uuid)."""
    return uuid.uuid5(uuid.NAMESPACE_URL, base_url.rstrip("/")).bytes


def type_name(type_names: dict[int, str], level: int) -> str:
    return type_names.get(level) or f"Level {level}"


def _date(text: str | None, field: str, warn) -> datetime.date | None:
    if not text:
        return None
    day = _day_of(text)
    if day is None:
        warn(field, f"{text!r} is not a date; left out")
    return day


@functools.lru_cache(maxsize=4096)  # a tree's units share few dates
def _day_of(text: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        return None


def unit_uuid(namespace: bytes, uid: str) -> str:
    """The registry uuid of a DHIS2 unit: a name-based (version 5) uuid of the DHIS2 instance and the
    uid, so that every import of the same DHIS2 gives a unit the same uuid (RFC 4122, 4.3)."""
    digest = bytearray(hashlib.sha1(namespace + uid.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _place(unit: Feature, geometry: dict, warn) -> None:
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    if kind not in ("Point", "Polygon", "MultiPolygon"):
        warn("geometry", f"is a {kind}; a unit has a Point or a (Multi)Polygon, so it has none here")
        return
    try:
        if kind == "Point":
            x, y = geometry["coordinates"][:2]
            shape = shapely.Point(float(x), float(y))
        else:
            shape = shapely.geometry.shape(geometry)
    except (ShapelyError, ValueError, TypeError, KeyError, IndexError) as error:
        warn("geometry", f"cannot be read ({error}); the unit has none")
        return
    if shape.is_empty or outside_globe(shape):
        warn("geometry", f"is empty or {OUTSIDE}; the unit has none")
    elif kind == "Point":
        unit.location = shape
    else:
        place_territory(unit, shape, lambda field, message, fatal=True: warn("geometry", message))
