"""A file written in a second process from batches produced in this one.

A GeoPackage export fetches its rows from PostgreSQL (psycopg2 making their tuples) and inserts them
into SQLite: two halves of about the same cost, each holding the GIL (a thread gained nothing). A
forked child does the SQLite half with the batches sent to it through a pipe, while this process
fetches the next ones and reports progress (bench/README.md). Where there is no fork, the file is
written here. As with read_ahead, the child touches nothing of this process's but the pipe and the
file, sends back its result or its error, and ends with os._exit.
"""

import os
import pickle
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import Connection

from chalicelib.platform.child_process import forked, how_it_ended, live_then_exit, picklable, stop


class WriterEnded(RuntimeError):
    """The writing process ended without a word (killed, out of memory)."""


def written[Result](batches: Iterable[list], write: Callable[[Iterator[list]], Result],
                    sent: Callable[[int], None] = lambda count: None, in_process: bool = False,
                    ) -> Result:  # fmt: skip
    """What `write(batches)` returns, having run in a forked child fed with `batches` from here;
    `sent` is told how many items have gone after each batch (and may raise to stop it all)."""
    if in_process or not hasattr(os, "fork"):
        return write(_counted(batches, sent))
    # two one-way pipes: a child that stops reading leaves its answer readable (a socket pair, reset
    # by the unread batches, would lose it)
    (batches_in, batches_out), (answer_in, answer_out) = os.pipe(), os.pipe()
    child = forked(batches_in, batches_out, answer_in, answer_out)
    if child == 0:  # pragma: no cover (the child's coverage is not collected; the tests check its work)
        os.close(batches_out)
        os.close(answer_in)
        _write(Connection(batches_in, writable=False), Connection(answer_out, readable=False), write)
    os.close(batches_in)
    os.close(answer_out)
    to_child, from_child = Connection(batches_out, readable=False), Connection(answer_in, writable=False)
    try:
        count = 0
        for batch in batches:
            if not _sent(to_child, batch):
                break  # the child stopped reading: its answer says why
            count += len(batch)
            sent(count)
        else:
            _sent(to_child, None)
        to_child.close()
        try:
            kind, answer = from_child.recv()
        except EOFError:
            raise WriterEnded(how_it_ended(child, "the file's writer")) from None
    finally:
        to_child.close()
        from_child.close()
        stop(child)
    if kind == "error":
        raise answer
    return answer


def _sent(pipe: Connection, batch: list | None) -> bool:
    """Whether the child took the batch (False: it has stopped reading)."""
    try:
        pipe.send(batch)
        return True
    except BrokenPipeError:
        return False


def _counted(batches: Iterable[list], sent: Callable[[int], None]) -> Iterator[list]:
    count = 0
    for batch in batches:
        yield batch
        count += len(batch)
        sent(count)


def _write(batches: Connection, answer: Connection, write) -> None:  # pragma: no cover (the child)
    def incoming() -> Iterator[list]:
        while (batch := batches.recv()) is not None:
            yield batch

    def write_then_answer() -> None:
        try:
            said = pickle.dumps(("done", write(incoming())))
        except Exception as error:
            said = pickle.dumps(("error", picklable(error)))
        # Not reading any more: a parent still sending gets a broken pipe and turns to the answer,
        # instead of waiting on a full pipe while the answer waits on another.
        batches.close()
        answer.send_bytes(said)

    live_then_exit(write_then_answer)
