"""The contract is the one source of the routes and of the OpenAPI document, and every error the
API gives, its own or Chalice's, has the project's shape."""

import ast
from pathlib import Path

import pytest

from app import app
from chalicelib.handlers import http
from chalicelib.platform import openapi
from tests.integration.helpers import call, make_tenant

ROOT = Path(__file__).resolve().parents[2]


def _routes() -> list[tuple[str, str]]:
    return [(path, method) for path, methods in app.routes.items() for method in methods]


def test_each_route_comes_from_one_declaration():
    declared = [(op.path, op.method) for op in http.MOUNTED]
    assert len(declared) == len(set(declared)), "an operation is declared twice"
    assert sorted(_routes()) == sorted(declared)
    tree = ast.parse((ROOT / "app.py").read_text())
    routed_in_app = [
        node.lineno for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr == "route"
    ]  # fmt: skip
    assert routed_in_app == [], "app.py declares a route of its own"


def test_the_served_document_is_the_generated_one_and_valid(client):
    from openapi_spec_validator import validate

    status, served, _ = call(client, "GET", "/api/openapi.json")
    assert status == 200
    assert served == openapi.document(http.MOUNTED)
    validate(served)
    documented = {(path, method.upper()) for path, item in served["paths"].items() for method in item}
    assert documented == set(_routes())
    assert served["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert served["paths"]["/api/health"]["get"]["security"] == []
    assert served["paths"]["/api/me"]["get"]["security"] == [{"bearer": []}]


@pytest.fixture
def alpha(client):
    return make_tenant(client, "alpha", ("viewer",))


def _is_our_shape(body) -> bool:
    return (
        isinstance(body, dict)
        and set(body) == {"error"}
        and set(body["error"]) == {"code", "message", "details"}
        and isinstance(body["error"]["message"], str)
        and isinstance(body["error"]["details"], dict)
    )


@pytest.mark.parametrize(
    ("method", "path", "token", "body", "headers", "status", "code"),
    [
        ("GET", "/api/me", None, None, {}, 401, "auth.unauthenticated"),
        ("GET", "/api/me", "not-a-token", None, {}, 401, "auth.unauthenticated"),
        ("POST", "/api/users", "viewer", {"email": "x@y.org", "role": "viewer"}, {}, 403, "auth.forbidden"),
        ("GET", "/api/projects/999999", "admin", None, {}, 404, "project.not_found"),
        ("GET", "/api/projects/abc", "admin", None, {}, 404, "project.not_found"),
        ("PUT", "/api/projects", "admin", None, {}, 405, "route.method_not_allowed"),
        ("POST", "/api/projects", "admin", "<xml/>", {"Content-Type": "application/xml"}, 415,
         "request.unsupported_media_type"),
        ("POST", "/api/projects", "admin", '{"name": ', {}, 400, "request.invalid_json"),
        ("POST", "/api/projects", "admin", "[]", {}, 400, "request.invalid_body"),
        ("POST", "/api/projects", "admin", {"name": "P"}, {}, 400, "request.missing_field"),
        ("GET", "/api/projects?limit=0", "admin", None, {}, 400, "request.invalid_parameter"),
        ("POST", "/api/projects", "admin", {"name": "Dup", "app_id": "org.alpha.app"}, {}, 409,
         "project.app_id_taken"),
    ],
)  # fmt: skip
def test_every_kind_of_error_has_the_project_shape(
    client, alpha, method, path, token, body, headers, status, code
):
    bearer = alpha.tokens.get(token, token)
    got, answer, response_headers = call(client, method, path, bearer, body, headers)
    assert (got, _is_our_shape(answer)) == (status, True), answer
    assert answer["error"]["code"] == code, answer
    assert response_headers.get("X-Request-Id"), response_headers


def test_an_answer_too_large_for_a_lambda_response_is_refused_in_our_shape(client, monkeypatch):
    # Given a response limit smaller than the OpenAPI document (the real one is PAGE_MAX_BYTES, 5 MiB)
    monkeypatch.setattr(http, "PAGE_MAX_BYTES", 2_000)
    # When the document is asked for, Then the answer is a 400 naming the limit, not a truncated body
    status, answer, headers = call(client, "GET", "/api/openapi.json")
    assert (status, answer["error"]["code"]) == (400, "response.too_large"), answer
    assert "PAGE_MAX_BYTES" in answer["error"]["message"] and headers.get("X-Request-Id")
