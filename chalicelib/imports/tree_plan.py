"""Checking an imported tree before anything is written: refs, parents, cycles; then ids and paths.

Works on unit_model.Feature objects (the CSV and GeoJSON readers produce the same), in memory: paths are
computed from the parent refs here rather than by a recursive UPDATE in the database.
"""

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from chalicelib.imports.unit_model import Feature, RowProblem


@dataclass(frozen=True)
class Existing:
    """A unit already in the target version, as a parent or a match for a ref."""

    id: int
    path: str
    depth: int
    parent_ref: str | None = None


@dataclass
class Plan:
    ordered: list[Feature] = field(default_factory=list)  # parents before children
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def errors(self) -> list[RowProblem]:
        return [problem for problem in self.problems if problem.fatal]


def check(
    features: Iterable[Feature], existing: dict[str, Existing], rejected: frozenset[str] = frozenset()
) -> Plan:
    """Orders the features parents-first and reports duplicate refs, unknown parents and cycles.

    A rejected feature (here, or by the reader: `rejected`) takes its descendants with it, each
    reported. The caller imports `ordered` only if it may skip invalid rows, else nothing.
    """
    plan = Plan()
    by_ref: dict[str, Feature] = {}
    for feature in features:
        if feature.ref in by_ref:
            first = by_ref[feature.ref]
            plan.problems.append(
                _problem(feature, "ref", f"{feature.ref!r} is also on {first.layer} row {first.row}")
            )
        else:
            by_ref[feature.ref] = feature
    state: dict[str, str] = {}  # ref -> "visiting" | "ok" | "bad"
    for feature in by_ref.values():
        _visit(feature, by_ref, existing, rejected, state, plan)
    return plan


def _visit(feature: Feature, by_ref, existing, rejected, state, plan: Plan) -> None:
    """Walks up the parent chain (without recursion: trees can be deep), then settles it top-down."""
    chain: list[Feature] = []
    bad_from: dict[str, str] = {}  # ref -> why, for the units that are wrong themselves
    node, verdict = feature, "ok"
    while True:
        if node.ref in state:
            if state[node.ref] == "visiting":
                loop = chain[chain.index(node) :]
                names = " -> ".join(member.ref for member in [*loop, node])
                bad_from |= {member.ref: f"is part of a cycle of parents: {names}" for member in loop}
                verdict = "bad"
            else:
                verdict = state[node.ref]
            break
        state[node.ref] = "visiting"
        chain.append(node)
        parent = _above_existing(node.parent_ref, by_ref, existing)
        if parent is None:
            break
        if parent not in by_ref:
            if parent in rejected:
                bad_from[node.ref] = f"its parent {parent!r} was rejected"
            else:
                bad_from[node.ref] = f"names no unit {parent!r} in the file or in the version"
            verdict = "bad"
            break
        node = by_ref[parent]
    for member in reversed(chain):  # ancestors first
        if member.ref in bad_from:
            plan.problems.append(_problem(member, "parent_ref", bad_from[member.ref]))
        elif verdict == "bad":
            plan.problems.append(_problem(member, "parent_ref", "its parent was rejected"))
        else:
            plan.ordered.append(member)
        state[member.ref] = verdict


def _above_existing(parent: str | None, by_ref: dict, existing: dict) -> str | None:
    """The next ancestor to visit: through units already in the version (whose parents the file may
    change), up to one the file has, or None at a root. Cycles through the version are caught too."""
    seen = set()
    while parent is not None and parent not in by_ref and parent in existing and parent not in seen:
        seen.add(parent)
        unit = existing[parent]
        parent = unit.get("parent_ref") if isinstance(unit, dict) else unit.parent_ref
    return parent if parent is None or parent in by_ref or parent not in existing else None


def _problem(feature: Feature, field_name: str, message: str) -> RowProblem:
    return RowProblem(feature.layer, feature.row, field_name, message)


def paths(
    ordered: list[Feature], ids: dict[str, int], existing: dict[str, Existing]
) -> dict[str, tuple[str, int]]:
    """ref -> (path, depth) for ordered features (parents first), given every feature's new id."""
    placed: dict[str, tuple[str, int]] = {ref: (unit.path, unit.depth) for ref, unit in existing.items()}
    for feature in ordered:
        if feature.parent_ref is None:
            placed[feature.ref] = (f"/{ids[feature.ref]}/", 0)
        else:
            parent_path, parent_depth = placed[feature.parent_ref]
            placed[feature.ref] = (f"{parent_path}{ids[feature.ref]}/", parent_depth + 1)
    return placed


class NotSurveyed(Exception):
    """A unit names a parent that the survey of the file did not list (the caller places it again,
    keeping every unit)."""


