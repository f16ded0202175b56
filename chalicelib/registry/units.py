"""Org units: the rules for reading and changing the tree.

A user sees the units of their account; a profile restricted to subtrees sees only the units under
its roots (in the roots' version) and may only write there. Anything outside is "not found".
"""

from dataclasses import dataclass

from chalicelib.identity.permissions import READ_REGISTRY, WRITE_REGISTRY, Principal, require
from chalicelib.platform import jsonutil, problems
from chalicelib.platform.limits import (
    ALIASES_MAX_COUNT,
    EXTRA_FIELDS_MAX_BYTES,
    PAGE_MAX_BYTES,
    limit_message,
)
from chalicelib.registry import (
    audit,
    audit_sql,
    geometry,
    groups_sql,
    reference_data,
    sources_sql,
    unit_types_sql,
    units_sql,
)
from chalicelib.registry.units_sql import Query
from chalicelib.tasks.bounds import check_page, wire_size

STATUSES = ("NEW", "VALID", "REJECTED")
AUDITED = ("name", "code", "source_ref", "aliases", "validation_status", "opening_date", "closed_date",
           "extra_fields", "org_unit_type_id", "parent_id", "location", "has_territory")  # fmt: skip
FIELDS = ("id", "uuid", "version_id", "parent_id", "parent_name", "org_unit_type_id", "org_unit_type_name",
          "name", "code", "source_ref", "aliases", "validation_status", "opening_date", "closed_date",
          "extra_fields", "depth", "ancestor_ids", "location", "has_territory", "geom", "group_ids",
          "created_at", "updated_at")  # fmt: skip
TEXTS = ("name", "parent_name", "org_unit_type_name", "code", "source_ref")
ROW_WIRE_BYTES = 2_048  # a listed unit's ids, dates and keys, above what its texts and geometry weigh


@dataclass(frozen=True)
class Scope:
    """Where a user may look in one version: everywhere (root_paths None) or under these paths."""

    version_id: int
    root_paths: tuple[str, ...] | None

    def restrict(self, query: Query) -> None:
        if self.root_paths is not None:
            query.under_any(self.root_paths)

    def restrict_for_sync(self, query: Query, since) -> None:
        """Like restrict, and the units that moved out of the subtrees since `since` as well: a phone
        that had them must hear that they are gone (mobile sends them as tombstones)."""
        if not self.root_paths:
            self.restrict(query)
            return
        query.under_any_or_moved_out(self.root_paths, since)

    def contains(self, path: str) -> bool:
        return self.root_paths is None or any(path.startswith(root) for root in self.root_paths)

    def hide_above(self, rows: list[dict]) -> list[dict]:
        """Marks in each row the depth of its root, so that nothing above it is shown (present())."""
        if self.root_paths is not None:
            for row in rows:
                root = next((r for r in self.root_paths if row["path"].startswith(r)), None)
                row["visible_from"] = root.count("/") - 2 if root else row["depth"]
        return rows


def scope(principal: Principal, version_id: int) -> Scope:
    if principal.subtree_roots is None:
        return Scope(version_id, None)
    return Scope(
        version_id, tuple(root.path for root in principal.subtree_roots if root.version_id == version_id)
    )


require_unrestricted = reference_data.require_unrestricted
version_to_read = reference_data.version_to_read


def version_id_for(cur, principal: Principal, requested: int | None) -> int:
    """The version a write means; unlike a read (reference_data.version_to_read), it needs one."""
    version_id = reference_data.version_to_read(cur, principal, requested)
    if version_id is None:
        raise problems.Problem(
            400,
            "orgunit.no_version",
            "The account has no default version: create a data source or pass ?version=.",
        )
    return version_id


def _visible_unit(cur, principal: Principal, unit_id: int, with_geometry: bool = True) -> tuple[dict, Scope]:
    version_id = units_sql.version_of(
        cur, sources_sql.account_version_ids(cur, principal.account_id), unit_id
    )
    unit = units_sql.get(cur, version_id, unit_id, with_geometry) if version_id else None
    if unit is None:
        raise problems.not_found("orgunit", unit_id)
    unit_scope = scope(principal, version_id)
    if not unit_scope.contains(unit["path"]):
        raise problems.not_found("orgunit", unit_id)
    return unit_scope.hide_above([unit])[0], unit_scope


