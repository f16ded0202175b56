"""Collect tokens (ODK Central's app users) and the QR-code settings that configure ODK Collect.

A token is shown once, in the answer that creates it, with its server URL and the settings Collect's
"Configure with QR code" reads (`settings`: base64 of zlib-compressed JSON; draw it as a QR code).
"""

from typing import Annotated

from chalicelib.handlers.http import Call
from chalicelib.handlers.openrosa_api import base_url
from chalicelib.handlers.wire import Page
from chalicelib.identity import collect_tokens, projects_sql
from chalicelib.platform import paging
from chalicelib.platform.contract import (
    UNSET,
    Body,
    PageQuery,
    PathId,
    Timestamp,
    UnsetType,
    Wire,
    operation,
    text,
)

ProjectId = Annotated[int, PathId("project")]
TokenId = Annotated[int, PathId("collect_token")]


class CollectTokenCreate(Body):
    name: text(100, required=True)


class CollectToken(Wire):
    id: int
    project_id: int
    name: str
    created_by: int
    created_at: Timestamp
    last_used_at: Timestamp | None
    revoked_at: Timestamp | None
    # only in the answer that creates the token:
    token: str | UnsetType = UNSET
    server_url: str | UnsetType = UNSET  # Collect's "Server URL", the token in it
    settings: str | UnsetType = UNSET  # Collect's QR-code settings


class CollectSettings(Wire):
    server_url: str
    settings: str


@operation(
    "POST",
    "/api/projects/{project_id}/collect-tokens",
    summary="Create a Collect token (an app user): a server URL for ODK Collect that needs no password; "
    "the token, its URL and QR-code settings are shown once",
    tag="openrosa",
    status=201,
)
def create_collect_token(call: Call, body: CollectTokenCreate, project_id: ProjectId) -> CollectToken:
    row = collect_tokens.create(call.cur, call.principal, project_id, body.name)
    server_url = f"{base_url(call.request)}/api/openrosa/key/{row['token']}/{project_id}"
    settings = collect_tokens.collect_settings(server_url, _project_name(call, project_id))
    return row | {"server_url": server_url, "settings": settings}


@operation(
    "GET",
    "/api/projects/{project_id}/collect-tokens",
    summary="The project's Collect tokens (never the tokens themselves)",
    tag="openrosa",
)
def list_collect_tokens(call: Call, query: PageQuery, project_id: ProjectId) -> Page[CollectToken]:
    page = paging.page_request(query)
    rows = collect_tokens.list_page(call.cur, call.principal, project_id, page.after, page.limit + 1)
    return paging.page(rows, page)


@operation(
    "DELETE",
    "/api/projects/{project_id}/collect-tokens/{token_id}",
    summary="Revoke a Collect token: phones using it get 404 from then on",
    tag="openrosa",
)
def revoke_collect_token(call: Call, project_id: ProjectId, token_id: TokenId) -> CollectToken:
    return collect_tokens.revoke(call.cur, call.principal, project_id, token_id)


@operation(
    "GET",
    "/api/projects/{project_id}/collect-settings",
    summary="Collect's QR-code settings for the caller: the project's OpenRosa URL and the caller's "
    "email as username (Collect asks for the password, and authenticates with Digest)",
    tag="openrosa",
)
def collect_settings(call: Call, project_id: ProjectId) -> CollectSettings:
    collect_tokens.check_project(call.cur, call.principal, project_id)
    server_url = f"{base_url(call.request)}/api/openrosa/{project_id}"
    name = _project_name(call, project_id)
    return {
        "server_url": server_url,
        "settings": collect_tokens.collect_settings(server_url, name, call.principal.email),
    }


def _project_name(call: Call, project_id: int) -> str:
    return projects_sql.get(call.cur, call.principal.account_id, project_id)["name"]
