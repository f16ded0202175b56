"""The fetched pages of a tree import, spooled to a local file so that memory stays flat in the number
of units: each page's units as one msgpack frame of `tree_units.record` tuples.

What is kept in memory per unit is a 16-byte key of its uid (to keep only the first of a uid that
pages repeat, a known DHIS2 paging bug) and, per parent, its uid (the writer then remembers only the
parents it places). A page is a unit of progress: the frames added since the last `take_new` are what
an import that nears its deadline stores (dhis2_fetched_pages) for the next invocation to `replay`.
"""

import hashlib
import struct
import tempfile
from collections.abc import Iterator

import msgspec
import numpy

from chalicelib.dhis2 import tree_units
from chalicelib.imports.unit_model import Feature

FRAME_HEADER = struct.Struct("<I")
KEY_BYTES = 16


def _key(uid: str) -> bytes:
    raw = uid.encode()
    return (
        raw.ljust(KEY_BYTES, b"\0") if len(raw) < KEY_BYTES else hashlib.blake2b(raw, digest_size=16).digest()
    )


class Spool:
    def __init__(self):
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close(), after the writing)
        self._keys = bytearray()
        self._new_from = 0  # where the frames not yet taken (take_new) begin
        self.parents: set[str] = set()
        self.levels: set[int] = set()
        self.count = 0
        self._encoder = msgspec.msgpack.Encoder()

    def close(self) -> None:
        self._file.close()

    def add_page(self, items: list[dict]) -> None:
        self._add_records([tree_units.record(item) for item in items if isinstance(item, dict)])

    def _add_records(self, records: list[tuple]) -> None:
        frame = self._encoder.encode(records)
        self._file.seek(0, 2)
        self._file.write(FRAME_HEADER.pack(len(frame)) + frame)
        self._note(records)

    def _note(self, records: list) -> None:
        for record in records:
            self._keys += _key(record[0])
            if record[3]:
                self.parents.add(record[3])
            self.levels.add(record[4])
        self.count += len(records)

    def take_new(self) -> bytes:
        """The frames added since the last call, to store with a Continue."""
        self._file.seek(self._new_from)
        data = self._file.read()
        self._new_from = self._file.tell()
        return data

    def replay(self, data: bytes) -> None:
        """Frames stored by an earlier invocation, as if their pages were fetched again."""
        self._file.seek(0, 2)
        self._file.write(data)
        self._new_from = self._file.tell()
        for records in _frames(memoryview(data)):
            self._note(records)

    def first_of_each_uid(self) -> numpy.ndarray:
        """Per unit in spool order, whether it is the first with its uid."""
        keys = numpy.frombuffer(bytes(self._keys), dtype=f"S{KEY_BYTES}")
        keep = numpy.zeros(len(keys), dtype=bool)
        keep[numpy.unique(keys, return_index=True)[1]] = True
        return keep

    def features(
        self,
        keep: numpy.ndarray,
        type_names: dict[int, str],
        groups: dict[str, str],
        problems: list,
        namespace: bytes,
    ) -> Iterator[Feature]:
        """The spooled units as Features (repeats skipped), read again from the file."""
        self._file.seek(0)
        row = 0
        for records in _file_frames(self._file):
            kept = [(row + n, fields) for n, fields in enumerate(records, 1) if keep[row + n - 1]]
            row += len(records)
            yield from tree_units.features(kept, type_names, groups, problems, namespace)


def _frames(data: memoryview) -> Iterator[list]:
    decoder = msgspec.msgpack.Decoder()
    at = 0
    while at < len(data):
        (size,) = FRAME_HEADER.unpack_from(data, at)
        at += FRAME_HEADER.size
        yield decoder.decode(data[at : at + size])
        at += size


def _file_frames(file) -> Iterator[list]:
    """The frames of `file` one at a time, from where it stands."""
    decoder = msgspec.msgpack.Decoder()
    while header := file.read(FRAME_HEADER.size):
        (size,) = FRAME_HEADER.unpack(header)
        yield decoder.decode(file.read(size))