def visible(cur, principal: Principal, unit_id: int) -> dict:
    """A unit the caller may see, in whichever version of the account it lives (404 otherwise)."""
    require(principal, READ_REGISTRY)
    unit, _ = _visible_unit(cur, principal, unit_id, with_geometry=False)
    return unit


def get(cur, principal: Principal, unit_id: int) -> dict:
    require(principal, READ_REGISTRY)
    unit, unit_scope = _visible_unit(cur, principal, unit_id)
    above = [
        row
        for row in units_sql.ancestors(cur, unit["version_id"], unit["path"])
        if unit_scope.contains(row["path"])
    ]
    return present(unit) | {
        "ancestors": [present(row, ("id", "name", "org_unit_type_name", "depth")) for row in above]
    }


def list_page(cur, principal: Principal, query: Query, with_geometry: bool, after, limit: int) -> list[dict]:
    """`limit` is the page's size plus the one row that says there is more (paging.page)."""
    require(principal, READ_REGISTRY)
    unit_scope = scope(principal, query.version_id)
    unit_scope.restrict(query)
    rows = unit_scope.hide_above(units_sql.list_page(cur, query, with_geometry, after, limit))
    if sum(map(_wire_bound, rows[: limit - 1])) > PAGE_MAX_BYTES:  # cheap, and nearly always enough
        check_page([present(row) for row in rows[: limit - 1]], "org units")
    return rows


def _wire_bound(row: dict) -> int:
    """At least what a listed unit weighs on the wire: its texts as if each character took the
    longest escape (14 bytes), its extra_fields measured, its geometry twice its GeoJSON text."""
    chars = sum(len(row[name] or "") for name in TEXTS) + sum(len(alias) + 1 for alias in row["aliases"])
    extra = wire_size(jsonutil.dumps(row["extra_fields"])) if row["extra_fields"] else 0
    geometry = 2 * len(row.get("geom_geojson") or "")
    return ROW_WIRE_BYTES + 14 * chars + 2 * len(row["path"]) + 24 * len(row["group_ids"]) + extra + geometry


def locate(
    cur, principal: Principal, version_id: int | None, lon: float, lat: float, type_ids: list[int]
) -> list[dict]:
    """The units whose territory contains the point, largest first."""
    require(principal, READ_REGISTRY)
    query = Query(version_id)
    query.where(units_sql.CONTAINS_POINT, lon=lon, lat=lat)
    if type_ids:
        query.where(units_sql.TYPE_IN, types=type_ids)
    unit_scope = scope(principal, version_id)
    unit_scope.restrict(query)
    found = unit_scope.hide_above(units_sql.list_page(cur, query, False, None, 100))
    return sorted(found, key=lambda row: row["depth"])


def count(cur, query: Query) -> int:
    return units_sql.count(cur, query)


def path_of_visible(cur, principal: Principal, unit_id: int, version_id: int) -> str:
    """The path of a unit the caller may see in `version_id` (for descendants_of filters): one
    index lookup, since the caller has checked that the version is the account's."""
    found = units_sql.paths_of(cur, [version_id], [unit_id])
    if not found:
        unit, _ = _visible_unit(cur, principal, unit_id, with_geometry=False)  # not found, or elsewhere
        raise problems.invalid_parameter(
            "descendants_of", f"names a unit of another version ({unit['version_id']})"
        )
    if not scope(principal, version_id).contains(found[0]["path"]):
        raise problems.not_found("orgunit", unit_id)
    return found[0]["path"]


def create(cur, principal: Principal, version_id: int, fields: dict) -> dict:
    require(principal, WRITE_REGISTRY)
    return create_unchecked(cur, principal, version_id, fields)


def create_unchecked(cur, principal: Principal, version_id: int, fields: dict, source: str = "api") -> dict:
    """`create` for callers that have checked the role themselves (change requests)."""
    _check_sizes(fields)
    reference_data.writable_version(cur, principal, version_id)
    units_sql.lock_tree(cur, version_id)  # the parent's path must not move under us
    unit_scope = scope(principal, version_id)
    parent = _parent(cur, principal, unit_scope, fields.get("parent_id"))
    _check_type(cur, principal, parent, fields.get("org_unit_type_id"))
    location, territory = geometry.location(fields.get("location")), geometry.territory(fields.get("geom"))
    values = {
        name: fields.get(name) for name in ("name", "code", "source_ref", "opening_date", "closed_date")
    }
    values |= {
        "version_id": version_id,
        "account_id": principal.account_id,
        "parent_id": parent["id"] if parent else None,
        "org_unit_type_id": fields.get("org_unit_type_id"),
        "aliases": fields.get("aliases") or [],
        "validation_status": fields.get("validation_status") or "NEW",
        "extra_fields": fields.get("extra_fields") or {},
        "parent_path": parent["path"] if parent else "/",
        "depth": parent["depth"] + 1 if parent else 0,
        "location_wkb": location.wkb,
        "geom_wkb": territory.wkb,
        "user_id": principal.user_id,
    }
    unit_id = units_sql.insert(cur, values)
    if fields.get("group_ids"):
        _set_groups(cur, principal, version_id, unit_id, fields["group_ids"])
    created = units_sql.get(cur, version_id, unit_id)
    audit.record(cur, principal.account_id, principal.user_id, source, "org_unit", unit_id, "create", None,
                 _audited(created))  # fmt: skip
    return present(created) | {"warnings": [w for w in (territory.warning,) if w]}


