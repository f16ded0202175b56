"""Hostile input without a database: deep nesting (JSON bodies, cursors, instance XML), many same-named
XML siblings, oversized answers, and names made only of dots. Each is refused with the limit or the
reason named, never a RecursionError, a 500 or minutes of work."""

import base64
import gc
import time
from typing import Any

import pytest

from chalicelib.platform import contract, limits, paging, problems
from chalicelib.platform.contract import Body, PageQuery
from chalicelib.platform.filenames import has_dot_segment, is_dot_only, safe_filename
from chalicelib.submissions import instance_xml
from chalicelib.submissions.instance_xml import InstanceError, Shape

META = b"<meta><instanceID>uuid:hostile</instanceID></meta>"


class Free(Body):
    value: Any = None  # takes any JSON, as geometries and proposed changes do


def _nested(depth: int, inner: bytes = b"1") -> bytes:
    return b"[" * depth + inner + b"]" * depth


def _refused(raw: bytes) -> problems.Problem:
    with pytest.raises(problems.Problem) as raised:
        contract.decode_body(Free, raw)
    return raised.value


# JSON bodies


def test_a_body_nested_to_the_limit_is_read():
    body = contract.decode_body(Free, b'{"value": ' + _nested(limits.JSON_MAX_DEPTH - 1) + b"}")
    for _ in range(limits.JSON_MAX_DEPTH - 1):
        body.value = body.value[0]
    assert body.value == 1


@pytest.mark.parametrize(
    "raw",
    [
        b'{"value": ' + _nested(limits.JSON_MAX_DEPTH) + b"}",  # one level past the limit
        b'{"value": ' + _nested(2_000) + b"}",  # past Python's recursion limit: msgspec's RecursionError
        _nested(2_000),  # the login of the issue: 4 KB, no token needed
        b'{"value": ' + b'{"a": ' * 5_000 + b"1" + b"}" * 5_000 + b"}",
        b"[" * 100_000,  # unclosed
    ],
    ids=["one-past", "2000-in-a-field", "2000-at-the-root", "objects", "unclosed"],
)
def test_a_body_nested_deeper_than_the_limit_is_a_400_naming_it(raw):
    problem = _refused(raw)
    assert (problem.status, problem.code) == (400, "request.invalid_json")
    assert "JSON_MAX_DEPTH" in problem.message and f"{limits.JSON_MAX_DEPTH} levels" in problem.message


def test_brackets_inside_strings_are_no_nesting():
    text = '\\"' + "[{" * 5_000
    body = contract.decode_body(Free, b'{"value": ["' + text.encode() + b'", [[1]]]}')
    assert body.value == ['"' + "[{" * 5_000, [[1]]]


def test_a_body_of_many_shallow_lists_is_read():
    body = contract.decode_body(Free, b'{"value": [' + b",".join([b"[[1, 2]]"] * 50_000) + b"]}")
    assert len(body.value) == 50_000


# Cursors


@pytest.mark.parametrize("depth", [50, 5_000])
def test_a_cursor_of_nested_arrays_is_a_400_on_the_cursor(depth):
    query = PageQuery(limit=10, cursor=base64.urlsafe_b64encode(_nested(depth)).decode())
    with pytest.raises(problems.Problem) as raised:
        paging.page_request(query)
    problem = raised.value
    assert (problem.status, problem.code, problem.details) == (
        400, "request.invalid_parameter", {"parameter": "cursor"}
    )  # fmt: skip
    assert "is not a cursor this API returned" in problem.message
    if depth > 1_000:  # the one Python's json cannot read at all
        assert "JSON_MAX_DEPTH" in problem.message


# Instance XML


def _instance(body: bytes) -> bytes:
    return b"<data id='hostile'>" + body + META + b"</data>"


def _deep(depth: int) -> bytes:
    return b"<a>" * depth + b"x" + b"</a>" * depth


def test_xml_nested_to_the_limit_is_read():
    instance = instance_xml.parse(_instance(_deep(limits.XML_MAX_DEPTH - 1)))  # the root is a level
    node = instance.answers
    for _ in range(limits.XML_MAX_DEPTH - 1):
        node = node["a"]
    assert node == "x"


@pytest.mark.parametrize(
    "xml",
    [
        _instance(_deep(limits.XML_MAX_DEPTH)),
        _instance(_deep(20_000)),
        b"<data id='hostile'>" + b"<a>" * 1_000_000,  # never closed: refused while it is read
    ],
    ids=["one-past", "20000", "unclosed"],
)
def test_xml_nested_deeper_than_the_limit_is_refused_naming_it(xml):
    with pytest.raises(InstanceError, match=f"limit of {limits.XML_MAX_DEPTH} levels \\(XML_MAX_DEPTH\\)"):
        instance_xml.parse(xml)


def test_more_elements_than_the_limit_are_refused_at_once():
    xml = _instance(b"<q>1</q>" * 100_000)
    started = time.process_time()  # CPU time: the suite's other workers and browsers slow the clock
    with pytest.raises(InstanceError, match="XML_MAX_ELEMENTS"):
        instance_xml.parse(xml)
    assert time.process_time() - started < 1  # ~0.17 s alone


