import os
import sqlite3

import pytest

from chalicelib.exports import write_behind


def into_sqlite(path):
    def write(batches) -> tuple[int, int]:
        db = sqlite3.connect(path)
        for batch in batches:
            db.executemany("INSERT INTO numbers VALUES (?, ?)", batch)
        db.commit()
        return os.getpid(), db.execute("SELECT count(*) FROM numbers").fetchone()[0]

    return write


@pytest.fixture
def database(tmp_path):
    path = tmp_path / "numbers.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE numbers (n INTEGER, blob BLOB)")
    return path


@pytest.mark.parametrize("in_process", [False, True])
def test_the_file_is_written_from_the_batches_and_progress_is_told_here(database, in_process):
    told = []
    batches = (
        [(n, bytes([n % 256]) * 20) for n in range(start, start + 1000)] for start in range(0, 5000, 1000)
    )
    writer, count = write_behind.written(batches, into_sqlite(database), told.append, in_process)
    assert count == 5000 and told == [1000, 2000, 3000, 4000, 5000]
    assert (writer == os.getpid()) is in_process  # written here, or by a child of this process
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT sum(n), max(length(blob)) FROM numbers").fetchone() == (
            sum(range(5000)),
            20,
        )


def test_the_writers_error_is_raised_here_with_its_kind(database):
    def write(batches):
        for _ in batches:
            raise sqlite3.OperationalError("database or disk is full")

    with pytest.raises(sqlite3.OperationalError, match="disk is full"):
        write_behind.written(([n] for n in range(100_000)), write)


def test_a_writer_that_dies_says_so():
    def write(batches):
        next(batches)
        os.kill(os.getpid(), 9)

    with pytest.raises(write_behind.WriterEnded, match="killed by signal 9"):
        write_behind.written(([n] * 1000 for n in range(1000)), write)


def test_stopping_here_stops_the_writer():
    class Killed(Exception):
        pass

    def stop_at_3000(count):
        if count >= 3000:
            raise Killed()

    children_before = _children()
    with pytest.raises(Killed):
        write_behind.written(
            ([n] * 1000 for n in range(1000)), lambda batches: sum(1 for _ in batches), stop_at_3000
        )
    assert _children() == children_before  # the writer was stopped and collected


def _children() -> list[str]:
    with open(f"/proc/{os.getpid()}/task/{os.getpid()}/children") as children:
        return children.read().split()


def test_a_long_answer_comes_back_even_while_batches_are_still_coming():
    # the child stops reading before all is sent, then answers at length (more than a pipe holds)
    def fail_at_length(batches):
        next(batches)
        raise ValueError("x" * 200_000)

    def return_at_length(batches):
        next(batches)
        return "y" * 200_000

    many = [list(range(1000))] * 1000
    with pytest.raises(ValueError, match="^x{200000}$"):
        write_behind.written(iter(many), fail_at_length)
    assert write_behind.written(iter(many), return_at_length) == "y" * 200_000


def test_a_broken_pipe_of_the_callers_own_is_its_own():
    def told(count):
        raise BrokenPipeError("the caller's own pipe")

    with pytest.raises(BrokenPipeError, match="the caller's own pipe"):
        write_behind.written(([n] for n in range(10)), lambda batches: sum(1 for _ in batches), told)


def test_nothing_to_write_writes_nothing():
    assert write_behind.written(iter([]), lambda batches: list(batches)) == []


def test_a_fork_that_fails_leaves_no_pipe_open(monkeypatch):
    from chalicelib.imports import read_ahead

    def no_fork():
        raise BlockingIOError("Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(3):
        with pytest.raises(BlockingIOError):
            write_behind.written(iter([[1]]), list)
        with pytest.raises(BlockingIOError):
            list(read_ahead.batches(lambda: iter([1]), list, []))
    assert len(os.listdir("/proc/self/fd")) == before
