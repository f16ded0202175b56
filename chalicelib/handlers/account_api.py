"""The caller's account, its projects and its users (with their profiles)."""

from chalicelib.handlers.http import Call, endpoint, path_id
from chalicelib.identity import accounts
from chalicelib.identity.permissions import ROLES
from chalicelib.platform import paging

PROJECT_FIELDS = ["name", "app_id", "needs_authentication"]
USER_FIELDS = ["email", "full_name", "role", "password", "project_ids", "org_unit_ids", "is_active"]


@endpoint()
def get_account(call: Call) -> dict:
    return accounts.get_account(call.cur, call.principal)


@endpoint()
def update_account(call: Call) -> dict:
    body = call.body(["name"])
    return accounts.rename_account(call.cur, call.principal, body.text("name", required=True))


@endpoint()
def list_projects(call: Call) -> dict:
    page = paging.page_request(call.query)
    return paging.page(accounts.list_projects(call.cur, call.principal, page.after, page.limit + 1), page)


@endpoint(status=201)
def create_project(call: Call) -> dict:
    body = call.body(PROJECT_FIELDS)
    name = body.text("name", required=True)
    app_id = body.text("app_id", required=True, max_length=100)
    needs_authentication = body.boolean("needs_authentication")
    return accounts.create_project(call.cur, call.principal, name, app_id, needs_authentication is not False)


@endpoint()
def get_project(call: Call, project_id: str) -> dict:
    return accounts.get_project(call.cur, call.principal, path_id(project_id, "project"))


@endpoint()
def update_project(call: Call, project_id: str) -> dict:
    body = call.body(PROJECT_FIELDS)
    changes = {
        "name": body.text("name"),
        "app_id": body.text("app_id", max_length=100),
        "needs_authentication": body.boolean("needs_authentication"),
    }
    return accounts.update_project(call.cur, call.principal, path_id(project_id, "project"), changes)


@endpoint(status=204)
def delete_project(call: Call, project_id: str) -> None:
    accounts.delete_project(call.cur, call.principal, path_id(project_id, "project"))


@endpoint()
def list_users(call: Call) -> dict:
    page = paging.page_request(call.query)
    return paging.page(accounts.list_users(call.cur, call.principal, page.after, page.limit + 1), page)


@endpoint(status=201)
def create_user(call: Call) -> dict:
    body = call.body(["email", "full_name", "role", "password", "project_ids"])
    return accounts.create_user(
        call.cur,
        call.principal,
        email=body.email("email", required=True),
        full_name=body.text("full_name") or "",
        role=body.choice("role", ROLES, required=True),
        password=body.password("password"),
        project_ids=body.ids("project_ids") or [],
    )


@endpoint()
def get_user(call: Call, user_id: str) -> dict:
    return accounts.get_user(call.cur, call.principal, path_id(user_id, "user"))


@endpoint()
def update_user(call: Call, user_id: str) -> dict:
    body = call.body(USER_FIELDS)
    readers = {
        "email": lambda: body.email("email"),
        "full_name": lambda: body.text("full_name"),
        "role": lambda: body.choice("role", ROLES),
        "password": lambda: body.password("password"),
        "project_ids": lambda: body.ids("project_ids"),
        "org_unit_ids": lambda: body.ids("org_unit_ids"),
        "is_active": lambda: body.boolean("is_active"),
    }
    changes = {name: read() for name, read in readers.items() if body.data.get(name) is not None}
    return accounts.update_user(call.cur, call.principal, path_id(user_id, "user"), changes)


@endpoint()
def deactivate_user(call: Call, user_id: str) -> dict:
    return accounts.deactivate_user(call.cur, call.principal, path_id(user_id, "user"))
