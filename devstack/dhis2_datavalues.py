"""POST /api/dataValueSets for the DHIS2 stand-in (devstack/dhis2_standin.py): aggregate data values
kept in memory, so that tests can read what arrived, with DHIS2's import summaries.

    store = store_of(standin)                        # its DataValueStore, made on first use
    store.data_elements["fbfJHSPpUQD"] = "INTEGER_ZERO_OR_POSITIVE"
    store.data_sets["BfMAe6Itzgt"] = {"fbfJHSPpUQD"}
    store.locked.add(("BfMAe6Itzgt", "202401"))      # a closed period: E7643
    store.values[("fbfJHSPpUQD", "202402", "DiszpKrYNg8", "HllvX50cXC0", "HllvX50cXC0")]  # → "12"

Checks, in dhis2-core's order (DataValueSetImportValidator, 2.38; DefaultDataValueSetService, 2.36):
a named data set or org unit that does not exist aborts the import (status ERROR); then per value an
unknown data element (E7610), an invalid period (E7611), an unknown org unit (E7612), an unknown
category option combo (E7613) or attribute option combo (E7615), a missing value (E7618), a value its
element's value type refuses (E7619), a period after the latest open future period (E7641) and a
locked period (E7643) make a conflict and the value is ignored; the others are imported (new),
updated (existing) or ignored (importStrategy CREATE/UPDATE), or deleted (DELETE). `dryRun=true`
counts without storing.

Shapes: before 2.37 a conflict is `{object, value}` (Java's ImportConflict of 2.36, deduplicated as
a Set); from 2.37 `{object, objects, value, errorCode, property, indexes}`, merged per error and
objects with the positions of every value it hit. Before 2.38 (or on /api/37/… and lower) the
ImportSummary is the body at the root with 200 (DHIS2 also answers so on /api/37/… from 2.38 on: not
modelled); from 2.38 it is wrapped in a WebMessage, 409 with
status WARNING ("One more conflicts encountered…", DHIS2's own typo) or ERROR, 200 when clean.
"""

import datetime
import re
import threading
from dataclasses import dataclass, field

DEFAULT_COMBO = "HllvX50cXC0"  # the uid DHIS2's demo databases give the default category option combo
OPTIONS = {
    "idSchemes": {}, "dryRun": False, "async": False, "importStrategy": "CREATE_AND_UPDATE",
    "mergeMode": "REPLACE", "reportMode": "FULL", "skipExistingCheck": False, "sharing": False,
    "skipNotifications": False, "skipAudit": False, "datasetAllowsPeriods": False, "strictPeriods": False,
    "strictDataElements": False, "strictCategoryOptionCombos": False, "strictAttributeOptionCombos": False,
    "strictOrganisationUnits": False, "requireCategoryOptionCombo": False,
    "requireAttributeOptionCombo": False, "skipPatternValidation": False, "ignoreEmptyCollection": False,
    "force": False, "skipLastUpdated": False,
}  # fmt: skip
# ValidationUtils.valueIsValid's checks and i18n_global.properties' words for them.
VALUE_CHECKS = {
    "NUMBER": (r"-?(0|[1-9]\d*)(\.\d+)?([eE]-?\d+)?", "value_not_numeric", "Data value is not numeric"),
    "INTEGER": (r"0|-?[1-9]\d*", "value_not_integer", "Data value is not an integer"),
    "INTEGER_POSITIVE": (r"[1-9]\d*", "value_not_positive_integer", "Data value is not a positive integer"),
    "INTEGER_NEGATIVE": (r"-[1-9]\d*", "value_not_negative_integer", "Data value is not a negative integer"),
    "INTEGER_ZERO_OR_POSITIVE": (
        r"0|[1-9]\d*",
        "value_not_zero_or_positive_integer",
        "Data value is not zero or positive integer",
    ),
    "BOOLEAN": (r"(?i)true|false", "value_not_bool", "Data value is not a boolean"),
    "TRUE_ONLY": (r"(?i)true", "value_not_true_only", "Data value is not true"),
    "DATE": (r"\d{4}-\d{2}-\d{2}", "value_not_valid_date", "Data value is not a valid date"),
}
BOOLEAN_VARIANTS = {"1": "true", "0": "false", "t": "true", "f": "false", "True": "true", "False": "false"}
PERIODS = {
    "DAY": r"(\d{4})(\d{2})(\d{2})",
    "WEEK": r"(\d{4})W(\d{1,2})",
    "MONTH": r"(\d{4})(\d{2})",
    "QUARTER": r"(\d{4})Q([1-4])",
    "SIX_MONTH": r"(\d{4})S([12])",
    "YEAR": r"(\d{4})",
}
TEXT_MAX = 50000


