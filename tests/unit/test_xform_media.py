"""Which files an XForm references: the cases ODK Central's expectedFormAttachments knows."""

import pytest

from chalicelib.forms import xform_media
from chalicelib.forms.xform_media import Expected

HEAD = '<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml"><h:head><model>'


def _xform(model: str, body: str = "") -> bytes:
    return f"{HEAD}{model}</model></h:head><h:body>{body}</h:body></h:html>".encode()


def test_instances_itext_defaults_itemsets_and_search_each_name_a_file_once():
    model = (
        '<itext><translation lang="en"><text id="a"><value form="image">jr://images/a.png</value>'
        '<value form="big-image">jr://images/big.jpg</value><value form="audio">jr://audio/a.mp3</value>'
        '<value form="video">jr://video/a.mp4</value><value form="guidance">jr://images/no.png</value>'
        "<value>jr://images/plain-text.png</value></text></translation></itext>"
        '<instance><data id="x"><photo>jr://images/default.png</photo><q>jr://images/</q></data></instance>'
        '<instance id="f" src="jr://file/fruits.csv"/><instance id="p" src="jr://file-csv/prices.csv"/>'
        '<instance id="dup" src="jr://file/a.png"/><instance id="w" src="jr://file/x/deeper.csv"/>'
    )
    body = (
        '<input ref="/x/c" query="instance(\'county\')/root/item"/>'
        "<select1 appearance=\"minimal search('stores', 'matches')\"/>"
    )
    assert xform_media.expected_media(_xform(model, body)) == [
        Expected("fruits.csv", "file"), Expected("prices.csv", "file"), Expected("a.png", "file"),
        Expected("big.jpg", "image"), Expected("a.mp3", "audio"), Expected("a.mp4", "video"),
        Expected("default.png", "image"), Expected("itemsets.csv", "file"), Expected("stores.csv", "file"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("appearance", "expected"),
    [
        ("search('stores')", "stores.csv"),
        ('search("stores.csv", "matches", "a", "b")', "stores.csv"),
        ("quick search( 'lists' , 'contains')", "lists.csv"),
        ("search(' padded')", None),
        ("search('unclosed)", None),
        ("search(stores)", None),  # not a quoted name
        ("searching", None),
    ],
)
def test_a_search_appearance_names_its_csv(appearance, expected):
    assert xform_media.search_file(appearance) == expected


def test_a_form_without_media_expects_nothing():
    assert xform_media.expected_media(_xform('<instance><data id="x"><a/></data></instance>')) == []
