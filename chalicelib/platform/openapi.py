"""The OpenAPI 3.1 document, generated from the declared operations (platform/contract.py): their
paths, parameters, bodies and responses, with JSON Schemas from msgspec."""

from typing import Any

import msgspec

from chalicelib.platform.contract import JSON, Operation, PathText, RawResponse

VERSION = "0.2.0"
REF = "#/components/schemas/{name}"
ERRORS = {
    400: "Bad input; details name the field or parameter",
    401: "Missing, expired or invalid credentials",
    403: "The caller's role does not allow this",
    404: "No such object in the caller's account",
    409: "Conflicts with existing data",
}
UNSUPPORTED = {415: "The body's Content-Type is not one this operation takes"}
SECURITY = {
    "bearer": [{"bearer": []}],
    "openrosa": [{"digest": []}, {"basic": []}, {"bearer": []}],
    "openrosa_key": [],  # the path's {key} is the credential
    "none": [],
}
KEY_PARAMETER = {
    "name": "key",
    "in": "path",
    "required": True,
    "description": "a Collect token (POST /api/projects/{project_id}/collect-tokens)",
    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
}
DESCRIPTION = (
    "Org-unit registry and field data collection. Errors are always "
    '{"error": {"code", "message", "details"}}. Authenticate with "Authorization: Bearer '
    '<token from /api/auth/login, or an API key>".'
)


class ErrorDetail(msgspec.Struct, forbid_unknown_fields=True):
    code: str
    message: str
    details: dict[str, Any]


class Error(msgspec.Struct, forbid_unknown_fields=True):
    error: ErrorDetail


def document(operations: list[Operation]) -> dict:
    types = _types(operations)
    schemas, components = msgspec.json.schema_components(types, ref_template=REF)
    refs = dict(zip(types, schemas, strict=True))
    paths: dict[str, dict] = {}
    for op in operations:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, refs, components)
    for op in operations:  # query strings are parameters, not components
        if op.query is not None:
            components.pop(op.query.__name__, None)
    return {
        "openapi": "3.1.0",
        "info": {"title": "georegistry", "version": VERSION, "description": DESCRIPTION},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "basic": {"type": "http", "scheme": "basic"},
                "digest": {"type": "http", "scheme": "digest"},
            },
        },
    }


def _types(operations: list[Operation]) -> list:
    found: list = [Error]
    for op in operations:
        candidates = [op.body, op.query, op.response, *op.alternatives.values(), *op.other_responses.values()]
        found += [tp for tp in candidates if _is_schema(tp) and tp not in found]
    _refuse_clashing_names(found)
    return found


def _refuse_clashing_names(types: list) -> None:
    """Schemas are named by their class: two classes of one name would silently share a schema."""
    seen: dict[str, type] = {}
    for tp in filter(lambda tp: isinstance(tp, type), types):  # not Page[X]: msgspec names those itself
        name = tp.__name__
        if name in seen and seen[name] is not tp:
            raise TypeError(f"two schemas are named {name}: {seen[name].__module__} and {tp.__module__}")
        seen.setdefault(name, tp)


def _is_schema(tp: Any) -> bool:
    return tp is not None and tp is not RawResponse and not isinstance(tp, str)


def _operation(op: Operation, refs: dict, components: dict) -> dict:
    operation: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "tags": [op.tag],
        "security": SECURITY[op.auth],
        "responses": _responses(op, refs),
    }
    if op.permission:
        operation["description"] = f"Needs the permission `{op.permission}`."
        operation["x-permission"] = op.permission
    parameters = _path_parameters(op) + _query_parameters(op, refs, components)
    if parameters:
        operation["parameters"] = parameters
    if op.consumes:
        content = {kind: {"schema": refs[op.body] if kind == JSON else {}} for kind in op.consumes}
        operation["requestBody"] = {"required": op.body is not None and not op.raw, "content": content}
    return operation


def _responses(op: Operation, refs: dict) -> dict:
    success: dict[str, Any] = {"description": "Success"}
    content = {}
    if _is_schema(op.response):
        content[op.produces] = {"schema": refs[op.response]}
    elif op.response is RawResponse:
        content[op.produces] = {"schema": {"type": "string"}}
    content |= {kind: {"schema": refs[tp]} for kind, tp in op.alternatives.items()}
    if content:
        success["content"] = content
    responses = {str(op.status): success}
    for status, tp in op.other_responses.items():
        schema = (
            {op.produces: {"schema": {"type": "string"}}}
            if tp is RawResponse
            else {JSON: {"schema": refs[tp]}}
        )
        responses[str(status)] = {"description": "See the body", "content": schema}
    errors = ERRORS | (UNSUPPORTED if op.consumes else {})
    for status, text in errors.items():
        responses.setdefault(str(status), {"description": text, "content": {JSON: {"schema": refs[Error]}}})
    return responses


def _path_parameters(op: Operation) -> list[dict]:
    return ([KEY_PARAMETER] if op.auth == "openrosa_key" else []) + [
        {
            "name": name,
            "in": "path",
            "required": True,
            "description": f"the {kind}'s id",
            "schema": {"type": "string", "minLength": 1, "maxLength": 200}
            if isinstance(kind, PathText)
            else {"type": "integer", "minimum": 0},
        }
        for name, kind in op.path_ids.items()
    ]


def _query_parameters(op: Operation, refs: dict, components: dict) -> list[dict]:
    if op.query is None:
        return []
    schema = components[op.query.__name__]
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": _parameter_schema(prop)}
        | ({"description": prop["description"]} if "description" in prop else {})
        for name, prop in schema["properties"].items()
    ]


def _parameter_schema(prop: dict) -> dict:
    """A query value is text on the wire; its schema says what the text must spell."""
    schema = {key: value for key, value in prop.items() if key not in ("description", "title")}
    return schema or {"type": "string"}
