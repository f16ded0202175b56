"""Org-unit types (with the sub-types allowed under each), groups and group sets."""

from typing import Annotated

from chalicelib.handlers.http import Call
from chalicelib.handlers.wire import Page
from chalicelib.identity.permissions import READ_REGISTRY, WRITE_REGISTRY
from chalicelib.platform import paging
from chalicelib.platform.contract import (
    UNSET,
    Body,
    Id,
    Ids,
    Meta,
    Name,
    PageQuery,
    PathId,
    Reason,
    Timestamp,
    UnsetType,
    Wire,
    operation,
    text,
)
from chalicelib.registry import reference_data

Depth = Annotated[int, Meta(ge=0, le=20), Reason("must be an integer from 0 to 20")]
Ref = text(200)
TypeId = Annotated[int, PathId("org_unit_type")]
GroupId = Annotated[int, PathId("group")]
SetId = Annotated[int, PathId("group_set")]


class OrgUnitType(Wire):
    id: int
    account_id: int
    name: str
    short_name: str
    depth: int | None
    sub_type_ids: list[int]
    created_at: Timestamp
    updated_at: Timestamp


class OrgUnitTypeCreate(Body):
    name: Name
    short_name: text() | None = None
    depth: Depth | None = None
    sub_type_ids: Ids | None = None


class OrgUnitTypeUpdate(Body):
    name: Name | None = None
    short_name: text() | None = None
    depth: Depth | None | UnsetType = UNSET  # null clears it
    sub_type_ids: Ids | UnsetType = UNSET


class Group(Wire):
    id: int
    account_id: int
    version_id: int
    name: str
    source_ref: str | None
    org_unit_count: int
    created_at: Timestamp
    updated_at: Timestamp


class GroupCreate(Body):
    version_id: Id
    name: Name
    source_ref: Ref | None = None


class GroupUpdate(Body):
    name: Name | None = None
    source_ref: Ref | None = None


class GroupsQuery(PageQuery):
    version: Annotated[int, Meta(description="version id")] | None = None


class GroupSet(Wire):
    id: int
    account_id: int
    name: str
    group_ids: list[int]
    created_at: Timestamp
    updated_at: Timestamp


class GroupSetCreate(Body):
    name: Name
    group_ids: Ids | None = None


class GroupSetUpdate(Body):
    name: Name | None = None
    group_ids: Ids | None = None


# Org-unit types


@operation("GET", "/api/orgunit-types", summary="Org-unit types", tag="registry", permission=READ_REGISTRY)
def list_types(call: Call, query: PageQuery) -> Page[OrgUnitType]:
    page = paging.page_request(query)
    return paging.page(reference_data.list_types(call.cur, call.principal, page.after, page.limit + 1), page)


@operation(
    "POST",
    "/api/orgunit-types",
    summary="Create an org-unit type",
    tag="registry",
    status=201,
    permission=WRITE_REGISTRY,
)
def create_type(call: Call, body: OrgUnitTypeCreate) -> OrgUnitType:
    return reference_data.create_type(
        call.cur, call.principal, body.name, body.short_name or "", body.depth, body.sub_type_ids or []
    )


@operation(
    "GET",
    "/api/orgunit-types/{type_id}",
    summary="One org-unit type",
    tag="registry",
    permission=READ_REGISTRY,
)
def get_type(call: Call, type_id: TypeId) -> OrgUnitType:
    return reference_data.get_type(call.cur, call.principal, type_id)


@operation(
    "PATCH",
    "/api/orgunit-types/{type_id}",
    summary="Change an org-unit type and its allowed sub-types",
    tag="registry",
    permission=WRITE_REGISTRY,
)
def update_type(call: Call, body: OrgUnitTypeUpdate, type_id: TypeId) -> OrgUnitType:
    changes = {"name": body.name, "short_name": body.short_name}
    changes |= {
        name: value for name in ("depth", "sub_type_ids") if (value := getattr(body, name)) is not UNSET
    }
    return reference_data.update_type(call.cur, call.principal, type_id, changes)


@operation(
    "DELETE",
    "/api/orgunit-types/{type_id}",
    summary="Delete an unused org-unit type",
    tag="registry",
    status=204,
    permission=WRITE_REGISTRY,
)
def delete_type(call: Call, type_id: TypeId) -> None:
    reference_data.delete_type(call.cur, call.principal, type_id)


# Groups and group sets


@operation("GET", "/api/groups", summary="Groups (?version=)", tag="registry", permission=READ_REGISTRY)
def list_groups(call: Call, query: GroupsQuery) -> Page[Group]:
    page = paging.page_request(query)
    found = reference_data.list_groups(call.cur, call.principal, query.version, page.after, page.limit + 1)
    return paging.page(found, page)


@operation(
    "POST",
    "/api/groups",
    summary="Create a group in a version",
    tag="registry",
    status=201,
    permission=WRITE_REGISTRY,
)
def create_group(call: Call, body: GroupCreate) -> Group:
    return reference_data.create_group(call.cur, call.principal, body.version_id, body.name, body.source_ref)


@operation("GET", "/api/groups/{group_id}", summary="One group", tag="registry", permission=READ_REGISTRY)
def get_group(call: Call, group_id: GroupId) -> Group:
    return reference_data.get_group(call.cur, call.principal, group_id)


@operation(
    "PATCH", "/api/groups/{group_id}", summary="Rename a group", tag="registry", permission=WRITE_REGISTRY
)
def update_group(call: Call, body: GroupUpdate, group_id: GroupId) -> Group:
    return reference_data.update_group(call.cur, call.principal, group_id, body.name, body.source_ref)


@operation(
    "DELETE",
    "/api/groups/{group_id}",
    summary="Delete a group",
    tag="registry",
    status=204,
    permission=WRITE_REGISTRY,
)
def delete_group(call: Call, group_id: GroupId) -> None:
    reference_data.delete_group(call.cur, call.principal, group_id)


@operation("GET", "/api/group-sets", summary="Group sets", tag="registry", permission=READ_REGISTRY)
def list_group_sets(call: Call, query: PageQuery) -> Page[GroupSet]:
    page = paging.page_request(query)
    return paging.page(
        reference_data.list_group_sets(call.cur, call.principal, page.after, page.limit + 1), page
    )


@operation(
    "POST",
    "/api/group-sets",
    summary="Create a group set",
    tag="registry",
    status=201,
    permission=WRITE_REGISTRY,
)
def create_group_set(call: Call, body: GroupSetCreate) -> GroupSet:
    return reference_data.create_group_set(call.cur, call.principal, body.name, body.group_ids or [])


@operation(
    "GET", "/api/group-sets/{set_id}", summary="One group set", tag="registry", permission=READ_REGISTRY
)
def get_group_set(call: Call, set_id: SetId) -> GroupSet:
    return reference_data.get_group_set(call.cur, call.principal, set_id)


@operation(
    "PATCH",
    "/api/group-sets/{set_id}",
    summary="Change a group set",
    tag="registry",
    permission=WRITE_REGISTRY,
)
def update_group_set(call: Call, body: GroupSetUpdate, set_id: SetId) -> GroupSet:
    return reference_data.update_group_set(call.cur, call.principal, set_id, body.name, body.group_ids)


@operation(
    "DELETE",
    "/api/group-sets/{set_id}",
    summary="Delete a group set",
    tag="registry",
    status=204,
    permission=WRITE_REGISTRY,
)
def delete_group_set(call: Call, set_id: SetId) -> None:
    reference_data.delete_group_set(call.cur, call.principal, set_id)
