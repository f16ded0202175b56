"""Writing a checked import: into a new version (COPY into its own partition) or an existing one
(new units copied in, changed ones updated and audited field by field, paths recomputed)."""

import array
import contextlib
import datetime
import functools
import itertools
import re
import uuid as uuids
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

import numpy
import shapely

from chalicelib.imports import read_ahead, tree_plan, unit_loader_sql
from chalicelib.imports.gpkg_reader import Feature, Package, ProblemList, RowProblem, Source
from chalicelib.imports.tree_plan import Plan
from chalicelib.platform import db
from chalicelib.registry import audit, groups_sql, sources_sql, unit_types_sql
from chalicelib.tasks.engine import Killed, LostLease, TaskInputError

SIMPLIFY_DEGREES = 0.0005
PLAIN_COLUMNS = ("name", "code", "opening_date", "closed_date", "org_unit_type_id", "validation_status")


@dataclass(frozen=True)
class Target:
    account_id: int
    version_id: int | None  # None: a new version of the data source
    data_source_id: int
    user_id: int


def write_new_version(cur, target: Target, source: Source, dry_run: bool, skip_invalid: bool = False,
                      progress: Callable[[int, int], None] = lambda done, total: None,
                      ) -> tuple[dict, list[RowProblem]]:  # fmt: skip
    """Streams the file into a new version of the data source (or, in a dry run, only places it):
    units are checked, placed and copied as they are read, `progress` told every PROGRESS_EVERY.
    Returns the counts and the problems, which the caller weighs: with errors it rolls everything
    back, unless it may skip invalid rows (without `skip_invalid`, the first error stops the writing;
    the rest of the file is still read, for the report).

    Only the units that are parents are remembered while the file streams (tree_plan.Placer), so a
    ref given twice is found by the version's unique index. When it is (rare), or when errors stopped
    the writing before that index was built, the file is read again remembering every ref, so that
    the report says where refs repeat."""
    if dry_run or source.parents is None:
        return _write_new_version(cur, target, source, dry_run, skip_invalid, progress, None)
    problems, known = source.package.problems, len(source.package.problems)  # those of a file read whole
    with db.savepoint(cur, "new_version") as attempt:
        try:
            counts, found = _write_new_version(
                cur, target, source, dry_run, skip_invalid, progress, source.parents
            )
            read_again = not skip_invalid and any(problem.fatal for problem in [*problems, *found])
        except (unit_loader_sql.RepeatedRefs, tree_plan.NotSurveyed):
            read_again = True
        if read_again:
            attempt.roll_back()
            del problems[known:]  # the reading again finds them again
            counts, found = _write_new_version(cur, target, source, dry_run, skip_invalid, progress, None)
    return counts, found


def _write_new_version(cur, target: Target, source: Source, dry_run: bool, skip_invalid: bool,
                       progress: Callable[[int, int], None], parents: frozenset[str] | None,
                       ) -> tuple[dict, list[RowProblem]]:  # fmt: skip
    ids = itertools.count(1) if dry_run else unit_loader_sql.reserve_ids(cur, source.count)
    placer = tree_plan.Placer(ids, ProblemList(), parents)
    if dry_run:
        for feature in _reported(source.features(), progress, source.count):
            placer.add(feature)
    else:
        errors = None if skip_invalid else _Errors(source.package.problems, placer.problems)
        target = _load(cur, target, source, placer, progress, errors)
    placer.finish(_rejected(source.package))
    counts = {"version_id": target.version_id, "created": placer.count, "updated": 0, "unchanged": 0,
              "closed": 0}  # fmt: skip
    return counts, placer.problems


