"""XLSForm → XForm with pyxform, in memory: no file is read or written.

Two steps, because the XForm `version` may have to be chosen between them: `read` parses the workbook
(its settings give the XForm id and maybe a version), `render` writes the XForm with the version
decided and gives pyxform's JSON descriptor. pyxform runs with validate=False (ODK Validate needs Java).
Its errors become 400 Problems carrying pyxform's message and, when the message names them, the sheet
and row.
"""

import hashlib
import io
import re
from contextlib import contextmanager
from dataclasses import dataclass, field

from chalicelib.platform import problems

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
    from pyxform.errors import PyXFormError  # pyxform is imported when a form is converted: it was a
    from pyxform.xls2json import workbook_to_json  # quarter of every cold start (bench/README.md)
    from pyxform.xls2json_backends import Definition, get_xlsform

    suffix = file_type(content)
    warnings: list[str] = []
    definition = Definition(data=io.BytesIO(content), file_type=None, file_path_stem=fallback_id)
    with _pyxform_errors():
        try:
            sheets = get_xlsform(definition, file_type=suffix)
        except PyXFormError as error:
            raise invalid(f"The file could not be read as an {suffix} workbook.") from error
        structure = workbook_to_json(
            workbook_dict=sheets, fallback_form_name=sheets.fallback_form_name, warnings=warnings
        )
    return Workbook(structure, suffix, warnings)


def render(workbook: Workbook, version: str) -> XForm:
    """The XForm of `workbook` carrying `version`, and pyxform's JSON descriptor of the form."""
    from pyxform.builder import create_survey_element_from_dict

    warnings = list(workbook.warnings)
    with _pyxform_errors():
        survey = create_survey_element_from_dict(workbook.structure | {"version": version})
        xml = survey.to_xml(validate=False, pretty_print=False, warnings=warnings).encode()
        descriptor = survey.to_json_dict()
    return XForm(xml, hashlib.md5(xml).hexdigest(), descriptor, warnings)


@contextmanager
def _pyxform_errors():
    """pyxform's errors become 400s; on odd sheets it also raises plain ValueError/KeyError/TypeError."""
    from pyxform.errors import PyXFormError

    try:
        yield
    except problems.Problem:
        raise
    except (PyXFormError, ValueError, KeyError, TypeError) as error:
        raise invalid(_message(error)) from error


def _message(error: Exception) -> str:
    text = str(error).strip()
    if isinstance(error, KeyError):
        return f"pyxform could not read the form (missing {text})."
    return text


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
