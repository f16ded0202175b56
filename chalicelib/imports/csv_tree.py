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

Every distinct path of names above the last level is one unit: "Kindia" appears once however many
rows name it. A unit's ref is its level's `ref_column` when the mapping gives one and the cell is
filled, else its path of names (`Kindia/Coyah`), so that importing the same file again matches the
same units. A row's leaf is its deepest filled level; the coordinates, `code` and `ref` belong to it.
A leaf of the last level is one unit per row, as in Iaso's tree importer (two schools of one name in
one district are two schools): without a ref of its own it is given its path of names (`#2`, `#3`
appended for the second and third of one name) and listed in `Package.placed_by_name`, for a
re-import to match it by its parent and name (leaf_match).

Iaso's own mapping file (`data_dict.json`: `name`, `parents` top level first, `source_ref`,
`latitude`, `longitude`) is read as it is (`parse_data_dict`): its parents are levels typed after
their column, its `name` the last level, and, as Iaso does, a parent cell left empty or reading
"néant" skips that level.
"""

import unicodedata
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
# What Iaso's tree importer reads of its data_dict.json (iaso/management/commands/tree_importer.py);
# it ignores other keys, and so do we.
DATA_DICT_KEYS = ("name", "parents", "source_ref", "latitude", "longitude")


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
    iaso: bool = False  # read from Iaso's data_dict: blank or "néant" parents skipped, a leaf required

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


def parse_data_dict(raw, leaf_type: str | None = None) -> Mapping:
    """Iaso's data_dict.json as a mapping; `leaf_type` is what Iaso's command takes as
    `--main_org_unit_name` (by default, the name column's header). ValueError says what is wrong."""
    if not isinstance(raw, dict):
        raise ValueError("must be an object as in Iaso's data_dict.json")
    missing = [key for key in DATA_DICT_KEYS if key not in raw]
    if missing:
        raise ValueError(
            f"lacks key(s) {', '.join(missing)}; Iaso's tree importer reads {', '.join(DATA_DICT_KEYS)}"
        )
    parents = raw["parents"]
    if not isinstance(parents, list) or len(parents) >= MAX_LEVELS:
        raise ValueError(f"parents must be a list of at most {MAX_LEVELS - 1} column names, top level first")
    parent_columns = [_column_name({"parents": parent}, "parents") for parent in parents]
    name = _column_name(raw, "name")
    if not name or None in parent_columns:
        raise ValueError("name and each of parents must be a column name")
    leaf = Level(name, leaf_type or name, None)
    levels = tuple(Level(column, column, None) for column in parent_columns) + (leaf,)
    mapping = Mapping(levels, _column_name(raw, "latitude"), _column_name(raw, "longitude"), None,
                      _column_name(raw, "source_ref"), iaso=True)  # fmt: skip
    if len({level.column.lower() for level in levels}) != len(levels):
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
    """Units keyed by their path of names (a skipped level an empty name), built row by row, and the
    leaves of the last level, one per row; parents are linked at the end, once every unit's ref is
    known."""

    def __init__(self, mapping: Mapping):
        self.mapping = mapping
        self.units: dict[tuple[str, ...], Feature] = {}
        self.leaves: set[tuple[str, ...]] = set()  # paths that are a row's leaf above the last level
        self.last: list[tuple[tuple[str, ...], Feature]] = []  # the leaves of the last level
        self.refs: dict[str, int] = {}  # ref -> row, of the last level's leaves
        self.by_name: set[str] = set()  # the refs made up for leaves without one
        self.problems: list[RowProblem] = []

    def add_row(self, row: int, values: dict) -> None:
        names = [values.get(level.column.lower(), "") for level in self.mapping.levels]
        if self.mapping.iaso:
            names[:-1] = ["" if _blank_in_iaso(name) else name for name in names[:-1]]
            if not names[-1]:
                self.problem(row, self.mapping.levels[-1].column, "is empty: each row of the file is a unit")
                return
        filled = len(names) - next((i for i, name in enumerate(reversed(names)) if name), len(names))
        if filled == 0:
            self.problem(row, self.mapping.levels[0].column, "is empty: the row names no unit")
            return
        gap = None if self.mapping.iaso else next((i for i in range(filled) if not names[i]), None)
        if gap is not None:
            self.problem(row, self.mapping.levels[gap].column, "is empty but a deeper level is filled")
            return
        for depth in range(filled - 1 if filled == len(names) else filled):
            if names[depth] and self._unit(row, tuple(names[: depth + 1]), values) is None:
                return
        if filled == len(names):
            self._last_leaf(row, tuple(names), values)
        else:
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

    def _last_leaf(self, row: int, path: tuple[str, ...], values: dict) -> None:
        """A unit of its own, whatever the other rows: keyed by its ref, or given one."""
        level = self.mapping.levels[-1]
        columns = [column for column in (self.mapping.ref, level.ref_column) if column]
        ref_column, ref = next(
            ((column, ref) for column in columns if (ref := normalise_ref(values.get(column.lower())))),
            (level.column, None),
        )
        if ref in self.refs:
            self.problem(row, ref_column, f"{ref!r} is already the leaf of row {self.refs[ref]}")
            return
        if ref is None:
            ref = made = "/".join(path)
            count = 1
            while made in self.refs:
                count += 1
                made = f"{ref}#{count}"
            ref = made
            self.by_name.add(ref)
        self.refs[ref] = row
        unit = Feature(LAYER, row, len(path) - 1, level.type_name, ref, path[-1])
        self.last.append((path, unit))
        self._attributes(row, unit, values)

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
        self._attributes(row, unit, values)

    def _attributes(self, row: int, unit: Feature, values: dict) -> None:
        mapping = self.mapping
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
        for path, unit in [*self.units.items(), *self.last]:
            parent = _parent_path(path)
            unit.parent_ref = self.units[parent].ref if parent else None
            if (field_name := overlong(unit)) is not None:  # a path of names as its ref, a code...
                self.problems.append(RowProblem(LAYER, unit.row, field_name, too_long(), True, unit.ref))
                continue
            package.features.append(unit)
        package.placed_by_name = self.by_name
        for problem in self.problems:
            package.problems.append(problem)
        return package


def _parent_path(path: tuple[str, ...]) -> tuple[str, ...]:
    """The path of the nearest level above `path`'s last that is filled (empty: none)."""
    parent = path[:-1]
    while parent and not parent[-1]:
        parent = parent[:-1]
    return parent


def _blank_in_iaso(name: str) -> bool:
    """Whether Iaso's tree importer skips this parent cell: empty, or "néant" (none) once accents are
    dropped (it compares `unidecode(name).lower().replace("neant", "")` to nothing)."""
    if not name:
        return True
    plain = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    return not plain.lower().replace("neant", "").strip()
