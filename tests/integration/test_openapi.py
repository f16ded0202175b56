from app import app
from chalicelib.handlers import openapi
from tests.integration.helpers import call


def _routes() -> set[tuple[str, str]]:
    return {(path, method) for path, methods in app.routes.items() for method in methods}


def test_every_route_is_documented_and_every_documented_path_exists():
    documented = {
        (path, method.upper()) for path, item in openapi.document()["paths"].items() for method in item
    }
    assert _routes() == documented


def test_document_is_valid_openapi_and_served(client):
    from openapi_spec_validator import validate

    status, served, _ = call(client, "GET", "/api/openapi.json")
    assert status == 200
    validate(served)
    assert served["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert served["paths"]["/api/health"]["get"]["security"] == []
    assert served["paths"]["/api/me"]["get"]["security"] == [{"bearer": []}]
