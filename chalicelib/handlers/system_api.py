"""Unauthenticated endpoints: health and the API's own description."""

from chalicelib.handlers import openapi
from chalicelib.handlers.http import Call, endpoint, json_response
from chalicelib.tasks import health


@endpoint(authenticated=False, database=False)
def health_check(call: Call):
    healthy, details = health.report()
    return json_response(200 if healthy else 503, details, call.request_id)


@endpoint(authenticated=False, database=False)
def openapi_document(call: Call) -> dict:
    return openapi.document()
