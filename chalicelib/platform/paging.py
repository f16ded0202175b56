"""Keyset paging shared by every list endpoint: `?limit=&cursor=` in, `{results, next_cursor}` out.

The cursor is opaque to clients (base64 of the last row's key) so the key can grow columns later.
"""

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.platform import problems

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


@dataclass(frozen=True)
class PageRequest:
    limit: int
    after: Any | None


def page_request(params: Mapping[str, str], key_shape: tuple[type, ...] = (int,)) -> PageRequest:
    """`key_shape`: the types of the key's parts, (int,) for an id, (str, int) for (timestamp, id)."""
    return PageRequest(_limit(params.get("limit")), _decode(params.get("cursor"), key_shape))


def _limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise problems.invalid_parameter("limit", f"must be an integer from 1 to {MAX_LIMIT}")
    return int(raw)


def _decode(cursor: str | None, key_shape: tuple[type, ...]) -> Any | None:
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise problems.invalid_parameter("cursor", "is not a cursor this API returned") from error
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
