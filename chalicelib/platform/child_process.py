"""The helpers of a forked child process that works beside this one (read_ahead, write_behind):
a pipe that holds a few batches, forking without leaking it, errors that cross a pipe, how a child
ended, stopping it; and `call_in_child`, one call made in a child held to a time budget."""

import contextlib
import fcntl
import gc
import os
import pickle
import select
import signal
import time
from collections.abc import Callable
from typing import NoReturn

PIPE_BYTES = 1 << 20


def live_then_exit(work: Callable[[], None]) -> NoReturn:  # pragma: no cover (runs in the child)
    """A child's whole life: `work`, then os._exit, never the parent's cleanup (its database
    connection and buffers are not the child's to close). Status 1 if `work` raised anything (the
    parent went away: a broken pipe; or the child was interrupted)."""
    # What the child inherits stays shared with the parent only while the child does not write to
    # it: a garbage collection would visit (and so copy) every object of the parent's heap, ~100 MB.
    gc.freeze()
    status = 0
    try:
        work()
    except BaseException:
        status = 1
    finally:
        os._exit(status)


def wide_pipe() -> tuple[int, int]:
    """os.pipe(), made to hold PIPE_BYTES where the system allows (Linux: up to pipe-max-size, 1 MiB
    by default) instead of 64 KiB: the sender writes a whole batch and goes on working while the
    receiver is busy, where a 64 KiB pipe made them take turns (the import figures: bench/README.md)."""
    reader, writer = os.pipe()
    with contextlib.suppress(AttributeError, OSError):  # not Linux, or over its limit: the size stays
        fcntl.fcntl(writer, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    return reader, writer


def forked(*pipe_ends: int) -> int:
    """os.fork(), the pipe's ends closed if it fails (a warm Lambda would otherwise keep them)."""
    try:
        return os.fork()
    except BaseException:
        for end in pipe_ends:
            os.close(end)
        raise


def picklable(error: Exception) -> Exception:
    """The error, if it comes out of a pickle as it went in; else a RuntimeError that says it."""
    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")


def how_it_ended(child: int, who: str) -> str:
    """Why a child that fell silent ended (it is collected): for the error the parent raises."""
    try:
        _, status = os.waitpid(child, 0)
    except ChildProcessError:
        return f"{who} ended without a word"
    if os.WIFSIGNALED(status):
        return f"{who} was killed by signal {os.WTERMSIG(status)} (out of memory?)"
    return f"{who} ended with status {os.waitstatus_to_exitcode(status)} without a word"


def stop(child: int) -> None:
    """Kills the child unless it has ended, and collects it."""
    try:
        ended, _ = os.waitpid(child, os.WNOHANG)
        if ended == 0:
            os.kill(child, signal.SIGKILL)
            os.waitpid(child, 0)
    except ChildProcessError:
        pass


def call_in_child(work: Callable[[], object], seconds: float, who: str) -> object:
    """What `work()` returns (or raises) when run in a forked child: the child is killed and
    TimeoutError raised after `seconds`, and the memory it takes is given back when it ends.
    ChildProcessError if it ends without an answer (killed: out of memory?)."""
    if not hasattr(os, "fork"):  # no budget where there is no fork
        return work()
    reader, writer = os.pipe()
    child = forked(reader, writer)
    if child == 0:  # pragma: no cover (runs in the child)
        os.close(reader)
        live_then_exit(lambda: _answer(writer, work))
    os.close(writer)
    try:
        answer = _read_all(reader, time.monotonic() + seconds)
        failed, value = pickle.loads(answer)
    except (pickle.UnpicklingError, EOFError, ValueError):  # nothing, or half an answer
        raise ChildProcessError(how_it_ended(child, who)) from None
    finally:
        os.close(reader)
        stop(child)
    if failed:
        raise value
    return value


def _answer(writer: int, work: Callable[[], object]) -> None:  # pragma: no cover (runs in the child)
    try:
        outcome = (False, work())
    except Exception as error:
        outcome = (True, picklable(error))
    with os.fdopen(writer, "wb") as out:
        out.write(pickle.dumps(outcome))


def _read_all(reader: int, deadline: float) -> bytes:
    """Everything until the writer closes, or TimeoutError at `deadline`."""
    poller, chunks = select.poll(), []
    poller.register(reader, select.POLLIN)
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not poller.poll(left * 1000):
            raise TimeoutError
        chunk = os.read(reader, PIPE_BYTES)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