class Placed(NamedTuple):  # one per unit of the file: a tuple is quicker to make than a dataclass
    feature: Feature
    id: int
    parent_id: int | None
    path: str
    depth: int


# A Placed from a plain tuple of its fields, without the Python-level __new__ of a named tuple
_as_placed = functools.partial(tuple.__new__, Placed)


class Placer:
    """The streaming form of `check` + `paths`, for a new version: each feature is placed (its id and
    path) as soon as its parent is, the others held back until it is. Whole features are held only
    while they wait for a parent that comes later in the file (none for a file in parents-first
    order, as Iaso's layers and our GeoPackage exports are). At the end, `finish` reports what is
    still held, as `check` would (unknown parents, cycles, rejected parents).

    What is kept per placed unit is its id, path and row, for every unit (then a ref given twice is
    reported here), or, given the refs that units name as `parents`, only for those: memory then grows
    with the number of parents (a hundredth of a pyramid), not of units, and a ref given twice is left
    to the version's unique index (unit_loader.RepeatedRefs). A parent outside `parents` raises
    NotSurveyed."""

    def __init__(self, ids: Iterable[int], problems: list[RowProblem], parents: frozenset[str] | None = None):
        self._ids = iter(ids)
        self._placed: dict[str, tuple[int, str, int, str, int]] = {}  # ref -> id, path, depth, layer, row
        self._held: dict[str, Feature] = {}
        self._waiting: dict[str, list[Feature]] = {}  # parent ref -> held children
        self._parents = parents
        self.problems = problems
        self.count = 0

    def add(self, feature: Feature) -> list[Placed]:
        """The features placed by this one's arrival: itself and the held descendants it frees."""
        first = self._placed.get(feature.ref)
        if first is not None or feature.ref in self._held:
            layer, row = first[3:] if first is not None else (self._held[feature.ref].layer,
                                                              self._held[feature.ref].row)  # fmt: skip
            self.problems.append(_problem(feature, "ref", f"{feature.ref!r} is also on {layer} row {row}"))
            return []
        if feature.parent_ref is not None and feature.parent_ref not in self._placed:
            if self._parents is not None and feature.parent_ref not in self._parents:
                raise NotSurveyed(feature.parent_ref)
            self._held[feature.ref] = feature
            self._waiting.setdefault(feature.parent_ref, []).append(feature)
            return []
        if feature.ref not in self._waiting:  # the usual case: parents come first
            return [self._place(feature)]
        placed, queue = [], [feature]
        while queue:
            node = queue.pop()
            placed.append(self._place(node))
            queue.extend(reversed(self._waiting.pop(node.ref, ())))
        return placed

    def add_all(self, features: Iterable[Feature]) -> list[Placed]:
        """`add` for each feature in turn, the usual case done here without add's calls: a new ref whose
        parent is placed and for which no unit waits."""
        placed, by_ref, held, waiting = [], self._placed, self._held, self._waiting
        parents, ids = self._parents, self._ids
        for feature in features:
            ref, parent = feature.ref, by_ref.get(feature.parent_ref)
            if parent is None or ref in by_ref or (held and ref in held) or (waiting and ref in waiting):
                placed += self.add(feature)  # a root, a repeat, a unit that waits or that others wait for
                continue
            unit_id = next(ids)
            path, depth = f"{parent[1]}{unit_id}/", parent[2] + 1
            if parents is None or ref in parents:
                by_ref[ref] = (unit_id, path, depth, feature.layer, feature.row)
            self.count += 1  # as each is placed, as `add` counts (a later unit may raise)
            placed.append(_as_placed((feature, unit_id, parent[0], path, depth)))
        return placed

    def _place(self, feature: Feature) -> Placed:
        if self._held:
            self._held.pop(feature.ref, None)
        unit_id = next(self._ids)
        if feature.parent_ref is None:
            parent_id, path, depth = None, f"/{unit_id}/", 0
        else:
            parent_id, parent_path, parent_depth = self._placed[feature.parent_ref][:3]
            path, depth = f"{parent_path}{unit_id}/", parent_depth + 1
        if self._parents is None or feature.ref in self._parents:
            self._placed[feature.ref] = (unit_id, path, depth, feature.layer, feature.row)
        self.count += 1
        return Placed(feature, unit_id, parent_id, path, depth)

    def finish(self, rejected: frozenset[str]) -> None:
        """Reports every feature still held: its parent is unknown, rejected, or in a cycle."""
        held = sorted(self._held.values(), key=lambda feature: (feature.depth, feature.layer, feature.row))
        for problem in check(held, {}, rejected).problems:
            self.problems.append(problem)  # one by one: a ProblemList refuses too many
        self._held.clear()
        self._waiting.clear()
