"""Login, the caller's own identity, password and API keys."""

from typing import Annotated

from chalicelib.handlers.account_api import Account, User
from chalicelib.handlers.http import Call, client_address
from chalicelib.handlers.wire import Page
from chalicelib.identity import accounts, api_keys_sql, authentication
from chalicelib.platform import paging, problems
from chalicelib.platform.contract import (
    UNSET,
    Body,
    PageQuery,
    Password,
    PathId,
    Secret,
    Timestamp,
    UnsetType,
    Wire,
    bounded,
    operation,
    text,
)
from chalicelib.platform.openapi import Error


class Login(Body):
    email: text(254, required=True)
    password: Secret


class Token(Wire):
    token: str
    token_type: str
    expires_in: int


class Me(User, kw_only=True):
    account: Account
    permissions: list[str]


class PasswordChange(Body):
    current_password: Secret
    new_password: Password


class ApiKeyCreate(Body):
    name: text(100, required=True)
    expires_in_days: bounded(1, 3650) | None = None


class ApiKey(Wire):
    id: int
    user_id: int
    name: str
    prefix: str
    created_at: Timestamp
    expires_at: Timestamp | None
    last_used_at: Timestamp | None
    revoked_at: Timestamp | None
    key: str | UnsetType = UNSET  # only in the response that creates the key


KeyId = Annotated[int, PathId("api_key")]


@operation(
    "POST",
    "/api/auth/login",
    summary="Exchange email and password for a short-lived token",
    tag="auth",
    auth="none",
    other_responses={429: Error},  # too many failed logins for the email or from the address
)
def login(call: Call, body: Login) -> Token:
    return authentication.login(call.cur, body.email, body.password, client_address(call.request))


@operation("GET", "/api/me", summary="The caller, their account and permissions", tag="auth")
def me(call: Call) -> Me:
    user = accounts.get_user(call.cur, call.principal, call.principal.user_id)
    account = accounts.get_account(call.cur, call.principal)
    return user | {"account": account, "permissions": sorted(call.principal.permissions)}


@operation(
    "POST",
    "/api/me/password",
    summary="Change one's own password (ends other sessions, revokes API keys)",
    tag="auth",
    status=204,
)
def change_password(call: Call, body: PasswordChange) -> None:
    accounts.change_own_password(call.cur, call.principal, body.current_password, body.new_password)


@operation("GET", "/api/me/api-keys", summary="The caller's API keys (never their secrets)", tag="auth")
def list_api_keys(call: Call, query: PageQuery) -> Page[ApiKey]:
    page = paging.page_request(query)
    return paging.page(
        api_keys_sql.list_page(call.cur, call.principal.user_id, page.after, page.limit + 1), page
    )


@operation(
    "POST", "/api/me/api-keys", summary="Create an API key; its secret is shown once", tag="auth", status=201
)
def create_api_key(call: Call, body: ApiKeyCreate) -> ApiKey:
    return authentication.create_api_key(call.cur, call.principal, body.name, body.expires_in_days)


@operation("DELETE", "/api/me/api-keys/{key_id}", summary="Revoke an API key", tag="auth")
def revoke_api_key(call: Call, key_id: KeyId) -> ApiKey:
    revoked = api_keys_sql.revoke(call.cur, call.principal.user_id, key_id)
    if revoked is None:
        raise problems.not_found("api_key", key_id)
    return revoked
