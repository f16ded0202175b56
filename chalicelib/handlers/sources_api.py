"""Data sources and their versions: create, read, change, copy, compare, make default."""

from typing import Annotated

from chalicelib.handlers.http import Call
from chalicelib.handlers.wire import Page, Task
from chalicelib.identity.permissions import READ_REGISTRY, RUN_TASKS, WRITE_REGISTRY
from chalicelib.platform import paging
from chalicelib.platform.contract import (
    UNSET,
    Body,
    Id,
    Name,
    PageQuery,
    PathId,
    Timestamp,
    UnsetType,
    Wire,
    operation,
    text,
)
from chalicelib.registry import reference_data, version_tasks
from chalicelib.tasks import task_views

Description = text(2000)
SourceId = Annotated[int, PathId("data_source")]
VersionId = Annotated[int, PathId("version")]


class DataSource(Wire):
    id: int
    account_id: int
    name: str
    description: str
    read_only: bool
    default_version_id: int | None
    created_at: Timestamp
    updated_at: Timestamp


class DataSourceCreate(Body):
    name: Name
    description: Description | None = None
    read_only: bool | None = None


class DataSourceUpdate(Body):
    name: Name | None = None
    description: Description | None = None
    read_only: bool | None = None
    default_version_id: Id | UnsetType = UNSET


class Version(Wire):
    id: int
    account_id: int
    data_source_id: int
    number: int
    description: str
    created_by: int | None
    created_at: Timestamp
    org_unit_count: int | UnsetType = UNSET  # not in a copy's answer, given before its units are
    account_default: bool | UnsetType = UNSET  # the version read when a request names none


class VersionWrite(Body):
    description: Description | None = None


class VersionCopy(Wire):
    version: Version
    task: Task


class VersionDiff(Body):
    before_version_id: Id
    after_version_id: Id


@operation(
    "GET",
    "/api/data-sources",
    summary="Data sources of the account",
    tag="registry",
    permission=READ_REGISTRY,
)
def list_sources(call: Call, query: PageQuery) -> Page[DataSource]:
    page = paging.page_request(query)
    return paging.page(
        reference_data.list_sources(call.cur, call.principal, page.after, page.limit + 1), page
    )


@operation(
    "POST",
    "/api/data-sources",
    summary="Create a data source with its first version",
    tag="registry",
    status=201,
    permission=WRITE_REGISTRY,
)
def create_source(call: Call, body: DataSourceCreate) -> DataSource:
    return reference_data.create_source(
        call.cur, call.principal, body.name, body.description or "", bool(body.read_only)
    )


@operation(
    "GET",
    "/api/data-sources/{source_id}",
    summary="One data source",
    tag="registry",
    permission=READ_REGISTRY,
)
def get_source(call: Call, source_id: SourceId) -> DataSource:
    return reference_data.get_source(call.cur, call.principal, source_id)


@operation(
    "PATCH",
    "/api/data-sources/{source_id}",
    summary="Change a data source (name, read_only, default version)",
    tag="registry",
    permission=WRITE_REGISTRY,
)
def update_source(call: Call, body: DataSourceUpdate, source_id: SourceId) -> DataSource:
    changes = {"name": body.name, "description": body.description, "read_only": body.read_only}
    if body.default_version_id is not UNSET:
        changes["default_version_id"] = body.default_version_id
    return reference_data.update_source(call.cur, call.principal, source_id, changes)


@operation(
    "GET",
    "/api/data-sources/{source_id}/versions",
    summary="Versions of a data source",
    tag="registry",
    permission=READ_REGISTRY,
)
def list_versions(call: Call, query: PageQuery, source_id: SourceId) -> Page[Version]:
    page = paging.page_request(query)
    found = reference_data.list_versions(call.cur, call.principal, source_id, page.after, page.limit + 1)
    return paging.page(found, page)


@operation(
    "POST",
    "/api/data-sources/{source_id}/versions",
    summary="Create an empty version",
    tag="registry",
    status=201,
    permission=WRITE_REGISTRY,
)
def create_version(call: Call, body: VersionWrite, source_id: SourceId) -> Version:
    return reference_data.create_version(call.cur, call.principal, source_id, body.description or "")


@operation(
    "POST",
    "/api/versions/diff",
    summary="A task comparing two versions on source_ref; diff.json and diff.csv artifacts",
    tag="registry",
    status=201,
    permission=RUN_TASKS,
)
def diff_versions(call: Call, body: VersionDiff) -> Task:
    launched = version_tasks.launch_diff(
        call.cur, call.principal, body.before_version_id, body.after_version_id
    )
    return task_views.present(launched)


@operation(
    "POST",
    "/api/versions/{version_id}/copy",
    summary="A new version of the same source, filled by a task with a copy of this one",
    tag="registry",
    status=201,
    permission=RUN_TASKS,
)
def copy_version(call: Call, body: VersionWrite, version_id: VersionId) -> VersionCopy:
    description = body.description or f"Copy of version {version_id}"
    copied = version_tasks.launch_copy(call.cur, call.principal, version_id, description)
    return {"version": copied["version"], "task": task_views.present(copied["task"])}


@operation(
    "GET",
    "/api/versions/{version_id}",
    summary="One version, with its unit count",
    tag="registry",
    permission=READ_REGISTRY,
)
def get_version(call: Call, version_id: VersionId) -> Version:
    return reference_data.get_version(call.cur, call.principal, version_id)


@operation(
    "POST",
    "/api/versions/{version_id}/make-default",
    summary="Make this the account's default version",
    tag="registry",
    permission=WRITE_REGISTRY,
)
def make_default_version(call: Call, version_id: VersionId) -> Version:
    return reference_data.set_account_default_version(call.cur, call.principal, version_id)
