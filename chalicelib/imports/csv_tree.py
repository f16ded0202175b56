"""Reading org units from a hierarchical CSV: one row per leaf, one column per level.

The layout Iaso's tree importer reads, and what ministries keep in spreadsheets:

    Region,District,Health facility,facility_code,lat,lon
    Kindia,Coyah,CS Manéah,F001,9.71,-13.41

A small column mapping says which column holds which level (and its type), and which hold the
leaf's ref, code and coordinates:

    {"levels": [{"column": "Region", "type": "Region"},
                {"column": "District", "type": "District"},
                {"column": "Health facility", "type": "Facility", "ref_column": "facility_code"}],
     "latitude": "lat", "longitude": "lon"}

Every distinct path of names is one unit: "Kindia" appears once however many rows name it. A unit's
ref is its level's `ref_column` when the mapping gives one and the cell is filled, else its path of
names (`Kindia/Coyah`), so that importing the same file again matches the same units. A row's leaf
is its deepest filled level; the coordinates and `code` belong to it.
"""

from dataclasses import dataclass

from shapely.geometry import Point

from chalicelib.imports.csv_text import TOO_MANY_VALUES, CsvError, rows_of
from chalicelib.imports.unit_model import (
    Feature,
    Package,
    RowProblem,
    file_errors,
    normalise_ref,
    overlong,
    place_geometry,
    too_long,
)

LAYER = "csv"
MAPPING_KEYS = {"levels", "latitude", "longitude", "code", "ref"}
LEVEL_KEYS = {"column", "type", "ref_column"}
MAX_LEVELS = 12


@dataclass(frozen=True)
class Level:
    column: str
    type_name: str
    ref_column: str | None


@dataclass(frozen=True)
class Mapping:
    levels: tuple[Level, ...]
    latitude: str | None
    longitude: str | None
    code: str | None
    ref: str | None  # the leaf's ref whatever its level (a facility id column, say)

    def columns(self) -> set[str]:
        named = {self.latitude, self.longitude, self.code, self.ref}
        named |= {level.column for level in self.levels} | {level.ref_column for level in self.levels}
        return {column for column in named if column}


def parse_mapping(raw) -> Mapping:
    """The mapping from a request's options; ValueError says what is wrong with it."""
    if not isinstance(raw, dict):
        raise ValueError("must be an object with a list of levels")
    unknown = set(raw) - MAPPING_KEYS
    if unknown:
        raise ValueError(
            f"has unknown key(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(MAPPING_KEYS))}"
        )
    levels = raw.get("levels")
    if not isinstance(levels, list) or not 1 <= len(levels) <= MAX_LEVELS:
        raise ValueError(f"levels must be a list of 1 to {MAX_LEVELS} objects {{column, type, ref_column}}")
    mapping = Mapping(
        levels=tuple(_level(index, level) for index, level in enumerate(levels)),
        latitude=_column_name(raw, "latitude"),
        longitude=_column_name(raw, "longitude"),
        code=_column_name(raw, "code"),
        ref=_column_name(raw, "ref"),
    )
    if (mapping.latitude is None) != (mapping.longitude is None):
        raise ValueError("latitude and longitude come together")
    if len({level.column.lower() for level in mapping.levels}) != len(mapping.levels):
        raise ValueError("two levels read the same column")
    return mapping


def _level(index: int, raw) -> Level:
    where = f"levels[{index}]"
    if not isinstance(raw, dict) or set(raw) - LEVEL_KEYS:
        raise ValueError(f"{where} must be an object with keys column, type and optionally ref_column")
    column, type_name = _column_name(raw, "column"), _column_name(raw, "type")
    if not column or not type_name:
        raise ValueError(f"{where} needs a column and a type")
    return Level(column, type_name, _column_name(raw, "ref_column"))


def _column_name(raw: dict, key: str) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise ValueError(f"{key} must be a column name")
    return value.strip()


def read(path, mapping: Mapping) -> Package:
    with file_errors():
        header, records = rows_of(path)
        _check_header(header, mapping)
        tree = _Tree(mapping)
        for row_number, record in records:
            if record is None:
                tree.problem(row_number, "row", TOO_MANY_VALUES)
                continue
            tree.add_row(row_number, {key.lower(): (value or "").strip() for key, value in record.items()})
        return tree.package()


