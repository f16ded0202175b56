"""The OData pieces without a server: $filter as Central parses it, answers typed as Central types them."""

import datetime

import pytest

from chalicelib.platform import problems
from chalicelib.submissions import odata_feed, odata_filter, odata_repeats, odata_sql
from chalicelib.submissions.submission_reads_sql import Query

UTC = datetime.UTC


def test_filters_parse_comparisons_combinations_functions_and_root_paths():
    tree = odata_filter.parse(
        "__system/submissionDate gt 2024-01-01T00:00:00.000Z and "
        "(not ($root/Submissions/__system/reviewState eq null) or year(__system/submissionDate) le 2023)"
    )
    moment = datetime.datetime(2024, 1, 1, tzinfo=UTC)
    assert tree == (
        "and",
        ("cmp", "gt", ("field", "__system/submissionDate"), ("literal", moment)),
        ("or", ("not", ("cmp", "eq", ("field", "__system/reviewState"), ("literal", None))),
         ("cmp", "le", ("call", "year", ("field", "__system/submissionDate")), ("literal", 2023))),
    )  # fmt: skip
    query = Query(1)
    odata_sql.compile_filter(query, tree)
    assert "IS NULL" in query.clauses[0] and list(query.params.values()) == [moment, 2023]


@pytest.mark.parametrize(
    "text, says",
    [
        ("name eq 'x'", "only __id"),
        ("__id eq", "ends too early"),
        ("__id 'x'", "needs a comparison"),
        ("length(__id) eq 1", "the functions are"),
        ("(__id eq 'x'", "ends too early"),
        ("__id eq 'x' )", "should end"),
        ("__id eq 'x' & 1", "cannot be read"),
    ],
)
def test_unreadable_filters_are_refused_naming_the_parameter(text, says):
    with pytest.raises(problems.Problem) as refused:
        odata_filter.parse(text)
    assert refused.value.status == 400 and refused.value.details["parameter"] == "$filter"
    assert says in refused.value.message


def test_answers_are_typed_as_central_types_them():
    assert odata_feed.typed("int", "12abc", False) == 12 and odata_feed.typed("int", "x", False) is None
    assert odata_feed.typed("decimal", "1.5", False) == 1.5
    assert odata_feed.typed("geopoint", "5.6 -0.2", True) == "POINT (-0.2 5.6)"
    assert odata_feed.typed("geotrace", "1 2 0 0;3 4 0 0", True) == "LINESTRING (2 1 0,4 3 0)"
    assert odata_feed.typed("geoshape", "1 2;3 4;1 2", False) == {
        "type": "Polygon", "coordinates": [[[2.0, 1.0], [4.0, 3.0], [2.0, 1.0]]]}  # fmt: skip
    assert (
        odata_feed.typed("dateTime", "2024-01-01T10:00:00.000+07", False) == "2024-01-01T10:00:00.000+07:00"
    )
    assert odata_feed.identifier("my-field.x") == "my_field_x" and odata_feed.identifier("1a") == "_1a"


def test_skiptokens_are_centrals_and_foreign_ones_are_refused():
    token = odata_feed.skiptoken("uuid:abc")
    assert token.startswith("01") and odata_feed.instance_of_skiptoken(token) == "uuid:abc"
    for bad in ("02abc", "01!!!", "01" + "e30="):  # e30= is {}
        with pytest.raises(problems.Problem):
            odata_feed.instance_of_skiptoken(bad)


def test_nested_repeat_rows_have_centrals_ids_parent_keys_and_links():
    """Central's own doubleRepeat example (test/integration/api/odata.js): the same ids and links."""
    toy = odata_feed.Field("toy", "repeat", (odata_feed.Field("name", "string"),))
    child = odata_feed.Field(
        "child", "repeat", (odata_feed.Field("name", "string"), odata_feed.Field("toys", "group", (toy,)))
    )
    fields = (odata_feed.Field("name", "string"), odata_feed.Field("children", "group", (child,)))
    answers = {"name": "Vick", "children": {"child": [
        {"name": "Alice"}, {"name": "Bob", "toys": {"toy": [{"name": "Twilight Sparkle"}]}},
    ]}}  # fmt: skip
    assert odata_repeats.tables(fields) == [
        "Submissions.children.child",
        "Submissions.children.child.toys.toy",
    ]
    children = odata_repeats.rows(
        odata_repeats.chain(fields, "Submissions.children.child"), answers, "double", False
    )
    bob = "b6e93a81a53eed0566e65e472d4a4b9ae383ee6d"
    assert children == [
        {"name": "Alice", "toys": {}, "__id": "46ebf42ee83ddec5028c42b2c054402d1e700208",
         "__Submissions-id": "double"},
        {"name": "Bob", "__id": bob, "__Submissions-id": "double",
         "toys": {"toy@odata.navigationLink": f"Submissions('double')/children/child('{bob}')/toys/toy"}},
    ]  # fmt: skip
    toy_table = odata_repeats.chain(fields, "Submissions.children.child.toys.toy")
    toys = odata_repeats.rows(toy_table, answers, "double", False)
    assert [(t["name"], t["__Submissions-children-child-id"]) for t in toys] == [("Twilight Sparkle", bob)]
    assert odata_repeats.chain(fields, "Submissions.children") is None
    assert odata_repeats.chain(fields, "Submissions.nope.child") is None
