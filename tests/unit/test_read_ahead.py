import os

import pytest

from chalicelib.imports import read_ahead
from chalicelib.imports.unit_model import GpkgError, ProblemList, RowProblem


def encode_with_pid(batch: list) -> list:
    return [(os.getpid(), item * 10) for item in batch]


def numbers(count: int, problems: list, fail_at: int | None = None):
    def features():
        for number in range(count):
            if number == fail_at:
                raise GpkgError(f"the GeoPackage is damaged or truncated at {number}")
            if number % 4000 == 0:
                problems.append(RowProblem("layer", number, "geom", "was repaired", fatal=False))
            yield number

    return features


@pytest.mark.parametrize("in_process", [False, True])
def test_batches_come_encoded_in_order_with_the_problems_found(in_process):
    problems = ProblemList()
    batches = list(read_ahead.batches(numbers(12_001, problems), encode_with_pid, problems, in_process))
    assert [len(batch) for batch in batches] == [read_ahead.BATCH] * (12_000 // read_ahead.BATCH) + [1]
    assert [value for batch in batches for _, value in batch] == [n * 10 for n in range(12_001)]
    readers = {pid for batch in batches for pid, _ in batch}
    assert (readers == {os.getpid()}) is in_process  # read here, or in a child of this process
    assert [problem.row for problem in problems] == [0, 4000, 8000, 12000]


def test_an_error_in_the_reader_is_raised_here_with_its_kind_after_what_came_before():
    problems, received = ProblemList(), []
    with pytest.raises(GpkgError, match="truncated at 7500"):
        for batch in read_ahead.batches(numbers(20_000, problems, fail_at=7500), encode_with_pid, problems):
            received.append(len(batch))
    assert sum(received) == 7500 // read_ahead.BATCH * read_ahead.BATCH  # every whole batch before the error
    assert [problem.row for problem in problems] == [0, 4000]


def test_a_reader_left_behind_is_stopped_and_collected():
    problems = ProblemList()
    batches = read_ahead.batches(numbers(1_000_000, problems), encode_with_pid, problems)
    reader = next(batches)[0][0]
    assert reader != os.getpid()
    batches.close()  # this process stops reading (an error, a kill)
    with pytest.raises(ChildProcessError):
        os.waitpid(reader, os.WNOHANG)  # already collected: no zombie left


class NamedByRow(Exception):
    def __init__(self, layer: str, row: int):
        super().__init__(f"{layer} row {row} is broken")


def test_an_error_that_does_not_come_out_of_a_pickle_arrives_as_its_message():
    def features():
        yield 1
        raise NamedByRow("layer", 7)

    with pytest.raises(RuntimeError, match="NamedByRow: layer row 7 is broken"):
        list(read_ahead.batches(features, list, ProblemList()))


def test_a_reader_that_dies_says_so():
    def features():
        yield 1
        os.kill(os.getpid(), 9)  # as the kernel does to a process out of memory
        yield 2

    with pytest.raises(read_ahead.ReaderEnded, match="killed by signal 9"):
        list(read_ahead.batches(features, list, ProblemList()))


def test_the_pipe_holds_a_few_batches_where_the_system_allows():
    from pathlib import Path

    from chalicelib.platform import child_process

    limit = Path("/proc/sys/fs/pipe-max-size")
    if not limit.exists() or int(limit.read_text()) < child_process.PIPE_BYTES:
        pytest.skip("this system keeps pipes at their default size")
    reader, writer = child_process.wide_pipe()
    try:
        os.set_blocking(writer, False)
        written = os.write(writer, b"x" * (child_process.PIPE_BYTES // 2))  # 8 times a default pipe
        assert written == child_process.PIPE_BYTES // 2  # the sender goes on without waiting for a reader
    finally:
        os.close(reader)
        os.close(writer)
