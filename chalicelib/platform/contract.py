"""The API's contract: each operation is declared once, by `@operation` on its handler function.

The decorator gives the method, path, permission, status and wording; the function's signature gives
the rest: `body: SomeBody` (a JSON body), `query: SomeQuery` (the query string), one parameter per
path segment (`project_id: PathId("project")`) and the return annotation (the response). From that
one declaration, handlers/http.py makes the Chalice route and platform/openapi.py the document.

Bodies and query strings are decoded by msgspec into the declared types; its errors become Problems
that name the field. Markers in `Annotated` types add what msgspec does not do: strip text, refuse
blank names, lower-case emails, sort id lists, and say what a field must be in our own words.
"""

import datetime
import inspect
import re
import types
import typing
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, UnsetType

from chalicelib.platform import json_depth, nul_text, problems
from chalicelib.platform.limits import JSON_MAX_DEPTH, limit_message

JSON = "application/json"
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_PATH_ID_DIGITS = 18  # a bigint has 19 digits; ids this long were never issued
KEY_SEGMENT = "key"  # in an `also_at` path, the segment that is the caller's credential

__all__ = ["UNSET", "Meta", "UnsetType"]  # re-exported for declarations
MISSING = re.compile(r"^Object missing required field `(?P<name>[^`]+)`$")
UNKNOWN = re.compile(r"^Object contains unknown field `(?P<name>[^`]+)`$")
WORDS = {
    "int": "an integer",
    "str": "a string",
    "bool": "true or false",
    "float": "a number",
    "array": "a list",
    "object": "a JSON object",
    "null": "null",
}


# Markers


@dataclass(frozen=True)
class Reason:
    """What a field must be, said in the error when its value is refused."""

    text: str


@dataclass(frozen=True)
class PathId:
    """A numeric id in the path; anything else names no object, so it is not found (404 `kind`)."""

    kind: str


@dataclass(frozen=True)
class PathText:
    """A text segment of the path (an XForm id, an instance id), percent-decoded: API Gateway and
    Chalice's local server differ on decoding, and a decoded value has no `%` left to decode twice.
    Past 200 characters, or with a NUL, it names no object (404 `kind`)."""

    kind: str

    def __str__(self) -> str:
        return self.kind


STRIPPED, NOT_BLANK, LOWERED, SORTED_IDS, STRIPPED_LIST, EMAIL_ADDRESS = (
    "stripped",
    "not_blank",
    "lowered",
    "sorted_ids",
    "stripped_list",
    "email",
)


def text(max_length: int = 200, required: bool = False):
    """Text stripped of surrounding blanks; a required one must not be blank."""
    markers = (STRIPPED, NOT_BLANK) if required else (STRIPPED,)
    return Annotated[
        str,
        Meta(max_length=max_length),
        Reason(f"must be a string of at most {max_length} characters"),
        *markers,
    ]


Name = text(required=True)
Text = text()
Email = Annotated[
    str, Meta(max_length=254), Reason("must be an email address"), STRIPPED, EMAIL_ADDRESS, LOWERED
]
Password = Annotated[
    str, Meta(min_length=8, max_length=256), Reason("must be a string of 8 to 256 characters")
]
Secret = Annotated[str, Meta(max_length=256), Reason("must be a string of at most 256 characters")]
Id = Annotated[int, Meta(ge=1), Reason("must be an id (a positive integer)")]
Ids = Annotated[list[int], Reason("must be a list of integer ids"), SORTED_IDS]
Strings = Annotated[
    list[Annotated[str, Meta(max_length=200)]],
    Reason("must be a list of strings of at most 200 characters"),
    STRIPPED_LIST,
]
Date = Annotated[datetime.date, Reason("must be a date, YYYY-MM-DD")]
Timestamp = datetime.datetime
JsonObject = Annotated[dict[str, Any], Reason("must be a JSON object")]


def bounded(low: int | float, high: int | float, kind: type = int):
    return Annotated[kind, Meta(ge=low, le=high), Reason(f"must be a number from {low} to {high}")]


def one_of(*options: str):
    return Annotated[typing.Literal[options], Reason(f"must be one of {', '.join(sorted(options))}")]


# Wire types