SIBLINGS = limits.XML_MAX_ELEMENTS - 3  # the root, meta and instanceID are the others


def _plain_siblings(n: int) -> tuple[bytes, list]:
    return b"".join(b"<q>%d</q>" % i for i in range(n)), [str(i) for i in range(n)]


def _repeat_entries(n: int) -> tuple[bytes, list]:
    return b"".join(b"<q><n>%d</n></q>" % i for i in range(n // 2)), [{"n": str(i)} for i in range(n // 2)]


def _parse_seconds(shape: Shape, siblings: int, make) -> float:
    body, expected = make(siblings)
    gc.disable()  # the collector's passes grow with every live object: not the parser's cost
    try:
        started = time.perf_counter()
        instance = instance_xml.parse(_instance(body), shape)
        elapsed = time.perf_counter() - started
    finally:
        gc.enable()
    assert instance.answers["q"] == expected
    return elapsed


@pytest.mark.parametrize(
    ("shape", "make"),
    [(Shape(), _plain_siblings), (Shape(repeats=frozenset({("q",)})), _repeat_entries)],
    ids=["unknown-repeat", "declared-repeat"],
)
def test_same_named_siblings_are_read_in_linear_time_and_in_order(shape, make):
    # Four times the siblings: about four times the time when linear, sixteen when each copies the list.
    # The best of three runs each, so that another process's burst does not decide.
    quarter = min(_parse_seconds(shape, SIBLINGS // 4, make) for _ in range(3))
    whole = min(_parse_seconds(shape, SIBLINGS, make) for _ in range(3))
    assert whole < 10 * quarter + 0.05, f"{SIBLINGS} siblings {whole:.3f} s, a quarter {quarter:.3f} s"


def test_a_long_repeat_the_descriptor_does_not_know_of_reads_as_a_list():
    xml = _instance(b"<g><v>a</v><v>b</v><v/><w>1</w></g>" + b"<g><v>c</v></g>")
    answers = instance_xml.parse(xml).answers
    assert answers["g"] == [{"v": ["a", "b", None], "w": "1"}, {"v": "c"}]


def test_an_entity_repeated_into_megabytes_is_refused_as_a_dtd():
    """50 KB that expanded to 7.5 MB of answers: no DTD, so no entity can be declared."""
    xml = (
        b'<!DOCTYPE data [<!ENTITY big "' + b"x" * 50_000 + b'">]>'
        + _instance(b"<a>" + b"&big;" * 150 + b"</a>")
    )  # fmt: skip
    with pytest.raises(InstanceError, match="declares a DTD or entities"):
        instance_xml.parse(xml)


def test_answers_bigger_than_the_limit_as_json_are_refused_naming_it():
    # 2 MB of XML; each é is 6 bytes in the JSON the API returns (\u00e9)
    xml = _instance(b"<a>" + "é".encode() * 1_000_000 + b"</a>")
    with pytest.raises(InstanceError, match="ANSWERS_MAX_BYTES") as raised:
        instance_xml.parse(xml)
    assert "the answers as JSON (6,0" in str(raised.value)
    under = instance_xml.parse(_instance(b"<a>" + b"x" * (limits.ANSWERS_MAX_BYTES - 100) + b"</a>"))
    assert len(under.answers["a"]) == limits.ANSWERS_MAX_BYTES - 100


@pytest.mark.parametrize(
    "xml",
    [
        b"<?xml version='1.0' encoding='klingon'?><data id='x'/>",
        b"<?xml version='1.0' encoding='utf-7'?><data id='x'/>",
    ],
    ids=["unknown", "multi-byte"],
)
def test_an_unreadable_declared_encoding_is_an_instance_error(xml):
    with pytest.raises(InstanceError, match="declared encoding cannot be read"):
        instance_xml.parse(xml)


@pytest.mark.parametrize("instance_id", [".", "..", "uuid:..", "....", "a/../b", "../x", "a\\.."])
def test_an_instance_id_with_a_part_made_only_of_dots_is_refused(instance_id):
    xml = f"<data id='x'><meta><instanceID>{instance_id}</instanceID></meta></data>".encode()
    with pytest.raises(InstanceError, match="meta/instanceID .* has a part made only of dots"):
        instance_xml.parse(xml)


# Names that become parts of S3 keys


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (".", "upload"),
        ("..", "upload"),
        ("...", "upload"),
        ("x" + "." * 200, "upload"),  # cut to its last 120 characters: only dots
        ("../..", ".._.."),
        ("a..", "a.."),
        (".hidden", ".hidden"),
        ("", "upload"),
    ],
)
def test_safe_filename_never_gives_a_name_of_only_dots(name, expected):
    assert safe_filename(name) == expected
    assert not is_dot_only(safe_filename(name))


def test_dot_segments_are_found_between_slashes():
    assert [is_dot_only(n) for n in (".", "..", "...", "a.", ".a", "")] == [
        True,
        True,
        True,
        False,
        False,
        False,
    ]
    assert [has_dot_segment(n) for n in ("a/../b", "a/./b", "a\\..\\b", "a/b", "a..b/c", "uuid:..")] == [
        True, True, True, False, False, False,
    ]  # fmt: skip
