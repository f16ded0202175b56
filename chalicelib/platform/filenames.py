"""One rule for turning a name someone gave into a piece of an S3 key or a file name in a zip."""

MAX_LENGTH = 120


def safe_filename(name: str, default: str = "upload") -> str:
    """Letters, digits, `.`, `_` and `-` kept, anything else `_`; the end kept when too long, since the
    extension is there."""
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name)[-MAX_LENGTH:] or default
