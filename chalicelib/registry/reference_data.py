"""The registry's reference objects: data sources and their versions, org-unit types, groups and
group sets. Viewers read them; registry editors change them; everything stays inside the account."""

from chalicelib.identity.permissions import READ_REGISTRY, WRITE_REGISTRY, Principal, require
from chalicelib.platform import problems
from chalicelib.registry import audit, groups_sql, sources_sql, unit_types_sql


def require_unrestricted(cur, principal: Principal, action: str) -> None:
    """Account-wide changes (imports, whole versions, shared settings) are not for subtree profiles."""
    require(principal, READ_REGISTRY)
    if principal.subtree_roots is not None:
        raise problems.Problem(
            403,
            "auth.restricted_profile",
            f"Profiles restricted to subtrees cannot {action}.",
            {"action": action},
        )


def _write(cur, principal: Principal) -> None:
    """Sources, versions, types, groups and group sets are shared by the whole account."""
    require(principal, WRITE_REGISTRY)
    require_unrestricted(cur, principal, "change account-wide registry settings")


def _found(row, kind: str, identifier: int):
    if not row:
        raise problems.not_found(kind, identifier)
    return row


def _log(cur, principal: Principal, object_type: str, object_id: int, action: str, before, after) -> None:
    audit.record(
        cur, principal.account_id, principal.user_id, "api", object_type, object_id, action, before, after
    )


# Data sources and versions


def list_sources(cur, principal: Principal, after: int | None, limit: int) -> list[dict]:
    require(principal, READ_REGISTRY)
    return sources_sql.list_sources(cur, principal.account_id, after, limit)


def get_source(cur, principal: Principal, source_id: int) -> dict:
    require(principal, READ_REGISTRY)
    return _found(sources_sql.get_source(cur, principal.account_id, source_id), "data_source", source_id)


def create_source(cur, principal: Principal, name: str, description: str, read_only: bool) -> dict:
    """A data source with its first version, which becomes the account's default if it has none."""
    _write(cur, principal)
    source = sources_sql.create_source(cur, principal.account_id, name, description, read_only)
    version = sources_sql.create_version(
        cur, principal.account_id, source["id"], "Initial version", principal.user_id
    )
    sources_sql.update_source(cur, principal.account_id, source["id"], {"default_version_id": version["id"]})
    sources_sql.set_account_default_version(cur, principal.account_id, version["id"], only_if_unset=True)
    _log(cur, principal, "data_source", source["id"], "create", None, {"name": name})
    return get_source(cur, principal, source["id"])


def update_source(cur, principal: Principal, source_id: int, changes: dict) -> dict:
    _write(cur, principal)
    before = get_source(cur, principal, source_id)
    if changes.get("default_version_id") is not None:
        version = get_version(cur, principal, changes["default_version_id"])
        if version["data_source_id"] != source_id:
            raise problems.invalid_field("default_version_id", "must be a version of this data source")
    sources_sql.update_source(cur, principal.account_id, source_id, changes)
    after = get_source(cur, principal, source_id)
    _log(cur, principal, "data_source", source_id, "update", *audit.changed_fields(before, after))
    return after


def list_versions(cur, principal: Principal, source_id: int, after: int | None, limit: int) -> list[dict]:
    """A page of the source's versions, each with its unit count and whether it is the account's default."""
    get_source(cur, principal, source_id)
    found = sources_sql.list_versions(cur, principal.account_id, source_id, after, limit)
    counts = sources_sql.unit_counts(cur, [version["id"] for version in found])
    default = sources_sql.account_default_version(cur, principal.account_id)
    return [
        version | {"org_unit_count": counts[version["id"]], "account_default": version["id"] == default}
        for version in found
    ]


def get_version(cur, principal: Principal, version_id: int) -> dict:
    require(principal, READ_REGISTRY)
    version = _found(sources_sql.get_version(cur, principal.account_id, version_id), "version", version_id)
    default = sources_sql.account_default_version(cur, principal.account_id)
    return version | {
        "org_unit_count": sources_sql.unit_count(cur, version_id),
        "account_default": version_id == default,
    }


def version_to_read(cur, principal: Principal, requested: int | None) -> int | None:
    """The version a read means: the one it names, else the account's default. None while the
    account has no data source: a new account (or a phone syncing before any data exists) then
    lists nothing, which is an empty page and not an error."""
    if requested is not None:
        return get_version(cur, principal, requested)["id"]
    return principal.default_version_id or sources_sql.account_default_version(cur, principal.account_id)


def create_version(cur, principal: Principal, source_id: int, description: str) -> dict:
    """An empty new version (copying one is a task)."""
    _write(cur, principal)
    source = get_source(cur, principal, source_id)
    if source["read_only"]:
        raise problems.conflict("data_source.read_only", f"Data source {source_id} is read-only.")
    version = sources_sql.create_version(cur, principal.account_id, source_id, description, principal.user_id)
    _log(cur, principal, "version", version["id"], "create", None, {"data_source_id": source_id})
    return get_version(cur, principal, version["id"])


def set_account_default_version(cur, principal: Principal, version_id: int) -> dict:
    _write(cur, principal)
    version = get_version(cur, principal, version_id)
    sources_sql.set_account_default_version(cur, principal.account_id, version_id)
    return version


def writable_version(cur, principal: Principal, version_id: int) -> dict:
    """The version, if units may be written in it (its data source is not read-only)."""
    version = get_version(cur, principal, version_id)
    source = sources_sql.get_source(cur, principal.account_id, version["data_source_id"])
    if source["read_only"]:
        raise problems.conflict("data_source.read_only", f"Data source {source['id']} is read-only.")
    return version


