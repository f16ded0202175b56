"""One rule for turning a name someone gave into a piece of an S3 key or a file name in a zip."""

import re

MAX_LENGTH = 120
SEGMENTS = re.compile(r"[/\\]")


def safe_filename(name: str, default: str = "upload") -> str:
    """Letters, digits, `.`, `_` and `-` kept, anything else `_`; the end kept when too long, since the
    extension is there. A name of only dots (`..`) would read as a step in a path: `default` instead."""
    kept = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)[-MAX_LENGTH:]
    return default if is_dot_only(kept) else kept or default


def is_dot_only(name: str) -> bool:
    """`.`, `..`, `...`: a name made only of dots."""
    return bool(name) and not name.strip(".")


def has_dot_segment(name: str) -> bool:
    """Whether the name, or a part of it between slashes, is made only of dots."""
    return any(is_dot_only(segment) for segment in SEGMENTS.split(name))
