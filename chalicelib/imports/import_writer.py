"""Writing a checked import into a new version: the file streamed (read in a second process:
read_ahead), each unit placed as it comes and copied into the version's own partition; unit_rows
makes the lines, version_merge writes into an existing version."""

import array
import contextlib
import functools
import itertools
from collections.abc import Callable, Iterator

from chalicelib.imports import read_ahead, tree_plan, unit_loader_sql
from chalicelib.imports.unit_model import Package, ProblemList, RowProblem, Source
from chalicelib.imports.unit_rows import (
    Target,
    as_unit,
    copy_lines,
    encoded_units,
    group_ids_for,
    type_ids_for,
)
from chalicelib.platform import db
from chalicelib.registry import sources_sql, unit_types_sql
from chalicelib.tasks.engine import Killed, LostLease

READ_AHEAD = True  # False: the file is read in this process (tests cover both ways)
PROGRESS_EVERY = 10_000


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
    type_ids = type_ids_for(cur, target.account_id, source.levels, create=True, created=created_types)
    version = sources_sql.create_version(cur, target.account_id, target.data_source_id, "Import",
                                     target.user_id, with_partition=False)  # fmt: skip
    target = Target(target.account_id, version["id"], target.data_source_id, target.user_id)
    group_ids, failures = group_ids_for(cur, target, source.package, create=True), []
    memberships = _Memberships(target.account_id, target.version_id)
    # no set of the file's uuids (130 bytes a unit): a repeated one is found when the partition's
    # unique index is built, and given a new uuid then (unit_loader.load_new_version)
    encode = functools.partial(encoded_units, type_ids=type_ids, seen_uuids=None)
    in_process = not (READ_AHEAD and source.streamed)  # a file read whole: nothing left to read ahead
    batches = read_ahead.batches(source.features, encode, source.package.problems, in_process)
    placed = _placed(batches, placer, progress, source.count)
    if errors is not None:
        placed = _until_an_error(placed, errors)
    rows = copy_lines(target, placed, group_ids, memberships)

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


def _placed(batches: Iterator[list[tuple]], placer: tree_plan.Placer, progress: Callable[[int, int], None],
            total: int) -> Iterator[list[tree_plan.Placed]]:  # fmt: skip
    """Per batch of units read (encoded_units's tuples), the units it places (with the held ones it
    frees); `progress` told every PROGRESS_EVERY units read."""
    done, add_all = 0, placer.add_all
    for batch in batches:
        placed: list[tree_plan.Placed] = []
        start = 0
        while start < len(batch):  # in runs that end where progress is due
            end = min(len(batch), start + PROGRESS_EVERY - done % PROGRESS_EVERY)
            placed += add_all(map(as_unit, batch[start:end]))
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
