"""Keyset paging shared by every list endpoint: `?limit=&cursor=` in, `{results, next_cursor}` out.

The cursor is opaque to clients (base64 of the last row's key) so the key can grow columns later.
"""

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.platform import problems
from chalicelib.platform.limits import limit_message


@dataclass(frozen=True)
class PageRequest:
    limit: int
    after: Any | None


def page_request(query, key_shape: tuple[type, ...] = (int,)) -> PageRequest:
    """From a query with `limit` (checked by its declaration) and `cursor`. `key_shape`: the types of
    the key's parts, (int,) for an id, (str, int) for (timestamp, id)."""
    return PageRequest(query.limit, _decode(query.cursor, key_shape))


def _decode(cursor: str | None, key_shape: tuple[type, ...]) -> Any | None:
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise problems.invalid_parameter("cursor", "is not a cursor this API returned") from error
    except RecursionError as error:  # arrays nested past Python's recursion limit
        nesting = limit_message("its nesting", "JSON_MAX_DEPTH", "levels")
        raise problems.invalid_parameter("cursor", f"is not a cursor this API returned: {nesting}") from error
    parts = key if isinstance(key, list) else [key]
    if len(parts) != len(key_shape) or not all(map(_is, parts, key_shape)):
        raise problems.invalid_parameter("cursor", "is not a cursor this API returned")
    return key


def _is(value: Any, kind: type) -> bool:
    return isinstance(value, kind) and not isinstance(value, bool)


def encode_cursor(key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def page(rows: list[dict], request: PageRequest, key: Callable[[dict], Any] = lambda row: row["id"]) -> dict:
    """`rows` were fetched with LIMIT request.limit + 1: the extra row only says there is more."""
    results = rows[: request.limit]
    more = len(rows) > request.limit
    return {"results": results, "next_cursor": encode_cursor(key(results[-1])) if more else None}
