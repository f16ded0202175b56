"""The one reader of DHIS2's import answers, 2.36 to 2.41.

Before 2.38 DHIS2 answers 200 with the report at the root; from 2.38 on it wraps the report in a
WebMessage (`{httpStatus, httpStatusCode, status, message, response: {responseType, …}}`) and answers
409 when anything conflicted. Both readers take either shape (an Answer or its body), find the
report, and read it the same way; a WebMessage with no report at all (a 409/400 with only a message)
reads as an ERROR whose one error carries that message.

Shapes follow dhis2-core's ImportReport/TypeReport/ObjectReport/ErrorReport (metadata) and
ImportSummary/ImportConflict (data values): tests/unit/test_dhis2_reports.py reads real answers.
"""

from dataclasses import dataclass, field

from chalicelib.dhis2.client import Answer

STAT_KEYS = ("created", "updated", "deleted", "ignored", "total")
COUNT_KEYS = ("imported", "updated", "ignored", "deleted")
REPORT_MARKERS = ("typeReports", "objectReports", "errorReports", "importCount", "stats", "conflicts")


@dataclass(frozen=True)
class ObjectError:
    uid: str | None
    klass: str | None  # the short class name, "OrganisationUnit"
    error_code: str | None
    message: str
    property: str | None = None


@dataclass(frozen=True)
class ImportOutcome:
    status: str  # OK | WARNING | ERROR
    stats: dict[str, int]
    errors: list[ObjectError] = field(default_factory=list)


@dataclass(frozen=True)
class Conflict:
    object: str | None
    value: str | None  # DHIS2's `value` as sent: despite its name, the conflict's text
    error_code: str | None
    message: str
    property: str | None = None
    indexes: tuple[int, ...] = ()  # 2.37+: the positions of the data values it hit


@dataclass(frozen=True)
class DataValueOutcome:
    status: str  # SUCCESS | WARNING | ERROR
    import_count: dict[str, int]
    conflicts: list[Conflict] = field(default_factory=list)
    description: str | None = None


def read_import_report(answer: Answer | dict) -> ImportOutcome:
    """POST /api/metadata's ImportReport: status, stats, and every object's errors."""
    report, message = _report(answer)
    if report is None:
        return ImportOutcome("ERROR", _counts({}, STAT_KEYS), [ObjectError(None, None, None, message)])
    errors = [
        _object_error(error, obj, type_report)
        for type_report in _type_reports(report)
        for obj in _listed(type_report.get("objectReports"))
        for error in _listed(obj.get("errorReports"))
    ]
    status = str(report.get("status") or ("ERROR" if errors else "OK")).upper()
    return ImportOutcome(status, _counts(report.get("stats") or {}, STAT_KEYS), errors)


def read_data_value_summary(answer: Answer | dict) -> DataValueOutcome:
    """POST /api/dataValueSets's ImportSummary: status, importCount, every conflict."""
    summary, message = _report(answer)
    if summary is None:
        conflict = Conflict(None, None, None, message)
        return DataValueOutcome("ERROR", _counts({}, COUNT_KEYS), [conflict], message)
    conflicts = [_conflict(c) for c in _listed(summary.get("conflicts")) if isinstance(c, dict)]
    status = str(summary.get("status") or ("WARNING" if conflicts else "SUCCESS")).upper()
    counts = _counts(summary.get("importCount") or {}, COUNT_KEYS)
    return DataValueOutcome(status, counts, conflicts, summary.get("description"))


def _report(answer: Answer | dict) -> tuple[dict | None, str]:
    """(the report, wherever it sits; or None and the WebMessage's message)."""
    body = answer.body if isinstance(answer, Answer) else answer
    if not isinstance(body, dict):
        return None, "DHIS2 answered without a report"
    inner = body.get("response")
    if isinstance(inner, dict) and any(k in inner for k in REPORT_MARKERS):
        return inner, ""
    if any(k in body for k in REPORT_MARKERS):
        return body, ""
    message = body.get("message") or body.get("description") or "DHIS2 answered without a report"
    code = body.get("errorCode")
    return None, f"{message} ({code})" if code else str(message)


def _type_reports(report: dict) -> list:
    """An ImportReport's typeReports; a single object's endpoint answers one TypeReport or ObjectReport."""
    if "typeReports" in report:
        return _listed(report["typeReports"])
    if "objectReports" in report:
        return [report]
    return [{"klass": report.get("klass"), "objectReports": [report]}]


def _listed(value) -> list:
    """DHIS2 lists; some older answers keyed typeReports by class instead."""
    if isinstance(value, dict):
        return list(value.values())
    return value if isinstance(value, list) else []


def _counts(raw: dict, keys: tuple[str, ...]) -> dict[str, int]:
    return {key: int(raw.get(key) or 0) for key in keys}


def _short(klass) -> str | None:
    return str(klass).rsplit(".", 1)[-1] if klass else None


def _object_error(error: dict, obj: dict, type_report: dict) -> ObjectError:
    return ObjectError(
        uid=obj.get("uid") or error.get("mainId"),
        klass=_short(obj.get("klass") or error.get("mainKlass") or type_report.get("klass")),
        error_code=error.get("errorCode"),
        message=str(error.get("message") or error.get("errorCode") or "error"),
        property=error.get("errorProperty"),
    )


def _conflict(raw: dict) -> Conflict:
    value = raw.get("value")
    indexes = tuple(i for i in _listed(raw.get("indexes")) if isinstance(i, int) and not isinstance(i, bool))
    return Conflict(
        object=raw.get("object"),
        value=value,
        error_code=raw.get("errorCode"),
        message=str(value or raw.get("errorCode") or "conflict"),
        property=raw.get("property"),
        indexes=indexes,
    )