def update(cur, principal: Principal, unit_id: int, changes: dict) -> dict:
    require(principal, WRITE_REGISTRY)
    return update_unchecked(cur, principal, unit_id, changes)


def update_unchecked(cur, principal: Principal, unit_id: int, changes: dict, source: str = "api",
                     task_id: int | None = None) -> dict:  # fmt: skip
    """`update` for callers that have checked the role themselves (change requests, bulk updates)."""
    _check_sizes(changes)
    if "parent_id" in changes:  # a move: read the unit and its new parent only once nothing else moves
        version_id = units_sql.version_of(
            cur, sources_sql.account_version_ids(cur, principal.account_id), unit_id
        )
        if version_id is not None:
            units_sql.lock_tree(cur, version_id)
    unit, unit_scope = _visible_unit(cur, principal, unit_id)
    reference_data.writable_version(cur, principal, unit["version_id"])
    version_id, warnings = unit["version_id"], []
    moving = "parent_id" in changes and changes["parent_id"] != unit["parent_id"]
    if "org_unit_type_id" in changes or moving:
        parent_id = changes.get("parent_id", unit["parent_id"])
        parent = _parent(cur, principal, unit_scope, parent_id) if parent_id or moving else None
        if moving:
            _refuse_cycle(unit, parent)
        _check_type(cur, principal, parent, changes.get("org_unit_type_id", unit["org_unit_type_id"]))
    units_sql.update_columns(cur, version_id, unit_id, changes, principal.user_id)
    if "location" in changes:
        units_sql.set_location(
            cur, version_id, unit_id, geometry.location(changes["location"]).wkb, principal.user_id
        )
    if "geom" in changes:
        territory = geometry.territory(changes["geom"])
        warnings += [territory.warning] if territory.warning else []
        units_sql.set_geom(cur, version_id, unit_id, territory.wkb, principal.user_id)
    if moving:
        units_sql.move_subtree(cur, unit, parent, principal.user_id)
    if "group_ids" in changes:
        _change_groups(cur, principal, unit, changes["group_ids"], source, task_id)
    after = units_sql.get(cur, version_id, unit_id)
    before_values, after_values = audit.changed_fields(_audited(unit), _audited(after))
    if after_values:
        audit.record(cur, principal.account_id, principal.user_id, source, "org_unit", unit_id, "update",
                     before_values, after_values, task_id)  # fmt: skip
    return present(after) | {"warnings": warnings}


def _check_sizes(fields: dict) -> None:
    """A unit must stay small enough to be read back (and listed): its free-form fields are bounded."""
    extra = fields.get("extra_fields")
    if extra and len(jsonutil.dumps(extra)) > EXTRA_FIELDS_MAX_BYTES:
        too_big = limit_message("as JSON", "EXTRA_FIELDS_MAX_BYTES", "bytes")
        raise problems.invalid_field("extra_fields", too_big)
    aliases = fields.get("aliases") or []
    if len(aliases) > ALIASES_MAX_COUNT:
        what = f"with {len(aliases)} entries"
        raise problems.invalid_field("aliases", limit_message(what, "ALIASES_MAX_COUNT", "entries"))