def _load(cur, target: Target, source: Source, placer: tree_plan.Placer, progress,
          errors: "_Errors | None") -> Target:  # fmt: skip
    """The new version, its types and groups, then its units and memberships as they are read (in a
    second process: read_ahead) and placed."""
    created_types: list[int] = []
    type_ids = _types(cur, target.account_id, source.levels, create=True, created=created_types)
    version = sources_sql.create_version(cur, target.account_id, target.data_source_id, "Import",
                                     target.user_id, with_partition=False)  # fmt: skip
    target = Target(target.account_id, version["id"], target.data_source_id, target.user_id)
    group_ids, failures = _groups(cur, target, source.package, create=True), []
    memberships = _Memberships(target.account_id, target.version_id)
    # no set of the file's uuids (130 bytes a unit): a repeated one is found when the partition's
    # unique index is built, and given a new uuid then (unit_loader.load_new_version)
    encode = functools.partial(_encoded, type_ids=type_ids, seen_uuids=None)
    in_process = not (READ_AHEAD and source.streamed)  # a file read whole: nothing left to read ahead
    batches = read_ahead.batches(source.features, encode, source.package.problems, in_process)
    placed = _placed(batches, placer, progress, source.count)
    if errors is not None:
        placed = _until_an_error(placed, errors)
    rows = _lines(target, placed, group_ids, memberships)

    def stopped() -> bool:  # then the caller's transaction rolls back what was loaded
        return bool(failures) or (errors is not None and errors.found)

    with contextlib.closing(batches):  # the reading process ends with the COPY, whatever happened
        unit_loader_sql.load_new_version(
            cur, target.version_id, _until_unreadable(rows, failures), memberships, stopped
        )
    if failures:
        raise failures[0]
    if not stopped():
        unit_types_sql.delete_unused(
            cur, target.account_id, created_types
        )  # a layer or a rejected row's type
    return target


READ_AHEAD = True  # False: the file is read in this process (tests cover both ways)


class _Memberships:
    """A new version's group memberships (GROUP_COLUMNS tuples in, and out when iterated), kept as two
    arrays of ids: 16 bytes each instead of a tuple's ~120."""

    def __init__(self, account_id: int, version_id: int):
        self._account_id, self._version_id = account_id, version_id
        self._units, self._groups = array.array("q"), array.array("q")

    def append(self, membership: tuple[int, int, int, int]) -> None:
        self._units.append(membership[2])
        self._groups.append(membership[3])

    def __iter__(self) -> Iterator[tuple[int, int, int, int]]:
        for unit_id, group_id in zip(self._units, self._groups, strict=True):
            yield self._account_id, self._version_id, unit_id, group_id


class _Errors:
    """Whether the reader or the placer has found an error yet (checking only what is new)."""

    def __init__(self, *problem_lists: list[RowProblem]):
        self._lists, self._checked, self.found = problem_lists, [0] * len(problem_lists), False

    def seen(self) -> bool:
        if self.found or all(
            len(problems) == checked for problems, checked in zip(self._lists, self._checked, strict=True)
        ):
            return self.found
        for index, problems in enumerate(self._lists):
            if not self.found and len(problems) > self._checked[index]:
                self.found = any(problem.fatal for problem in problems[self._checked[index] :])
                self._checked[index] = len(problems)
        return self.found


def _until_an_error(batches: Iterator, errors: _Errors) -> Iterator:
    """The batches until the file is known to have an error: then nothing will be imported, so the
    rest is read for its problems only, and nothing more goes to the database."""
    for batch in batches:
        if errors.seen():
            for _ in batches:
                pass
            return
        yield batch


PROGRESS_EVERY = 10_000


def _placed(batches: Iterator[list[tuple]], placer: tree_plan.Placer, progress: Callable[[int, int], None],
            total: int) -> Iterator[list[tree_plan.Placed]]:  # fmt: skip
    """Per batch of units read (_encoded's tuples), the units it places (with the held ones it
    frees); `progress` told every PROGRESS_EVERY units read."""
    done, add_all = 0, placer.add_all
    for batch in batches:
        placed: list[tree_plan.Placed] = []
        start = 0
        while start < len(batch):  # in runs that end where progress is due
            end = min(len(batch), start + PROGRESS_EVERY - done % PROGRESS_EVERY)
            placed += add_all(map(_as_unit, batch[start:end]))
            done += end - start
            if done % PROGRESS_EVERY == 0:
                progress(done, total)
            start = end
        yield placed


