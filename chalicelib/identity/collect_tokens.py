"""Collect tokens: ODK Central's app users here. A form manager (or admin) of a project makes one per
phone or team; its URL (`…/api/openrosa/key/<token>/<project>`, or a QR code of Collect's settings)
configures Collect with no password and no challenge. The token is shown once and stored as its
SHA-256 (256 random bits: a fast hash is enough); it can be listed and revoked.

A token acts as a data collector of its one project, with the subtrees of the user who made it, and
only while that user is active and still reaches the project. Submissions it sends are that user's.
Anything wrong with a token (unknown, revoked, another project's) is 404: the URL names nothing.
"""

import base64
import dataclasses
import json
import re
import secrets
import zlib

from chalicelib.identity import authentication, collect_tokens_sql, credentials, projects_sql, users_sql
from chalicelib.identity.permissions import MANAGE_FORMS, Principal, require
from chalicelib.platform import problems

TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{48}")
ROLE = "data_collector"


def create(cur, principal: Principal, project_id: int, name: str) -> dict:
    """The new token's row with its plaintext, shown this once."""
    require(principal, MANAGE_FORMS)
    check_project(cur, principal, project_id)
    token = secrets.token_urlsafe(36)  # 48 characters, 288 bits
    row = collect_tokens_sql.create(
        cur, principal.account_id, project_id, name, credentials.sha256(token), principal.user_id
    )
    return row | {"token": token}


def list_page(cur, principal: Principal, project_id: int, after: int | None, limit: int) -> list[dict]:
    require(principal, MANAGE_FORMS)
    check_project(cur, principal, project_id)
    return collect_tokens_sql.list_page(cur, principal.account_id, project_id, after, limit)


def revoke(cur, principal: Principal, project_id: int, token_id: int) -> dict:
    require(principal, MANAGE_FORMS)
    check_project(cur, principal, project_id)
    revoked = collect_tokens_sql.revoke(cur, principal.account_id, project_id, token_id)
    if revoked is None:
        raise problems.not_found("collect_token", token_id)
    return revoked


def principal_of(cur, token: str, project_id: int) -> Principal:
    """Who a token URL acts as; 404 for anything but a live token of this project."""
    found = (
        collect_tokens_sql.usable(cur, credentials.sha256(token)) if TOKEN_SHAPE.fullmatch(token) else None
    )
    if found is None or found["project_id"] != project_id:
        raise _unknown()
    maker = users_sql.principal_row(cur, found["created_by"])
    if maker is None or not maker["is_active"] or maker["account_id"] != found["account_id"]:
        raise _unknown()
    principal = authentication.principal_of_row(cur, maker, via="collect_token")
    if project_id not in principal.project_ids and principal.role != "admin":
        raise _unknown()
    collect_tokens_sql.touch(cur, found["id"])
    return dataclasses.replace(principal, role=ROLE, project_ids=frozenset({project_id}))


def check_project(cur, principal: Principal, project_id: int) -> None:
    """The caller must belong to the project (admins reach every project of their account)."""
    if project_id in principal.project_ids:
        return
    if principal.role != "admin" or projects_sql.get(cur, principal.account_id, project_id) is None:
        raise problems.not_found("project", project_id)


def collect_settings(server_url: str, project_name: str, username: str | None = None) -> str:
    """What Collect's "Configure with QR code" reads: base64 of zlib-compressed JSON settings."""
    general = {"server_url": server_url, "form_update_mode": "match_exactly", "autosend": "wifi_and_cellular"}
    if username:
        general["username"] = username  # Collect asks for the password
    settings = {"general": general, "admin": {}, "project": {"name": project_name}}
    return base64.b64encode(zlib.compress(json.dumps(settings).encode())).decode()


def _unknown() -> problems.Problem:
    # Never the token itself in a message: messages reach logs.
    return problems.Problem(
        404, "collect_token.not_found", "This Collect token is unknown or revoked, or names another project."
    )
