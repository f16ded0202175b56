"""The caller's account, its projects and its users (with their profiles)."""

from typing import Annotated

from chalicelib.handlers.http import Call
from chalicelib.handlers.wire import Page
from chalicelib.identity import accounts
from chalicelib.identity.permissions import MANAGE_ACCOUNT, READ_ACCOUNT, ROLES
from chalicelib.platform import paging
from chalicelib.platform.contract import (
    UNSET,
    Body,
    Email,
    Ids,
    Name,
    PageQuery,
    Password,
    PathId,
    Timestamp,
    UnsetType,
    Wire,
    given,
    one_of,
    operation,
    text,
)

Role = one_of(*ROLES)
AppId = text(100, required=True)
ProjectId = Annotated[int, PathId("project")]
UserId = Annotated[int, PathId("user")]


class Account(Wire):
    id: int
    name: str
    created_at: Timestamp
    updated_at: Timestamp


class AccountUpdate(Body):
    name: Name


class Project(Wire):
    id: int
    account_id: int
    name: str
    app_id: str
    needs_authentication: bool
    created_at: Timestamp
    updated_at: Timestamp


class ProjectCreate(Body):
    name: Name
    app_id: AppId
    needs_authentication: bool | None = True


class ProjectUpdate(Body):
    name: Name | None = None
    app_id: AppId | None = None
    needs_authentication: bool | None = None


class User(Wire):
    id: int
    email: str
    full_name: str
    is_active: bool
    account_id: int
    role: Role
    project_ids: list[int]
    last_login_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp
    org_unit_ids: list[int] | UnsetType = UNSET  # on one user: the roots of a restricted profile


class UserCreate(Body):
    email: Email
    role: Role
    full_name: text() = ""
    password: Password | None = None
    project_ids: Ids = []


class UserUpdate(Body):
    """Fields left out (or null) stay as they are; `org_unit_ids` restricts the profile to those
    units' subtrees, [] lifts the restriction."""

    email: Email | None = None
    full_name: text() | None = None
    role: Role | None = None
    password: Password | None = None
    project_ids: Ids | None = None
    org_unit_ids: Ids | None = None
    is_active: bool | None = None


@operation("GET", "/api/account", summary="The caller's account", tag="account", permission=READ_ACCOUNT)
def get_account(call: Call) -> Account:
    return accounts.get_account(call.cur, call.principal)


@operation(
    "PATCH", "/api/account", summary="Rename the account (admin)", tag="account", permission=MANAGE_ACCOUNT
)
def update_account(call: Call, body: AccountUpdate) -> Account:
    return accounts.rename_account(call.cur, call.principal, body.name)


@operation(
    "GET", "/api/projects", summary="Projects of the account, paged", tag="account", permission=READ_ACCOUNT
)
def list_projects(call: Call, query: PageQuery) -> Page[Project]:
    page = paging.page_request(query)
    return paging.page(accounts.list_projects(call.cur, call.principal, page.after, page.limit + 1), page)


@operation(
    "POST",
    "/api/projects",
    summary="Create a project (admin)",
    tag="account",
    status=201,
    permission=MANAGE_ACCOUNT,
)
def create_project(call: Call, body: ProjectCreate) -> Project:
    needs_authentication = body.needs_authentication is not False
    return accounts.create_project(call.cur, call.principal, body.name, body.app_id, needs_authentication)


@operation("GET", "/api/projects/{project_id}", summary="One project", tag="account", permission=READ_ACCOUNT)
def get_project(call: Call, project_id: ProjectId) -> Project:
    return accounts.get_project(call.cur, call.principal, project_id)


@operation(
    "PATCH",
    "/api/projects/{project_id}",
    summary="Change a project (admin)",
    tag="account",
    permission=MANAGE_ACCOUNT,
)
def update_project(call: Call, body: ProjectUpdate, project_id: ProjectId) -> Project:
    return accounts.update_project(call.cur, call.principal, project_id, given(body))


@operation(
    "DELETE",
    "/api/projects/{project_id}",
    summary="Delete a project (admin)",
    tag="account",
    status=204,
    permission=MANAGE_ACCOUNT,
)
def delete_project(call: Call, project_id: ProjectId) -> None:
    accounts.delete_project(call.cur, call.principal, project_id)


@operation(
    "GET",
    "/api/users",
    summary="Users of the account with their profiles, paged (admin)",
    tag="account",
    permission=MANAGE_ACCOUNT,
)
def list_users(call: Call, query: PageQuery) -> Page[User]:
    page = paging.page_request(query)
    return paging.page(accounts.list_users(call.cur, call.principal, page.after, page.limit + 1), page)


@operation(
    "POST",
    "/api/users",
    summary="Create a user and profile (admin)",
    tag="account",
    status=201,
    permission=MANAGE_ACCOUNT,
)
def create_user(call: Call, body: UserCreate) -> User:
    return accounts.create_user(
        call.cur, call.principal, body.email, body.full_name, body.role, body.password, body.project_ids
    )


@operation("GET", "/api/users/{user_id}", summary="One user (admin, or oneself)", tag="account")
def get_user(call: Call, user_id: UserId) -> User:
    return accounts.get_user(call.cur, call.principal, user_id)


@operation(
    "PATCH",
    "/api/users/{user_id}",
    summary="Change a user's profile, role, projects, password (admin; a password ends sessions and keys)",
    tag="account",
    permission=MANAGE_ACCOUNT,
)
def update_user(call: Call, body: UserUpdate, user_id: UserId) -> User:
    changes = {name: value for name, value in given(body).items() if value is not None}
    return accounts.update_user(call.cur, call.principal, user_id, changes)


@operation(
    "DELETE",
    "/api/users/{user_id}",
    summary="Deactivate a user; their tokens and keys stop working (admin)",
    tag="account",
    permission=MANAGE_ACCOUNT,
)
def deactivate_user(call: Call, user_id: UserId) -> User:
    return accounts.deactivate_user(call.cur, call.principal, user_id)
