"""Hostile credentials: keys that outlive a password, password guessing, forged and stale tokens,
another account's keys. Each case asserts its answer, that the message names the limit or the reason,
and that nothing was stored."""

import base64
import json

import pytest
from chalice.local import LambdaEventConverter

from chalicelib.identity import credentials
from chalicelib.platform import db
from chalicelib.platform.limits import LOGIN_FAILURES_PER_MINUTE
from tests.integration.helpers import PASSWORD, call, login, make_tenant

SECRET = "test-token-secret-not-for-production"  # tests/conftest.py's TOKEN_SECRET
NEW_PASSWORD = "a brand new long password"


@pytest.fixture
def alpha(client):
    return make_tenant(client, "alpha", roles=("viewer",))


def _from(monkeypatch, address: str) -> None:
    """The next requests come from `address` (API Gateway's requestContext.identity.sourceIp)."""
    monkeypatch.setattr(LambdaEventConverter, "LOCAL_SOURCE_IP", address)


def _login(client, email: str, password: str):
    return call(client, "POST", "/api/auth/login", body={"email": email, "password": password})


def _fail(client, email: str, times: int) -> None:
    for _ in range(times):
        assert _login(client, email, "not the password")[0] == 401


def _counted(kind: str, key: str) -> dict | None:
    with db.side_cursor() as side:  # the counts are committed by the side connection
        side.execute(
            "SELECT failures, window_start FROM login_failures WHERE kind = %s AND key = %s", (kind, key)
        )
        return side.fetchone()


def _last_login(email: str):
    with db.transaction() as cur:
        cur.execute("SELECT last_login_at FROM users WHERE email = %s", (email,))
        return cur.fetchone()["last_login_at"]


def _project_count() -> int:
    with db.transaction() as cur:
        cur.execute("SELECT count(*) AS n FROM projects")
        return cur.fetchone()["n"]


def _assert_throttled(status: int, error: dict, headers: dict) -> int:
    assert status == 429, error
    assert error["error"]["code"] == "auth.too_many_attempts"
    assert "LOGIN_FAILURES_PER_MINUTE" in error["error"]["message"]
    seconds = int(headers["Retry-After"])
    assert 1 <= seconds <= 60 and error["error"]["details"] == {"retry_after": seconds}
    return seconds


# API keys and password changes


def test_changing_ones_password_revokes_ones_api_keys(client, alpha):
    viewer, admin = alpha.tokens["viewer"], alpha.tokens["admin"]
    mine = call(client, "POST", "/api/me/api-keys", viewer, {"name": "script"})[1]["key"]
    others = call(client, "POST", "/api/me/api-keys", admin, {"name": "admin's"})[1]["key"]
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert call(client, "POST", "/api/me/password", mine, body)[0] == 204  # even the key that asked
    status, error, _ = call(client, "GET", "/api/me", mine)
    assert status == 401 and "revoked" in error["error"]["message"]
    assert call(client, "GET", "/api/me", viewer)[0] == 401
    assert call(client, "GET", "/api/me", others)[0] == 200  # another user's keys stay
    fresh = login(client, "viewer@alpha.example.org", NEW_PASSWORD)
    listed = call(client, "GET", "/api/me/api-keys", fresh)[1]["results"]
    assert [key["revoked_at"] is not None for key in listed] == [True]


def test_an_admin_setting_a_users_password_revokes_their_api_keys(client, alpha):
    viewer, admin = alpha.tokens["viewer"], alpha.tokens["admin"]
    key = call(client, "POST", "/api/me/api-keys", viewer, {"name": "script"})[1]["key"]
    admins_key = call(client, "POST", "/api/me/api-keys", admin, {"name": "admin's"})[1]["key"]
    path = f"/api/users/{alpha.user_ids['viewer']}"
    assert call(client, "PATCH", path, admin, {"password": NEW_PASSWORD})[0] == 200
    status, error, _ = call(client, "GET", "/api/me", key)
    assert status == 401 and "revoked" in error["error"]["message"]
    assert call(client, "GET", "/api/me", viewer)[0] == 401
    assert call(client, "GET", "/api/me", admins_key)[0] == 200
    assert login(client, "viewer@alpha.example.org", NEW_PASSWORD)


def test_a_refused_password_change_keeps_the_keys(client, alpha):
    key = call(client, "POST", "/api/me/api-keys", alpha.tokens["viewer"], {"name": "script"})[1]["key"]
    body = {"current_password": "wrong", "new_password": NEW_PASSWORD}
    status, error, _ = call(client, "POST", "/api/me/password", key, body)
    assert status == 400 and error["error"]["details"] == {"field": "current_password"}
    assert call(client, "GET", "/api/me", key)[0] == 200


