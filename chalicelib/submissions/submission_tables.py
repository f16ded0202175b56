"""A form's answers as tables: one column per question, one table per repeat.

The columns come from the form versions' descriptors (pyxform's JSON), in form order, the newest
version first and then what older ones asked and newer ones dropped, so that every submission of the
form has a column for each of its answers. A question inside a repeat goes to that repeat's table,
whose rows carry the submission id and the entry's position (`2`, or `2.1` inside a nested repeat).
"""

from dataclasses import dataclass, field

SKIPPED_TYPES = ("note",)  # a note holds no answer


@dataclass
class Table:
    name: str  # "submissions" or the repeat's path joined with "/"
    path: tuple[str, ...]  # where the table's rows live in the answers; () for the main table
    columns: list[tuple[str, ...]] = field(default_factory=list)  # question paths below `path`
    labels: dict[tuple[str, ...], str] = field(default_factory=dict)


def tables_of(descriptors: list[dict]) -> list[Table]:
    """The main table first, then one per repeat, from the descriptors newest first."""
    tables: dict[tuple[str, ...], Table] = {(): Table("submissions", ())}
    for descriptor in descriptors:
        _walk(descriptor, (), tables[()], tables)
    return list(tables.values())


def _walk(node: dict, path: tuple[str, ...], table: Table, tables: dict) -> None:
    for child in node.get("children", []):
        child_path = (*path, child.get("name", ""))
        kind = child.get("type")
        if kind == "repeat":
            repeat = tables.setdefault(child_path, Table("/".join(child_path), child_path))
            _walk(child, child_path, repeat, tables)
        elif kind == "group":
            _walk(child, child_path, table, tables)
        elif kind not in SKIPPED_TYPES:
            column = child_path[len(table.path) :]
            if column not in table.labels:
                table.columns.append(column)
                table.labels[column] = _label(child.get("label")) or child.get("name", "")


def _label(label) -> str | None:
    """A label in the form's default language (the first given when there are several)."""
    if isinstance(label, dict):
        return next(iter(label.values()), None)
    return label


def headers(table: Table, with_labels: bool) -> list[str]:
    if with_labels:
        return [table.labels[column] for column in table.columns]
    return ["/".join(column) for column in table.columns]


def main_values(table: Table, answers: dict) -> list:
    return [_at(answers, column) for column in table.columns]


def repeat_rows(table: Table, answers: dict) -> list[tuple[str, list]]:
    """(position, values) for each entry of the repeat in these answers."""
    return [(position, [_at(entry, column) for column in table.columns])
            for position, entry in _entries(answers, table.path, "")]  # fmt: skip


def _entries(node, path: tuple[str, ...], position: str):
    """The repeat's entries under `node`, numbered from 1 (dotted below an outer repeat's number)."""
    if not path:
        return
    value = node.get(path[0]) if isinstance(node, dict) else None
    entries = value if isinstance(value, list) else [value] if value is not None else []
    for number, entry in enumerate(entries, start=1):
        here = f"{position}.{number}" if position else str(number)
        if len(path) == 1:
            yield here, entry
        elif isinstance(value, list):  # an outer repeat: number through it
            yield from _entries(entry, path[1:], here)
        else:
            yield from _entries(entry, path[1:], position)


def _at(node, path: tuple[str, ...]):
    for name in path:
        if not isinstance(node, dict):
            return None
        node = node.get(name)
    return node if not isinstance(node, dict | list) else None
