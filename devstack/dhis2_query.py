"""The data and query side of the DHIS2 stand-in (devstack/dhis2_standin.py): the trees it serves and
DHIS2's `fields=` and `filter=` parameters over them.

A tree is four lists of DHIS2-shaped dicts (units, levels, groups, group sets) whose references are
`{"id": …}` dicts, as real DHIS2 stores them. `load_fixture_tree()` reads the real responses kept in
tests/fixtures/dhis2/ (see tests/fixtures/SOURCES.tsv); `generated_tree(n)` makes a four-level tree
with geometries; `merge()` joins trees.
"""

import json
import random
import re
import string
from pathlib import Path
from typing import Any, NamedTuple

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "dhis2"

# Which collection a reference property points into, to expand `parent[id,name]` and `parent.name`.
REFERENCES = {
    "parent": "units",
    "children": "units",
    "ancestors": "units",
    "organisationUnits": "units",
    "organisationUnitGroups": "groups",
    "groups": "groups",
    "groupSets": "group_sets",
    "organisationUnitGroupSets": "group_sets",
}


class Tree(NamedTuple):
    units: list[dict]
    levels: list[dict]
    groups: list[dict]
    group_sets: list[dict]


class QueryError(ValueError):
    """A `fields` or `filter` DHIS2 answers with 400 (the message is DHIS2's wording, near enough)."""


# ---- fields -------------------------------------------------------------------------------------


def parse_fields(text: str) -> dict[str, Any]:
    """`id,name,parent[id,name],:all,!href` → {"id": None, "parent": {"id": None, "name": None}, …}."""
    spec, rest = _parse_fields(text.replace(" ", ""), 0)
    if rest != len(text.replace(" ", "")):
        raise QueryError(f"Unbalanced brackets in fields: {text}")
    return spec


def _parse_fields(text: str, i: int) -> tuple[dict[str, Any], int]:
    spec: dict[str, Any] = {}
    name = ""
    while i < len(text):
        char = text[i]
        if char in "[(":
            spec[name], i = _parse_fields(text, i + 1)
            name = ""
            continue
        if char in "])":
            if name:
                spec[name] = None
            return spec, i + 1
        if char == ",":
            if name:
                spec[name] = None
            name = ""
        else:
            name += char
        i += 1
    if name:
        spec[name] = None
    return spec, i


class Index:
    """The objects of a tree by id, to expand references."""

    def __init__(self, tree: Tree):
        self.by_kind = {kind: {o["id"]: o for o in getattr(tree, kind)} for kind in Tree._fields}

    def resolve(self, prop: str, ref: Any) -> Any:
        kind = REFERENCES.get(prop)
        if kind is None or not isinstance(ref, dict) or "id" not in ref:
            return ref
        return self.by_kind[kind].get(ref["id"], ref)


def project(obj: dict, spec: dict[str, Any] | None, index: Index) -> dict:
    """The object with only the fields `spec` asks for, references expanded where it nests them."""
    if spec is None:
        return obj
    excluded = {n[1:] for n in spec if n.startswith("!")}
    names = [n for n in spec if not n.startswith(("!", ":")) and n != "*"]
    if ":all" in spec or "*" in spec:
        names = list(obj) + [n for n in names if n not in obj]
    out: dict = {}
    for name in names:
        if name in excluded or name not in obj:
            continue
        value, sub = obj[name], spec.get(name)
        if sub is not None and isinstance(value, list):
            value = [project(index.resolve(name, v), sub, index) for v in value]
        elif sub is not None and isinstance(value, dict):
            value = project(index.resolve(name, value), sub, index)
        out[name] = value
    return out


# ---- filters ------------------------------------------------------------------------------------

OPERATORS = {
    "eq": lambda v, a: _cmp(v, a) == 0,
    "!eq": lambda v, a: _cmp(v, a) != 0,
    "ne": lambda v, a: _cmp(v, a) != 0,
    "ieq": lambda v, a: str(v).lower() == a.lower(),
    "gt": lambda v, a: _cmp(v, a) > 0,
    "ge": lambda v, a: _cmp(v, a) >= 0,
    "lt": lambda v, a: _cmp(v, a) < 0,
    "le": lambda v, a: _cmp(v, a) <= 0,
    "like": lambda v, a: a in str(v),
    "!like": lambda v, a: a not in str(v),
    "ilike": lambda v, a: a.lower() in str(v).lower(),
    "!ilike": lambda v, a: a.lower() not in str(v).lower(),
    "$like": lambda v, a: str(v).startswith(a),
    "$ilike": lambda v, a: str(v).lower().startswith(a.lower()),
    "like$": lambda v, a: str(v).endswith(a),
    "ilike$": lambda v, a: str(v).lower().endswith(a.lower()),
    "in": lambda v, a: any(_cmp(v, x) == 0 for x in _list(a)),
    "!in": lambda v, a: all(_cmp(v, x) != 0 for x in _list(a)),
}
UNARY = {"null": lambda vs: not vs, "!null": lambda vs: bool(vs), "empty": lambda vs: not vs}


