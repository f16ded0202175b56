"""The HTTP edge: request in, JSON out, one error shape.

`@endpoint` is the only place that opens the request's transaction, authenticates the caller,
and turns Problems (and anything unexpected) into `{"error": {...}}` responses. Chalice would turn
a view's exception into its own 500 before middleware runs (chalice #1884), hence a decorator.
"""

import functools
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chalice.app import Request, Response

from chalicelib.handlers.validation import Body
from chalicelib.identity import authentication
from chalicelib.identity.permissions import Principal
from chalicelib.platform import db, jsonutil, problems
from chalicelib.platform.observability import logger

JSON = "application/json"


@dataclass
class Call:
    """What a handler function gets: the request, its transaction's cursor, and the caller."""

    request: Request
    cur: Any
    principal: Principal | None
    request_id: str
    query: dict[str, str] = field(default_factory=dict)

    def body(self, allowed: list[str]) -> Body:
        return Body(parse_json(self.request.raw_body), allowed)

    def nested_body(self, data: dict, allowed: list[str]) -> Body:
        """An object inside the body, read with the same checks."""
        return Body(data, allowed)


def parse_json(raw: bytes | None) -> Any:
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise problems.invalid_json(str(error)) from error


def path_id(value: str, kind: str) -> int:
    """A numeric id from the path; anything else cannot name an object, so it is not found."""
    if not value.isdigit() or len(value) > 18:
        raise problems.not_found(kind, value)
    return int(value)


def endpoint(authenticated: bool = True, status: int = 200, database: bool = True):
    def decorate(handler: Callable[..., Any]):
        @functools.wraps(handler)
        def run(request: Request, *args: Any) -> Response:
            request_id = (request.context or {}).get("requestId") or str(uuid.uuid4())
            logger().set_correlation_id(request_id)
            logger().remove_keys(["user_id", "account_id"])  # left by the previous warm invocation
            try:
                result = _invoke(handler, request, request_id, authenticated, database, args)
            except problems.Problem as problem:
                logger().info("request refused", extra={"code": problem.code, "status": problem.status})
                return json_response(problem.status, problem.body(), request_id, problem.headers)
            except Exception:
                logger().exception("unhandled error")
                body = problems.Problem(
                    500, "server.error", f"Internal error; quote request id {request_id}."
                )
                return json_response(500, body.body(), request_id)
            if isinstance(result, Response):
                result.headers["X-Request-Id"] = request_id
                return result
            return json_response(status, result, request_id)

        return run

    return decorate


def _invoke(handler, request: Request, request_id: str, authenticated: bool, database: bool, args) -> Any:
    query = dict(request.query_params or {})
    if not database:
        return handler(Call(request, None, None, request_id, query), *args)
    with db.transaction() as cur:
        principal = (
            authentication.authenticate(cur, request.headers.get("authorization")) if authenticated else None
        )
        if principal:
            logger().append_keys(user_id=principal.user_id, account_id=principal.account_id)
        return handler(Call(request, cur, principal, request_id, query), *args)


def json_response(status: int, body: Any, request_id: str, extra_headers: dict | None = None) -> Response:
    headers = (extra_headers or {}) | {"Content-Type": JSON, "X-Request-Id": request_id}
    if status == 204:
        return Response(body="", status_code=204, headers={"X-Request-Id": request_id})
    return Response(body=jsonutil.dumps(body), status_code=status, headers=headers)