def store_of(standin) -> "DataValueStore":
    """The stand-in's data values, made on first use; org units are those of its tree (as it is then)."""
    store = getattr(standin, "data_values", None)
    if store is None:
        store = standin.data_values = DataValueStore(lambda uid: uid in standin.index.by_kind["units"])
    return store


def import_data_values(standin, query: dict[str, list[str]], payload) -> tuple[int, dict]:
    """POST /api/dataValueSets (JSON), authorised by the stand-in."""
    return store_of(standin).post(payload, query, standin.minor)


def period_start(period: str) -> datetime.date | None:
    """The first day of an ISO period DHIS2 knows (the types our forms use), or None."""
    for kind, pattern in PERIODS.items():
        match = re.fullmatch(pattern, period or "")
        if match is None:
            continue
        numbers = [int(g) for g in match.groups()]
        try:
            return _start(kind, numbers)
        except ValueError:
            return None
    return None


def _start(kind: str, numbers: list[int]) -> datetime.date:
    year = numbers[0]
    if kind == "DAY":
        return datetime.date(year, numbers[1], numbers[2])
    if kind == "WEEK":
        return datetime.date.fromisocalendar(year, numbers[1], 1)
    if kind == "MONTH":
        return datetime.date(year, numbers[1], 1)
    if kind == "QUARTER":
        return datetime.date(year, 3 * numbers[1] - 2, 1)
    if kind == "SIX_MONTH":
        return datetime.date(year, 6 * numbers[1] - 5, 1)
    return datetime.date(year, 1, 1)


@dataclass
class Problem:
    code: str
    objects: dict[str, str]  # dhis2-core's `objects`: kind → uid (or error key)
    property: str | None
    message: str  # 2.37+: ErrorCode's text
    legacy: tuple[str, str]  # 2.36: (object, value)


