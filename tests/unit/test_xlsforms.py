"""XLSForm conversion without database or AWS: the real workbooks, settings, and pyxform's errors."""

import datetime
import hashlib
import io
import os
import xml.etree.ElementTree as ET
import zipfile

import pytest

from chalicelib.forms import xlsforms
from chalicelib.forms.form_versions import generated_version
from chalicelib.platform import problems
from tests.workbooks import SIMPLE_SURVEY, fixture_bytes, workbook

XFORMS = "{http://www.w3.org/2002/xforms}"


def _instance_root(xml: bytes) -> ET.Element:
    model = ET.fromstring(xml).find(f"{{http://www.w3.org/1999/xhtml}}head/{XFORMS}model")
    return model.find(f"{XFORMS}instance")[0]


@pytest.mark.parametrize(
    ("name", "xform_id", "title"),
    [
        ("form_1.xlsx", "QOC-HD-00000_v6", "QOC_HD_06 - Gestion Financière"),
        ("repeat_group_form.xlsx", "eventtracker2334", "Child Programme"),
        ("repeat_group_form.xls", "eventtracker2334", "Child Programme"),
        ("xlsform_spec_test.xlsx", "Spec test", "Spec test"),
    ],
)
def test_the_real_xlsforms_convert(name, xform_id, title):
    book = xlsforms.read(fixture_bytes(name), fallback_id="ignored")
    assert (book.xform_id, book.title, book.version) == (xform_id, title, None)
    xform = xlsforms.render(book, "2026112201")
    root = _instance_root(xform.xml)
    assert root.get("id") == xform_id and root.get("version") == "2026112201"
    assert xform.md5 == hashlib.md5(xform.xml).hexdigest()
    assert xform.descriptor["id_string"] == xform_id and xform.descriptor["version"] == "2026112201"
    assert xform.descriptor["type"] == "survey" and xform.descriptor["children"]


def test_repeats_and_groups_are_nested_in_the_descriptor():
    xform = xlsforms.render(xlsforms.read(fixture_bytes("repeat_group_form.xlsx"), None), "1")

    def sections(children) -> list[tuple[str, str]]:
        found = []
        for child in children:
            if child["type"] in ("group", "repeat"):
                found += [(child["type"], child["name"])] + sections(child["children"])
        return found

    found = sections(xform.descriptor["children"])
    assert ("repeat", "hh_repeat") in found and ("group", "birth") in found


def test_xls_and_xlsx_of_one_form_give_the_same_xform():
    from_xls = xlsforms.render(xlsforms.read(fixture_bytes("repeat_group_form.xls"), None), "1")
    from_xlsx = xlsforms.render(xlsforms.read(fixture_bytes("repeat_group_form.xlsx"), None), "1")
    assert from_xls.xml == from_xlsx.xml and from_xls.descriptor == from_xlsx.descriptor


def test_settings_give_form_id_and_version_else_the_fallback_name():
    with_settings = workbook(
        SIMPLE_SURVEY, {"form_id": "household", "version": 2024010101, "form_title": "HH"}
    )
    book = xlsforms.read(with_settings, fallback_id="file_name")
    assert (book.xform_id, book.version, book.title) == ("household", "2024010101", "HH")
    bare = xlsforms.read(workbook(SIMPLE_SURVEY), fallback_id="file_name")
    assert (bare.xform_id, bare.version) == ("file_name", None)


def test_conversion_writes_no_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    xlsforms.render(xlsforms.read(fixture_bytes("xlsform_spec_test.xlsx"), None), "1")
    assert os.listdir(tmp_path) == []


def _zip_without_workbook() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    return out.getvalue()


@pytest.mark.parametrize(
    ("content", "words", "sheet", "row"),
    [
        (workbook(SIMPLE_SURVEY + [["text", "age", "Again"]]), "'age' is invalid", "survey", 4),
        (workbook([], choices=[["list_name", "name", "label"], ["yn", "y", "Yes"]]), "sheet named 'survey'",
         "survey", None),
        (workbook([["type", "name", "label"], ["begin group", "g", "G"], ["text", "a", "A"]]), "Unmatched",
         "survey", 2),
        (workbook([["type", "name", "label"], ["txet", "a", "A"]]), "Unknown question type", None, None),
        (b"type,name,label\ntext,a,A\n", "not an XLSForm workbook", None, None),
        (b"", "empty", None, None),
        (_zip_without_workbook(), "could not be read as an .xlsx workbook", None, None),
    ],
    ids=["duplicate-name", "no-survey-sheet", "unmatched-group", "unknown-type", "csv", "empty", "zip"],
)  # fmt: skip
def test_invalid_xlsforms_name_pyxforms_reason_sheet_and_row(content, words, sheet, row):
    with pytest.raises(problems.Problem) as raised:
        xlsforms.render(xlsforms.read(content, None), "1")
    problem = raised.value
    assert problem.status == 400 and problem.code == "form_version.invalid_xlsform"
    assert words in problem.message
    assert problem.details == {"sheet": sheet, "row": row}


def test_generated_versions_are_the_days_first_free_revision():
    day = datetime.date(2026, 11, 22)
    assert generated_version(set(), day) == "2026112201"
    assert generated_version({"2026112201", "2026112202", "7"}, day) == "2026112203"
