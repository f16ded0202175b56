"""Small builders for tests: tenants with users of each role, and a JSON API caller."""

import json
from dataclasses import dataclass, field
from functools import cache

import boto3

from chalicelib.identity import accounts, credentials, users_sql
from chalicelib.platform import db

PASSWORD = "correct horse battery"


@dataclass
class Tenant:
    account_id: int
    project_id: int
    admin_email: str
    tokens: dict[str, str] = field(default_factory=dict)  # role -> token
    user_ids: dict[str, int] = field(default_factory=dict)  # role -> user id


@cache
def aws_client(service: str, endpoint_url: str | None = None):
    """A boto3 client for the tests' own calls to moto, made once: making one takes ~60 ms."""
    return boto3.client(service, region_name="eu-west-1", endpoint_url=endpoint_url)


def call(client, method: str, path: str, token: str | None = None, body=None, headers=None):
    """(status, parsed JSON or None, headers)."""
    sent = {"Content-Type": "application/json"} | (headers or {})
    if token:
        sent["Authorization"] = f"Bearer {token}"
    raw = body if isinstance(body, str | bytes) else json.dumps(body) if body is not None else None
    response = client.http.request(method, path, headers=sent, body=raw or b"")
    parsed = json.loads(response.body) if response.body else None
    return response.status_code, parsed, response.headers


def login(client, email: str, password: str = PASSWORD) -> str:
    status, body, _ = call(client, "POST", "/api/auth/login", body={"email": email, "password": password})
    assert status == 200, body
    return body["token"]


def make_tenant(client, name: str, roles: tuple[str, ...] = ()) -> Tenant:
    """An account with an admin (and one user per extra role), each logged in."""
    admin_email = f"admin@{name}.example.org"
    with db.transaction() as cur:
        created = accounts.bootstrap(cur, name, admin_email, PASSWORD, f"{name} project", f"org.{name}.app")
        tenant = Tenant(created["account"]["id"], created["project"]["id"], admin_email)
        tenant.user_ids["admin"] = created["user"]["id"]
        for role in roles:
            email = f"{role}@{name}.example.org"
            hashed = credentials.hash_password(PASSWORD)
            tenant.user_ids[role] = users_sql.create(cur, tenant.account_id, email, role, role, hashed)
    tenant.tokens["admin"] = login(client, admin_email)
    for role in roles:
        tenant.tokens[role] = login(client, f"{role}@{name}.example.org")
    return tenant


def restrict(client, tenant: Tenant, role: str, *unit_ids: int) -> None:
    """Restricts the tenant's user of `role` to the subtrees of `unit_ids` (none: lifts it)."""
    path = f"/api/users/{tenant.user_ids[role]}"
    status, body, _ = call(client, "PATCH", path, tenant.tokens["admin"], {"org_unit_ids": list(unit_ids)})
    assert status == 200, body