@dataclass
class DataValueStore:
    """What the stand-in's DHIS2 holds of aggregate data. `known_org_unit` is the stand-in's tree."""

    known_org_unit: object = lambda uid: True  # noqa: E731
    data_elements: dict[str, str] = field(default_factory=dict)  # uid → value type
    data_sets: dict[str, set[str]] = field(default_factory=dict)  # uid → its data elements
    category_option_combos: set[str] = field(default_factory=lambda: {DEFAULT_COMBO})
    locked: set[tuple[str, str]] = field(default_factory=set)  # (data set uid, period)
    close_future_periods: bool = True
    values: dict[tuple[str, str, str, str, str], str] = field(default_factory=dict)
    received: list[dict] = field(default_factory=list)  # every body POSTed, with its query
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def post(self, body, query: dict[str, list[str]], minor: int) -> tuple[int, dict]:
        first = lambda name, default: (query.get(name) or [default])[0]  # noqa: E731
        dry_run = first("dryRun", "false").lower() == "true"
        strategy = first("importStrategy", "CREATE_AND_UPDATE").upper()
        with self._lock:
            self.received.append({"body": body, "query": query})
            summary = self._import(body if isinstance(body, dict) else {}, dry_run, strategy, minor)
        summary["importOptions"] = OPTIONS | {"dryRun": dry_run, "importStrategy": strategy}
        summary = _ordered(summary)
        if minor < 38:
            return 200, summary  # DataValueSetController: withPlainResponseBefore(V38)
        return _web_message(summary)

    def _import(self, body: dict, dry_run: bool, strategy: str, minor: int) -> dict:
        count = {"imported": 0, "updated": 0, "ignored": 0, "deleted": 0}
        aborted = self._set_problem(body)
        if aborted is not None:
            return _summary("ERROR", "Import process was aborted", count, [aborted], minor)
        problems: list[tuple[int, Problem]] = []
        for index, raw in enumerate(body.get("dataValues") or []):
            value = {k: raw.get(k, body.get(k)) for k in ("dataElement", "period", "orgUnit")} | raw
            problem = self._value_problem(value, body.get("dataSet"), strategy)
            if problem is not None:
                problems.append((index, problem))
                count["ignored"] += 1
                continue
            count[self._apply(value, dry_run, strategy)] += 1
        status = "WARNING" if problems else "SUCCESS"
        return _summary(status, "Import process completed successfully", count, problems, minor)

    def _set_problem(self, body: dict) -> tuple[int, Problem] | None:
        data_set, org_unit = body.get("dataSet"), body.get("orgUnit")
        if data_set and data_set not in self.data_sets:
            text = f"Data set not found or not accessible: `{data_set}`"
            return -1, Problem("E7600", {"dataSet": data_set}, None, text, (data_set, _legacy(text)))
        if org_unit and not self.known_org_unit(org_unit):
            text = f"Org unit not found or not accessible: `{org_unit}`"
            return -1, Problem("E7603", {"organisationUnit": org_unit}, None, text, (org_unit, _legacy(text)))
        return None

    def _value_problem(self, value: dict, data_set: str | None, strategy: str) -> Problem | None:
        element, period, unit = value.get("dataElement"), value.get("period"), value.get("orgUnit")
        combo = value.get("categoryOptionCombo") or DEFAULT_COMBO
        if element not in self.data_elements:
            text = f"Data element not found or not accessible: `{element}`"
            return Problem(
                "E7610", {"dataElement": str(element)}, "dataElement", text, (str(element), _legacy(text))
            )
        if period_start(period) is None:
            text = f"Period not valid: `{period}`"
            return Problem(
                "E7611", {"period": str(period)}, "period", text, (str(period), "Period not valid")
            )
        if not unit or not self.known_org_unit(unit):
            text = f"Organisation unit not found or not accessible: `{unit}`"
            return Problem(
                "E7612", {"organisationUnit": str(unit)}, "orgUnit", text, (str(unit), _legacy(text))
            )
        if combo not in self.category_option_combos:
            text = f"Category option combo not found or not accessible for writing data: `{combo}`"
            return Problem(
                "E7613", {"categoryOptionCombo": combo}, "categoryOptionCombo", text, (combo, _legacy(text))
            )
        attribute = value.get("attributeOptionCombo") or DEFAULT_COMBO
        if attribute not in self.category_option_combos:
            text = f"Attribute option combo not found or not accessible for writing data: `{attribute}`"
            objects = {"categoryOptionCombo": attribute}
            return Problem("E7615", objects, "attributeOptionCombo", text, (attribute, _legacy(text)))
        if strategy != "DELETE":
            problem = self._content_problem(element, value.get("value"))
            if problem is not None:
                return problem
        return self._period_problem(element, period, unit, data_set)

    def _content_problem(self, element: str, raw) -> Problem | None:
        if raw is None or str(raw).strip() == "":
            text = f"Data value or comment not specified for data element: `{element}`"
            return Problem("E7618", {"dataElement": element}, "value", text, ("Value", _legacy(text)))
        value_type = self.data_elements[element]
        value = (
            BOOLEAN_VARIANTS.get(str(raw), str(raw)) if value_type in ("BOOLEAN", "TRUE_ONLY") else str(raw)
        )
        pattern, key, words = VALUE_CHECKS.get(value_type, (r"(?s).*", None, None))
        if len(value) > TEXT_MAX:
            key, words = "value_length_greater_than_max_length", "Data value is greater than max length"
        elif re.fullmatch(pattern, value):
            return None
        text = f"Value must match data element's `{element}` type constraints: {words}"
        return Problem("E7619", {"dataElement": element, "value": key}, "value", text,
                       (value, f"{words}, must match data element type: {element}"))  # fmt: skip

    def _period_problem(self, element: str, period: str, unit: str, data_set: str | None) -> Problem | None:
        owners = [uid for uid, elements in self.data_sets.items() if element in elements]
        approval = data_set if data_set in owners else (owners[0] if owners else None)
        if approval is None:
            return None
        today = datetime.date.today()
        if self.close_future_periods and period_start(period) > today:
            latest = today.strftime("%Y%m")
            text = f"Period: `{period}` is after latest open future period: `{latest}`"
            text += f" for data element: `{element}`"
            legacy = (
                period,
                f"Period: {period} is after latest open future period: {latest} for data element: {element}",
            )
            return Problem("E7641", {"period": period, "dataElement": element}, "period", text, legacy)
        if (approval, period) in self.locked:
            text = f"Period: `{period}` is not open for this data set at this time: `{approval}`"
            legacy = (unit, f"Period: {period} is not open for this data set at this time: {approval}")
            return Problem("E7643", {"period": period, "dataSet": approval}, "period", text, legacy)
        return None

    def _apply(self, value: dict, dry_run: bool, strategy: str) -> str:
        combo = value.get("categoryOptionCombo") or DEFAULT_COMBO
        attribute = value.get("attributeOptionCombo") or DEFAULT_COMBO
        key = (value["dataElement"], value["period"], value["orgUnit"], combo, attribute)
        exists = key in self.values
        if strategy == "DELETE":
            if not exists:
                return "ignored"
            if not dry_run:
                del self.values[key]
            return "deleted"
        if (strategy == "CREATE" and exists) or (strategy == "UPDATE" and not exists):
            return "ignored"
        if not dry_run:
            self.values[key] = str(value["value"])
        return "updated" if exists else "imported"