def _check_header(header: list[str], mapping: Mapping) -> None:
    present = {name.lower() for name in header}
    missing = sorted(column for column in mapping.columns() if column.lower() not in present)
    if missing:
        raise CsvError(
            f"the mapping names column(s) {', '.join(missing)} that the header lacks "
            f"(found: {', '.join(header)})"
        )


class _Tree:
    """Units keyed by their path of names, built row by row; parents are linked at the end, once
    every unit's ref is known."""

    def __init__(self, mapping: Mapping):
        self.mapping = mapping
        self.units: dict[tuple[str, ...], Feature] = {}
        self.leaves: set[tuple[str, ...]] = set()
        self.problems: list[RowProblem] = []

    def add_row(self, row: int, values: dict) -> None:
        names = [values.get(level.column.lower(), "") for level in self.mapping.levels]
        filled = len(names) - next((i for i, name in enumerate(reversed(names)) if name), len(names))
        if filled == 0:
            self.problem(row, self.mapping.levels[0].column, "is empty: the row names no unit")
            return
        gap = next((i for i in range(filled) if not names[i]), None)
        if gap is not None:
            self.problem(row, self.mapping.levels[gap].column, "is empty but a deeper level is filled")
            return
        for depth in range(filled):
            unit = self._unit(row, tuple(names[: depth + 1]), values)
            if unit is None:
                return
        self._leaf(row, tuple(names[:filled]), values)

    def _unit(self, row: int, path: tuple[str, ...], values: dict) -> Feature | None:
        level = self.mapping.levels[len(path) - 1]
        ref = normalise_ref(values.get(level.ref_column.lower())) if level.ref_column else None
        unit = self.units.get(path)
        if unit is None:
            unit = Feature(LAYER, row, len(path) - 1, level.type_name, ref or "/".join(path), path[-1])
            self.units[path] = unit
        elif ref and unit.ref != ref:
            self.problem(
                row,
                level.ref_column,
                f"{ref!r} differs from {unit.ref!r} given to {'/'.join(path)!r} in row {unit.row}",
            )
            return None
        return unit

    def _leaf(self, row: int, path: tuple[str, ...], values: dict) -> None:
        unit, mapping = self.units[path], self.mapping
        if path in self.leaves:
            self.problem(
                row,
                mapping.levels[len(path) - 1].column,
                f"{'/'.join(path)!r} is already the leaf of row {unit.row}",
            )
            return
        self.leaves.add(path)
        leaf_ref = normalise_ref(values.get(mapping.ref.lower())) if mapping.ref else None
        if leaf_ref:
            unit.ref = leaf_ref
        unit.row = row
        unit.code = (values.get(mapping.code.lower()) if mapping.code else None) or None
        if mapping.latitude and (
            values.get(mapping.latitude.lower()) or values.get(mapping.longitude.lower())
        ):
            self._place(row, unit, values)

    def _place(self, row: int, unit: Feature, values: dict) -> None:
        try:
            point = Point(
                float(values[self.mapping.longitude.lower()]), float(values[self.mapping.latitude.lower()])
            )
        except ValueError:
            self.problem(row, self.mapping.latitude, "latitude and longitude must both be numbers")
            return

        def problem(_field: str, message: str, fatal: bool = True) -> None:  # the point is these columns
            self.problems.append(RowProblem(LAYER, row, self.mapping.latitude, message, fatal, unit.ref))

        place_geometry(unit, point, problem)

    def problem(self, row: int, column: str, message: str) -> None:
        self.problems.append(RowProblem(LAYER, row, column, message))

    def package(self) -> Package:
        package = Package()
        for path, unit in self.units.items():
            unit.parent_ref = self.units[path[:-1]].ref if len(path) > 1 else None
            if (field_name := overlong(unit)) is not None:  # a path of names as its ref, a code...
                self.problems.append(RowProblem(LAYER, unit.row, field_name, too_long(), True, unit.ref))
                continue
            package.features.append(unit)
        for problem in self.problems:
            package.problems.append(problem)
        return package
