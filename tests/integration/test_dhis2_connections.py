"""DHIS2 connections over the API, checked against the real DHIS2 stand-in over HTTP (2.36 and 2.38),
their credentials in Secrets Manager (moto): create, list, patch, delete, check and its failures,
URL rules, tenancy and roles."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from moto import mock_aws

from chalicelib.dhis2 import connections
from devstack.dhis2_standin import Dhis2StandIn, Fault, load_fixture_tree
from devstack.postgres import free_port
from tests.integration.helpers import aws_client, call, make_tenant

USER, PASSWORD, TOKEN = "admin", "district-Secret-77", "d2pat_ConnTestToken0000000000000000000001"
PATH = "/api/dhis2/connections"


@pytest.fixture(scope="module")
def dhis2():
    standin = Dhis2StandIn(*load_fixture_tree(), username=USER, password=PASSWORD, token=TOKEN).start()
    yield standin
    standin.stop()


@pytest.fixture(scope="module")
def dhis2_236():
    standin = Dhis2StandIn(*load_fixture_tree(), version="2.36.13", username=USER, password=PASSWORD)
    standin.token = TOKEN  # the same token, which 2.36 cannot know (tokens came in 2.37)
    yield standin.start()
    standin.stop()


@pytest.fixture(scope="module")
def website():
    """A web server that is not DHIS2: an HTML page at every path."""

    class Html(BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"<!doctype html><html><body>Welcome to our website</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Html)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def env(client, dhis2):
    with mock_aws():
        dhis2.faults.clear()
        yield make_tenant(client, "dhisconn", ("viewer", "registry_editor"))


def basic(url: str, name: str = "Ministry", password: str = PASSWORD) -> dict:
    return {"name": name, "base_url": url, "auth_kind": "basic", "username": USER, "password": password}


def token(url: str, name: str = "Ministry (token)") -> dict:
    return {"name": name, "base_url": url, "auth_kind": "token", "token": TOKEN}


def create(client, tenant, body: dict) -> dict:
    status, made, _ = call(client, "POST", PATH, tenant.tokens["admin"], body)
    assert status == 201, made
    return made


def check(client, tenant, connection_id: int, role: str = "admin") -> tuple[int, dict]:
    status, body, _ = call(client, "POST", f"{PATH}/{connection_id}/check", tenant.tokens[role])
    return status, body


def stored_secret(arn_of_row: str) -> dict:
    return json.loads(aws_client("secretsmanager").get_secret_value(SecretId=arn_of_row)["SecretString"])


def row(cur_id: int) -> dict:
    from chalicelib.platform import db

    with db.transaction() as cur:
        cur.execute("SELECT * FROM dhis2_connections WHERE id = %s", (cur_id,))
        return cur.fetchone()


def test_an_admin_registers_a_connection_whose_password_only_secrets_manager_keeps(client, env, dhis2):
    made = create(client, env, basic(dhis2.url + "/"))
    assert made["base_url"] == dhis2.url and made["username"] == USER and made["has_secret"] is True
    assert PASSWORD not in json.dumps(made) and "secret_arn" not in made and "password" not in made
    stored = row(made["id"])
    assert (
        stored["secret_arn"]
        .split(":")[-1]
        .startswith(f"georegistry/test/account-{env.account_id}/dhis2-connection-{made['id']}")
    )
    assert stored_secret(stored["secret_arn"]) == {"secret": PASSWORD}
    status, listed, _ = call(client, "GET", PATH, env.tokens["registry_editor"])
    assert status == 200 and [c["id"] for c in listed["results"]] == [made["id"]]
    status, checked = check(client, env, made["id"])
    assert status == 200, checked
    assert checked["dhis2_version"] == "2.38.4" and checked["checked_at"] and checked["check_error"] is None
    assert dhis2.requests[-1]["path"] == "/api/system/info" and dhis2.requests[-1]["auth"] == "Basic"


def test_a_token_connection_checks_on_2_38_and_is_wrong_credentials_on_2_36(client, env, dhis2, dhis2_236):
    made = create(client, env, token(dhis2.url + "/api/"))
    assert made["base_url"] == dhis2.url and made["username"] is None and made["auth_kind"] == "token"
    status, checked = check(client, env, made["id"])
    assert status == 200 and checked["dhis2_version"] == "2.38.4"
    assert dhis2.requests[-1]["auth"] == "ApiToken"
    old = create(client, env, token(dhis2_236.url, "Old DHIS2"))
    status, failed = check(client, env, old["id"])
    assert status == 400 and failed["error"]["code"] == "dhis2.wrong_credentials"
    assert "wrong credentials" in failed["error"]["message"] and "2.37" in failed["error"]["message"]
    old_basic = create(client, env, basic(dhis2_236.url, "Old DHIS2, basic"))
    status, checked = check(client, env, old_basic["id"])
    assert status == 200 and checked["dhis2_version"] == "2.36.13"


def test_each_failing_check_answers_a_clear_error_and_records_it(client, env, dhis2, website, monkeypatch):
    monkeypatch.setattr(connections, "CHECK_TIMEOUT_SECONDS", 0.3)
    monkeypatch.setattr(connections, "CHECK_ATTEMPTS", 1)  # retries: the test below and test_dhis2_client
    closed_port = f"http://127.0.0.1:{free_port()}"
    cases = [
        (
            basic(dhis2.url, "Wrong", password="not-the-password"),
            400,
            "wrong_credentials",
            "wrong credentials",
        ),
        (basic(dhis2.url + "/somewhere/else", "Elsewhere"), 400, "not_dhis2", "Not a DHIS2 URL"),
        (basic(website, "A website"), 400, "not_dhis2", "Not a DHIS2 URL"),
        (basic(closed_port, "Closed"), 424, "unreachable", "unreachable"),
    ]
    for body, expected_status, code, words in cases:
        made = create(client, env, body)
        status, failed = check(client, env, made["id"])
        assert (status, failed["error"]["code"]) == (expected_status, f"dhis2.{code}"), failed
        assert words in failed["error"]["message"] and failed["error"]["details"]["reason"] == code
        status, shown, _ = call(client, "GET", f"{PATH}/{made['id']}", env.tokens["admin"])
        assert shown["check_error"] == failed["error"]["message"] and shown["checked_at"]
        assert "not-the-password" not in json.dumps(failed) and PASSWORD not in json.dumps(failed)
    slow = create(client, env, basic(dhis2.url, "Slow"))
    dhis2.faults.append(Fault(path="/api/system/info", status=None, delay=0.6, times=1))
    status, failed = check(client, env, slow["id"])
    assert (status, failed["error"]["code"]) == (424, "dhis2.unreachable")
    assert "did not answer" in failed["error"]["message"]


def test_a_503_then_a_429_are_retried_and_the_check_succeeds(client, env, dhis2):
    made = create(client, env, basic(dhis2.url))
    dhis2.faults.append(Fault(path="/api/system/info", status=503, times=1))
    status, checked = check(client, env, made["id"])
    assert status == 200 and checked["dhis2_version"] == "2.38.4"
    dhis2.faults.append(Fault(path="/api/system/info", status=429, retry_after=0, times=1))
    status, checked = check(client, env, made["id"])
    assert status == 200 and [f.fired for f in dhis2.faults] == [1, 1]


@pytest.mark.parametrize(
    ("base_url", "reason"),
    [
        ("ftp://dhis2.example.org", "http:// or https://"),
        ("dhis2.example.org", "http:// or https://"),
        ("https://admin:district@dhis2.example.org", "must not carry credentials"),
        ("https://dhis2.example.org/?x=1", "query"),
        ("https://dhis2.example.org:99999", "not a URL"),
        ("http://169.254.169.254/latest", "metadata"),
    ],
)
def test_a_base_url_must_be_a_plain_http_address(client, env, base_url, reason):
    status, body, _ = call(client, "POST", PATH, env.tokens["admin"], basic(base_url))
    assert status == 400 and body["error"]["details"]["field"] == "base_url", body
    assert reason in body["error"]["message"] and "district" not in json.dumps(body)


def test_the_credential_fields_must_fit_the_auth_kind(client, env, dhis2):
    bodies = [
        ({**basic(dhis2.url), "username": None}, "username"),
        ({**basic(dhis2.url), "password": None}, "password"),
        ({**token(dhis2.url), "token": None}, "token"),
        ({**token(dhis2.url), "password": "x"}, "password"),
        ({**basic(dhis2.url), "token": TOKEN}, "token"),
    ]
    for body, field in bodies:
        status, answer, _ = call(client, "POST", PATH, env.tokens["admin"], body)
        assert status == 400 and answer["error"]["details"]["field"] == field, answer
    create(client, env, basic(dhis2.url))
    status, answer, _ = call(client, "POST", PATH, env.tokens["admin"], basic(dhis2.url))
    assert status == 409 and answer["error"]["code"] == "dhis2_connection.name_taken"


def test_patching_the_credential_replaces_the_secret_and_a_new_address_needs_it_again(client, env, dhis2):
    made = create(client, env, basic(dhis2.url, password="first-password"))
    assert check(client, env, made["id"])[0] == 400
    path, admin = f"{PATH}/{made['id']}", env.tokens["admin"]
    status, patched, _ = call(client, "PATCH", path, admin, {"password": PASSWORD, "name": "Renamed"})
    assert status == 200 and patched["name"] == "Renamed" and patched["check_error"] is None
    assert stored_secret(row(made["id"])["secret_arn"]) == {"secret": PASSWORD}
    assert check(client, env, made["id"])[0] == 200
    status, refused, _ = call(client, "PATCH", path, admin, {"base_url": "https://elsewhere.example.org"})
    assert status == 400 and refused["error"]["details"]["field"] == "password"
    status, switched, _ = call(client, "PATCH", path, admin, {"auth_kind": "token", "token": TOKEN})
    assert status == 200 and switched["auth_kind"] == "token" and switched["username"] is None
    assert check(client, env, made["id"])[1]["dhis2_version"] == "2.38.4"


def test_deleting_a_connection_deletes_its_secret(client, env, dhis2):
    made = create(client, env, basic(dhis2.url))
    arn = row(made["id"])["secret_arn"]
    status, _, _ = call(client, "DELETE", f"{PATH}/{made['id']}", env.tokens["admin"])
    assert status == 204 and row(made["id"]) is None
    with pytest.raises(aws_client("secretsmanager").exceptions.ResourceNotFoundException):
        aws_client("secretsmanager").describe_secret(SecretId=arn)
    status, _, _ = call(client, "GET", f"{PATH}/{made['id']}", env.tokens["admin"])
    assert status == 404


def test_another_account_gets_404_and_a_viewer_cannot_create_or_check(client, env, dhis2):
    made = create(client, env, basic(dhis2.url))
    other = make_tenant(client, "dhisother")
    one = f"{PATH}/{made['id']}"
    for method, path, body in [
        ("GET", one, None),
        ("PATCH", one, {"name": "Mine now"}),
        ("DELETE", one, None),
        ("POST", f"{one}/check", None),
    ]:
        status, answer, _ = call(client, method, path, other.tokens["admin"], body)
        assert status == 404 and answer["error"]["code"] == "dhis2_connection.not_found", (method, path)
    status, listed, _ = call(client, "GET", PATH, other.tokens["admin"])
    assert status == 200 and listed["results"] == []
    viewer = env.tokens["viewer"]
    for method, path, body in [
        ("POST", PATH, basic(dhis2.url, "Viewer's")),
        ("POST", f"{one}/check", None),
        ("PATCH", one, {"name": "Viewer's"}),
        ("DELETE", one, None),
        ("GET", PATH, None),
    ]:
        status, answer, _ = call(client, method, path, viewer, body)
        assert status == 403 and answer["error"]["code"] == "auth.forbidden", (method, path)
    assert row(made["id"])["name"] == "Ministry" and row(made["id"])["checked_at"] is None