def _legacy(text: str) -> str:
    """2.36's messages are 2.38's without the backquotes."""
    return text.replace("`", "")


def _summary(status: str, description: str, count: dict, problems, minor: int) -> dict:
    summary = {"responseType": "ImportSummary", "status": status, "description": description}
    summary["importCount"] = count
    conflicts = _rich(problems) if minor >= 37 else _plain(problems)
    if conflicts or minor >= 38:
        summary["conflicts"] = conflicts
    summary["dataSetComplete"] = "false"
    return summary


def _plain(problems) -> list[dict]:
    seen: dict[tuple[str, str], dict] = {}
    for _, problem in problems:
        seen.setdefault(problem.legacy, {"object": problem.legacy[0], "value": problem.legacy[1]})
    return list(seen.values())


def _rich(problems) -> list[dict]:
    """One conflict per error code and objects, with every index it hit (ImportConflict.mergeWith)."""
    merged: dict[tuple, dict] = {}
    for index, problem in problems:
        key = (problem.code, *problem.objects.values())
        conflict = merged.get(key)
        if conflict is None:
            conflict = {"object": next(iter(problem.objects.values())), "objects": problem.objects,
                        "value": problem.message, "errorCode": problem.code}  # fmt: skip
            if problem.property:
                conflict["property"] = problem.property
            merged[key] = conflict
        if index >= 0:
            conflict.setdefault("indexes", []).append(index)
    return list(merged.values())


def _ordered(summary: dict) -> dict:
    order = ("responseType", "status", "importOptions", "description", "importCount", "conflicts")
    return {k: summary[k] for k in order if k in summary} | {"dataSetComplete": summary["dataSetComplete"]}


def _web_message(summary: dict) -> tuple[int, dict]:
    """WebMessageUtils.importSummary (2.38)."""
    if summary["status"] == "ERROR":
        head = {"httpStatus": "Conflict", "httpStatusCode": 409, "status": "ERROR",
                "message": "An error occurred, please check import summary."}  # fmt: skip
    elif summary["status"] == "WARNING":
        head = {"httpStatus": "Conflict", "httpStatusCode": 409, "status": "WARNING",
                "message": "One more conflicts encountered, please check import summary."}  # fmt: skip
    else:
        head = {
            "httpStatus": "OK",
            "httpStatusCode": 200,
            "status": "OK",
            "message": "Import was successful.",
        }
    return head["httpStatusCode"], head | {"response": summary}