def _list(arg: str) -> list[str]:
    return [x for x in arg.strip("[]").split(",") if x]


def _cmp(value: Any, arg: str) -> int:
    """DHIS2 compares numbers as numbers, booleans as booleans, and dates and the rest as strings (ISO
    dates compare correctly as strings, `2024-01-01` against `2024-01-01T10:00:00.000` included)."""
    if isinstance(value, bool):
        left, right = value, arg.lower() == "true"
    elif isinstance(value, int | float):
        try:
            left, right = value, float(arg)
        except ValueError as exc:
            raise QueryError(f"Failed to parse value {arg!r} as a number") from exc
    else:
        left, right = str(value), arg
    return (left > right) - (left < right)


def parse_filter(text: str) -> tuple[list[str], str, str | None]:
    parts = text.split(":", 2)
    if len(parts) < 2:
        raise QueryError(f"Invalid filter: {text}")
    prop, op = parts[0], parts[1]
    arg = parts[2] if len(parts) == 3 else None
    if op not in OPERATORS and op not in UNARY or (op in OPERATORS and arg is None):
        raise QueryError(f"Unsupported operator `{op}` in filter {text}")
    return prop.split("."), op, arg


def _values(obj: Any, path: list[str], index: Index, prop: str = "") -> list:
    if isinstance(obj, list):
        return [v for item in obj for v in _values(item, path, index, prop)]
    obj = index.resolve(prop, obj)
    if not path:
        return [] if obj is None else [obj]
    if not isinstance(obj, dict) or path[0] not in obj:
        return []
    return _values(obj[path[0]], path[1:], index, path[0])


def matches(obj: dict, filters: list[tuple[list[str], str, str | None]], index: Index, any_: bool) -> bool:
    results = []
    for path, op, arg in filters:
        values = _values(obj, path, index)
        if op in UNARY:
            results.append(UNARY[op](values))
        elif op.startswith("!"):  # a negated operator holds when no value breaks it
            results.append(all(OPERATORS[op](v, arg) for v in values))
        else:
            results.append(any(OPERATORS[op](v, arg) for v in values))
    return any(results) if any_ else all(results)


def known_property(objects: list[dict], path: list[str]) -> bool:
    return any(path[0] in o for o in objects) or path[0] in ("id", "name", "code", "geometry")


# ---- trees --------------------------------------------------------------------------------------


def _normalize(units: list[dict]) -> list[dict]:
    """What DHIS2 derives: displayName, level and path, ancestors, parent, children (from the tree)."""
    by_id = {u["id"]: u for u in units}
    for unit in units:
        unit.setdefault("displayName", unit["name"])
        unit.setdefault("shortName", unit["name"])
        ids = [x for x in unit.get("path", "/" + unit["id"]).split("/") if x]
        unit["path"] = "/" + "/".join(ids)
        unit["level"] = len(ids)
        unit["ancestors"] = [{"id": x} for x in ids[:-1]]
        if len(ids) > 1:
            unit["parent"] = {"id": ids[-2]}
    for unit in units:
        if "parent" in unit and unit["parent"]["id"] in by_id:
            kids = by_id[unit["parent"]["id"]].setdefault("children", [])
            if {"id": unit["id"]} not in kids:
                kids.append({"id": unit["id"]})
        unit.setdefault("children", [])
    return units


def load_fixture_tree(directory: Path = FIXTURES) -> Tree:
    """The real DHIS2 responses: two Sierra Leone units (play.dhis2.org 2.32.3), four units with
    unusual geometries (a hole, multipolygons), the four levels and the five Facility Type groups.
    The two ancestors the Sierra Leone units name but the fixtures lack are added as stubs (named
    after their id) so that every parent exists; the group set is the one the groups belong to."""
    read = lambda name: json.loads((directory / name).read_text())  # noqa: E731
    units = read("organisationUnits_page1.json")["organisationUnits"]
    units += read("organisationUnits_strange_geom.json")["organisationUnits"]
    present = {u["id"] for u in units}
    for unit in list(units):
        ids = [x for x in unit["path"].split("/") if x]
        for depth, uid in enumerate(ids[:-1], start=1):
            if uid not in present:
                present.add(uid)
                path = "/" + "/".join(ids[:depth])
                units.append({"id": uid, "name": f"Stub {uid}", "path": path, "level": depth})
    groups = read("organisationUnitGroups.json")["organisationUnitGroups"]
    set_ids = {ref["id"] for g in groups for ref in g.get("groupSets", [])}
    group_sets = [
        {
            "id": uid,
            "name": "Facility Type",
            "displayName": "Facility Type",
            "organisationUnitGroups": [{"id": g["id"]} for g in groups if {"id": uid} in g["groupSets"]],
        }
        for uid in sorted(set_ids)
    ]
    levels = read("organisationUnitLevels.json")["organisationUnitLevels"]
    return Tree(_normalize(units), levels, groups, group_sets)