def _reported(features: Iterator, progress: Callable[[int, int], None], total: int) -> Iterator:
    for done, feature in enumerate(features, 1):
        if done % PROGRESS_EVERY == 0:
            progress(done, total)
        yield feature


def _until_unreadable(rows: Iterator[tuple], failures: list[BaseException]) -> Iterator[tuple]:
    """The rows until the file turns out unreadable half-way (or to have too many problems), the task
    is killed, or anything else goes wrong meanwhile: then the error is kept for after the COPY, which
    ends there. Raised inside COPY, it would come back as PostgreSQL's "error in .read() call", its
    kind lost (and a task retries what the database cancelled)."""
    try:
        yield from rows
    except (Exception, Killed, LostLease) as error:
        failures.append(error)


def _rejected(package: Package) -> frozenset[str]:
    return frozenset(problem.ref for problem in package.errors if problem.ref)


def write(cur, target: Target, package: Package, plan: Plan, existing: dict, close_missing: bool,
          dry_run: bool) -> dict:  # fmt: skip
    """Writes (or, in a dry run, only counts) what the import changes in an existing version."""
    type_ids = _types(cur, target.account_id, Source.of(package).levels, create=not dry_run)
    group_ids = _groups(cur, target, package, create=not dry_run)
    matched = {f.ref: f for f in plan.ordered if f.ref in existing}
    changed = {ref: c for ref, f in matched.items() if (c := _changes(f, existing[ref], type_ids, group_ids))}
    created = [f for f in plan.ordered if f.ref not in existing]
    in_file = {f.ref for f in package.features}
    missing = [row for ref, row in existing.items() if ref not in in_file and row["closed_date"] is None]
    counts = {
        "version_id": target.version_id,
        "created": len(created),
        "updated": len(changed),
        "unchanged": len(matched) - len(changed),
        "closed": len(missing) if close_missing else 0,
    }
    if dry_run:
        return counts
    new_ids, units, memberships = _rows(cur, target, created, type_ids, group_ids, existing)
    unit_loader_sql.insert_units(cur, units, memberships)
    _apply_changes(cur, target, matched, changed, {ref: row["id"] for ref, row in existing.items()} | new_ids)
    if close_missing:
        _close(cur, target, missing)
    if any("parent_ref" in c for c in changed.values()):
        _recompute_paths(cur, target.version_id)
    return counts


def _types(cur, account_id: int, levels: list[tuple[int, str]], create: bool,
           created: list[int] | None = None) -> dict[str, int | None]:  # fmt: skip
    """Type ids by name, created (with the layer's depth, and listed in `created`) when missing, or
    None in a dry run."""
    ids: dict[str, int | None] = {}
    for depth, name in sorted(levels):
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


def _groups(cur, target: Target, package: Package, create: bool) -> dict[str, int | None]:
    listed = groups_sql.list_groups(cur, target.account_id, target.version_id, None, 10**6)
    known: dict[str, int | None] = {row["source_ref"]: row["id"] for row in listed}
    for ref, name in package.groups.items():
        if ref not in known:
            known[ref] = (
                groups_sql.create_group(cur, target.account_id, target.version_id, name, ref)
                if create
                else None
            )
    return known


