"""Writing a checked import into an existing version: its new units copied in under the units already
there, the units it changes updated and audited field by field, the units missing from the file closed
when asked, and every path recomputed when parents changed."""

import datetime

import shapely

from chalicelib.imports import tree_plan, unit_loader_sql
from chalicelib.imports.tree_plan import Plan
from chalicelib.imports.unit_model import Feature, Package, Source
from chalicelib.imports.unit_rows import (
    BATCH,
    SIMPLIFY_DEGREES,
    Target,
    as_unit,
    copy_lines,
    encoded_units,
    group_ids_for,
    type_ids_for,
)
from chalicelib.registry import audit, groups_sql
from chalicelib.tasks.engine import TaskInputError

PLAIN_COLUMNS = ("name", "code", "opening_date", "closed_date", "org_unit_type_id", "validation_status")


def write(cur, target: Target, package: Package, plan: Plan, existing: dict, close_missing: bool,
          dry_run: bool, spared: frozenset[str] = frozenset()) -> dict:  # fmt: skip
    """Writes (or, in a dry run, only counts) what the import changes in an existing version; the
    `spared` units are left as they are, even when missing from the file."""
    type_ids = type_ids_for(cur, target.account_id, Source.of(package).levels, create=not dry_run)
    group_ids = group_ids_for(cur, target, package, create=not dry_run)
    matched = {f.ref: f for f in plan.ordered if f.ref in existing}
    changed = {ref: c for ref, f in matched.items() if (c := _changes(f, existing[ref], type_ids, group_ids))}
    created = [f for f in plan.ordered if f.ref not in existing]
    in_file = {f.ref for f in package.features}
    missing = [row for ref, row in existing.items()
               if ref not in in_file and ref not in spared and row["closed_date"] is None]  # fmt: skip
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
            for unit in map(as_unit, encoded_units(created[i : i + BATCH], type_ids, seen_uuids))
        ]
        for i in range(0, len(created), BATCH)
    )
    memberships: list[tuple] = []
    return ids, copy_lines(target, batches, group_ids, memberships), memberships


def _ewkb(geometry, three_d: bool) -> str | None:
    if geometry is None:
        return None
    geometry = shapely.force_3d(geometry) if three_d else shapely.force_2d(geometry)
    return shapely.to_wkb(shapely.set_srid(geometry, 4326), hex=True, include_srid=True,
                          output_dimension=3 if three_d else 2)  # fmt: skip


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
