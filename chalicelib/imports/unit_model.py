"""What every reader makes of a file of org units (GeoPackage, CSV, GeoJSON) and the writers take:
its features, its groups and the problems found (GpkgError for a file unusable as a whole), the
Source they stream from, and the checks a unit's geometry passes.
"""

import datetime
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from shapely.errors import ShapelyError
from shapely.geometry import MultiPolygon, Point, Polygon

from chalicelib.platform import limits
from chalicelib.registry.geometry import outside_globe, repaired

VALIDATION_STATUSES = ("NEW", "VALID", "REJECTED")
MAX_PROBLEMS = 10_000
OUTSIDE_GLOBE = "has coordinates outside longitude -180..180 / latitude -90..90"
WHAT_A_UNIT_HAS = "a unit has a Point or a (Multi)Polygon"
# What a file's content can make its reading raise besides GpkgError (nesting past Python's recursion
# limit, a value Python or shapely refuses): the file's problem, which no retry fixes.
FILE_ERRORS = (RecursionError, MemoryError, ValueError, ShapelyError)


class GpkgError(Exception):
    """The file cannot be read as org units (as a GeoPackage in Iaso's layout; CsvError for a CSV), or
    too many of its rows are wrong."""


@contextmanager
def file_errors() -> Iterator[None]:
    """Around a reader: FILE_ERRORS become GpkgError, so that the import ends ERRORED with the reason."""
    try:
        yield
    except FILE_ERRORS as error:
        raise GpkgError(f"the file cannot be read ({type(error).__name__}: {error})") from error


def guarded(features: Iterator["Feature"]) -> Iterator["Feature"]:
    """`features`, read within file_errors."""
    with file_errors():
        yield from features


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
    # Refs made up for units the file gives none (csv_tree's leaves): a re-import matches these by
    # their parent and name instead (leaf_match)
    placed_by_name: set[str] = field(default_factory=set)

    @property
    def errors(self) -> list[RowProblem]:
        return [problem for problem in self.problems if problem.fatal]

    @property
    def warnings(self) -> list[RowProblem]:
        return [problem for problem in self.problems if not problem.fatal]


def overlong(feature: Feature) -> str | None:
    """The first of the feature's stored texts over IMPORT_TEXT_MAX_BYTES in UTF-8 (the field's name), if
    any. (A parent_ref that long names no unit, and is reported so.)"""
    short = len(feature.ref) + len(feature.name) + len(feature.type_name) + len(feature.code or "")
    if 4 * short <= limits.IMPORT_TEXT_MAX_BYTES and not feature.group_refs:
        return None  # the usual case: short texts and no groups, none to encode
    texts = (
        ("ref", feature.ref),
        ("name", feature.name),
        ("type", feature.type_name),
        ("code", feature.code),
    )
    texts += tuple(("group_refs", group) for group in feature.group_refs)
    return next((name for name, text in texts if overlong_text(text)), None)


def overlong_text(text: str | None) -> bool:
    """Whether `text` is over IMPORT_TEXT_MAX_BYTES in UTF-8 (a quarter of that in characters never is)."""
    limit = limits.IMPORT_TEXT_MAX_BYTES
    return bool(text) and len(text) * 4 > limit and len(text.encode(errors="replace")) > limit


def too_long(what: str = "its length") -> str:
    return limits.limit_message(what, "IMPORT_TEXT_MAX_BYTES", "bytes")


def normalise_ref(ref) -> str | None:
    """`iaso:123` and `iaso#123` name the same unit; blanks are no ref."""
    if ref is None:
        return None
    ref = (ref if type(ref) is str else str(ref)).strip()
    if ref[:5] == "iaso:":
        return "iaso#" + ref[5:]
    return ref or None


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
        return place_territory(feature, geometry, problem)
    problem("geom", f"is a {geometry.geom_type}; {WHAT_A_UNIT_HAS}")
    return None


def place_territory(feature: Feature, geometry: Polygon | MultiPolygon, problem) -> Feature | None:
    """Sets the territory of `feature`, repaired when invalid; reports one that cannot be repaired."""
    territory, reason = repaired(geometry)
    if territory.is_empty:
        problem("geom", f"is invalid ({reason}) and cannot be repaired")
        return None
    if reason:
        problem("geom", f"was invalid ({reason}) and has been repaired", fatal=False)
    feature.territory = territory
    return feature


def iter_layers(package: Package) -> Iterator[tuple[int, str]]:
    """(depth, type name) of each level present, top first."""
    yield from sorted({(feature.depth, feature.type_name) for feature in package.features})