def _rows(cur, target: Target, created: list[Feature], type_ids: dict, group_ids: dict, existing: dict):
    """The new units of an existing version: their ids, their COPY rows (produced lazily) and the
    list their group memberships are added to as the rows are produced."""
    ids = dict(zip((f.ref for f in created), unit_loader_sql.reserve_ids(cur, len(created)), strict=True))
    parents = {ref: tree_plan.Existing(row["id"], row["path"], row["depth"]) for ref, row in existing.items()}
    placed = tree_plan.paths(created, ids, parents)
    id_of = {ref: parent.id for ref, parent in parents.items()} | ids
    seen_uuids = unit_loader_sql.taken_uuids(cur, target.version_id, [f.uuid for f in created if f.uuid])
    batches = (
        [
            tree_plan.Placed(unit, ids[unit.ref], id_of.get(unit.parent_ref), *placed[unit.ref])
            for unit in map(_as_unit, _encoded(created[i : i + BATCH], type_ids, seen_uuids))
        ]
        for i in range(0, len(created), BATCH)
    )
    memberships: list[tuple] = []
    return ids, _lines(target, batches, group_ids, memberships), memberships


BATCH = 10_000  # units whose geometries are encoded together


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
# travel from the reading process as plain tuples, which pickle five times faster (bench/README.md).
_as_unit = functools.partial(tuple.__new__, Unit)


def _encoded(features: list[Feature], type_ids: dict, seen_uuids: set[str] | None) -> list[tuple]:
    """The features as the fields of Units (plain tuples: see _as_unit), their geometries encoded in
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


def _lines(target: Target, placed: Iterable[list[tree_plan.Placed]], group_ids: dict,
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


CANONICAL_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _uuid(given: str | None, seen: set[str] | None) -> str:
    """The file's uuid when it is one and not already used in this import (`seen`, when the caller
    keeps track), else a new one."""
    if given and CANONICAL_UUID.match(given):
        value = given  # already as PostgreSQL writes it: no need to parse it (a tenth of a second per 100k)
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


def _ewkb(geometry, three_d: bool) -> str | None:
    if geometry is None:
        return None
    geometry = shapely.force_3d(geometry) if three_d else shapely.force_2d(geometry)
    return shapely.to_wkb(shapely.set_srid(geometry, 4326), hex=True, include_srid=True,
                          output_dimension=3 if three_d else 2)  # fmt: skip


def _ewkb_all(geometries: list, three_d: bool) -> list[str | None]:
    """Hex EWKB (SRID 4326) of each geometry, None staying None, in a few vectorised shapely calls:
    one by one, this was the import's costliest Python step (bench/README.md)."""
    if not geometries:
        return []
    array = numpy.array(geometries, dtype=object)
    array = shapely.force_3d(array) if three_d else shapely.force_2d(array)
    return shapely.to_wkb(shapely.set_srid(array, 4326), hex=True, include_srid=True,
                          output_dimension=3 if three_d else 2).tolist()  # fmt: skip


# Little-endian EWKB of a PointZ with an SRID (type 0xA0000001), SRID 4326: three doubles follow.
POINT_Z_4326 = "01010000A0E6100000"
POINT_HEX = 48  # hex digits of three doubles


def _points_ewkb(points: list) -> list[str | None]:
    """Hex EWKB of each point (3D, SRID 4326, as _ewkb_all writes it), None staying None: the
    coordinates taken out in one call and hexed at once, a quarter of the time shapely's writer takes."""
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


def _simplified(territory) -> str | None:
    if territory is None:
        return None
    simpler = shapely.simplify(territory, SIMPLIFY_DEGREES, preserve_topology=True)
    if simpler.is_empty:
        return None
    if simpler.geom_type == "Polygon":
        simpler = shapely.MultiPolygon([simpler])
    return _ewkb(simpler, False)


