"""How deep a JSON text nests, found without parsing it (so without recursing)."""

import re

# What a JSON text's depth is counted on: strings (which may hold brackets) and anything else dropped.
JSON_NOT_BRACKETS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[^"\[\]{}]+')
BRACKET_PAIRS = bytes.maketrans(b"{}", b"[]")


def nests_deeper(raw: bytes, depth: int) -> bool:
    """Whether the JSON text's arrays and objects nest deeper than `depth`: its brackets alone, the
    innermost pairs peeled off once per level (each replace peels one)."""
    if raw.count(b"[") + raw.count(b"{") <= depth:
        return False
    brackets = JSON_NOT_BRACKETS.sub(b"", raw).translate(BRACKET_PAIRS, b'"')  # a stray quote: malformed
    for _ in range(depth):
        brackets = brackets.replace(b"[]", b"")
    return b"[" in brackets
