"""Schemathesis over every operation of the generated document: no 5xx, and every answer within
the schema its operation declares. Requests go in-process (a WSGI adapter over Chalice's local
gateway) against a real database holding a small registry, as an admin of its account."""

import base64
from urllib.parse import quote

import pytest
import schemathesis
from chalice.local import LocalGatewayException
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import response_schema_conformance

from chalicelib.handlers import central_api, form_media_api, forms_api, http
from chalicelib.platform import openapi
from tests.integration.helpers import make_tenant
from tests.integration.registrykit import build_registry

CURRENT: dict = {}  # the test's chalice client, set by the fixture below


def _wsgi(environ, start_response):
    path = quote(environ["PATH_INFO"], safe="/{}")
    if environ.get("QUERY_STRING"):
        path += "?" + environ["QUERY_STRING"]
    headers = {
        key[5:].replace("_", "-").lower(): value for key, value in environ.items() if key.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = environ["CONTENT_TYPE"]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    status, response_headers, body = _through_gateway(environ["REQUEST_METHOD"], path, headers, body)
    start_response(f"{status} -", list(response_headers.items()))
    return [body]


def _through_gateway(method: str, path: str, headers: dict, body: bytes) -> tuple[int, dict, bytes]:
    """chalice.test's client, less its failure on the body-less answer Chalice gives OPTIONS."""
    try:
        answer = CURRENT["client"].http._local_gateway.handle_request(method, path, headers, body)
    except LocalGatewayException as error:
        return error.CODE, dict(error.headers or {}), error.body or b""
    raw = answer.get("body") or ""
    decoded = base64.b64decode(raw) if answer.get("isBase64Encoded") else raw.encode()
    return answer["statusCode"], answer["headers"], decoded


@schemathesis.serializer(
    *forms_api.RAW_CONTENT_TYPES,
    *sorted(set(form_media_api.MEDIA_CONTENT_TYPES) | set(central_api.ATTACHMENT_TYPES)),
)
def _spreadsheet(ctx, value) -> bytes:
    """An XLSForm, a form's media file or a submission's attachment is a file: whatever was generated,
    as bytes (the API must refuse it cleanly)."""
    return value if isinstance(value, bytes) else str(value).encode()


@pytest.fixture
def stocked(client, ingest_stack):
    tenant = make_tenant(client, "alpha")
    build_registry(client, tenant.tokens["admin"])
    CURRENT["client"] = client
    yield {"Authorization": f"Bearer {tenant.tokens['admin']}"}
    CURRENT.clear()


def _schema():
    import app  # noqa: F401 (mounts the operations)

    # The coverage phase: boundary and invalid values of every parameter and field, deterministic (about
    # 3,700 requests); random fuzzing on top doubled the time for no finding, so it is off.
    phases = {"coverage": {"enabled": True}, "fuzzing": {"enabled": False}}
    config = SchemathesisConfig.from_dict({"phases": phases})
    loaded = schemathesis.openapi.from_dict(openapi.document(http.MOUNTED), config=config)
    loaded.app = _wsgi  # what from_wsgi does once it has the document
    return loaded


schema = _schema()


@schema.parametrize()
@settings(
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_within_its_schema_and_never_with_a_server_error(case, stocked):
    case.call_and_validate(headers=stocked, checks=[not_a_server_error, response_schema_conformance])
