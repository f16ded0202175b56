"""Reading a CSV file's rows as text, for the readers that make units of them (csv_reader, csv_tree).

UTF-8 with or without a BOM (otherwise refused, naming the first line that is not), delimiter `,` or
`;` (sniffed from the header, of at most CSV_MAX_HEADER_BYTES), quoted line breaks kept, NUL
characters dropped, values up to FIELD_LIMIT.
"""

import csv
import itertools
from collections.abc import Iterator
from pathlib import Path

from chalicelib.imports.unit_model import GpkgError
from chalicelib.platform.limits import CSV_MAX_HEADER_BYTES, limit_message

TOO_MANY_VALUES = "has more values than the header has columns"
# Territories as WKT can be long; csv's default field limit (128 KiB) would refuse them.
FIELD_LIMIT = 64 * 1024 * 1024


class CsvError(GpkgError):
    """The file cannot be read as a CSV of org units."""


csv.field_size_limit(FIELD_LIMIT)


def rows_of(path: str | Path, rename=str.strip) -> tuple[list[str], Iterator[tuple[int, dict]]]:
    """The header (each name through `rename`), and the rows as `value_rows` gives them, keyed by those
    names. A row with more values than the header has columns comes as None: its columns cannot be
    trusted."""
    header, rows = value_rows(path, rename)
    kept, width = [(name, index) for index, name in enumerate(header)], len(header)
    return header, ((row_number, _record(values, kept, width)) for row_number, values in rows)


def value_rows(path: str | Path, rename=str.strip) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header (each name through `rename`), and each row's values numbered as a spreadsheet shows
    them (the header is row 1), read as they are asked for, without NUL characters."""
    path = Path(path)
    if path.stat().st_size == 0:
        raise CsvError("the file is empty")
    _check_header_size(path)
    try:
        with _text(path) as file:
            header_line = file.readline()
    except UnicodeDecodeError as error:
        raise _not_utf8(path, error) from error
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    header = [rename(name or "") for name in next(csv.reader([header_line], delimiter=delimiter), [])]
    holds_nul = _holds_nul(path)

    def rows() -> Iterator[tuple[int, list[str]]]:
        row_number = 1
        try:
            with _text(path) as file:
                file.readline()
                nul = [False]  # a NUL character in the lines of the record being read
                lines = (_noting_nul(line, nul) for line in file) if holds_nul else file
                for values in _records(lines, delimiter):
                    if values:  # blank lines are skipped, and not counted
                        row_number += 1
                        if nul[0]:  # PostgreSQL refuses NUL in text: out of the values (not the line)
                            values, nul[0] = [value.replace("\x00", "") for value in values], False
                        yield row_number, values
        except UnicodeDecodeError as error:
            raise _not_utf8(path, error) from error
        except csv.Error as error:  # a value over FIELD_LIMIT
            raise CsvError(f"row {row_number + 1}: {error}") from error

    return header, rows()


def _check_header_size(path: Path) -> None:
    """Before the header is read as text and split: 100 MB of commas would be a list of 100 million."""
    with path.open("rb") as file:
        start = file.read(CSV_MAX_HEADER_BYTES + 1)
    if len(start.partition(b"\n")[0].partition(b"\r")[0]) > CSV_MAX_HEADER_BYTES:
        raise CsvError(limit_message("the header line", "CSV_MAX_HEADER_BYTES", "bytes"))


def _records(lines: Iterator[str], delimiter: str) -> Iterator[list[str]]:
    """What csv.reader(lines) gives, a line without a quote character split at once (most lines, faster
    than csv.reader: a big import reads its file twice; bench/README.md); a line with one is
    csv.reader's, with the lines after it that its record takes (a quoted line break)."""
    for line in lines:
        if '"' not in line and len(line) <= FIELD_LIMIT:  # a longer one, csv.reader refuses
            line = line.rstrip("\r\n")
            yield line.split(delimiter) if line else []
        else:
            yield next(csv.reader(itertools.chain((line,), lines), delimiter=delimiter))


def _holds_nul(path: Path) -> bool:
    """Whether the file has a NUL byte anywhere: most have none, and then their lines need no look."""
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            if b"\x00" in chunk:
                return True
    return False


def _noting_nul(line: str, nul: list[bool]) -> str:
    if "\x00" in line:
        nul[0] = True
    return line


def _record(values: list[str], kept: list[tuple[str, int]], width: int) -> dict | None:
    if len(values) == width:
        return {name: values[index] for name, index in kept}
    if len(values) > width:
        return None
    return {name: values[index] if index < len(values) else "" for name, index in kept}  # the rest is empty


def _text(path: Path):
    return open(path, encoding="utf-8-sig", newline="")  # the callers close it


def _not_utf8(path: Path, error: UnicodeDecodeError) -> CsvError:
    """The error, naming the first line that is not UTF-8 (the decoder reads ahead, so where it failed
    does not say which line)."""
    with path.open("rb") as file:
        line = next((number for number, raw in enumerate(file, start=1) if not _is_utf8(raw)), None)
    where = f"line {line}: " if line else ""
    return CsvError(
        f"the file is not UTF-8 ({where}{error.reason}); save it as 'CSV UTF-8' and upload it again"
    )


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False
