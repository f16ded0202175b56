import json
import logging
import time

import pytest

from chalicelib.identity import credentials
from chalicelib.platform import db
from chalicelib.platform.observability import logger
from tests.integration.helpers import PASSWORD, call, login, make_tenant


@pytest.fixture
def tenant(client):
    return make_tenant(client, "alpha", roles=("viewer",))


def test_login_returns_a_token_that_opens_me(client, tenant):
    status, body, _ = call(
        client, "POST", "/api/auth/login", body={"email": tenant.admin_email, "password": PASSWORD}
    )
    assert status == 200
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    status, me, headers = call(client, "GET", "/api/me", body["token"])
    assert status == 200
    assert me["email"] == tenant.admin_email
    assert me["role"] == "admin"
    assert me["account"]["id"] == tenant.account_id
    assert me["project_ids"] == [tenant.project_id]
    assert "account.manage" in me["permissions"]
    assert headers["X-Request-Id"]


def test_a_hash_of_an_older_cost_is_redone_at_login_and_sessions_survive(client, tenant):
    digest = credentials._b64(credentials._scrypt(PASSWORD, b"sixteen byte salt", 8, 8, 1))
    older = f"scrypt$8$8$1${credentials._b64(b'sixteen byte salt')}${digest}"  # made with another cost
    with db.transaction() as cur:
        cur.execute("UPDATE users SET password_hash = %s WHERE email = %s", (older, tenant.admin_email))
    token = login(client, tenant.admin_email)
    with db.transaction() as cur:
        cur.execute("SELECT password_hash FROM users WHERE email = %s", (tenant.admin_email,))
        stored = cur.fetchone()["password_hash"]
    assert stored.startswith("scrypt$16$8$1$") and credentials.verify_password(PASSWORD, stored)
    assert call(client, "GET", "/api/me", tenant.tokens["admin"])[0] == 200  # not a password change
    assert call(client, "GET", "/api/me", token)[0] == 200


def test_login_email_is_case_insensitive(client, tenant):
    assert login(client, tenant.admin_email.upper())


@pytest.mark.parametrize(
    "body",
    [
        {"email": "admin@alpha.example.org", "password": "wrong password"},
        {"email": "nobody@alpha.example.org", "password": PASSWORD},
    ],
)
def test_wrong_password_or_unknown_email_is_401_with_the_same_message(client, tenant, body):
    status, error, _ = call(client, "POST", "/api/auth/login", body=body)
    assert status == 401
    assert error["error"]["code"] == "auth.invalid_credentials"


def test_login_with_missing_field_names_it(client):
    status, error, _ = call(client, "POST", "/api/auth/login", body={"email": "a@b.org"})
    assert status == 400
    assert error["error"]["details"] == {"field": "password"}


def test_malformed_json_is_a_clear_400(client):
    status, error, _ = call(client, "POST", "/api/auth/login", body="{not json")
    assert status == 400
    assert error["error"]["code"] == "request.invalid_json"


@pytest.mark.parametrize("header", [None, "Basic abc", "Bearer ", "Bearer nonsense"])
def test_missing_or_malformed_credentials_are_401(client, header):
    headers = {"Authorization": header} if header else {}
    status, error, _ = call(client, "GET", "/api/me", headers=headers)
    assert status == 401
    assert set(error["error"]) == {"code", "message", "details"}


def test_expired_token_is_401(client, tenant):
    secret = "test-token-secret-not-for-production"
    expired = credentials.issue_token(tenant.user_ids["admin"], secret, ttl_seconds=60, now=time.time() - 120)
    status, error, _ = call(client, "GET", "/api/me", expired)
    assert status == 401
    assert "expired" in error["error"]["message"]


def test_tampered_token_is_401(client, tenant):
    token = tenant.tokens["viewer"]
    payload, signature = token.split(".")
    # Claim to be the admin while keeping the viewer's signature
    forged = credentials.issue_token(tenant.user_ids["admin"], "another secret", 3600).split(".")[0]
    for bad in (f"{forged}.{signature}", f"{payload}.{signature[:-2]}xx"):
        status, error, _ = call(client, "GET", "/api/me", bad)
        assert status == 401, bad
        assert "bad signature" in error["error"]["message"]


def test_token_signed_with_another_secret_is_401(client, tenant):
    token = credentials.issue_token(tenant.user_ids["admin"], "not our secret", 3600)
    assert call(client, "GET", "/api/me", token)[0] == 401


def test_password_change_ends_older_sessions(client, tenant):
    old_token = tenant.tokens["viewer"]
    body = {"current_password": PASSWORD, "new_password": "a new long password"}
    assert call(client, "POST", "/api/me/password", old_token, body)[0] == 204
    assert call(client, "GET", "/api/me", old_token)[0] == 401
    new_token = login(client, "viewer@alpha.example.org", "a new long password")
    assert call(client, "GET", "/api/me", new_token)[0] == 200


def test_password_change_needs_the_current_password(client, tenant):
    body = {"current_password": "wrong", "new_password": "a new long password"}
    status, error, _ = call(client, "POST", "/api/me/password", tenant.tokens["viewer"], body)
    assert status == 400 and error["error"]["details"]["field"] == "current_password"


