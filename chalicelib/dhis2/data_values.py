"""From a submission to the data values DHIS2 takes, and from DHIS2's answer back to submissions.

A submission becomes one data value per mapped question it answered: {dataElement, period, orgUnit,
categoryOptionCombo?, attributeOptionCombo?, value}. It is skipped, with the reason, when its unit
has no DHIS2 uid, its period none DHIS2 knows, or it answered none of the mapped questions, or when a
newer submission of the form speaks for the same unit and period. `sent_hash` (SHA-256 of what would
be sent) tells a run that nothing changed since the last one.

Conflicts come back with `indexes` (DHIS2 2.37 and later: the positions of the values they hit) or,
from 2.36, only with an `object` (a uid, a period or a value) and a message: such a conflict is laid
on the values whose fields hold that object and every period or uid the message names that the batch
holds too. A conflict that fits no value stays in the run's result only.
"""

import hashlib
import json
import re
from dataclasses import dataclass, field

from chalicelib.dhis2.data_periods import PeriodProblem, dhis2_period
from chalicelib.dhis2.reports import Conflict

FIELDS = ("dataElement", "period", "orgUnit", "categoryOptionCombo", "attributeOptionCombo", "value")
TOKEN = re.compile(r"[A-Za-z0-9]+")


@dataclass
class Planned:
    """One submission's fate in a run: its values to send, or why it is not sent."""

    submission_id: int
    values: list[dict] = field(default_factory=list)
    sent_hash: str | None = None
    skipped: str | None = None
    unchanged: bool = False


def plan(row: dict, mapping: dict, period_type: str | None, force: bool) -> Planned:
    planned = Planned(row["id"])
    if row["latest_id"] is not None and row["latest_id"] != row["id"]:
        planned.skipped = f"superseded by submission {row['latest_id']} for the same unit and period"
        return planned
    if row["org_unit_id"] is None:
        planned.skipped = "the submission has no org unit"
        return planned
    if row["org_unit_uid"] is None:
        planned.skipped = (
            f"org unit {row['org_unit_id']} has no DHIS2 uid (a source_ref from DHIS2, or a push)"
        )
        return planned
    try:
        period = dhis2_period(row["period"], period_type)
    except PeriodProblem as problem:
        planned.skipped = str(problem)
        return planned
    planned.values = _values(row["answers"] or {}, mapping, period, row["org_unit_uid"])
    if not planned.values:
        planned.skipped = "no mapped question is answered"
        return planned
    planned.sent_hash = hashlib.sha256(json.dumps(planned.values, sort_keys=True).encode()).hexdigest()
    same = row["last_status"] in ("exported", "conflict") and row["last_hash"] == planned.sent_hash
    planned.unchanged = same and not force
    return planned


def _values(answers: dict, mapping: dict, period: str, org_unit: str) -> list[dict]:
    values = []
    for element in mapping["elements"]:
        answer = _answer(answers, element["question"])
        if answer is None:
            continue
        value = {"dataElement": element["data_element"], "period": period, "orgUnit": org_unit}
        if element.get("category_option_combo"):
            value["categoryOptionCombo"] = element["category_option_combo"]
        if mapping.get("attribute_option_combo"):
            value["attributeOptionCombo"] = mapping["attribute_option_combo"]
        values.append(value | {"value": answer})
    return values


def _answer(answers: dict, path: str) -> str | None:
    node = answers
    for part in path.split("/"):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    if node is None or isinstance(node, dict | list):
        return None
    text = str(node).strip()
    return text or None


def positions_hit(conflict: Conflict, sent: list[dict]) -> set[int]:
    """The positions in `sent` a conflict hits (see the module's docstring)."""
    if conflict.indexes:
        return {p for p in conflict.indexes if 0 <= p < len(sent)}
    return _matching(conflict, sent)


def _matching(conflict: Conflict, sent: list[dict]) -> set[int]:
    if not conflict.object:
        return set()
    named = set(TOKEN.findall(conflict.message or ""))
    present = {name: {value.get(name) for value in sent} for name in ("dataElement", "period", "orgUnit")}
    wanted = {name: named & {v for v in values if v} for name, values in present.items()}
    return {
        position
        for position, value in enumerate(sent)
        if conflict.object in {str(value.get(name)) for name in FIELDS}
        and all(not names or value.get(name) in names for name, names in wanted.items())
    }
