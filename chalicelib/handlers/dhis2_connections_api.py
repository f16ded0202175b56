"""DHIS2 connections: an account admin registers a DHIS2 instance (Basic, or a personal access token
from DHIS2 2.37 on) and checks it. The password or token goes to Secrets Manager and never comes back:
answers say `auth_kind`, `username` and `has_secret`. Users who run tasks may list connections."""

from typing import Annotated

from chalicelib.dhis2 import connections
from chalicelib.dhis2.connections_sql import PENDING_ARN
from chalicelib.handlers.http import Call
from chalicelib.handlers.wire import Page
from chalicelib.identity.permissions import MANAGE_ACCOUNT, RUN_TASKS
from chalicelib.platform import paging
from chalicelib.platform.contract import (
    UNSET,
    Body,
    PageQuery,
    PathId,
    Secret,
    Timestamp,
    UnsetType,
    Wire,
    given,
    one_of,
    operation,
    text,
)

ConnectionId = Annotated[int, PathId("dhis2_connection")]
AuthKind = one_of("basic", "token")
ConnectionName = text(100, required=True)
BaseUrl = text(500, required=True)
Username = text(200)


class Dhis2ConnectionCreate(Body):
    name: ConnectionName
    base_url: BaseUrl
    auth_kind: AuthKind
    username: Username | None = None  # basic
    password: Secret | None = None  # basic
    token: Secret | None = None  # token: d2pat_…


class Dhis2ConnectionUpdate(Body):
    """A new password or token replaces the stored one; base_url or auth_kind changes need it again."""

    name: ConnectionName | UnsetType = UNSET
    base_url: BaseUrl | UnsetType = UNSET
    auth_kind: AuthKind | UnsetType = UNSET
    username: Username | None | UnsetType = UNSET
    password: Secret | UnsetType = UNSET
    token: Secret | UnsetType = UNSET


class Dhis2Connection(Wire):
    id: int
    name: str
    base_url: str
    auth_kind: str
    username: str | None
    has_secret: bool
    dhis2_version: str | None  # from the last successful check
    checked_at: Timestamp | None
    check_error: str | None  # the last check's failure, in words
    created_by: int | None
    created_at: Timestamp
    updated_at: Timestamp


@operation(
    "POST",
    "/api/dhis2/connections",
    summary="Register a DHIS2 instance: name, base URL, and a username and password (auth_kind basic) "
    "or a personal access token (auth_kind token); the credential goes to Secrets Manager",
    tag="dhis2",
    status=201,
    permission=MANAGE_ACCOUNT,
)
def create_dhis2_connection(call: Call, body: Dhis2ConnectionCreate) -> Dhis2Connection:
    return _shown(connections.create(call.cur, call.principal, given(body)))


@operation(
    "GET",
    "/api/dhis2/connections",
    summary="The account's DHIS2 connections (never their credentials)",
    tag="dhis2",
    permission=RUN_TASKS,
)
def list_dhis2_connections(call: Call, query: PageQuery) -> Page[Dhis2Connection]:
    page = paging.page_request(query)
    rows = connections.list_page(call.cur, call.principal, page.after, page.limit + 1)
    return paging.page([_shown(row) for row in rows], page)


@operation(
    "GET",
    "/api/dhis2/connections/{connection_id}",
    summary="A DHIS2 connection",
    tag="dhis2",
    permission=RUN_TASKS,
)
def get_dhis2_connection(call: Call, connection_id: ConnectionId) -> Dhis2Connection:
    return _shown(connections.get(call.cur, call.principal, connection_id))


@operation(
    "PATCH",
    "/api/dhis2/connections/{connection_id}",
    summary="Change a DHIS2 connection: its name, address or credential (a changed address or auth "
    "kind needs the credential again)",
    tag="dhis2",
    permission=MANAGE_ACCOUNT,
)
def update_dhis2_connection(
    call: Call, body: Dhis2ConnectionUpdate, connection_id: ConnectionId
) -> Dhis2Connection:
    return _shown(connections.update(call.cur, call.principal, connection_id, given(body)))


@operation(
    "DELETE",
    "/api/dhis2/connections/{connection_id}",
    summary="Delete a DHIS2 connection and its secret (its schedules and runs with it)",
    tag="dhis2",
    status=204,
    permission=MANAGE_ACCOUNT,
)
def delete_dhis2_connection(call: Call, connection_id: ConnectionId) -> None:
    connections.delete(call.cur, call.principal, connection_id)


@operation(
    "POST",
    "/api/dhis2/connections/{connection_id}/check",
    summary="Check a DHIS2 connection: GET /api/system/info records DHIS2's version; a failure is "
    "recorded too and answers dhis2.wrong_credentials or dhis2.not_dhis2 (400), dhis2.unreachable "
    "or dhis2.refused (424)",
    tag="dhis2",
    permission=MANAGE_ACCOUNT,
    database=False,  # no transaction held while DHIS2 answers
)
def check_dhis2_connection(call: Call, connection_id: ConnectionId) -> Dhis2Connection:
    return _shown(connections.check(call.principal, connection_id))


def _shown(row: dict) -> dict:
    shown = {key: value for key, value in row.items() if key not in ("secret_arn", "account_id")}
    return shown | {"has_secret": bool(row["secret_arn"]) and row["secret_arn"] != PENDING_ARN}