# Org-unit types


def list_types(cur, principal: Principal, after: int | None, limit: int) -> list[dict]:
    require(principal, READ_REGISTRY)
    return unit_types_sql.list_page(cur, principal.account_id, after, limit)


def get_type(cur, principal: Principal, type_id: int) -> dict:
    require(principal, READ_REGISTRY)
    return _found(unit_types_sql.get(cur, principal.account_id, type_id), "org_unit_type", type_id)


def create_type(
    cur, principal: Principal, name: str, short_name: str, depth, sub_type_ids: list[int]
) -> dict:
    _write(cur, principal)
    _check_types_exist(cur, principal, sub_type_ids)
    type_id = unit_types_sql.create(cur, principal.account_id, name, short_name, depth)
    unit_types_sql.set_sub_types(cur, principal.account_id, type_id, sub_type_ids)
    return get_type(cur, principal, type_id)


def update_type(cur, principal: Principal, type_id: int, changes: dict) -> dict:
    _write(cur, principal)
    get_type(cur, principal, type_id)
    unit_types_sql.update(
        cur, principal.account_id, type_id, {k: v for k, v in changes.items() if k != "sub_type_ids"}
    )
    if "sub_type_ids" in changes:
        _check_types_exist(cur, principal, changes["sub_type_ids"])
        unit_types_sql.set_sub_types(cur, principal.account_id, type_id, changes["sub_type_ids"])
    return get_type(cur, principal, type_id)


def delete_type(cur, principal: Principal, type_id: int) -> None:
    _write(cur, principal)
    get_type(cur, principal, type_id)
    if unit_types_sql.in_use(cur, principal.account_id, type_id):
        raise problems.conflict("org_unit_type.in_use", f"Org-unit type {type_id} is used by org units.")
    unit_types_sql.delete(cur, principal.account_id, type_id)


def _check_types_exist(cur, principal: Principal, type_ids: list[int]) -> None:
    missing = unit_types_sql.missing_ids(cur, principal.account_id, type_ids)
    if missing:
        raise problems.invalid_field("sub_type_ids", f"names unknown org-unit type(s) {missing}")


# Groups and group sets


def list_groups(
    cur, principal: Principal, version_id: int | None, after: int | None, limit: int
) -> list[dict]:
    require(principal, READ_REGISTRY)
    return groups_sql.list_groups(cur, principal.account_id, version_id, after, limit)


def get_group(cur, principal: Principal, group_id: int) -> dict:
    require(principal, READ_REGISTRY)
    return _found(groups_sql.get_group(cur, principal.account_id, group_id), "group", group_id)


def create_group(cur, principal: Principal, version_id: int, name: str, source_ref: str | None) -> dict:
    _write(cur, principal)
    get_version(cur, principal, version_id)
    group_id = groups_sql.create_group(cur, principal.account_id, version_id, name, source_ref)
    return get_group(cur, principal, group_id)


def update_group(cur, principal: Principal, group_id: int, name: str | None, source_ref: str | None) -> dict:
    _write(cur, principal)
    get_group(cur, principal, group_id)
    groups_sql.update_group(cur, principal.account_id, group_id, name, source_ref)
    return get_group(cur, principal, group_id)


def delete_group(cur, principal: Principal, group_id: int) -> None:
    _write(cur, principal)
    group = get_group(cur, principal, group_id)
    groups_sql.delete_group(cur, principal.account_id, group_id)
    _log(cur, principal, "group", group_id, "delete", {"name": group["name"]}, None)


def list_group_sets(cur, principal: Principal, after: int | None, limit: int) -> list[dict]:
    require(principal, READ_REGISTRY)
    return groups_sql.list_sets(cur, principal.account_id, after, limit)


def get_group_set(cur, principal: Principal, set_id: int) -> dict:
    require(principal, READ_REGISTRY)
    return _found(groups_sql.get_set(cur, principal.account_id, set_id), "group_set", set_id)


def create_group_set(cur, principal: Principal, name: str, group_ids: list[int]) -> dict:
    _write(cur, principal)
    _check_groups_exist(cur, principal, group_ids)
    set_id = groups_sql.create_set(cur, principal.account_id, name)
    groups_sql.set_groups_of_set(cur, principal.account_id, set_id, group_ids)
    return get_group_set(cur, principal, set_id)


def update_group_set(
    cur, principal: Principal, set_id: int, name: str | None, group_ids: list[int] | None
) -> dict:
    _write(cur, principal)
    get_group_set(cur, principal, set_id)
    if name is not None:
        groups_sql.rename_set(cur, principal.account_id, set_id, name)
    if group_ids is not None:
        _check_groups_exist(cur, principal, group_ids)
        groups_sql.set_groups_of_set(cur, principal.account_id, set_id, group_ids)
    return get_group_set(cur, principal, set_id)


def delete_group_set(cur, principal: Principal, set_id: int) -> None:
    _write(cur, principal)
    get_group_set(cur, principal, set_id)
    groups_sql.delete_set(cur, principal.account_id, set_id)


def _check_groups_exist(cur, principal: Principal, group_ids: list[int]) -> None:
    missing = groups_sql.missing_in_account(cur, principal.account_id, group_ids)
    if missing:
        raise problems.invalid_field("group_ids", f"names unknown group(s) {missing}")
