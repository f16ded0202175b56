"""NUL characters in a request's values: PostgreSQL's text and jsonb cannot hold them, so the contract
refuses them by name (a 400) before they reach the database (where they would be a 500)."""

from collections.abc import Mapping
from typing import Any

import msgspec

NUL = "\x00"
NUL_ESCAPE = b"\\u0000"  # how a JSON text spells it (raw control characters are malformed JSON)


def path_in_json(raw: bytes) -> str | None:
    """The path (`a.b[0]`, "" for the whole) of a string of the JSON text holding a NUL, or of the
    object whose key does; None when there is none (or the text is malformed: decoding says how)."""
    if NUL_ESCAPE not in raw:  # the common case costs one scan of the bytes
        return None
    try:
        value = msgspec.json.decode(raw)
    except (msgspec.DecodeError, RecursionError):
        return None
    return _path_of_nul(value)


def name_in_params(params: Mapping[str, str]) -> str | None:
    """The query parameter whose name or value holds a NUL (its name written out), if any."""
    for name, value in dict(params).items():
        if NUL in name or NUL in value:
            return name.replace(NUL, "\\x00")
    return None


def _path_of_nul(value: Any) -> str | None:
    stack = [("", value)]
    while stack:  # without recursion: a body's depth is bounded, but by its caller
        path, item = stack.pop()
        if isinstance(item, str) and NUL in item or isinstance(item, dict) and any(NUL in k for k in item):
            return path
        if isinstance(item, dict):
            stack.extend((f"{path}.{key}" if path else key, inner) for key, inner in item.items())
        elif isinstance(item, list):
            stack.extend((f"{path}[{index}]", inner) for index, inner in enumerate(item))
    return None
