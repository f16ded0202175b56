"""Login, the caller's own identity, password and API keys."""

from chalicelib.handlers.http import Call, endpoint, path_id
from chalicelib.identity import accounts, api_keys_sql, authentication
from chalicelib.platform import paging, problems


@endpoint(authenticated=False)
def login(call: Call) -> dict:
    body = call.body(["email", "password"])
    email = body.text("email", required=True, max_length=254)
    return authentication.login(call.cur, email, body.secret("password", required=True))


@endpoint()
def me(call: Call) -> dict:
    user = accounts.get_user(call.cur, call.principal, call.principal.user_id)
    account = accounts.get_account(call.cur, call.principal)
    return user | {"account": account, "permissions": sorted(call.principal.permissions)}


@endpoint(status=204)
def change_password(call: Call) -> None:
    body = call.body(["current_password", "new_password"])
    current = body.secret("current_password", required=True)
    accounts.change_own_password(call.cur, call.principal, current, body.password("new_password", True))


@endpoint()
def list_api_keys(call: Call) -> dict:
    page = paging.page_request(call.query)
    return paging.page(
        api_keys_sql.list_page(call.cur, call.principal.user_id, page.after, page.limit + 1), page
    )


@endpoint(status=201)
def create_api_key(call: Call) -> dict:
    body = call.body(["name", "expires_in_days"])
    name = body.text("name", required=True, max_length=100)
    days = body.data.get("expires_in_days")
    if days is not None and (not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 3650):
        raise problems.invalid_field("expires_in_days", "must be an integer from 1 to 3650")
    return authentication.create_api_key(call.cur, call.principal, name, days)


@endpoint()
def revoke_api_key(call: Call, key_id: str) -> dict:
    identifier = path_id(key_id, "api_key")
    revoked = api_keys_sql.revoke(call.cur, call.principal.user_id, identifier)
    if revoked is None:
        raise problems.not_found("api_key", identifier)
    return revoked
