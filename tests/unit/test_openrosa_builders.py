"""The OpenRosa builders, Digest, sealing, Collect settings and the challenge: what needs no database."""

import base64
import json
import re
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import jsonschema
import pytest

from chalicelib.forms import openrosa, openrosa_auth
from chalicelib.identity import collect_tokens, http_digest, sealed
from chalicelib.platform import config, problems

FIXTURES = Path(__file__).parent.parent / "fixtures"
SECRET = "unit-test-token-secret"

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


@pytest.fixture
def token_secret(monkeypatch):
    monkeypatch.setenv("TOKEN_SECRET", SECRET)
    config.reset()
    yield SECRET
    config.reset()


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": ""}, {"authorization": "Basic %%%"}, {"AUTHORIZATION": "Negotiate abc"}],
)
def test_missing_or_unreadable_credentials_get_digest_then_basic_challenges(token_secret, headers):
    with pytest.raises(problems.Problem) as raised:
        openrosa_auth.authenticate(None, headers, "GET", "/api/openrosa/1/formList")  # no database look-up
    assert raised.value.status == 401
    digest, basic = raised.value.headers["WWW-Authenticate"]
    assert re.fullmatch(r'Digest realm="georegistry", qop="auth", algorithm=MD5, nonce="\d+\.[\w-]+"', digest)
    assert basic == 'Basic realm="georegistry"'


def test_digest_answers_rfc_2617s_example():
    """RFC 2617 section 3.5: Mufasa's request for /dir/index.html (the response RFC 7616 keeps for MD5)."""
    value = (
        'username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", '
        'uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", '
        'response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
    )
    answer = http_digest.parse(value)
    assert (answer.username, answer.uri, answer.nc, answer.algorithm) == (
        "Mufasa",
        "/dir/index.html",
        "00000001",
        "MD5",
    )
    ha1 = http_digest.ha1("Mufasa", "testrealm@host.com", "Circle Of Life")
    assert http_digest.verify(ha1, "GET", answer)
    assert not http_digest.verify(ha1, "POST", answer)  # the method is in the hash
    assert not http_digest.verify(
        http_digest.ha1("Mufasa", "testrealm@host.com", "circle of life"), "GET", answer
    )
    assert http_digest.parse('username="a", realm="b"') is None  # no nonce, uri or response
    assert http_digest.parse('username="a" junk') is None


def test_nonces_are_ours_and_fresh_for_five_minutes():
    nonce = http_digest.new_nonce(SECRET, now=1_000_000)
    assert http_digest.nonce_is_fresh(SECRET, nonce, now=1_000_000 + 299)
    assert not http_digest.nonce_is_fresh(SECRET, nonce, now=1_000_000 + 301)  # stale
    assert not http_digest.nonce_is_fresh("another secret", nonce, now=1_000_000)
    assert not http_digest.nonce_is_fresh(SECRET, "1000000." + "A" * 24, now=1_000_000)
    assert "stale=true" in http_digest.challenge("r", SECRET, stale=True)


def test_sealed_values_open_only_with_their_secret_and_context():
    sealed_value = sealed.seal(SECRET, b"0123456789abcdef", "digest ha1 7 a@b.org")
    assert sealed.unseal(SECRET, sealed_value, "digest ha1 7 a@b.org") == b"0123456789abcdef"
    assert sealed.seal(SECRET, b"0123456789abcdef", "x") != sealed.seal(SECRET, b"0123456789abcdef", "x")
    assert sealed.unseal(SECRET, sealed_value, "digest ha1 7 new@b.org") is None  # the email changed
    assert sealed.unseal("rotated", sealed_value, "digest ha1 7 a@b.org") is None
    tampered = sealed_value[:20] + bytes([sealed_value[20] ^ 1]) + sealed_value[21:]
    assert sealed.unseal(SECRET, tampered, "digest ha1 7 a@b.org") is None
    assert sealed.unseal(SECRET, b"short", "c") is None and b"0123456789abcdef" not in sealed_value


def test_collect_qr_settings_are_what_collect_decodes_and_its_schema_allows():
    """Collect's QR reader: base64, then zlib's inflate (CompressionUtils.decompress), then JSON settings
    valid under Collect's own client-settings.schema.json."""
    encoded = collect_tokens.collect_settings("https://h/api/openrosa/key/t/1", "Santé", "a@b.org")
    settings = json.loads(zlib.decompress(base64.b64decode(encoded)))
    assert settings == {
        "general": {"server_url": "https://h/api/openrosa/key/t/1", "form_update_mode": "match_exactly",
                    "autosend": "wifi_and_cellular", "username": "a@b.org"},
        "admin": {},
        "project": {"name": "Santé"},
    }  # fmt: skip
    schema = json.loads((FIXTURES / "odk_client_settings.schema.json").read_text())
    jsonschema.validate(settings, schema)


@pytest.mark.parametrize(
    "value",
    [
        'Digest username="a", realm="elsewhere", nonce="1.x", uri="/f", response="0"',  # another realm
        'Digest username="a", realm="georegistry", nonce="1.x", uri="http://[bad/f", response="0"',
        'Digest username="a", realm="georegistry", nonce="1.x", uri="/other/path", response="0"',
        'Digest username="a", realm="georegistry", nonce="1.x", uri="/f", response="0"',  # a stale nonce
        "Digest " + "x" * 5000,
    ],
)
def test_digest_answers_that_cannot_hold_are_challenged_before_any_lookup(token_secret, value):
    with pytest.raises(problems.Problem) as raised:
        openrosa_auth.authenticate(None, {"Authorization": value}, "GET", "/f")
    assert raised.value.status == 401
    stale = raised.value.code == openrosa_auth.STALE
    assert raised.value.headers["WWW-Authenticate"][0].endswith(", stale=true") == stale
