"""What an XLSForm workbook may hold before pyxform reads it (the budgets of platform/limits.py).

An .xlsx is a zip: a megabyte of it may expand to a gigabyte, and a few hundred kilobytes may hold a
million rows, which pyxform reads one by one. So the zip's declared sizes are summed, every member is
then read (capped, since a declared size may lie) and the rows of each XML member are counted as they
stream by. An .xls is not compressed: xlrd's row count of each sheet is checked. Whatever fails here
is the file's fault and is refused as such (`over_limit`, or the reader's reason).
"""

import io
import re
import zipfile

from chalicelib.platform import limits, problems

CHUNK_BYTES = 1 << 20
# A row's start tag, with or without a namespace prefix (<row r="2">, <x:row>), not <rowBreaks>.
ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s>/]")
LONGEST_TAG_START = 256  # more than a prefix and "row": a longer tail after the last "<" holds no row tag


def over_limit(what: str, name: str, unit: str, sheet: str | None = None) -> problems.Problem:
    """400 form_version.invalid_xlsform naming the budget the workbook exceeds."""
    message = f"Invalid XLSForm: {limits.limit_message(what, name, unit)}."
    return problems.Problem(400, "form_version.invalid_xlsform", message,
                            {"sheet": sheet, "row": None, "limit": name})  # fmt: skip


def check_xlsx(content: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        members = archive.infolist()
        if sum(member.file_size for member in members) > limits.XLSFORM_MAX_UNCOMPRESSED_BYTES:
            raise _too_big()
        left = limits.XLSFORM_MAX_UNCOMPRESSED_BYTES
        for member in members:
            left = _scan(archive, member, left)


def _scan(archive: zipfile.ZipFile, member: zipfile.ZipInfo, left: int) -> int:
    """Reads `member` through, within the `left` bytes of the budget, counting its rows if it is XML;
    returns what is left of the budget."""
    rows, tail = 0, b""
    counting = member.filename.lower().endswith(".xml")
    with archive.open(member) as stream:
        while chunk := stream.read(CHUNK_BYTES):
            left -= len(chunk)
            if left < 0:
                raise _too_big()
            if counting:
                counted, tail = _rows_in(tail + chunk)
                rows += counted
                if rows > limits.XLSFORM_MAX_ROWS:
                    raise over_limit(f"The worksheet {member.filename}", "XLSFORM_MAX_ROWS", "rows")
    return left


def _rows_in(text: bytes) -> tuple[int, bytes]:
    """The row tags in `text`, and the tail to carry to the next chunk (a tag may straddle the two)."""
    cut = text.rfind(b"<")
    if cut < 0 or len(text) - cut > LONGEST_TAG_START:
        cut = len(text)
    return len(ROW_TAG.findall(text, 0, cut)), text[cut:]


def _too_big() -> problems.Problem:
    return over_limit("The workbook, uncompressed,", "XLSFORM_MAX_UNCOMPRESSED_BYTES", "bytes")


def check_xls(content: bytes) -> None:
    import xlrd  # with pyxform, imported only when a form is converted

    book = xlrd.open_workbook(file_contents=content, on_demand=True, logfile=io.StringIO())  # not stdout
    try:
        for index, name in enumerate(book.sheet_names()):
            if book.sheet_by_index(index).nrows > limits.XLSFORM_MAX_ROWS:
                raise over_limit(f"The sheet '{name}'", "XLSFORM_MAX_ROWS", "rows", sheet=name)
            book.unload_sheet(index)
    finally:
        book.release_resources()
