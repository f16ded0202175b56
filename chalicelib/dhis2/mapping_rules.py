"""Data-value mappings: which question of a form goes to which DHIS2 data element (and category
option combo) of a data set, on a connection. A mapping is checked against the form version it names,
or the form's newest version: every question must exist there, outside any repeat (a data value is
one number per unit and period, a repeat has many), and hold an answer DHIS2 can store.

Form managers and admins write mappings and run them; whoever reads submissions reads them. Another
account's mapping, connection or form is a 404.
"""

import re

from chalicelib.dhis2 import mapping_sql
from chalicelib.identity.permissions import MANAGE_FORMS, READ_SUBMISSIONS, Principal, require
from chalicelib.platform import problems
from chalicelib.registry import units

UID = re.compile(r"[A-Za-z][A-Za-z0-9]{10}")
MAX_ELEMENTS = 1000
# pyxform's types whose answer is one value DHIS2 can take (a number, text, a date, a choice's name).
SENDABLE = ("integer", "decimal", "range", "text", "string", "select one", "date", "calculate", "hidden",
            "barcode", "acknowledge", "time", "datetime")  # fmt: skip


def create(cur, principal: Principal, fields: dict) -> dict:
    """`fields`: name, connection_id, form_id, form_version_id?, data_set, attribute_option_combo?,
    elements [{question, data_element, category_option_combo?}], approved_only."""
    require(principal, MANAGE_FORMS)
    units.require_unrestricted(cur, principal, "map a form to DHIS2")
    account_id = principal.account_id
    if not mapping_sql.connection_exists(cur, account_id, fields["connection_id"]):
        raise problems.not_found("dhis2_connection", fields["connection_id"])
    if mapping_sql.form(cur, account_id, fields["form_id"]) is None:
        raise problems.not_found("form", fields["form_id"])
    version = mapping_sql.descriptor(cur, account_id, fields["form_id"], fields.get("form_version_id"))
    if version is None:
        if fields.get("form_version_id") is not None:
            raise problems.invalid_field("form_version_id", "is not a version of this form")
        raise problems.invalid_field("form_id", "has no version yet: upload an XLSForm first")
    check_uid("data_set", fields["data_set"])
    if fields.get("attribute_option_combo") is not None:
        check_uid("attribute_option_combo", fields["attribute_option_combo"])
    elements = checked_elements(fields["elements"], version)
    values = {k: fields.get(k) for k in ("connection_id", "form_id", "form_version_id", "name", "data_set",
                                         "attribute_option_combo")}  # fmt: skip
    values |= {"account_id": account_id, "elements": elements, "created_by": principal.user_id}
    values["approved_only"] = bool(fields.get("approved_only"))
    return mapping_sql.get(cur, account_id, mapping_sql.insert(cur, values))


def get(cur, principal: Principal, mapping_id: int) -> dict:
    require(principal, READ_SUBMISSIONS)
    row = mapping_sql.get(cur, principal.account_id, mapping_id)
    if row is None:
        raise problems.not_found("dhis2_data_mapping", mapping_id)
    return row


def list_page(cur, principal: Principal, after: int | None, limit: int) -> list[dict]:
    require(principal, READ_SUBMISSIONS)
    return mapping_sql.list_page(cur, principal.account_id, after, limit)


def delete(cur, principal: Principal, mapping_id: int) -> dict:
    """Deletes the mapping and its submissions' export statuses (DHIS2 keeps what it received)."""
    row = get(cur, principal, mapping_id)
    require(principal, MANAGE_FORMS)
    mapping_sql.delete(cur, principal.account_id, mapping_id)
    return row


def check_uid(field: str, value: str) -> None:
    if not UID.fullmatch(value or ""):
        raise problems.invalid_field(field, "must be a DHIS2 uid: 11 letters or digits, the first a letter")


def checked_elements(elements: list[dict], version: dict) -> list[dict]:
    """The elements with each question as its full path, or a 400 naming the element that is wrong."""
    if not elements:
        raise problems.invalid_field("elements", "must map at least one question")
    if len(elements) > MAX_ELEMENTS:
        raise problems.invalid_field("elements", f"maps more than {MAX_ELEMENTS} questions")
    questions = questions_of(version["descriptor"])
    checked, seen = [], {}
    for index, element in enumerate(elements):
        where = f"elements[{index}]"
        path = _question_path(where, element["question"], questions, version["number"])
        check_uid(f"{where}.data_element", element["data_element"])
        combo = element.get("category_option_combo")
        if combo is not None:
            check_uid(f"{where}.category_option_combo", combo)
        target = (element["data_element"], combo)
        if target in seen:
            raise problems.invalid_field(where, f"sends to the same data element and combo as {seen[target]}")
        seen[target] = where
        checked.append(
            {"question": path, "data_element": element["data_element"], "category_option_combo": combo}
        )
    return checked


def _question_path(where: str, question: str, questions: dict[str, tuple[str, bool]], number: int) -> str:
    """A question by its path ("group/name") or, when unique, its name alone."""
    candidates = [path for path in questions if path == question or path.rsplit("/", 1)[-1] == question]
    if question in questions:
        candidates = [question]
    if not candidates:
        raise problems.invalid_field(
            f"{where}.question", f"form version {number} has no question {question!r}"
        )
    if len(candidates) > 1:
        listed = ", ".join(sorted(candidates))
        raise problems.invalid_field(
            f"{where}.question", f"{question!r} names several questions: give the path ({listed})"
        )
    path = candidates[0]
    kind, in_repeat = questions[path]
    if in_repeat:
        raise problems.invalid_field(
            f"{where}.question",
            f"question {path!r} is inside a repeat: a data value takes one answer per submission",
        )
    if kind not in SENDABLE:
        raise problems.invalid_field(
            f"{where}.question",
            f"question {path!r} is a {kind}: DHIS2 data values take numbers, text, dates or one choice",
        )
    return path


def questions_of(descriptor: dict) -> dict[str, tuple[str, bool]]:
    """Every question's (and group's) path → (pyxform type, inside a repeat)."""
    found: dict[str, tuple[str, bool]] = {}

    def walk(node: dict, prefix: str, in_repeat: bool) -> None:
        for child in node.get("children") or []:
            name, kind = child.get("name"), child.get("type")
            if not name or not kind:
                continue
            path = f"{prefix}{name}"
            if kind != "note":  # a note holds no answer: as if absent
                found[path] = (kind, in_repeat)
            if kind in ("group", "repeat"):
                walk(child, f"{path}/", in_repeat or kind == "repeat")

    walk(descriptor, "", False)
    return found
