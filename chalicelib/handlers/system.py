"""Unauthenticated endpoints: health and the API's own description."""

from chalicelib import health, openapi
from chalicelib.handlers.http import Call, endpoint, json_response


@endpoint(authenticated=False, database=False)
def health_check(call: Call):
    healthy, details = health.report()
    return json_response(200 if healthy else 503, details, call.request_id)


@endpoint(authenticated=False, database=False)
def openapi_document(call: Call) -> dict:
    return openapi.document()
