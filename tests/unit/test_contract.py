"""The contract's decoding: the errors a client sees name the field, in our words."""

from typing import Annotated

import msgspec
import pytest

from chalicelib.platform import contract, paging, problems
from chalicelib.platform.contract import Body, Email, Id, Ids, Name, PageQuery, PathId, Strings, Text


class Thing(Body):
    name: Name
    email: Email | None = None
    ids: Ids = []
    tags: Strings = []
    note: Text | None = None


class Outer(Body):
    thing: Thing
    count: Id | None = None


def _refused(body_type, raw: bytes) -> problems.Problem:
    with pytest.raises(problems.Problem) as raised:
        contract.decode_body(body_type, raw)
    return raised.value


def test_a_body_is_normalised_as_declared():
    thing = contract.decode_body(
        Thing, b'{"name": "  padded  ", "email": " A@B.org ", "ids": [3, 1, 3], "tags": [" x ", "", "y"]}'
    )
    assert (thing.name, thing.email, thing.ids, thing.tags) == ("padded", "a@b.org", [1, 3], ["x", "y"])
    assert contract.given(contract.decode_body(Thing, b'{"name": "n", "note": null}')) == {
        "name": "n",
        "email": None,
        "ids": [],
        "tags": [],
        "note": None,
    }


@pytest.mark.parametrize(
    ("raw", "code", "details"),
    [
        (b'{"nmae": "x"}', "request.unknown_field", {"fields": ["nmae"]}),
        (b"{}", "request.missing_field", {"field": "name"}),
        (b'{"name": "   "}', "request.invalid_field", {"field": "name"}),
        (b'{"name": "x", "email": "nope"}', "request.invalid_field", {"field": "email"}),
        (b'{"name": "x", "ids": ["a"]}', "request.invalid_field", {"field": "ids[0]"}),
        (b'{"name": 12}', "request.invalid_field", {"field": "name"}),
        (b'{"name": "x"', "request.invalid_json", {}),
        (b"[1, 2]", "request.invalid_body", {}),
    ],
)
def test_bad_bodies_are_refused_naming_the_field(raw, code, details):
    problem = _refused(Thing, raw)
    assert (problem.status, problem.code, problem.details) == (400, code, details)


def test_a_nested_field_is_named_by_its_path_with_its_declared_reason():
    problem = _refused(Outer, b'{"thing": {"name": "x", "ids": [0.5]}}')
    assert problem.details == {"field": "thing.ids[0]"}
    problem = _refused(Outer, b'{"thing": {"name": "x"}, "count": 0}')
    assert problem.details == {"field": "count"} and "positive integer" in problem.message
    assert _refused(Outer, b'{"thing": {"name": "x", "zzz": 1}}').details == {"fields": ["thing.zzz"]}


def test_a_page_query_has_defaults_and_limits():
    assert paging.page_request(contract.decode_query(PageQuery, {})) == paging.PageRequest(50, None)
    cursor = paging.encode_cursor(17)
    query = contract.decode_query(PageQuery, {"limit": "5", "cursor": cursor})
    assert paging.page_request(query) == paging.PageRequest(5, 17)
    for bad in ("0", "501", "-1", "ten"):
        with pytest.raises(problems.Problem) as raised:
            contract.decode_query(PageQuery, {"limit": bad})
        assert raised.value.details == {"parameter": "limit"}, bad
    with pytest.raises(problems.Problem) as raised:
        contract.decode_query(PageQuery, {"limt": "5"})
    assert raised.value.details == {"parameter": "limt"} and "known: limit, cursor" in raised.value.message


def test_a_page_has_a_cursor_only_when_more_rows_exist():
    request = paging.PageRequest(2, None)
    assert paging.page([{"id": 1}, {"id": 2}], request)["next_cursor"] is None
    more = paging.page([{"id": 1}, {"id": 2}, {"id": 3}], request)
    assert [row["id"] for row in more["results"]] == [1, 2]
    query = contract.decode_query(PageQuery, {"cursor": more["next_cursor"]})
    assert paging.page_request(query).after == 2


@pytest.mark.parametrize("raw", ["abc", "-1", "1" * 19, ""])
def test_a_path_id_that_cannot_name_an_object_is_not_found(raw):
    with pytest.raises(problems.Problem) as raised:
        contract.path_value("project", raw)
    assert raised.value.status == 404


def test_a_declaration_must_name_its_path_parameters():
    with pytest.raises(TypeError, match="PathId"):

        @contract.operation("GET", "/api/things/{thing_id}", summary="s", tag="t")
        def untyped(call, thing_id: int) -> None: ...

    @contract.operation("GET", "/api/things/{thing_id}", summary="s", tag="t")
    def typed(call, thing_id: Annotated[int, PathId("thing")]) -> None: ...

    assert typed.operation.path_ids == {"thing_id": "thing"}
    assert msgspec.json.schema(Thing)["$defs"]["Thing"]["required"] == ["name"]
