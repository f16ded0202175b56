"""The HTTP edge: the declared operations (platform/contract.py) become Chalice routes here.

`mount` registers one route per operation and keeps the list the OpenAPI document is made from.
`serve` is each route's body: it opens the request's transaction (an operation declared with
`database=False` opens its own: the caller is then checked in a short one first), authenticates
the caller, checks the declared permission, decodes the path, query and body into their declared
types, calls the operation, and turns Problems (and anything unexpected) into `{"error": {...}}`
responses. Chalice would turn a view's exception into its own 500 before middleware runs (chalice
#1884), hence this wrapper; the middleware below only rewrites the errors Chalice answers itself
(405) in our shape.
"""

import uuid
from dataclasses import dataclass
from typing import Any

import msgspec
from chalice import Chalice
from chalice.app import Request, Response

from chalicelib.forms import openrosa, openrosa_auth
from chalicelib.identity import authentication
from chalicelib.identity.permissions import Principal, require
from chalicelib.platform import config, contract, db, jsonutil, problems
from chalicelib.platform.contract import JSON, Operation
from chalicelib.platform.limits import PAGE_MAX_BYTES
from chalicelib.platform.observability import logger

MOUNTED: list[Operation] = []
# Never binary: we answer with XML as text, and API Gateway turns a binary type's answer back into
# bytes only for clients whose Accept names it (ODK Collect sends none); XML bodies come as UTF-8 text.
TEXT_ANSWERS = {"text/xml", "application/xml"}
GEOJSON = "application/geo+json"


@dataclass
class Call:
    """What an operation gets besides its typed arguments: the request, its transaction's cursor,
    and the caller."""

    request: Request
    cur: Any
    principal: Principal | None
    request_id: str


def mount(app: Chalice, *modules) -> None:
    for module in modules:
        for op in contract.operations_of(module):
            _route(app, op)
            MOUNTED.append(op)
    raw_types = {kind for op in MOUNTED for kind in op.raw} - TEXT_ANSWERS
    raw_types |= {op.produces for op in MOUNTED} - TEXT_ANSWERS - {JSON}  # answers in bytes (tiles)
    # API Gateway passes these bodies untouched (base64) only if the API lists them as binary.
    app.api.binary_types.extend(sorted(raw_types - set(app.api.binary_types)))
    app.register_middleware(_chalice_errors_in_our_shape, "http")


def _route(app: Chalice, op: Operation) -> None:
    def view(**path_args: str) -> Response:
        return serve(op, app.current_request, path_args)

    # Every content type reaches us, so that a wrong one gets our 415 rather than Chalice's.
    app.route(op.path, methods=[op.method], content_types=["*/*"], name=op.operation_id)(view)


def serve(op: Operation, request: Request, path_args: dict[str, str]) -> Response:
    request_id = (request.context or {}).get("requestId") or str(uuid.uuid4())
    logger().set_correlation_id(request_id)
    logger().remove_keys(["user_id", "account_id"])  # left by the previous warm invocation
    try:
        result = _invoke(op, request, request_id, path_args)
    except problems.Problem as problem:
        logger().info("request refused", extra={"code": problem.code, "status": problem.status})
        headers = (openrosa.response_headers() if _is_openrosa(op) else {}) | problem.headers
        return json_response(problem.status, problem.body(), request_id, headers)
    except Exception:
        logger().exception("unhandled error")
        body = problems.Problem(500, "server.error", f"Internal error; quote request id {request_id}.")
        return json_response(500, body.body(), request_id)
    if isinstance(result, Response):
        result.headers["X-Request-Id"] = request_id
        response = result
    else:
        response = json_response(op.status, result, request_id)
    if _too_large(response):
        problem = problems.response_too_large(len(response.body))
        logger().warning("response too large", extra={"bytes": len(response.body)})
        response = json_response(problem.status, problem.body(), request_id)
    if _is_openrosa(op):  # OpenRosa clients expect its headers on every answer, not only errors
        response.headers = openrosa.response_headers() | response.headers
    if config.settings().check_responses:
        check_response(op, response)
    return response


def _is_openrosa(op: Operation) -> bool:
    return op.auth in ("openrosa", "openrosa_key")


def _too_large(response: Response) -> bool:
    """The last guard of the Lambda's response limit, whatever an operation returns (lists check their
    own pages first and say how many rows fit)."""
    return isinstance(response.body, str | bytes) and len(response.body) > PAGE_MAX_BYTES