def _changes(feature: Feature, current: dict, type_ids: dict, group_ids: dict) -> dict:
    """Field -> (before, after) for what the file changes (a type or group still to create: None)."""
    wanted = {
        "name": feature.name,
        "code": feature.code,
        "parent_ref": feature.parent_ref,
        "opening_date": feature.opening_date,
        "closed_date": feature.closed_date,
        "org_unit_type_id": type_ids[feature.type_name],
        "group_ids": sorted((group_ids[ref] or 0) for ref in feature.group_refs),
    }
    if feature.validation_status:
        wanted["validation_status"] = feature.validation_status
    changes = {name: (current[name], value) for name, value in wanted.items() if current[name] != value}
    if not _same_geometry(current["location"], feature.location):
        changes["location"] = (current["location"], _ewkb(feature.location, True))
    if not _same_geometry(current["geom"], feature.territory):
        changes["geom"] = (current["geom"], _ewkb(feature.territory, False))
    return changes


def _same_geometry(stored_hex: str | None, geometry) -> bool:
    if stored_hex is None or geometry is None:
        return stored_hex is None and geometry is None
    stored = shapely.from_wkb(bytes.fromhex(stored_hex))
    return shapely.equals_exact(shapely.force_2d(stored), shapely.force_2d(geometry), tolerance=1e-9)


def _apply_changes(cur, target: Target, features: dict, changed: dict, ids: dict[str, int]) -> None:
    """`ids`: every ref's unit id, the new units' included (a unit may move under a new one)."""
    for ref, changes in changed.items():
        unit_id, feature = ids[ref], features[ref]
        columns = {name: after for name, (_, after) in changes.items() if name in PLAIN_COLUMNS}
        if "parent_ref" in changes:
            columns["parent_id"] = ids.get(feature.parent_ref)
        if "location" in changes:
            columns["location"] = changes["location"][1]
        if "geom" in changes:
            columns["geom"] = changes["geom"][1]
            columns["simplified_geom"] = _simplified(feature.territory)
        if columns:
            unit_loader_sql.update_unit(cur, target.version_id, unit_id, columns, target.user_id)
        if "group_ids" in changes:
            groups_sql.set_unit_groups(
                cur, target.account_id, target.version_id, unit_id, changes["group_ids"][1]
            )
        before = {name: _plain(old) for name, (old, _) in changes.items()}
        after = {name: _plain(new) for name, (_, new) in changes.items()}
        audit.record(
            cur, target.account_id, target.user_id, "import", "org_unit", unit_id, "update", before, after
        )


def _plain(value):
    return value.isoformat() if isinstance(value, datetime.date) else value


def _close(cur, target: Target, units: list[dict]) -> None:
    today = datetime.date.today()
    for unit in units:
        if unit["closed_date"] is None:
            unit_loader_sql.update_unit(
                cur, target.version_id, unit["id"], {"closed_date": today}, target.user_id
            )
            audit.record(cur, target.account_id, target.user_id, "import", "org_unit", unit["id"], "update",
                         {"closed_date": None}, {"closed_date": today.isoformat()})  # fmt: skip


def _recompute_paths(cur, version_id: int) -> None:
    """After parents changed: every path and depth from the parent ids, in memory, then one UPDATE."""
    rows = {row["id"]: row for row in unit_loader_sql.live_tree(cur, version_id)}
    placed: dict[int, tuple[str, int]] = {}
    for unit_id in rows:
        chain, node = [], unit_id
        while node is not None and node not in placed:
            if node in chain:
                raise TaskInputError(f"The import would make a cycle of parents through units {chain}.")
            if node not in rows:
                raise TaskInputError(f"Unit {chain[-1]} would sit under unit {node}, which is deleted.")
            chain.append(node)
            node = rows[node]["parent_id"]
        base_path, base_depth = placed[node] if node is not None else ("/", -1)
        for member in reversed(chain):
            base_path, base_depth = f"{base_path}{member}/", base_depth + 1
            placed[member] = (base_path, base_depth)
    moved = [
        (i, path, depth)
        for i, (path, depth) in placed.items()
        if (rows[i]["path"], rows[i]["depth"]) != (path, depth)
    ]
    if moved:
        unit_loader_sql.move_paths(cur, version_id, moved)
