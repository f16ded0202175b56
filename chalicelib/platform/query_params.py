"""Query-string values read one by one, with 400s that name the parameter."""

from collections.abc import Mapping

from chalicelib.platform import problems


def id_param(params: Mapping[str, str], name: str) -> int | None:
    raw = params.get(name)
    if raw is None:
        return None
    if not raw.isdigit():
        raise problems.invalid_parameter(name, "must be an id")
    return int(raw)


def bool_param(params: Mapping[str, str], name: str, default: bool | None = None) -> bool | None:
    raw = params.get(name)
    if raw is None:
        return default
    if raw.lower() not in ("true", "false", "1", "0"):
        raise problems.invalid_parameter(name, "must be true or false")
    return raw.lower() in ("true", "1")
