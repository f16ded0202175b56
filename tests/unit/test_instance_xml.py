"""Reading XForm instances into JSON answers, and a form's answers into tables."""

import pytest

from chalicelib.submissions import instance_xml, submission_tables
from chalicelib.submissions.instance_xml import InstanceError, Shape

DESCRIPTOR = {
    "name": "data",
    "type": "survey",
    "children": [
        {"type": "text", "name": "name", "label": {"English": "Name", "French": "Nom"}},
        {"type": "geopoint", "name": "where", "label": "Where"},
        {"type": "note", "name": "hello", "label": "Hello"},
        {"type": "group", "name": "visit", "label": "Visit", "children": [
            {"type": "integer", "name": "age", "label": "Age"},
            {"type": "repeat", "name": "child", "label": "Child", "children": [
                {"type": "text", "name": "first", "label": "First name"},
                {"type": "repeat", "name": "dose", "children": [{"type": "integer", "name": "n"}]},
            ]},
        ]},
        {"type": "group", "name": "meta", "children": [{"type": "calculate", "name": "instanceID"}]},
    ],
}  # fmt: skip

XML = b"""<?xml version='1.0'?>
<data xmlns:orx="http://openrosa.org/xforms" id="visits" version="3">
  <start>2026-01-02T10:00:00.000+01:00</start><deviceid>imei:1</deviceid>
  <name>Awa</name><where>14.7 -17.4 12.5 4.0</where><hello/>
  <visit><age>31</age>
    <child><first>Ali</first><dose><n>1</n></dose><dose><n>2</n></dose></child>
  </visit>
  <orx:meta><orx:instanceID>uuid:abc</orx:instanceID><orx:deprecatedID>uuid:old</orx:deprecatedID></orx:meta>
</data>"""


def test_answers_keep_groups_and_repeats_even_with_one_entry():
    instance = instance_xml.parse(XML, Shape.of(DESCRIPTOR))
    assert (instance.xform_id, instance.version, instance.instance_uuid, instance.deprecated_uuid) == (
        "visits", "3", "abc", "old",
    )  # fmt: skip
    child = instance.answers["visit"]["child"]
    assert isinstance(child, list) and child[0]["first"] == "Ali"
    assert child[0]["dose"] == [{"n": "1"}, {"n": "2"}]
    assert instance.answers["hello"] is None and instance.answers["visit"]["age"] == "31"
    assert instance.location == (-17.4, 14.7, 12.5) and instance.accuracy == 4.0
    assert instance.device_id == "imei:1" and instance.started_at.isoformat() == "2026-01-02T10:00:00+01:00"


def test_without_a_descriptor_repeated_siblings_still_become_a_list():
    answers = instance_xml.parse(XML).answers
    assert answers["visit"]["child"]["dose"] == [{"n": "1"}, {"n": "2"}]


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        (b"", "the XML file is empty"),
        (b"<data id='x'><a></data>", "the XML is malformed"),
        (b"<data><meta><instanceID>uuid:a</instanceID></meta></data>", "has no id attribute"),
        (b"<data id='x'><meta/></data>", "has no meta/instanceID"),
        (b'<!DOCTYPE d [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
         b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY e "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">'
         b'<!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;"><!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">'
         b'<!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;"><!ENTITY i "&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;">]>'
         b"<data id='x'>&i;</data>", "declares a DTD or entities"),
        (b'<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><data id="x">&x;</data>', "declares a DTD"),
        (b'<!DOCTYPE data SYSTEM "http://127.0.0.1/x.dtd"><data id="x"/>', "declares a DTD"),
    ],
)  # fmt: skip
def test_unreadable_instances_say_why(xml, message):
    with pytest.raises(InstanceError, match=message):
        instance_xml.parse(xml)


def test_a_bad_geopoint_or_timestamp_is_noted_not_fatal():
    xml = XML.replace(b"14.7 -17.4 12.5 4.0", b"north").replace(b"2026-01-02T10:00:00.000+01:00", b"soon")
    instance = instance_xml.parse(xml, Shape.of(DESCRIPTOR))
    assert instance.location is None and instance.started_at is None
    assert instance.problems == ["start 'soon' is not a timestamp", "where 'north' is not a geopoint"]


def test_tables_have_a_column_per_question_and_one_table_per_repeat():
    main, child, dose = submission_tables.tables_of([DESCRIPTOR])
    assert submission_tables.headers(main, False) == ["name", "where", "visit/age", "meta/instanceID"]
    assert submission_tables.headers(main, True) == ["Name", "Where", "Age", "instanceID"]
    assert (child.name, submission_tables.headers(child, False)) == ("visit/child", ["first"])
    assert (dose.name, submission_tables.headers(dose, False)) == ("visit/child/dose", ["n"])
    answers = instance_xml.parse(XML, Shape.of(DESCRIPTOR)).answers
    assert submission_tables.main_values(main, answers) == ["Awa", "14.7 -17.4 12.5 4.0", "31", "uuid:abc"]
    assert submission_tables.repeat_rows(child, answers) == [("1", ["Ali"])]
    assert submission_tables.repeat_rows(dose, answers) == [("1.1", ["1"]), ("1.2", ["2"])]


def test_columns_of_older_versions_follow_the_newest_ones():
    older = {"children": [{"type": "text", "name": "name"}, {"type": "text", "name": "dropped"}]}
    [main, *_] = submission_tables.tables_of([DESCRIPTOR, older])
    assert submission_tables.headers(main, False)[-1] == "dropped"
