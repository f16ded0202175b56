"""XLSForm → XForm with pyxform, in memory: no file is read or written.

Two steps, because the XForm `version` may have to be chosen between them: `read` parses the workbook
(its settings give the XForm id and maybe a version), `render` writes the XForm with the version
decided and gives pyxform's JSON descriptor. pyxform runs with validate=False (ODK Validate needs Java).
Its errors become 400 Problems carrying pyxform's message and, when the message names them, the sheet
and row; so does any failure of the readers on a broken file. `read` first holds the workbook to its
budgets (workbook_limits), and `convert` runs both steps in a forked child held to XLSFORM_MAX_SECONDS.
"""

import hashlib
import io
import re
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

from chalicelib.forms import workbook_limits
from chalicelib.platform import child_process, limits, problems

XLSX, XLS = ".xlsx", ".xls"
# What each format's file starts with: a zip archive (Office Open XML) or an OLE2 compound document.
SIGNATURES = {XLSX: b"PK\x03\x04", XLS: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"}
CONTENT_TYPES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": XLSX,
    "application/vnd.ms-excel": XLS,
}
ROW = re.compile(r"\[row : (\d+)\]")
SHEET = re.compile(r"(?:On the '([^']+)' sheet|sheet named '([^']+)'|for sheet: '([^']+)')")


@dataclass
class Workbook:
    """A parsed XLSForm: pyxform's survey structure, before the XForm is written."""

    structure: dict
    file_type: str
    warnings: list[str] = field(default_factory=list)

    @property
    def xform_id(self) -> str:
        return self.structure["id_string"]

    @property
    def version(self) -> str | None:
        """The settings sheet's version, if it has one."""
        version = str(self.structure.get("version") or "").strip()
        return version or None

    @property
    def title(self) -> str:
        return self.structure.get("title") or self.xform_id


@dataclass(frozen=True)
class XForm:
    xml: bytes
    md5: str
    descriptor: dict
    warnings: list[str]


@dataclass(frozen=True)
class Converted:
    """An XLSForm made an XForm, with what the version's row needs of its workbook."""

    xform_id: str
    file_type: str
    version: str
    xform: XForm


def file_type(content: bytes) -> str:
    """.xlsx or .xls, from the file's first bytes; anything else is refused."""
    if not content:
        raise invalid("The XLSForm file is empty.")
    for suffix, signature in SIGNATURES.items():
        if content.startswith(signature):
            return suffix
    raise invalid("The file is not an XLSForm workbook: expected an .xlsx or .xls file.")


def read(content: bytes, fallback_id: str | None) -> Workbook:
    """`fallback_id`: the XForm id when the settings sheet has no form_id (pyxform uses the file name)."""
    from pyxform.xls2json import workbook_to_json  # pyxform is imported when a form is converted: it was
    from pyxform.xls2json_backends import Definition  # a quarter of every cold start (bench/README.md)

    suffix = file_type(content)
    warnings: list[str] = []
    sheets = _sheets(Definition(data=io.BytesIO(content), file_type=None, file_path_stem=fallback_id), suffix)
    with _pyxform_errors():
        structure = workbook_to_json(
            workbook_dict=sheets, fallback_form_name=sheets.fallback_form_name, warnings=warnings
        )
    return Workbook(structure, suffix, warnings)


def _sheets(definition, suffix: str):
    """The workbook's sheets as pyxform reads them, once it is known to keep within its budgets."""
    from pyxform.xls2json_backends import DefinitionData, xls_to_dict, xlsx_to_dict

    content = definition.data.getvalue()
    try:
        (workbook_limits.check_xlsx if suffix == XLSX else workbook_limits.check_xls)(content)
        sheets = (xlsx_to_dict if suffix == XLSX else xls_to_dict)(definition)
    except problems.Problem:
        raise
    except Exception as error:  # whatever a reader meets in a broken file is the file's fault
        raise invalid(f"The file could not be read as an {suffix} workbook: {_reason(error)}") from error
    return DefinitionData(fallback_form_name=definition.file_path_stem, **sheets)