class Body(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A JSON request body: unknown fields are refused, so typos do not pass silently."""

    def __post_init__(self) -> None:
        for name, markers in _markers(type(self)):
            value = getattr(self, name)
            if value is not UNSET and value is not None:
                setattr(self, name, _normalised(name, value, markers))


class Query(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A query string, decoded from its text values ("12", "true")."""


Limit = Annotated[int, Meta(ge=1, le=500), Reason("must be an integer from 1 to 500")]


class PageQuery(Query):
    limit: Limit = 50
    cursor: str | None = None


class Wire(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A response object. Unknown fields are refused where responses are checked (the tests), so
    what the API returns is exactly what its document says."""


def given(body: msgspec.Struct) -> dict[str, Any]:
    """The fields a body carries (null included), leaving out those it does not mention."""
    return {name: value for name in body.__struct_fields__ if (value := getattr(body, name)) is not UNSET}


def _normalised(name: str, value: Any, markers: frozenset[str]) -> Any:
    if STRIPPED in markers:
        value = value.strip()
        if NOT_BLANK in markers and not value:
            raise problems.invalid_field(name, "must not be blank")
    if EMAIL_ADDRESS in markers and not EMAIL.match(value):
        raise problems.invalid_field(name, "must be an email address")
    if LOWERED in markers:
        value = value.lower()
    if SORTED_IDS in markers:
        value = sorted(set(value))
    if STRIPPED_LIST in markers:
        value = [item.strip() for item in value if item.strip()]
    return value


@cache
def _markers(cls: type) -> tuple[tuple[str, frozenset[str]], ...]:
    found = []
    for info in msgspec.structs.fields(cls):
        markers = frozenset(m for m in _metadata(info.type) if isinstance(m, str))
        if markers:
            found.append((info.name, markers))
    return tuple(found)


def _metadata(tp: Any) -> list:
    """The Annotated extras of a type, looking inside unions (`Text | None`)."""
    if typing.get_origin(tp) is Annotated:
        return list(tp.__metadata__)
    return [extra for arg in typing.get_args(tp) for extra in _metadata(arg)]


# Operations


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    function: Callable[..., Any]
    summary: str
    tag: str
    status: int = 200
    permission: str | None = None
    auth: str = "bearer"  # "none", "openrosa" (Digest/Basic after a challenge, or Bearer), "openrosa_key"
    database: bool = True
    body: type | None = None
    raw: tuple[str, ...] = ()  # content types handed to the function as they are
    query: type | None = None
    path_ids: dict[str, "str | PathText"] = field(default_factory=dict)  # parameter -> kind (or marker)
    response: Any = None  # a wire type, None for no body, or `raw_response`
    produces: str = JSON
    alternatives: dict[str, Any] = field(default_factory=dict)  # other content types of the success
    other_responses: dict[int, Any] = field(default_factory=dict)  # e.g. 503 for health

    @property
    def operation_id(self) -> str:
        words = self.path.removeprefix("/api/").replace("{", "").replace("}", "")
        return f"{self.method.lower()}_{re.sub(r'[^a-zA-Z0-9]+', '_', words)}".rstrip("_")

    @property
    def consumes(self) -> tuple[str, ...]:
        return ((JSON,) if self.body else ()) + self.raw


class RawResponse:
    """The return annotation of a handler that builds its own response (XML, GeoJSON, a file)."""


def operation(
    method: str, path: str, *, summary: str, tag: str, also_at: str | None = None, **options
) -> Callable:
    """`also_at`: the operation also at a path whose `{key}` segment is the credential (a Collect token)."""

    def declare(function: Callable) -> Callable:
        function.operation = _declared(method, path, function, summary, tag, options)
        keyed = options | {"auth": "openrosa_key"}
        function.keyed_operation = also_at and _declared(method, also_at, function, summary, tag, keyed)
        return function

    return declare


def _declared(method: str, path: str, function: Callable, summary: str, tag: str, options: dict) -> Operation:
    hints = typing.get_type_hints(function, include_extras=True)
    segments = [name for name in re.findall(r"{(\w+)}", path) if name != KEY_SEGMENT]
    path_ids = {}
    for name in segments:
        markers = _metadata(hints.get(name))
        marker = next((m for m in markers if isinstance(m, PathId | PathText)), None)
        if marker is None:
            raise TypeError(f"{function.__qualname__}: path parameter {name} needs a PathId annotation")
        path_ids[name] = marker.kind if isinstance(marker, PathId) else marker
    parameters = set(inspect.signature(function).parameters) - {"call", "body", "query"}
    if parameters != set(segments):
        raise TypeError(
            f"{function.__qualname__}: parameters {sorted(parameters)} are not the path's {segments}"
        )
    body = _plain(hints.get("body"))
    returned = hints.get("return")
    response = None if returned is type(None) else returned
    return Operation(
        method,
        path,
        function,
        summary,
        tag,
        body=body,
        query=hints.get("query"),
        path_ids=path_ids,
        response=response,
        **options,
    )


def _plain(tp: Any) -> type | None:
    """`SomeBody | None` (a body that may also come raw) is SomeBody."""
    members = [arg for arg in typing.get_args(tp) if arg is not type(None)] if typing.get_args(tp) else [tp]
    return members[0] if tp is not None else None


def operations_of(module) -> list[Operation]:
    declared = [
        op
        for value in vars(module).values()
        if callable(value) and isinstance(getattr(value, "operation", None), Operation)
        for op in (value.operation, getattr(value, "keyed_operation", None))
        if op
    ]
    return sorted(declared, key=lambda op: op.function.__code__.co_firstlineno)


# Decoding requests


def path_value(kind: "str | PathText", raw: str) -> Any:
    if isinstance(kind, PathText):
        text = urllib.parse.unquote(raw)
        if not text or len(text) > 200 or "\x00" in text:
            raise problems.not_found(kind.kind, raw[:200])
        return text
    if not raw.isdigit() or len(raw) > MAX_PATH_ID_DIGITS:
        raise problems.not_found(kind, raw)
    return int(raw)


def decode_body(body_type: type, raw: bytes | None) -> Any:
    raw = raw or b"{}"
    if json_depth.nests_deeper(raw, JSON_MAX_DEPTH):
        raise _too_deep()
    if (path := nul_text.path_in_json(raw)) is not None:
        raise problems.invalid_field(path or "body", "must not contain NUL characters")
    try:
        return msgspec.json.decode(raw, type=body_type)
    except RecursionError as error:  # what msgspec raises past Python's recursion limit, not a 500
        raise _too_deep() from error
    except msgspec.ValidationError as error:
        raise _field_problem(body_type, str(error), problems.invalid_field, "Field") from error
    except msgspec.DecodeError as error:
        raise problems.invalid_json(str(error).removeprefix("JSON is malformed: ")) from error


def _too_deep() -> problems.Problem:
    return problems.invalid_json(limit_message("its nesting", "JSON_MAX_DEPTH", "levels"))


def decode_query(query_type: type, params: Mapping[str, str]) -> Any:
    if (name := nul_text.name_in_params(params)) is not None:
        raise problems.invalid_parameter(name, "must not contain NUL characters")
    try:
        return msgspec.convert(dict(params), query_type, strict=False)
    except msgspec.ValidationError as error:
        raise _field_problem(query_type, str(error), problems.invalid_parameter, "Query parameter") from error


def _field_problem(root: type, message: str, invalid: Callable, noun: str) -> problems.Problem:
    detail, _, at = message.partition(" - at `$")
    path = at.rstrip("`").lstrip(".").replace("[...]", "")  # a value of a mapping: the mapping is the field
    if match := MISSING.match(detail):
        name = _joined(path, match["name"])
        if invalid is problems.invalid_parameter:
            return problems.invalid_parameter(name, "is required")
        return problems.missing_field(name)
    if match := UNKNOWN.match(detail):
        name = _joined(path, match["name"])
        if invalid is problems.invalid_parameter:
            known = ", ".join(f.name for f in msgspec.structs.fields(root))
            return problems.invalid_parameter(name, f"is not a parameter here; known: {known}")
        return problems.unknown_fields([name])
    if not path and detail.startswith("Expected `object`"):
        return problems.Problem(400, "request.invalid_body", "The request body must be a JSON object.")
    reason = _reason(root, path) or _reworded(detail)
    return invalid(path or noun.lower(), reason)


def _joined(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _reason(root: type, path: str) -> str | None:
    """The Reason marker of the field at `path` (`files[0].size`), if its declaration has one."""
    tp: Any = root
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        tp = _strip_optional(tp)
        if part.startswith("["):
            args = typing.get_args(_bare(tp))
            tp = args[0] if args else None
        elif isinstance(_bare(tp), type) and issubclass(_bare(tp), msgspec.Struct):
            fields = {f.name: f.type for f in msgspec.structs.fields(_bare(tp))}
            tp = fields.get(part)
        else:
            return None
        if tp is None:
            return None
    return next((m.text for m in _metadata(tp) if isinstance(m, Reason)), None)


def _bare(tp: Any) -> Any:
    return typing.get_args(tp)[0] if typing.get_origin(tp) is Annotated else tp


def _strip_optional(tp: Any) -> Any:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(tp) if a not in (type(None), UnsetType)]
        return members[0] if len(members) == 1 else tp
    return tp


def _reworded(detail: str) -> str:
    """msgspec's wording ("Expected `int`, got `str`") in ours ("must be an integer")."""
    if match := re.match(r"^Expected `(\w+)`, got `\w+`$", detail):
        return f"must be {WORDS.get(match[1], match[1])}"
    if match := re.match(r"^Expected `str` of length (<=|>=) (\d+)$", detail):
        return f"must be at {'most' if match[1] == '<=' else 'least'} {match[2]} characters"
    if match := re.match(r"^Expected `(?:int|float)` (<=|>=|<|>) ([\d.e+-]+)$", detail):
        return f"must be {match[1]} {match[2]}"
    return detail[0].lower() + detail[1:]