def delete(cur, principal: Principal, unit_id: int) -> None:
    require(principal, WRITE_REGISTRY)
    unit, _ = _visible_unit(cur, principal, unit_id, with_geometry=False)
    reference_data.writable_version(cur, principal, unit["version_id"])
    if units_sql.has_children(cur, unit["version_id"], unit_id):
        raise problems.conflict(
            "orgunit.has_children", f"Org unit {unit_id} has children: move or delete them first."
        )
    if units_sql.has_submissions(cur, unit["version_id"], unit_id):
        raise problems.conflict(
            "orgunit.has_submissions",
            f"Org unit {unit_id} has submissions: delete them or link them to another unit first.",
        )
    units_sql.soft_delete(cur, unit["version_id"], unit_id, principal.user_id)
    audit.record(
        cur,
        principal.account_id,
        principal.user_id,
        "api",
        "org_unit",
        unit_id,
        "delete",
        _audited(unit),
        None,
    )


def history(cur, principal: Principal, unit_id: int, after, limit: int) -> list[dict]:
    require(principal, READ_REGISTRY)
    _visible_unit(cur, principal, unit_id, with_geometry=False)
    return audit_sql.for_object(cur, principal.account_id, "org_unit", unit_id, after, limit)


def _parent(cur, principal: Principal, unit_scope: Scope, parent_id: int | None) -> dict | None:
    if parent_id is None:
        if unit_scope.root_paths is not None:
            raise problems.invalid_field(
                "parent_id", "is required: you may only add units inside your subtrees"
            )
        return None
    parent = units_sql.get(cur, unit_scope.version_id, parent_id, with_geometry=False)
    if parent is None or not unit_scope.contains(parent["path"]):
        raise problems.invalid_field(
            "parent_id", f"names no org unit {parent_id} of this version that you can see"
        )
    return parent


def _check_type(cur, principal: Principal, parent: dict | None, type_id: int | None) -> None:
    if type_id is None:
        return
    unit_type = unit_types_sql.get(cur, principal.account_id, type_id)
    if unit_type is None:
        raise problems.invalid_field("org_unit_type_id", f"names no org-unit type {type_id}")
    if parent and parent["org_unit_type_id"]:
        parent_type = unit_types_sql.get(cur, principal.account_id, parent["org_unit_type_id"])
        allowed = parent_type["sub_type_ids"]
        if allowed and type_id not in allowed:
            raise problems.invalid_field(
                "org_unit_type_id", f"'{unit_type['name']}' is not allowed under a '{parent_type['name']}'"
            )


def _refuse_cycle(unit: dict, parent: dict | None) -> None:
    if parent and parent["path"].startswith(unit["path"]):
        message = f"Org unit {parent['id']} is inside {unit['id']}'s subtree: moving would make a cycle."
        raise problems.Problem(400, "orgunit.cycle", message, {"field": "parent_id"})


def _set_groups(cur, principal: Principal, version_id: int, unit_id: int, group_ids: list[int]) -> None:
    missing = groups_sql.missing_in_version(cur, principal.account_id, version_id, group_ids)
    if missing:
        raise problems.invalid_field("group_ids", f"names groups {missing} that are not in this version")
    groups_sql.set_unit_groups(cur, principal.account_id, version_id, unit_id, group_ids)


def _change_groups(cur, principal: Principal, unit: dict, group_ids: list[int], source: str, task_id) -> None:
    _set_groups(cur, principal, unit["version_id"], unit["id"], group_ids)
    if sorted(group_ids) != sorted(unit["group_ids"]):
        audit.record(cur, principal.account_id, principal.user_id, source, "org_unit", unit["id"], "groups",
                     {"group_ids": unit["group_ids"]}, {"group_ids": sorted(group_ids)}, task_id)  # fmt: skip


def _audited(unit: dict) -> dict:
    shown = present(unit)
    return {name: shown.get(name) for name in AUDITED}


def present(row: dict, fields=None) -> dict:
    shown = {
        name: row[name]
        for name in FIELDS
        if name in row and name not in ("uuid", "location", "geom", "opening_date", "closed_date")
    }
    shown["uuid"] = str(row["uuid"])
    shown["opening_date"] = row["opening_date"].isoformat() if row["opening_date"] else None
    shown["closed_date"] = row["closed_date"].isoformat() if row["closed_date"] else None
    visible_from = row.get("visible_from", 0)  # a restricted user sees nothing above their root
    shown["ancestor_ids"] = [int(part) for part in row["path"].strip("/").split("/")[:-1]][visible_from:]
    if row["depth"] <= visible_from:
        shown["parent_id"] = shown["parent_name"] = None
    shown["location"] = geometry.point_geojson(row)
    if "geom_geojson" in row:
        shown["geom"] = geometry.as_geojson(row["geom_geojson"])
    if fields:
        return {name: shown[name] for name in fields if name in shown}
    return shown