def test_api_key_works_lists_without_secret_and_can_be_revoked(client, tenant):
    token = tenant.tokens["viewer"]
    status, created, _ = call(client, "POST", "/api/me/api-keys", token, {"name": "notebook"})
    assert status == 201
    key = created["key"]
    assert key.startswith("grk_")
    # The key authenticates as its user
    status, me, _ = call(client, "GET", "/api/me", key)
    assert status == 200 and me["email"] == "viewer@alpha.example.org"
    # Listing never shows the secret
    status, listed, _ = call(client, "GET", "/api/me/api-keys", token)
    assert [item["name"] for item in listed["results"]] == ["notebook"]
    assert "key" not in listed["results"][0]
    assert listed["results"][0]["last_used_at"] is not None
    # Revoked: refused from then on
    status, revoked, _ = call(client, "DELETE", f"/api/me/api-keys/{created['id']}", token)
    assert status == 200 and revoked["revoked_at"]
    status, error, _ = call(client, "GET", "/api/me", key)
    assert status == 401 and "revoked" in error["error"]["message"]


def test_api_key_with_a_wrong_secret_is_401(client, tenant):
    _, created, _ = call(client, "POST", "/api/me/api-keys", tenant.tokens["admin"], {"name": "ci"})
    assert call(client, "GET", "/api/me", created["key"][:-3] + "abc")[0] == 401


def test_expired_api_key_is_401(client, tenant):
    _, created, _ = call(
        client, "POST", "/api/me/api-keys", tenant.tokens["admin"], {"name": "old", "expires_in_days": 1}
    )
    with db.transaction() as cur:
        cur.execute(
            "UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = %s", (created["id"],)
        )
    assert call(client, "GET", "/api/me", created["key"])[0] == 401


def test_another_users_api_key_cannot_be_revoked(client, tenant):
    _, created, _ = call(client, "POST", "/api/me/api-keys", tenant.tokens["admin"], {"name": "mine"})
    status, error, _ = call(client, "DELETE", f"/api/me/api-keys/{created['id']}", tenant.tokens["viewer"])
    assert status == 404
    assert call(client, "GET", "/api/me", created["key"])[0] == 200


def test_deactivated_user_loses_token_and_keys(client, tenant):
    viewer = tenant.tokens["viewer"]
    _, created, _ = call(client, "POST", "/api/me/api-keys", viewer, {"name": "k"})
    status, _, _ = call(client, "DELETE", f"/api/users/{tenant.user_ids['viewer']}", tenant.tokens["admin"])
    assert status == 200
    assert call(client, "GET", "/api/me", viewer)[0] == 401
    assert call(client, "GET", "/api/me", created["key"])[0] == 401
    body = {"email": "viewer@alpha.example.org", "password": PASSWORD}
    assert call(client, "POST", "/api/auth/login", body=body)[0] == 401


def test_passwords_and_keys_are_never_stored_or_logged_in_clear(client, tenant, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    _, created, _ = call(client, "POST", "/api/me/api-keys", tenant.tokens["admin"], {"name": "k"})
    call(client, "GET", "/api/me", created["key"])
    call(client, "POST", "/api/auth/login", body={"email": tenant.admin_email, "password": "wrong guess!"})
    secret = created["key"].split("_", 2)[2]
    with db.transaction() as cur:
        cur.execute(
            "SELECT row_to_json(u)::text AS r FROM users u"
            " UNION ALL SELECT row_to_json(k)::text FROM api_keys k"
        )
        stored = " ".join(row["r"] for row in cur.fetchall())
    assert PASSWORD not in stored and secret not in stored
    assert "scrypt$" in stored
    logged = caplog.text + capsys.readouterr().out
    assert "login refused" in logged  # the logs were captured, so their silence means something
    assert PASSWORD not in logged and "wrong guess!" not in logged and secret not in logged


def test_logs_are_json_lines_carrying_the_request_id(client, tenant, caplog):
    caplog.set_level(logging.INFO)
    _, _, headers = call(
        client, "POST", "/api/auth/login", body={"email": tenant.admin_email, "password": "nope"}
    )
    records = [record for record in caplog.records if record.getMessage() == "login refused"]
    line = json.loads(logger().registered_formatter.format(records[0]))
    assert line["correlation_id"] == headers["X-Request-Id"]
    assert line["service"] == "georegistry" and line["level"] == "INFO"


def test_a_token_issued_in_the_same_second_as_a_password_change_stops_working(client, tenant):
    token = login(client, "viewer@alpha.example.org")
    body = {"current_password": PASSWORD, "new_password": "another long password"}
    assert call(client, "POST", "/api/me/password", token, body)[0] == 204
    assert call(client, "GET", "/api/me", token)[0] == 401


def test_reactivating_a_user_does_not_revive_their_api_keys(client, tenant):
    _, created, _ = call(client, "POST", "/api/me/api-keys", tenant.tokens["viewer"], {"name": "k"})
    path = f"/api/users/{tenant.user_ids['viewer']}"
    assert call(client, "PATCH", path, tenant.tokens["admin"], {"is_active": False})[0] == 200
    assert call(client, "PATCH", path, tenant.tokens["admin"], {"is_active": True})[0] == 200
    assert call(client, "GET", "/api/me", created["key"])[0] == 401
    assert login(client, "viewer@alpha.example.org")


def test_non_ascii_credentials_are_a_401_not_a_500(client, tenant):
    for header in ("Bearer é.ü", "Bearer grk_abc_é"):
        assert call(client, "GET", "/api/me", headers={"Authorization": header})[0] == 401
