"""Unauthenticated operations: health and the API's own description."""

from functools import cache
from typing import Any

from chalicelib.handlers.http import MOUNTED, Call, json_response
from chalicelib.platform import openapi
from chalicelib.platform.contract import Wire, operation
from chalicelib.tasks import health


class Health(Wire):
    status: str
    stage: str
    database: dict[str, Any]
    queues: dict[str, dict[str, Any]]


@operation(
    "GET",
    "/api/health",
    summary="Database and queue health; 503 when the database is down",
    tag="system",
    auth="none",
    database=False,
    other_responses={503: Health},
)
def health_check(call: Call) -> Health:
    healthy, details = health.report()
    return json_response(200 if healthy else 503, details, call.request_id)


@operation("GET", "/api/openapi.json", summary="This document", tag="system", auth="none", database=False)
def openapi_document(call: Call) -> dict[str, Any]:
    return _document()


@cache
def _document() -> dict:
    return openapi.document(MOUNTED)
