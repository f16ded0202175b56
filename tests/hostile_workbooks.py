"""Hostile XLSForms for tests, small on disk: broken files, zip bombs, a million rows, lying zips."""

import io
import struct
import zipfile
import zlib

from tests.workbooks import SIMPLE_SURVEY, fixture_bytes, workbook

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
SHEET = "xl/worksheets/sheet1.xml"
SHEET_START = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
SHEET_END = b"</sheetData></worksheet>"
HEADER_ROW = (
    b'<row r="1"><c t="inlineStr"><is><t>type</t></is></c><c t="inlineStr"><is><t>name</t></is></c></row>'
)
ROWS_PER_WRITE = 10_000
BOMB = "xl/media/zeros.bin"
# Where a member's compression method, CRC-32 and uncompressed size sit in its two headers.
LOCAL_HEADER = {"method": (8, "<H"), "crc": (14, "<I"), "size": (22, "<I")}
CENTRAL_HEADER = {"method": (10, "<H"), "crc": (16, "<I"), "size": (24, "<I")}


def corrupt_xls() -> bytes:
    """An OLE2 signature and then garbage: xlrd's compound-document reader fails (CompDocError)."""
    return OLE2 + bytes(range(256)) * 16


def truncated(name: str) -> bytes:
    content = fixture_bytes(name)
    return content[: len(content) // 2]


def not_a_zip() -> bytes:
    return b"PK\x03\x04" + b"this is no zip archive " * 40


def zip_of(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def not_a_workbook() -> bytes:
    """A zip with an Office manifest but no workbook in it (as a .docx would be)."""
    manifest = (
        b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'
    )
    return zip_of({"[Content_Types].xml": manifest, "word/document.xml": b"<document/>"})


def _members(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def with_member(name: str, data: bytes, base: bytes | None = None) -> bytes:
    """A valid small XLSForm with member `name` replaced (or added)."""
    return zip_of(_members(base or workbook(SIMPLE_SURVEY)) | {name: data})


def zeros_bomb(size: int) -> bytes:
    """A valid XLSForm plus a member of `size` zero bytes (whole MiBs, under 4 GiB), a thousandth of it
    on disk. Deflate blocks ended by a full flush do not depend on what came before, so one MiB's block
    is compressed once and repeated; the member is written stored, then its headers say deflated."""
    chunk, compressor = bytes(1 << 20), zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(size >> 20):
        crc = zlib.crc32(chunk, crc)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in _members(workbook(SIMPLE_SURVEY)).items():
            archive.writestr(name, data)
        archive.writestr(BOMB, block * (size >> 20) + compressor.flush(), zipfile.ZIP_STORED)
    return _patched(out.getvalue(), BOMB, method=zipfile.ZIP_DEFLATED, crc=crc, size=size)


def _patched(content: bytes, name: str, **values: int) -> bytes:
    """The zip with member `name`'s header fields (method, crc, size: uncompressed) set to `values`, in
    its local header and in the central directory."""
    out = bytearray(content)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        local = archive.getinfo(name).header_offset
    central = struct.unpack_from("<I", out, len(out) - 22 + 16)[0]  # from the end record (no comment)
    while out[central + 46 : central + 46 + len(name)] != name.encode():
        central = out.index(b"PK\x01\x02", central + 4)
    for field, value in values.items():
        for start, fields in ((local, LOCAL_HEADER), (central, CENTRAL_HEADER)):
            offset, layout = fields[field]
            struct.pack_into(layout, out, start + offset, value)
    return bytes(out)


def million_rows(rows: int = 1_000_000) -> bytes:
    """A valid XLSForm whose survey sheet has `rows` rows (a few hundred KB compressed)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in _members(workbook(SIMPLE_SURVEY)).items():
            if name != SHEET:
                archive.writestr(name, data)
        with archive.open(SHEET, "w") as sheet:
            sheet.write(SHEET_START + HEADER_ROW)
            row = b'<row><c t="inlineStr"><is><t>text</t></is></c></row>'
            for _ in range(rows // ROWS_PER_WRITE):
                sheet.write(row * ROWS_PER_WRITE)
            sheet.write(SHEET_END)
    return out.getvalue()


def lying_sizes(real_size: int = 100 << 20, declared: int = 1_000) -> bytes:
    """A zip whose zero-filled member declares `declared` bytes but holds `real_size`."""
    return _patched(zeros_bomb(real_size), BOMB, size=declared)


def billion_laughs() -> bytes:
    """An XLSForm whose survey sheet holds an XML entity bomb (a billion "lol"s)."""
    entities = '<!ENTITY a0 "lol">' + "".join(
        f'<!ENTITY a{i} "{("&a" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    )
    bomb = b'<row><c t="inlineStr"><is><t>&a9;</t></is></c></row>'
    doctype = f'<?xml version="1.0"?><!DOCTYPE worksheet [{entities}]>'.encode()
    return with_member(SHEET, doctype + SHEET_START + HEADER_ROW + bomb + SHEET_END)


def broken_sheet_xml() -> bytes:
    """A workbook whose survey sheet is cut off in the middle of its XML."""
    return with_member(SHEET, SHEET_START + b'<row r="1"><c t="inlineStr"><is><t>ty')
