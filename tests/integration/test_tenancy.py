"""Accounts never see each other; roles without account.manage cannot write."""

import pytest

from tests.integration.helpers import call, make_tenant


@pytest.fixture
def two_tenants(client):
    alpha = make_tenant(client, "alpha", roles=("viewer",))
    beta = make_tenant(client, "beta", roles=("viewer", "registry_editor"))
    return alpha, beta


def _object_routes(alpha):
    project = f"/api/projects/{alpha.project_id}"
    user = f"/api/users/{alpha.user_ids['viewer']}"
    return [
        ("GET", project, None),
        ("PATCH", project, {"name": "stolen"}),
        ("DELETE", project, None),
        ("GET", user, None),
        ("PATCH", user, {"full_name": "stolen"}),
        ("DELETE", user, None),
    ]


def test_another_accounts_admin_gets_404_on_every_object(client, two_tenants):
    alpha, beta = two_tenants
    for method, path, body in _object_routes(alpha):
        status, error, _ = call(client, method, path, beta.tokens["admin"], body)
        assert status == 404, (method, path, status)
        assert error["error"]["code"].endswith(".not_found")
    # Nothing changed in alpha
    _, project, _ = call(client, "GET", f"/api/projects/{alpha.project_id}", alpha.tokens["admin"])
    assert project["name"] == "alpha project"
    _, user, _ = call(client, "GET", f"/api/users/{alpha.user_ids['viewer']}", alpha.tokens["admin"])
    assert user["is_active"] and user["full_name"] == "viewer"


def test_another_accounts_api_key_cannot_be_revoked(client, two_tenants):
    alpha, beta = two_tenants
    _, key, _ = call(client, "POST", "/api/me/api-keys", alpha.tokens["admin"], {"name": "alpha key"})
    assert call(client, "DELETE", f"/api/me/api-keys/{key['id']}", beta.tokens["admin"])[0] == 404
    assert call(client, "GET", "/api/me", key["key"])[0] == 200


def test_lists_show_only_the_callers_account(client, two_tenants):
    alpha, beta = two_tenants
    _, projects, _ = call(client, "GET", "/api/projects", beta.tokens["admin"])
    assert [p["id"] for p in projects["results"]] == [beta.project_id]
    _, users, _ = call(client, "GET", "/api/users", beta.tokens["admin"])
    assert {u["email"] for u in users["results"]} == {
        "admin@beta.example.org",
        "viewer@beta.example.org",
        "registry_editor@beta.example.org",
    }
    _, account, _ = call(client, "GET", "/api/account", beta.tokens["admin"])
    assert account["id"] == beta.account_id
    _, keys, _ = call(client, "GET", "/api/me/api-keys", beta.tokens["admin"])
    assert keys["results"] == []


def test_another_accounts_project_cannot_be_given_to_a_user(client, two_tenants):
    alpha, beta = two_tenants
    body = {"email": "new@beta.example.org", "role": "viewer", "project_ids": [alpha.project_id]}
    status, error, _ = call(client, "POST", "/api/users", beta.tokens["admin"], body)
    assert status == 400 and error["error"]["details"]["field"] == "project_ids"
    path = f"/api/users/{beta.user_ids['viewer']}"
    status, _, _ = call(client, "PATCH", path, beta.tokens["admin"], {"project_ids": [alpha.project_id]})
    assert status == 400


@pytest.mark.parametrize("role", ["viewer", "registry_editor"])
def test_roles_without_account_management_cannot_write(client, two_tenants, role):
    _, beta = two_tenants
    token = beta.tokens[role]
    writes = [
        ("PATCH", "/api/account", {"name": "renamed"}),
        ("POST", "/api/projects", {"name": "p2", "app_id": "org.beta.p2"}),
        ("PATCH", f"/api/projects/{beta.project_id}", {"name": "renamed"}),
        ("DELETE", f"/api/projects/{beta.project_id}", None),
        ("POST", "/api/users", {"email": "x@beta.example.org", "role": "admin"}),
        ("PATCH", f"/api/users/{beta.user_ids['admin']}", {"role": "viewer"}),
        ("DELETE", f"/api/users/{beta.user_ids['admin']}", None),
        ("GET", "/api/users", None),
    ]
    for method, path, body in writes:
        status, error, _ = call(client, method, path, token, body)
        assert status == 403, (method, path, status)
        assert error["error"]["code"] == "auth.forbidden"
    # They still read what they may
    assert call(client, "GET", "/api/projects", token)[0] == 200
    assert call(client, "GET", f"/api/users/{beta.user_ids[role]}", token)[0] == 200
    assert call(client, "GET", f"/api/users/{beta.user_ids['admin']}", token)[0] == 403


def test_non_numeric_ids_are_not_found(client, two_tenants):
    _, beta = two_tenants
    assert call(client, "GET", "/api/projects/abc", beta.tokens["admin"])[0] == 404
    assert call(client, "GET", "/api/users/1e3", beta.tokens["admin"])[0] == 404
