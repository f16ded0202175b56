"""A file's units read in a second process while this one places and writes them.

Reading a big import's file and making each unit's share of its COPY line (parsing, checks,
geometries) was two thirds of its Python; placing the units in the tree and finishing their lines is
the rest, and the database copies meanwhile. On two cores (a 3 GB task Lambda has nearly two), a
forked child does the reading and sends the units in batches through a pipe while this process
places and writes them (bench/README.md). Where there is no fork, the batches are made here.

The child shares nothing it writes with this process: it opens the file itself (`features` is
called there), reports the problems it finds with each batch, sends any error it meets as the
last message, and ends with os._exit (the parent's database connection and buffers are not its to
close). If this process stops reading (an error, a kill), the child is killed; while it waits for the
child (stuck in one SQLite statement, say), it asks whether the task is to stop (file_guard).
"""

import contextlib
import itertools
import os
import resource
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection

from chalicelib.imports.file_guard import STOP_CHECK_SECONDS, check_stop
from chalicelib.imports.unit_model import GpkgError
from chalicelib.platform import limits
from chalicelib.platform.child_process import forked, how_it_ended, live_then_exit, picklable, stop, wide_pipe

BATCH = 1_000  # units per message (~250 KB): a few fit in the pipe; 5,000 flowed less well


def batches(features: Callable[[], Iterator], encode: Callable[[list], list], problems: list,
            in_process: bool = False) -> Iterator[list]:  # fmt: skip
    """The `encode`d batches of what `features()` yields. The reader appends the problems it finds to
    `problems` (in the child, to its copy): they are appended here too, as each batch arrives."""
    if in_process or not hasattr(os, "fork"):
        for batch in itertools.batched(features(), BATCH):
            yield encode(list(batch))
        return
    reader, writer = wide_pipe()
    child = forked(reader, writer)
    if child == 0:  # pragma: no cover (the child's coverage is not collected; the tests check its work)
        os.close(reader)
        _read(Connection(writer, readable=False), features, encode, problems)
    os.close(writer)
    incoming = Connection(reader, writable=False)
    try:
        while True:
            while not incoming.poll(STOP_CHECK_SECONDS):  # poll says yes at the end of the pipe too
                check_stop()
            try:
                kind, payload, found = incoming.recv()
            except EOFError:
                raise ReaderEnded(how_it_ended(child, "the file's reader")) from None
            for problem in found:
                problems.append(problem)
            if kind == "error":
                raise payload
            if kind == "end":
                return
            yield payload
    finally:
        incoming.close()
        stop(child)


def _read(out: Connection, features, encode, problems: list) -> None:  # pragma: no cover (the child)
    sent = len(problems)

    def found() -> list:
        nonlocal sent
        new, sent = list(problems[sent:]), len(problems)
        return new

    def read() -> None:
        _cap_growth()
        try:
            for batch in itertools.batched(features(), BATCH):
                out.send(("batch", encode(list(batch)), found()))
            out.send(("end", None, found()))
        except Exception as error:
            out.send(("error", picklable(_named_if_memory(error)), found()))

    live_then_exit(read)


def _named_if_memory(error: Exception) -> Exception:  # pragma: no cover (the child)
    """A MemoryError here is the cap below (whether or not a reader already wrapped it): say so."""
    if isinstance(error, MemoryError) or isinstance(error.__cause__, MemoryError):
        what = "the memory that reading the file's values takes"
        return GpkgError(limits.limit_message(what, "IMPORT_READER_MAX_BYTES", "bytes"))
    return error


def _cap_growth() -> None:  # pragma: no cover (the child)
    """The reader may grow by IMPORT_READER_MAX_BYTES past what it inherited: a file whose values are
    each under their limit but many (a view of big blobs) ends as an input error, not as a worker that
    the Lambda's memory limit kills and SQS retries."""
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/statm") as statm:
            virtual = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = virtual + limits.IMPORT_READER_MAX_BYTES
        resource.setrlimit(
            resource.RLIMIT_AS, (cap if hard == resource.RLIM_INFINITY else min(cap, hard), hard)
        )


class ReaderEnded(RuntimeError):
    """The reading process ended without a word (killed, out of memory)."""
