"""What an admin does with their account's projects and users."""

import pytest

from tests.integration.helpers import PASSWORD, call, login, make_tenant


@pytest.fixture
def alpha(client):
    return make_tenant(client, "alpha")


def test_project_lifecycle(client, alpha):
    token = alpha.tokens["admin"]
    status, project, _ = call(
        client, "POST", "/api/projects", token, {"name": "Malaria", "app_id": "org.alpha.malaria"}
    )
    assert status == 201 and project["needs_authentication"] is True
    path = f"/api/projects/{project['id']}"
    status, changed, _ = call(
        client, "PATCH", path, token, {"name": "Malaria 2027", "needs_authentication": False}
    )
    assert status == 200 and changed["name"] == "Malaria 2027" and changed["app_id"] == "org.alpha.malaria"
    assert changed["needs_authentication"] is False
    assert call(client, "DELETE", path, token)[0] == 204
    assert call(client, "GET", path, token)[0] == 404
    assert call(client, "DELETE", path, token)[0] == 404


def test_duplicate_app_id_is_a_conflict_even_across_accounts(client, alpha):
    beta = make_tenant(client, "beta")
    status, error, _ = call(
        client, "POST", "/api/projects", beta.tokens["admin"], {"name": "x", "app_id": "org.alpha.app"}
    )
    assert status == 409 and error["error"]["code"] == "project.app_id_taken"


def test_invalid_project_input_names_the_field(client, alpha):
    token = alpha.tokens["admin"]
    cases = [
        ({"name": "x", "app_id": "has spaces"}, "app_id"),
        ({"app_id": "org.x"}, "name"),
        ({"name": "x", "app_id": "org.x", "needs_authentication": "yes"}, "needs_authentication"),
        ({"name": 5, "app_id": "org.x"}, "name"),
    ]
    for body, field in cases:
        status, error, _ = call(client, "POST", "/api/projects", token, body)
        assert status == 400, body
        assert error["error"]["details"]["field"] == field
    status, error, _ = call(
        client, "POST", "/api/projects", token, {"name": "x", "app_id": "org.x", "colour": "red"}
    )
    assert status == 400 and error["error"]["details"]["fields"] == ["colour"]
    status, error, _ = call(client, "POST", "/api/projects", token, [1, 2])
    assert status == 400 and error["error"]["code"] == "request.invalid_body"


def test_user_lifecycle_with_profile(client, alpha):
    token = alpha.tokens["admin"]
    body = {
        "email": "Collector@Alpha.example.org",
        "full_name": "Field Worker",
        "role": "data_collector",
        "password": PASSWORD,
        "project_ids": [alpha.project_id],
    }
    status, user, _ = call(client, "POST", "/api/users", token, body)
    assert status == 201
    assert user["email"] == "collector@alpha.example.org"
    assert user["role"] == "data_collector" and user["project_ids"] == [alpha.project_id]
    assert "password" not in user and "password_hash" not in user
    collector = login(client, "collector@alpha.example.org")
    _, me, _ = call(client, "GET", "/api/me", collector)
    assert "submissions.create" in me["permissions"] and "account.manage" not in me["permissions"]

    path = f"/api/users/{user['id']}"
    status, changed, _ = call(client, "PATCH", path, token, {"role": "reviewer", "project_ids": []})
    assert status == 200 and changed["role"] == "reviewer" and changed["project_ids"] == []
    status, error, _ = call(client, "POST", "/api/users", token, body)
    assert status == 409 and error["error"]["code"] == "user.email_taken"


def test_invalid_user_input_names_the_field(client, alpha):
    token = alpha.tokens["admin"]
    cases = [
        ({"email": "not-an-email", "role": "viewer"}, "email"),
        ({"email": "a@alpha.example.org", "role": "emperor"}, "role"),
        ({"email": "a@alpha.example.org", "role": "viewer", "password": "short"}, "password"),
        ({"email": "a@alpha.example.org", "role": "viewer", "project_ids": ["x"]}, "project_ids[0]"),
        ({"email": "a@alpha.example.org", "role": "viewer", "project_ids": [999999]}, "project_ids"),
    ]
    for body, field in cases:
        status, error, _ = call(client, "POST", "/api/users", token, body)
        assert status == 400, body
        assert error["error"]["details"]["field"] == field, body


def test_an_admin_cannot_lock_themselves_out(client, alpha):
    token = alpha.tokens["admin"]
    path = f"/api/users/{alpha.user_ids['admin']}"
    for body in ({"role": "viewer"}, {"is_active": False}):
        status, error, _ = call(client, "PATCH", path, token, body)
        assert status == 409 and error["error"]["code"] == "user.self_lockout"
    assert call(client, "DELETE", path, token)[0] == 409


def test_users_are_paged_with_a_cursor(client, alpha):
    token = alpha.tokens["admin"]
    for number in range(4):
        call(client, "POST", "/api/users", token, {"email": f"u{number}@alpha.example.org", "role": "viewer"})
    seen, cursor = [], None
    while True:
        query = f"?limit=2&cursor={cursor}" if cursor else "?limit=2"
        status, page, _ = call(client, "GET", f"/api/users{query}", token)
        assert status == 200 and len(page["results"]) <= 2
        seen += [user["email"] for user in page["results"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5 and len(set(seen)) == 5
    assert call(client, "GET", "/api/users?limit=0", token)[0] == 400
    assert call(client, "GET", "/api/users?cursor=%%%", token)[0] == 400


def test_account_rename(client, alpha):
    status, account, _ = call(
        client, "PATCH", "/api/account", alpha.tokens["admin"], {"name": "Alpha Health"}
    )
    assert status == 200 and account["name"] == "Alpha Health"
