"""A form's repeat groups as ODK Central's OData serves them: a table each, `Submissions.<path>` (the
sanitized names of the groups and repeats down to it, joined by dots), listed in the service document.

A repeat row has the repeat's fields (groups nested, nested repeats as navigation links), `__id` and
its parent's key: `__Submissions-id` (the instanceID) under the submission, or
`__Submissions-<path of the parent repeat>-id` under another repeat. A repeat row's `__id` is
Central's: SHA-1 of `Submissions#<instanceID>`, `<group>#` and `<repeat>#<index from 0>` down to it,
joined by `%%`, so that ids (and skiptokens) are the same as Central would give for the same XML.
"""

import hashlib
import urllib.parse

from chalicelib.submissions.odata_feed import URL_SAFE, Field, fill, frame, identifier


def tables(fields: tuple[Field, ...], prefix: tuple[str, ...] = ()) -> list[str]:
    """The repeat tables, in the form's order (Central's service document)."""
    names = []
    for field in fields:
        path = (*prefix, identifier(field.name))
        if field.kind == "repeat":
            names.append(".".join(("Submissions", *path)))
        if field.kind in ("group", "repeat"):
            names += tables(field.children, path)
    return names


def chain(fields: tuple[Field, ...], table: str) -> tuple[Field, ...] | None:
    """The groups and repeats from the submission down to the table's repeat; None if it is no table."""
    parts = table.split(".")
    if parts[0] != "Submissions" or len(parts) < 2:
        return None
    found: list[Field] = []
    for part in parts[1:]:
        match = next(
            (f for f in fields if identifier(f.name) == part and f.kind in ("group", "repeat")), None
        )
        if match is None:
            return None
        found.append(match)
        fields = match.children
    return tuple(found) if found[-1].kind == "repeat" else None


def rows(path: tuple[Field, ...], answers, instance_id: str, wkt: bool) -> list[dict]:
    """The submission's rows of the repeat table `path` leads to, in document order."""
    out: list[dict] = []
    _descend(path, 0, answers, [], ("__Submissions-id", instance_id), instance_id, wkt, out)
    return out


def _descend(path: tuple[Field, ...], level: int, value, trail: list, parent: tuple[str, str],
             instance_id: str, wkt: bool, out: list) -> None:  # fmt: skip
    field = path[level]
    entry = value.get(field.name) if isinstance(value, dict) else None
    if field.kind == "group":
        _descend(path, level + 1, entry, [*trail, (field, None)], parent, instance_id, wkt, out)
        return
    for index, item in enumerate(
        entry if isinstance(entry, list) else [entry] if isinstance(entry, dict) else []
    ):
        here = [*trail, (field, index)]
        row_id = hash_id(instance_id, here)
        if level == len(path) - 1:
            out.append(_row(field, item, row_id, parent, _link(instance_id, here), wkt))
        else:
            key = "__Submissions-" + "-".join(identifier(f.name) for f, _ in here) + "-id"
            _descend(path, level + 1, item, here, (key, row_id), instance_id, wkt, out)


def _row(field: Field, item, row_id: str, parent: tuple[str, str], link: str, wkt: bool) -> dict:
    shaped = frame(field.children)
    shaped["__id"] = row_id
    shaped[parent[0]] = parent[1]
    fill(shaped, field.children, item, link, wkt)
    return shaped


def hash_id(instance_id: str, trail: list) -> str:
    parts = [f"Submissions#{instance_id}"]
    parts += [f"{field.name}#" if index is None else f"{field.name}#{index}" for field, index in trail]
    return hashlib.sha1("%%".join(parts).encode()).hexdigest()


def _link(instance_id: str, trail: list) -> str:
    """Where a row's nested repeats are: each repeat down to it named with its row's id."""
    segments = [f"Submissions('{urllib.parse.quote(instance_id, safe=URL_SAFE)}')"]
    for at, (field, index) in enumerate(trail):
        name = identifier(field.name)
        segments.append(name if index is None else f"{name}('{hash_id(instance_id, trail[: at + 1])}')")
    return "/".join(segments)
