"""The OpenRosa builders and the credential parsing that needs no database."""

import xml.etree.ElementTree as ET

import pytest

from chalicelib.forms import openrosa
from chalicelib.platform import problems

LIST = "{http://openrosa.org/xforms/xformsList}"
RESPONSE = "{http://openrosa.org/http/response}"


def test_the_form_list_is_an_xforms_list_with_escaped_text():
    forms = [
        {"id": 7, "xform_id": "a&b", "name": "Santé <2026>", "version": "2026112201", "xform_md5": "ab12"}
    ]
    body = openrosa.form_list(forms, lambda form: f"https://host/api/openrosa/1/forms/{form['id']}?x=1&y=2")
    assert body.startswith(b"<?xml")
    root = ET.fromstring(body)
    assert root.tag == f"{LIST}xforms"
    (entry,) = root
    assert [(child.tag.removeprefix(LIST), child.text) for child in entry] == [
        ("formID", "a&b"),
        ("name", "Santé <2026>"),
        ("version", "2026112201"),
        ("hash", "md5:ab12"),
        ("downloadUrl", "https://host/api/openrosa/1/forms/7?x=1&y=2"),
    ]
    assert ET.fromstring(openrosa.form_list([], str)).tag == f"{LIST}xforms"


def test_an_openrosa_response_carries_one_message():
    root = ET.fromstring(openrosa.message("Thanks & bye", nature="submit_success"))
    assert root.tag == f"{RESPONSE}OpenRosaResponse"
    (message,) = root
    assert (message.tag, message.get("nature"), message.text) == (
        f"{RESPONSE}message",
        "submit_success",
        "Thanks & bye",
    )
    assert ET.fromstring(openrosa.message("plain"))[0].get("nature") is None


def test_every_response_names_the_protocol_version_and_the_date():
    headers = openrosa.response_headers()
    assert headers["X-OpenRosa-Version"] == "1.0" and headers["Content-Type"] == "text/xml; charset=utf-8"
    assert headers["Date"].endswith(" GMT")


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": ""}, {"authorization": "Basic %%%"}, {"AUTHORIZATION": "Negotiate abc"}],
)
def test_missing_or_unreadable_credentials_get_the_basic_challenge(headers):
    with pytest.raises(problems.Problem) as raised:
        openrosa.authenticate(None, headers)  # refused before any database look-up
    assert raised.value.status == 401
    assert raised.value.headers["WWW-Authenticate"] == 'Basic realm="georegistry"'
    assert raised.value.headers["X-OpenRosa-Version"] == "1.0"