def _invoke(op: Operation, request: Request, request_id: str, path_args: dict[str, str]) -> Any:
    if op.database:
        with db.transaction() as cur:
            call = Call(request, cur, _checked_caller(op, cur, request), request_id)
            return op.function(call, **_arguments(op, request, path_args))
    # Without the request's transaction (heavy work opens its own), the caller is checked in a short one.
    principal = None
    if op.auth != "none":
        with db.transaction() as cur:
            principal = _checked_caller(op, cur, request)
    return op.function(Call(request, None, principal, request_id), **_arguments(op, request, path_args))


def _checked_caller(op: Operation, cur, request: Request) -> Principal | None:
    principal = _caller(op, cur, request)
    if principal:
        logger().append_keys(user_id=principal.user_id, account_id=principal.account_id)
        if op.permission:
            require(principal, op.permission)
    return principal


def client_address(request: Request) -> str | None:
    """The client's address as API Gateway saw it; X-Forwarded-For is the client's to write."""
    return ((request.context or {}).get("identity") or {}).get("sourceIp")


def _caller(op: Operation, cur, request: Request) -> Principal | None:
    if op.auth == "none":
        return None
    if op.auth == "openrosa":
        sent = openrosa_auth.sent_paths(request.context or {})  # what a Digest answer names
        return openrosa_auth.authenticate(cur, request.headers, request.method, sent, client_address(request))
    if op.auth == "openrosa_key":
        params = request.uri_params or {}
        return openrosa_auth.by_token(cur, params.get(contract.KEY_SEGMENT, ""), params.get("project_id", ""))
    return authentication.authenticate(cur, request.headers.get("authorization"))


def _arguments(op: Operation, request: Request, path_args: dict[str, str]) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        name: contract.path_value(kind, path_args[name]) for name, kind in op.path_ids.items()
    }
    if op.query is not None:
        arguments["query"] = contract.decode_query(op.query, request.query_params or {})
    if op.consumes:
        arguments |= _body(op, request)
    return arguments


def _body(op: Operation, request: Request) -> dict[str, Any]:
    content_type = (request.headers.get("content-type") or JSON).split(";")[0].strip().lower()
    if content_type not in op.consumes:
        raise problems.unsupported_media_type(content_type, op.consumes)
    if content_type != JSON:
        return {"body": None} if op.body else {}
    return {"body": contract.decode_body(op.body, request.raw_body)}


def json_response(status: int, body: Any, request_id: str, extra_headers: dict | None = None) -> Response:
    headers = (extra_headers or {}) | {"Content-Type": JSON, "X-Request-Id": request_id}
    if status == 204:
        return Response(body="", status_code=204, headers={"X-Request-Id": request_id})
    return Response(body=jsonutil.dumps(body), status_code=status, headers=headers)


def wants_geojson(request: Request, format_param: str | None) -> bool:
    """`?format=geojson`, or an Accept header naming GeoJSON."""
    return format_param == "geojson" or GEOJSON in (request.headers.get("accept") or "")


def geojson_response(body: dict) -> Response:
    return Response(body=jsonutil.dumps(body), status_code=200, headers={"Content-Type": GEOJSON})


def check_response(op: Operation, response: Response) -> None:
    """In the tests: a JSON response must be exactly what the operation declares (no field more,
    none missing, no null where none is declared)."""
    content_type = (response.headers.get("Content-Type") or "").split(";")[0]
    declared = op.alternatives.get(content_type) or op.other_responses.get(response.status_code)
    if declared is None and response.status_code == op.status and content_type == op.produces:
        declared = op.response
    if declared is None or declared is contract.RawResponse or response.status_code >= 400:
        return
    try:
        msgspec.json.decode(response.body, type=declared)
    except msgspec.ValidationError as error:
        raise AssertionError(f"{op.method} {op.path} answered outside its declaration: {error}") from error


def _chalice_errors_in_our_shape(event: Request, get_response) -> Response:
    """Chalice answers a method the path does not have by itself (405, `{"Code", "Message"}`)."""
    response = get_response(event)
    body = response.body
    if isinstance(body, dict) and set(body) == {"Code", "Message"}:
        problem = problems.Problem(
            response.status_code, f"route.{_snake(body['Code'])}", body["Message"] + "."
        )
        if response.status_code == 405:
            allowed = response.headers.get("Allow", "")
            problem = problems.method_not_allowed(event.method, allowed.split(", ") if allowed else [])
        request_id = (event.context or {}).get("requestId") or str(uuid.uuid4())
        return Response(
            body=jsonutil.dumps(problem.body()),
            status_code=problem.status,
            headers=response.headers | {"Content-Type": JSON, "X-Request-Id": request_id},
        )
    return response


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