# Password guessing


def test_failed_logins_past_the_limit_are_429_without_checking_the_password(client, alpha, monkeypatch):
    _from(monkeypatch, "203.0.113.1")
    before = _last_login(alpha.admin_email)
    _fail(client, alpha.admin_email, LOGIN_FAILURES_PER_MINUTE)
    status, error, headers = _login(client, alpha.admin_email, PASSWORD)  # the right one, too late
    _assert_throttled(status, error, headers)
    assert "token" not in json.dumps(error) and _last_login(alpha.admin_email) == before
    _from(monkeypatch, "203.0.113.2")  # from elsewhere too: the account is throttled, not only the address
    _assert_throttled(*_login(client, alpha.admin_email, PASSWORD))
    assert _login(client, "viewer@alpha.example.org", PASSWORD)[0] == 200  # other accounts are not


def test_refused_attempts_are_not_counted_so_the_lockout_ends_with_its_minute(client, alpha, monkeypatch):
    _from(monkeypatch, "203.0.113.3")
    _fail(client, alpha.admin_email, LOGIN_FAILURES_PER_MINUTE)
    counted = _counted("email", alpha.admin_email)
    for _ in range(10):
        _assert_throttled(*_login(client, alpha.admin_email, "still guessing"))
    assert _counted("email", alpha.admin_email) == counted
    with db.side_cursor() as side:  # the minute passes
        side.execute("UPDATE login_failures SET window_start = window_start - interval '61 seconds'")
    assert _login(client, alpha.admin_email, PASSWORD)[0] == 200


def test_one_address_guessing_many_emails_is_throttled(client, alpha, monkeypatch):
    _from(monkeypatch, "198.51.100.7")
    for n in range(LOGIN_FAILURES_PER_MINUTE):
        assert _login(client, f"guess{n}@alpha.example.org", "password1")[0] == 401
    _assert_throttled(*_login(client, alpha.admin_email, PASSWORD))
    assert _counted("email", alpha.admin_email) is None  # the refused attempt counted nothing
    _from(monkeypatch, "198.51.100.8")
    assert _login(client, alpha.admin_email, PASSWORD)[0] == 200


@pytest.mark.commits  # the success's reset commits, as a request's does, before the next failures
def test_a_success_resets_the_emails_count(client, alpha, monkeypatch):
    for round_ in range(2):
        for n in range(LOGIN_FAILURES_PER_MINUTE - 1):
            _from(monkeypatch, f"192.0.2.{10 * round_ + n}")  # a new address each time: only the email counts
            _fail(client, alpha.admin_email, 1)
        assert _login(client, alpha.admin_email, PASSWORD)[0] == 200
        assert _counted("email", alpha.admin_email) is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "x" * 255, "password": "p"}, "email"),
        ({"email": "admin@alpha.example.org", "password": "p" * 257}, "password"),
        ({"email": ["admin@alpha.example.org"], "password": "p"}, "email"),
    ],
)
def test_oversized_or_misshapen_credentials_are_400_and_count_nothing(client, alpha, body, field):
    status, error, _ = call(client, "POST", "/api/auth/login", body=body)
    assert status == 400 and error["error"]["details"]["field"] == field
    with db.side_cursor() as side:
        side.execute("SELECT count(*) AS n FROM login_failures")
        assert side.fetchone()["n"] == 0


def test_a_nul_in_credentials_is_refused_not_a_500(client, alpha):
    status, error, _ = _login(client, f"{alpha.admin_email}\u0000", PASSWORD)
    assert status == 400 and error["error"]["details"] == {"field": "email"}
    assert "NUL" in error["error"]["message"]
    status, error, _ = call(client, "GET", "/api/me", headers={"Authorization": "Bearer grk_ab\x00cd_secret"})
    assert status == 401 and "not valid" in error["error"]["message"]
    form_list = f"/api/openrosa/{alpha.project_id}/formList"
    for user, secret in ((f"{alpha.admin_email}\x00", PASSWORD), (alpha.admin_email, "grk_ab\x00cd_secret")):
        basic = base64.b64encode(f"{user}:{secret}".encode()).decode()
        response = client.http.get(form_list, headers={"Authorization": f"Basic {basic}"})
        assert response.status_code == 401, response.body
        assert json.loads(response.body)["error"]["code"] == "auth.invalid_credentials"
    with db.side_cursor() as side:  # the NUL email counted nothing; the NUL password is a wrong one
        side.execute("SELECT count(*) AS n FROM login_failures")
        assert side.fetchone()["n"] == 2  # its email and its address


def test_the_login_operation_declares_its_429(client):
    status, document, _ = call(client, "GET", "/api/openapi.json")
    assert status == 200 and "429" in document["paths"]["/api/auth/login"]["post"]["responses"]