def uid(rng: random.Random) -> str:
    """A DHIS2 identifier: 11 characters, a letter first."""
    alnum = string.ascii_letters + string.digits
    return rng.choice(string.ascii_letters) + "".join(rng.choice(alnum) for _ in range(10))


def _box(x: float, y: float, w: float, h: float) -> dict:
    ring = [[x, y], [x + w, y], [x + w, y + h], [x, y + h], [x, y]]
    return {"type": "Polygon", "coordinates": [[[round(a, 6), round(b, 6)] for a, b in ring]]}


def generated_tree(n: int, seed: int = 17, regions: int = 3, districts: int = 3) -> Tree:
    """A country (level 1), `regions` regions, `districts` districts in each, and `n` facilities
    spread over the districts: polygons nested in one another down to points for the facilities.
    lastUpdated runs a day apart through 2024 so that `ge` filters on dates select a known slice."""
    rng = random.Random(seed)
    units: list[dict] = []
    groups = [
        {"id": uid(rng), "name": name, "displayName": name, "organisationUnits": []}
        for name in ("Urban", "Rural")
    ]

    def add(name: str, parent: dict | None, geometry: dict) -> dict:
        count = len(units)
        unit = {
            "id": uid(rng),
            "name": name,
            "shortName": name[:50],
            "code": f"GEN_{count:05d}",
            "path": (parent["path"] if parent else "") + "/",
            "openingDate": "1994-01-01T00:00:00.000",
            "created": "2020-01-01T00:00:00.000",
            "lastUpdated": f"2024-{1 + count // 28 % 12:02d}-{1 + count % 28:02d}T08:00:00.000",
            "geometry": geometry,
            "organisationUnitGroups": [],
        }
        unit["path"] += unit["id"]
        units.append(unit)
        return unit

    country = add("Generated Country", None, _box(0, 0, 9, 9))
    district_units = []
    for r in range(regions):
        region = add(f"Region {r + 1}", country, _box(3 * r, 0, 3, 9))
        for d in range(districts):
            district_units.append(add(f"District {r + 1}.{d + 1}", region, _box(3 * r, 3 * d, 3, 3)))
    for f in range(n):
        district = district_units[f % len(district_units)]
        x0, y0 = district["geometry"]["coordinates"][0][0]
        point = {"type": "Point", "coordinates": [round(x0 + rng.uniform(0.1, 2.9), 6), y0 + 1.5]}
        unit = add(f"Facility {f + 1:05d}", district, point)
        group = groups[f % 2]
        unit["organisationUnitGroups"].append({"id": group["id"]})
        group["organisationUnits"].append({"id": unit["id"]})
    names = ["Country", "Region", "District", "Facility"]
    levels = [
        {"id": uid(rng), "level": i + 1, "name": name, "displayName": name} for i, name in enumerate(names)
    ]
    group_sets = [
        {
            "id": uid(rng),
            "name": "Settlement",
            "displayName": "Settlement",
            "organisationUnitGroups": [{"id": g["id"]} for g in groups],
        }
    ]
    for group in groups:
        group["groupSets"] = [{"id": group_sets[0]["id"]}]
    return Tree(_normalize(units), levels, groups, group_sets)


def merge(*trees: Tree) -> Tree:
    """Trees side by side; levels by number, the first tree's name winning."""
    levels: dict[int, dict] = {}
    for tree in trees:
        for level in tree.levels:
            levels.setdefault(level["level"], level)
    return Tree(
        [u for t in trees for u in t.units],
        sorted(levels.values(), key=lambda lv: lv["level"]),
        [g for t in trees for g in t.groups],
        [s for t in trees for s in t.group_sets],
    )


_ORDER = re.compile(r"^(\w+)(?::(asc|desc|iasc|idesc))?$")


def order_key(order: str | None) -> tuple[str, bool]:
    """DHIS2 lists metadata by name unless `order=prop:asc|desc` says otherwise."""
    match = _ORDER.match(order or "name:asc")
    if not match:
        raise QueryError(f"Invalid order: {order}")
    return match.group(1), (match.group(2) or "asc").endswith("desc")
