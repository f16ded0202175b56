"""XLSForm workbooks for tests: the real ones in tests/fixtures (see SOURCES.tsv) and small ones built
in memory."""

import io
from pathlib import Path

import openpyxl

FIXTURES = Path(__file__).parent / "fixtures"
SIMPLE_SURVEY = [["type", "name", "label"], ["text", "name", "Name"], ["integer", "age", "Age"]]


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def workbook(survey: list[list], settings: dict | None = None, **sheets: list[list]) -> bytes:
    """An .xlsx with a survey sheet (header row first), an optional settings row, and other sheets."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    all_sheets = ({"survey": survey} if survey else {}) | sheets
    if settings:
        all_sheets["settings"] = [list(settings), list(settings.values())]
    for name, rows in all_sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
