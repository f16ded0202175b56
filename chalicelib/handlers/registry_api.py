"""Data sources, versions, org-unit types, groups and group sets over HTTP."""

from chalicelib.handlers.http import Call, endpoint, path_id
from chalicelib.platform import paging, problems
from chalicelib.registry import reference_data, version_tasks
from chalicelib.tasks import task_views


def _page(call: Call, fetch) -> dict:
    page = paging.page_request(call.query)
    return paging.page(fetch(page.after, page.limit + 1), page)


# Data sources and versions


@endpoint()
def list_sources(call: Call) -> dict:
    return _page(
        call, lambda after, limit: reference_data.list_sources(call.cur, call.principal, after, limit)
    )


@endpoint(status=201)
def create_source(call: Call) -> dict:
    body = call.body(["name", "description", "read_only"])
    return reference_data.create_source(
        call.cur,
        call.principal,
        body.text("name", required=True),
        body.text("description", max_length=2000) or "",
        bool(body.boolean("read_only")),
    )


@endpoint()
def get_source(call: Call, source_id: str) -> dict:
    return reference_data.get_source(call.cur, call.principal, path_id(source_id, "data_source"))


@endpoint()
def update_source(call: Call, source_id: str) -> dict:
    body = call.body(["name", "description", "read_only", "default_version_id"])
    changes = {
        "name": body.text("name"),
        "description": body.text("description", max_length=2000),
        "read_only": body.boolean("read_only"),
    }
    if body.has("default_version_id"):
        changes["default_version_id"] = body.id("default_version_id", required=True)
    return reference_data.update_source(call.cur, call.principal, path_id(source_id, "data_source"), changes)


@endpoint()
def list_versions(call: Call, source_id: str) -> dict:
    identifier = path_id(source_id, "data_source")
    return _page(
        call,
        lambda after, limit: reference_data.list_versions(call.cur, call.principal, identifier, after, limit),
    )


@endpoint(status=201)
def create_version(call: Call, source_id: str) -> dict:
    body = call.body(["description"])
    description = body.text("description", max_length=2000) or ""
    return reference_data.create_version(
        call.cur, call.principal, path_id(source_id, "data_source"), description
    )


@endpoint()
def get_version(call: Call, version_id: str) -> dict:
    return reference_data.get_version(call.cur, call.principal, path_id(version_id, "version"))


@endpoint()
def make_default_version(call: Call, version_id: str) -> dict:
    return reference_data.set_account_default_version(
        call.cur, call.principal, path_id(version_id, "version")
    )


# Org-unit types


@endpoint()
def list_types(call: Call) -> dict:
    return _page(call, lambda after, limit: reference_data.list_types(call.cur, call.principal, after, limit))


@endpoint(status=201)
def create_type(call: Call) -> dict:
    body = call.body(["name", "short_name", "depth", "sub_type_ids"])
    return reference_data.create_type(
        call.cur,
        call.principal,
        body.text("name", required=True),
        body.text("short_name") or "",
        _depth(body),
        body.ids("sub_type_ids") or [],
    )


@endpoint()
def get_type(call: Call, type_id: str) -> dict:
    return reference_data.get_type(call.cur, call.principal, path_id(type_id, "org_unit_type"))


@endpoint()
def update_type(call: Call, type_id: str) -> dict:
    body = call.body(["name", "short_name", "depth", "sub_type_ids"])
    changes = {"name": body.text("name"), "short_name": body.text("short_name")}
    if body.has("depth"):
        changes["depth"] = _depth(body)
    if body.has("sub_type_ids"):
        changes["sub_type_ids"] = body.ids("sub_type_ids", required=True)
    return reference_data.update_type(call.cur, call.principal, path_id(type_id, "org_unit_type"), changes)


@endpoint(status=204)
def delete_type(call: Call, type_id: str) -> None:
    reference_data.delete_type(call.cur, call.principal, path_id(type_id, "org_unit_type"))


def _depth(body) -> int | None:
    depth = body.data.get("depth")
    if depth is not None and (not isinstance(depth, int) or isinstance(depth, bool) or not 0 <= depth <= 20):
        raise problems.invalid_field("depth", "must be an integer from 0 to 20")
    return depth


# Groups and group sets


@endpoint()
def list_groups(call: Call) -> dict:
    version = call.query.get("version")
    version_id = path_id(version, "version") if version else None
    return _page(
        call,
        lambda after, limit: reference_data.list_groups(call.cur, call.principal, version_id, after, limit),
    )


@endpoint(status=201)
def create_group(call: Call) -> dict:
    body = call.body(["version_id", "name", "source_ref"])
    return reference_data.create_group(
        call.cur,
        call.principal,
        body.id("version_id", required=True),
        body.text("name", required=True),
        body.text("source_ref"),
    )


@endpoint()
def get_group(call: Call, group_id: str) -> dict:
    return reference_data.get_group(call.cur, call.principal, path_id(group_id, "group"))


@endpoint()
def update_group(call: Call, group_id: str) -> dict:
    body = call.body(["name", "source_ref"])
    identifier = path_id(group_id, "group")
    return reference_data.update_group(
        call.cur, call.principal, identifier, body.text("name"), body.text("source_ref")
    )


@endpoint(status=204)
def delete_group(call: Call, group_id: str) -> None:
    reference_data.delete_group(call.cur, call.principal, path_id(group_id, "group"))


@endpoint()
def list_group_sets(call: Call) -> dict:
    return _page(
        call, lambda after, limit: reference_data.list_group_sets(call.cur, call.principal, after, limit)
    )


@endpoint(status=201)
def create_group_set(call: Call) -> dict:
    body = call.body(["name", "group_ids"])
    name = body.text("name", required=True)
    return reference_data.create_group_set(call.cur, call.principal, name, body.ids("group_ids") or [])


@endpoint()
def get_group_set(call: Call, set_id: str) -> dict:
    return reference_data.get_group_set(call.cur, call.principal, path_id(set_id, "group_set"))


@endpoint()
def update_group_set(call: Call, set_id: str) -> dict:
    body = call.body(["name", "group_ids"])
    identifier = path_id(set_id, "group_set")
    return reference_data.update_group_set(
        call.cur, call.principal, identifier, body.text("name"), body.ids("group_ids")
    )


@endpoint(status=204)
def delete_group_set(call: Call, set_id: str) -> None:
    reference_data.delete_group_set(call.cur, call.principal, path_id(set_id, "group_set"))


@endpoint(status=201)
def copy_version(call: Call, version_id: str) -> dict:
    body = call.body(["description"])
    description = body.text("description", max_length=2000) or f"Copy of version {version_id}"
    copied = version_tasks.launch_copy(call.cur, call.principal, path_id(version_id, "version"), description)
    return {"version": copied["version"], "task": task_views.present(copied["task"])}


@endpoint(status=201)
def diff_versions(call: Call) -> dict:
    body = call.body(["before_version_id", "after_version_id"])
    before, after = body.id("before_version_id", required=True), body.id("after_version_id", required=True)
    return task_views.present(version_tasks.launch_diff(call.cur, call.principal, before, after))
