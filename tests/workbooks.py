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


def media_workbook(version: str = "1", form_id: str = "media_form") -> bytes:
    """A form that references a file in each way an XForm can: `image` and `media::audio` columns, a
    choice's `media::video`, `select_one_from_file`, `pulldata()`, a `search()` appearance, an
    external select (itemsets.csv) and an image default. Eight files (MEDIA_FILES)."""
    columns = ["type", "name", "label", "image", "media::audio", "appearance", "calculation",
               "choice_filter", "default"]  # fmt: skip
    rows = [
        ["note", "welcome", "Welcome", "logo.png", "welcome.mp3"],
        ["select_one_from_file fruits.csv", "fruit", "Fruit"],
        ["select_one stores", "store", "Store", None, None, "search('stores', 'matches', 'region', 'north')"],
        ["calculate", "price", None, None, None, None, "pulldata('prices', 'price', 'name', ${fruit})"],
        ["select_one_external county", "county", "County", None, None, None, None, "state=${fruit}"],
        ["image", "photo", "Photo", None, None, None, None, None, "default.jpg"],
    ]
    return workbook(
        [columns, *rows],
        {"form_id": form_id, "version": version},
        choices=[["list_name", "name", "label", "media::video"], ["stores", "x", "X", "intro.mp4"]],
        external_choices=[["list_name", "name", "label", "state"], ["county", "a", "A", "x"]],
    )


MEDIA_FILES = {
    "fruits.csv": "file",
    "prices.csv": "file",
    "intro.mp4": "video",
    "logo.png": "image",
    "welcome.mp3": "audio",
    "default.jpg": "image",
    "itemsets.csv": "file",
    "stores.csv": "file",
}
