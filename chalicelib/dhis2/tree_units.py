"""What a DHIS2 organisation unit becomes in the registry: a unit_model.Feature, as the file readers
make them, so that the import writer places and copies it as it does a file's rows.

A unit's uid is its `source_ref`; its parent is the uid before its own in `path` (never the page
order); its level gives its type (organisationUnitLevels' name, "Level N" when DHIS2 names none).
Geometry: a Point is its location; a Polygon or MultiPolygon its territory (repaired with make_valid
when invalid, and reported); featureType NONE, no geometry, or any other kind: none (reported).
"""

import datetime

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


def feature(
    row: int, fields: tuple, type_names: dict[int, str], groups: dict[str, str], problems: list
) -> Feature:
    """A Feature of a record (see `record`); what is wrong with its geometry or dates goes to `problems`
    as a warning: the unit is imported without it."""
    uid, name, code, parent, level, opened, closed, geometry, group_uids = fields

    def warn(field: str, message: str, fatal: bool = False) -> None:
        problems.append(RowProblem(LAYER, row, field, message, fatal=fatal, ref=uid))

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
    unit.opening_date, unit.closed_date = (
        _date(opened, "openingDate", warn),
        _date(closed, "closedDate", warn),
    )
    if unit.opening_date and unit.closed_date and unit.closed_date < unit.opening_date:
        warn("openingDate", f"is after closedDate {closed}; the opening date is left out")
        unit.opening_date = None
    if geometry:
        _place(unit, geometry, warn)
    return unit


def type_name(type_names: dict[int, str], level: int) -> str:
    return type_names.get(level) or f"Level {level}"


def _date(text: str | None, field: str, warn) -> datetime.date | None:
    if not text:
        return None
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        warn(field, f"{text!r} is not a date; left out")
        return None


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
        warn("geometry", "is empty or outside longitude -180..180 / latitude -90..90; the unit has none")
    elif kind == "Point":
        unit.location = shape
    else:
        place_territory(unit, shape, lambda field, message, fatal=True: warn("geometry", message))