def _reason(error: Exception) -> str:
    error = error.__cause__ or error  # pyxform's read errors wrap the reader's
    text = str(error.args[0] if isinstance(error, KeyError) and error.args else error).strip().rstrip(".")
    return f"{text}." if text else f"{type(error).__name__}."


def render(workbook: Workbook, version: str) -> XForm:
    """The XForm of `workbook` carrying `version`, and pyxform's JSON descriptor of the form."""
    from pyxform.builder import create_survey_element_from_dict

    warnings = list(workbook.warnings)
    with _pyxform_errors():
        survey = create_survey_element_from_dict(workbook.structure | {"version": version})
        xml = survey.to_xml(validate=False, pretty_print=False, warnings=warnings).encode()
        descriptor = survey.to_json_dict()
    return XForm(xml, hashlib.md5(xml).hexdigest(), descriptor, warnings)


def convert(content: bytes, fallback_id: str | None, choose_version: Callable[[Workbook], str]) -> Converted:
    """`read`, then `render` with the version `choose_version` gives the workbook (its Problems are
    the conversion's), in a forked child: a workbook that would take longer than XLSFORM_MAX_SECONDS
    is refused, and the memory pyxform takes goes back with the child."""
    import pyxform.builder  # noqa: F401 (imported here once, not in every child)
    import pyxform.xls2json  # noqa: F401

    try:
        refused, value = child_process.call_in_child(
            lambda: _outcome(lambda: _converted(content, fallback_id, choose_version)),
            limits.XLSFORM_MAX_SECONDS,
            "The conversion",
        )
    except TimeoutError:
        raise workbook_limits.over_limit("Converting the XLSForm", "XLSFORM_MAX_SECONDS", "seconds") from None
    except ChildProcessError as error:  # killed, out of memory: by this workbook
        raise invalid(f"{error}.") from error
    if refused:
        raise problems.Problem(*value)
    return value


def _converted(
    content: bytes, fallback_id: str | None, choose_version: Callable[[Workbook], str]
) -> Converted:
    workbook = read(content, fallback_id)
    version = choose_version(workbook)
    return Converted(workbook.xform_id, workbook.file_type, version, render(workbook, version))


def _outcome(work: Callable[[], Converted]) -> tuple[bool, object]:
    """A Problem as plain values, which cross a pipe whatever the way it was built."""
    try:
        return False, work()
    except problems.Problem as problem:
        return True, (problem.status, problem.code, problem.message, problem.details, problem.headers)


@contextmanager
def _pyxform_errors():
    """pyxform's errors become 400s, and so does whatever else it raises on a form it cannot read."""
    from pyxform.errors import PyXFormError

    try:
        yield
    except problems.Problem:
        raise
    except Exception as error:  # on odd sheets pyxform fails in other ways than its own errors
        raise invalid(_message(error, PyXFormError)) from error


def _message(error: Exception, its_own: type) -> str:
    text = str(error).strip()
    if isinstance(error, KeyError):
        return f"pyxform could not read the form (missing {text})."
    if isinstance(error, its_own | ValueError | TypeError):
        return text
    return f"pyxform could not read the form ({type(error).__name__}: {text})."


def invalid(message: str) -> problems.Problem:
    """400 with pyxform's message, and the sheet and row when the message names them."""
    row = ROW.search(message)
    sheet = SHEET.search(message)
    details = {"row": int(row.group(1)) if row else None, "sheet": _first(sheet.groups()) if sheet else None}
    if details["row"] and not details["sheet"]:
        details["sheet"] = "survey"  # pyxform's unnamed row numbers are the survey sheet's
    return problems.Problem(400, "form_version.invalid_xlsform", f"Invalid XLSForm: {message}", details)


def _first(values) -> str | None:
    return next((value for value in values if value), None)
