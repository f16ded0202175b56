"""An account's projects and users: the rules an admin works within.

Every function takes the acting Principal and works inside its account only; an id from another
account is reported as not found, never as forbidden, so accounts cannot probe each other.
"""

from chalicelib.identity import (
    accounts_sql,
    api_keys_sql,
    authentication,
    credentials,
    digest_credentials,
    profiles_sql,
    projects_sql,
    users_sql,
)
from chalicelib.identity.permissions import MANAGE_ACCOUNT, READ_ACCOUNT, Principal, require
from chalicelib.platform import problems


def bootstrap(cur, account_name: str, admin_email: str, admin_password: str, project_name: str, app_id: str):
    """First account, its admin and a project (the CLI and the local stack's demo data)."""
    account = accounts_sql.create(cur, account_name)
    project = projects_sql.create(cur, account["id"], project_name, app_id)
    user_id = users_sql.create(
        cur, account["id"], admin_email, "Administrator", "admin", credentials.hash_password(admin_password)
    )
    users_sql.set_projects(cur, account["id"], user_id, [project["id"]])
    _remember_for_digest(cur, user_id, admin_email, admin_password)
    return {"account": account, "project": project, "user": users_sql.get(cur, account["id"], user_id)}


def get_account(cur, principal: Principal) -> dict:
    require(principal, READ_ACCOUNT)
    return accounts_sql.get(cur, principal.account_id)


def rename_account(cur, principal: Principal, name: str) -> dict:
    require(principal, MANAGE_ACCOUNT)
    return accounts_sql.rename(cur, principal.account_id, name)


# Projects


def get_project(cur, principal: Principal, project_id: int) -> dict:
    require(principal, READ_ACCOUNT)
    return _found(projects_sql.get(cur, principal.account_id, project_id), "project", project_id)


def list_projects(cur, principal: Principal, after: int | None, limit: int) -> list[dict]:
    require(principal, READ_ACCOUNT)
    return projects_sql.list_page(cur, principal.account_id, after, limit)


def create_project(cur, principal: Principal, name: str, app_id: str, needs_authentication: bool) -> dict:
    require(principal, MANAGE_ACCOUNT)
    return projects_sql.create(cur, principal.account_id, name, app_id, needs_authentication)


def update_project(cur, principal: Principal, project_id: int, changes: dict) -> dict:
    require(principal, MANAGE_ACCOUNT)
    return _found(projects_sql.update(cur, principal.account_id, project_id, changes), "project", project_id)


def delete_project(cur, principal: Principal, project_id: int) -> None:
    require(principal, MANAGE_ACCOUNT)
    if not projects_sql.delete(cur, principal.account_id, project_id):
        raise problems.not_found("project", project_id)


# Users and their profiles


def get_user(cur, principal: Principal, user_id: int) -> dict:
    if user_id != principal.user_id:
        require(principal, MANAGE_ACCOUNT)
    user = _found(users_sql.get(cur, principal.account_id, user_id), "user", user_id)
    return user | {"org_unit_ids": profiles_sql.restriction_ids(cur, principal.account_id, user_id)}


def list_users(cur, principal: Principal, after: int | None, limit: int) -> list[dict]:
    require(principal, MANAGE_ACCOUNT)
    return users_sql.list_page(cur, principal.account_id, after, limit)


def create_user(
    cur,
    principal: Principal,
    email: str,
    full_name: str,
    role: str,
    password: str | None,
    project_ids: list[int],
) -> dict:
    require(principal, MANAGE_ACCOUNT)
    _check_projects(cur, principal, project_ids)
    password_hash = credentials.hash_password(password) if password else None
    user_id = users_sql.create(cur, principal.account_id, email, full_name, role, password_hash)
    users_sql.set_projects(cur, principal.account_id, user_id, project_ids)
    if password:
        _remember_for_digest(cur, user_id, email, password)
    return get_user(cur, principal, user_id)


def update_user(cur, principal: Principal, user_id: int, changes: dict) -> dict:
    """`changes` may hold email, full_name, role, project_ids, password, is_active."""
    require(principal, MANAGE_ACCOUNT)
    _found(users_sql.get(cur, principal.account_id, user_id), "user", user_id)
    if user_id == principal.user_id and (
        changes.get("role", "admin") != "admin" or changes.get("is_active") is False
    ):
        raise problems.conflict(
            "user.self_lockout", "You cannot remove your own admin role or deactivate yourself."
        )
    users_sql.update(cur, principal.account_id, user_id, changes.get("email"), changes.get("full_name"))
    if "role" in changes:
        users_sql.set_role(cur, principal.account_id, user_id, changes["role"])
    if "project_ids" in changes:
        _check_projects(cur, principal, changes["project_ids"])
        users_sql.set_projects(cur, principal.account_id, user_id, changes["project_ids"])
    if "password" in changes:
        _set_password(cur, user_id, changes["password"])
    if "is_active" in changes:
        users_sql.set_active(cur, principal.account_id, user_id, changes["is_active"])
        if not changes["is_active"]:
            api_keys_sql.revoke_all(cur, user_id)  # so that reactivating does not bring old keys back
    if "org_unit_ids" in changes:
        _restrict(cur, principal, user_id, changes["org_unit_ids"])
    return get_user(cur, principal, user_id)


def deactivate_user(cur, principal: Principal, user_id: int) -> dict:
    return update_user(cur, principal, user_id, {"is_active": False})


def change_own_password(cur, principal: Principal, current_password: str, new_password: str) -> None:
    stored = users_sql.login_by_email(cur, principal.email)
    if not credentials.verify_password(current_password, stored["password_hash"]):
        raise problems.invalid_field("current_password", "is wrong")
    _set_password(cur, principal.user_id, new_password)


def _set_password(cur, user_id: int, password: str) -> None:
    """A new password ends the user's sessions and revokes their API keys: whoever had the old one
    may have made either."""
    users_sql.set_password(cur, user_id, credentials.hash_password(password))
    api_keys_sql.revoke_all(cur, user_id)
    _remember_for_digest(cur, user_id, users_sql.email_of(cur, user_id), password)


def _remember_for_digest(cur, user_id: int, email: str, password: str) -> None:
    secret = authentication.token_secret()
    digest_credentials.remember(cur, secret, {"id": user_id, "email": email}, password)


def _restrict(cur, principal: Principal, user_id: int, org_unit_ids: list[int]) -> None:
    """Limits the user to the subtrees of these units (an empty list lifts the restriction)."""
    found = profiles_sql.units_of_account(cur, principal.account_id, org_unit_ids)
    missing = sorted(set(org_unit_ids) - {unit["id"] for unit in found})
    if missing:
        raise problems.invalid_field("org_unit_ids", f"names unknown org unit(s) {missing}")
    profiles_sql.set_restrictions(cur, principal.account_id, user_id, found)


def _check_projects(cur, principal: Principal, project_ids: list[int]) -> None:
    missing = projects_sql.missing_ids(cur, principal.account_id, project_ids)
    if missing:
        raise problems.invalid_field("project_ids", f"names unknown project(s) {missing}")


def _found(row: dict | None, kind: str, identifier: int) -> dict:
    if row is None:
        raise problems.not_found(kind, identifier)
    return row
