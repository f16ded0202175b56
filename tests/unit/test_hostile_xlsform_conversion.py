"""Hostile XLSForms without database or AWS: each is refused as a 400 naming its reason or its budget,
the conversion runs in a child held to a time budget, and the real XLSForms still convert."""

import io
import os
import signal
import time
import zipfile

import pytest

from chalicelib.forms import workbook_limits, xlsforms
from chalicelib.platform import child_process, limits, problems
from tests import hostile_workbooks as hostile
from tests.workbooks import SIMPLE_SURVEY, fixture_bytes, workbook

FIXTURES = ["form_1.xlsx", "repeat_group_form.xlsx", "repeat_group_form.xls", "xlsform_spec_test.xlsx"]


def _refusal(content: bytes) -> problems.Problem:
    with pytest.raises(problems.Problem) as raised:
        xlsforms.convert(content, "fallback", lambda book: "1")
    assert raised.value.status == 400 and raised.value.code == "form_version.invalid_xlsform"
    return raised.value


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (hostile.corrupt_xls(), "could not be read as an .xls workbook"),
        (hostile.truncated("repeat_group_form.xls"), "could not be read as an .xls workbook"),
        (hostile.not_a_zip(), "could not be read as an .xlsx workbook: File is not a zip file"),
        (hostile.truncated("form_1.xlsx"), "could not be read as an .xlsx workbook"),
        (hostile.not_a_workbook(), "could not be read as an .xlsx workbook"),
        (hostile.broken_sheet_xml(), "could not be read as an .xlsx workbook"),
        (hostile.billion_laughs(), "could not be read as an .xlsx workbook"),
    ],
    ids=["corrupt-xls", "truncated-xls", "bad-zip", "truncated-xlsx", "zip-not-workbook", "broken-sheet-xml",
         "entity-bomb"],
)  # fmt: skip
def test_broken_files_are_refused_with_the_readers_reason(content, reason):
    problem = _refusal(content)
    assert reason in problem.message, problem.message
    assert problem.message.rstrip(".").split(": ")[-1]  # a reason follows, not just the verdict


def test_a_declared_gigabyte_is_refused_before_anything_is_inflated():
    bomb = hostile.zeros_bomb(1 << 30)
    assert len(bomb) < 2 << 20
    with zipfile.ZipFile(io.BytesIO(bomb)) as archive, archive.open(hostile.BOMB) as member:
        assert member.read(1 << 20) == bytes(1 << 20)  # it does inflate
    started = time.monotonic()
    problem = _refusal(bomb)
    assert time.monotonic() - started < 3
    assert "XLSFORM_MAX_UNCOMPRESSED_BYTES" in problem.message
    assert f"{limits.XLSFORM_MAX_UNCOMPRESSED_BYTES:,} bytes" in problem.message
    assert problem.details["limit"] == "XLSFORM_MAX_UNCOMPRESSED_BYTES"


def test_sizes_that_lie_are_not_trusted():
    problem = _refusal(hostile.lying_sizes())
    assert "Bad CRC-32" in problem.message or "XLSFORM_MAX_UNCOMPRESSED_BYTES" in problem.message


def test_a_million_rows_are_refused_in_a_few_seconds():
    content = hostile.million_rows()
    assert len(content) < 1 << 20
    started = time.monotonic()
    problem = _refusal(content)
    assert time.monotonic() - started < 3
    assert "XLSFORM_MAX_ROWS" in problem.message and f"{limits.XLSFORM_MAX_ROWS:,} rows" in problem.message
    assert problem.details == {"sheet": None, "row": None, "limit": "XLSFORM_MAX_ROWS"}


def test_rows_are_counted_across_chunks(monkeypatch):
    # Chunks of 7 bytes cut every tag; the count is the same.
    content = hostile.million_rows(rows=30_000)
    monkeypatch.setattr(limits, "XLSFORM_MAX_ROWS", 30_001)  # the header row and 30,000
    monkeypatch.setattr(workbook_limits, "CHUNK_BYTES", 7)
    workbook_limits.check_xlsx(content)
    monkeypatch.setattr(limits, "XLSFORM_MAX_ROWS", 30_000)
    with pytest.raises(problems.Problem) as raised:
        workbook_limits.check_xlsx(content)
    assert "XLSFORM_MAX_ROWS" in raised.value.message


def test_an_xls_sheets_rows_are_counted(monkeypatch):
    monkeypatch.setattr(limits, "XLSFORM_MAX_ROWS", 5)
    problem = _refusal(fixture_bytes("repeat_group_form.xls"))
    assert "The sheet 'survey' exceeds the limit of 5 rows (XLSFORM_MAX_ROWS)" in problem.message
    assert problem.details == {"sheet": "survey", "row": None, "limit": "XLSFORM_MAX_ROWS"}


def test_a_conversion_over_its_time_budget_is_stopped(monkeypatch):
    monkeypatch.setattr(limits, "XLSFORM_MAX_SECONDS", 1)
    monkeypatch.setattr(xlsforms, "render", lambda workbook, version: time.sleep(60))
    started = time.monotonic()
    problem = _refusal(workbook(SIMPLE_SURVEY))
    assert time.monotonic() - started < 5
    assert "Converting the XLSForm exceeds the limit of 1 seconds (XLSFORM_MAX_SECONDS)" in problem.message


@pytest.mark.parametrize("name", FIXTURES)
def test_the_real_xlsforms_convert_in_their_child(name):
    converted = xlsforms.convert(fixture_bytes(name), "fallback", lambda book: "2026112201")
    expected = xlsforms.render(xlsforms.read(fixture_bytes(name), "fallback"), "2026112201")
    assert converted.xform == expected and converted.version == "2026112201"
    assert converted.file_type == "." + name.rsplit(".", 1)[1]


def test_the_version_chosen_in_the_child_may_refuse_the_workbook():
    def refuse(book):
        raise problems.conflict("form_version.version_exists", "taken", version=book.xform_id)

    with pytest.raises(problems.Problem) as raised:
        xlsforms.convert(workbook(SIMPLE_SURVEY), "household", refuse)
    assert (raised.value.status, raised.value.details) == (409, {"version": "household"})


# The child process itself


def test_a_child_answers_or_raises_as_the_call_would():
    assert child_process.call_in_child(lambda: {"a": [1, 2]}, 5, "it") == {"a": [1, 2]}
    with pytest.raises(ValueError, match="bad value"):
        child_process.call_in_child(lambda: int("bad value"), 5, "it")


def test_a_child_over_its_time_is_killed(monkeypatch):
    children = []
    fork = child_process.forked
    monkeypatch.setattr(child_process, "forked", lambda *ends: children.append(fork(*ends)) or children[-1])
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        child_process.call_in_child(lambda: time.sleep(60), 0.5, "it")
    assert time.monotonic() - started < 3
    with pytest.raises(ChildProcessError):  # killed and collected
        os.waitpid(children[0], os.WNOHANG)


def test_a_child_that_dies_says_how():
    with pytest.raises(ChildProcessError, match="it was killed by signal 9"):
        child_process.call_in_child(lambda: os.kill(os.getpid(), signal.SIGKILL), 5, "it")
    big = child_process.call_in_child(lambda: b"x" * (3 << 20), 5, "it")  # more than a pipe holds
    assert len(big) == 3 << 20