# Forged, tampered and stale tokens


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(alpha, **changes) -> dict:
    return {"sub": alpha.user_ids["admin"], "iat": 0, "exp": 4_000_000_000, "ver": 1} | changes


def _refused(client, token: str, reason: str) -> None:
    """A forged credential is 401 naming the reason, and the write it carried did not happen."""
    before = _project_count()
    status, error, _ = call(
        client, "POST", "/api/projects", token, {"name": "Forged", "app_id": "org.forged"}
    )
    assert status == 401 and error["error"]["code"] == "auth.unauthenticated", error
    assert reason in error["error"]["message"], error
    assert _project_count() == before


def test_alg_none_tokens_are_401(client, alpha):
    header = _b64({"alg": "none", "typ": "JWT"})
    payload = _b64(_claims(alpha))
    _refused(client, f"{header}.{payload}.", "bad signature")  # a JWT's parts posing as our signature
    _refused(client, f"{header}.{payload}", "bad signature")
    _refused(client, f"{payload}.", "malformed token")  # our payload, its signature left out


def test_a_tampered_token_is_401(client, alpha):
    token = alpha.tokens["viewer"]
    payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    admin = _b64(claims | {"sub": alpha.user_ids["admin"]})
    _refused(client, f"{admin}.{signature}", "bad signature")
    _refused(client, f"{payload}.{signature[:-2]}xx", "bad signature")
    _refused(
        client, credentials.issue_token(alpha.user_ids["admin"], "another secret", 3600), "bad signature"
    )


def test_expired_and_superseded_tokens_are_401(client, alpha):
    expired = credentials.issue_token(alpha.user_ids["admin"], SECRET, 60, now=0)
    _refused(client, expired, "expired")
    stale = credentials.issue_token(alpha.user_ids["admin"], SECRET, 3600, version=0)  # before a change
    _refused(client, stale, "no longer valid")
    unsigned = _b64(_claims(alpha, sub="1 OR 1=1"))
    forged = f"{unsigned}.{credentials._sign(unsigned, SECRET)}"  # signed but malformed inside
    _refused(client, forged, "malformed payload")


# Another account's keys


def test_another_accounts_api_key_opens_only_its_own_account(client, alpha):
    beta = make_tenant(client, "beta")
    created = call(client, "POST", "/api/me/api-keys", beta.tokens["admin"], {"name": "beta"})[1]
    status, error, _ = call(client, "GET", f"/api/projects/{alpha.project_id}", created["key"])
    assert status == 404 and error["error"]["code"] == "project.not_found"
    body = {"name": "Renamed"}
    status, _, _ = call(client, "PATCH", f"/api/projects/{alpha.project_id}", created["key"], body)
    assert status == 404
    status, error, _ = call(client, "DELETE", f"/api/me/api-keys/{created['id']}", alpha.tokens["admin"])
    assert status == 404 and error["error"]["code"] == "api_key.not_found"
    assert call(client, "GET", "/api/me", created["key"])[0] == 200  # neither revoked
    with db.transaction() as cur:
        cur.execute("SELECT name FROM projects WHERE id = %s", (alpha.project_id,))
        assert cur.fetchone()["name"] == "alpha project"


def test_basic_credentials_with_another_users_key_are_401(client, alpha):
    beta = make_tenant(client, "beta")
    key = call(client, "POST", "/api/me/api-keys", beta.tokens["admin"], {"name": "beta"})[1]["key"]
    basic = base64.b64encode(f"{alpha.admin_email}:{key}".encode()).decode()
    response = client.http.get(
        f"/api/openrosa/{alpha.project_id}/formList", headers={"Authorization": f"Basic {basic}"}
    )
    assert response.status_code == 401
    assert "another user" in json.loads(response.body)["error"]["message"]


def test_basic_passwords_on_openrosa_are_throttled_as_logins_are(client, alpha, monkeypatch):
    # Given someone guessing the admin's password over OpenRosa's Basic authentication
    _from(monkeypatch, "203.0.113.9")
    form_list = f"/api/openrosa/{alpha.project_id}/formList"

    def basic(password: str):
        token = base64.b64encode(f"{alpha.admin_email}:{password}".encode()).decode()
        response = client.http.get(form_list, headers={"Authorization": f"Basic {token}"})
        return response.status_code, json.loads(response.body), response.headers

    for _ in range(LOGIN_FAILURES_PER_MINUTE):
        assert basic("not the password")[0] == 401
    # Then the right password is refused too until the minute ends, there and at login
    _assert_throttled(*basic(PASSWORD))
    _assert_throttled(*_login(client, alpha.admin_email, PASSWORD))
