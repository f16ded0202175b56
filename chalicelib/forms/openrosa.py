"""The OpenRosa pieces that ODK Collect and Enketo need, shared by every /api/openrosa route.

- Authentication: Collect first calls without credentials, reads the 401's `WWW-Authenticate: Basic`
  challenge, then sends `Authorization: Basic base64(email:secret)`, the secret being the password or
  an API key. Bearer tokens and API keys work as on the rest of the API.
- Every response carries `X-OpenRosa-Version: 1.0` and a `Date`; bodies are `text/xml; charset=utf-8`.
- XML: the xformsList of the form list, and the OpenRosaResponse message that submissions answer with.

Nothing here knows HTTP frameworks: headers come in as a mapping and go out as a dict.
Known gap: API Gateway's REST APIs rename a Lambda's `WWW-Authenticate` header
(x-amzn-Remapped-WWW-Authenticate); a deployment needs a custom domain or gateway response for it.
"""

import base64
import binascii
import email.utils
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping

from chalicelib.identity import authentication
from chalicelib.identity.permissions import Principal
from chalicelib.platform import problems

VERSION = "1.0"
REALM = "georegistry"
XML = "text/xml; charset=utf-8"
XFORMS_LIST = "http://openrosa.org/xforms/xformsList"
XFORMS_MANIFEST = "http://openrosa.org/xforms/xformsManifest"
RESPONSE = "http://openrosa.org/http/response"


def response_headers() -> dict[str, str]:
    return {"X-OpenRosa-Version": VERSION, "Content-Type": XML, "Date": email.utils.formatdate(usegmt=True)}


def challenge_headers() -> dict[str, str]:
    return response_headers() | {"WWW-Authenticate": f'Basic realm="{REALM}"'}


def authenticate(cur, request_headers: Mapping[str, str], address: str | None = None) -> Principal:
    """The caller, from Basic or Bearer credentials; else a 401 Problem carrying the Basic challenge.
    Wrong Basic passwords are throttled as logins are (`address`: the client's)."""
    authorization = _header(request_headers, "authorization")
    scheme, _, value = authorization.partition(" ")
    try:
        if scheme.lower() == "basic":
            return authentication.authenticate_password(cur, *_basic_credentials(value.strip()), address)
        if scheme.lower() == "bearer":
            return authentication.authenticate(cur, authorization)
        raise problems.unauthenticated(
            "Send HTTP Basic credentials (your email and password or an API key) or a Bearer token."
        )
    except problems.Problem as problem:
        if problem.status == 401:
            problem.headers = challenge_headers()
        raise


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value or ""
    return ""


def _basic_credentials(value: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, ValueError) as error:
        raise problems.unauthenticated("The Basic credentials are not base64 of 'email:password'.") from error
    email_address, colon, secret = decoded.partition(":")
    if not colon or not email_address or not secret:
        raise problems.unauthenticated("The Basic credentials must be 'email:password'.")
    return email_address, secret


def form_list(forms: list[dict], download_url: Callable[[dict], str]) -> bytes:
    """An OpenRosa xformsList of forms (rows with name, xform_id, version, xform_md5, has_media). The
    hash is the md5 of the exact XForm bytes the download serves; a manifestUrl only for a form whose
    version references media (as ODK Central does), at `{downloadUrl}/manifest`."""
    root = ET.Element("xforms", xmlns=XFORMS_LIST)
    for form in forms:
        entry = ET.SubElement(root, "xform")
        url = download_url(form)
        for tag, text in (
            ("formID", form["xform_id"]),
            ("name", form["name"]),
            ("version", form["version"]),
            ("hash", f"md5:{form['xform_md5']}"),
            ("downloadUrl", url),
            *((("manifestUrl", f"{url}/manifest"),) if form.get("has_media") else ()),
        ):
            ET.SubElement(entry, tag).text = text
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def manifest(files: list[dict], download_url: Callable[[dict], str]) -> bytes:
    """An OpenRosa xformsManifest of a form's media files (rows with filename and md5)."""
    root = ET.Element("manifest", xmlns=XFORMS_MANIFEST)
    for file in files:
        entry = ET.SubElement(root, "mediaFile")
        for tag, text in (
            ("filename", file["filename"]),
            ("hash", f"md5:{file['md5']}"),
            ("downloadUrl", download_url(file)),
        ):
            ET.SubElement(entry, tag).text = text
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def message(text: str, nature: str | None = None) -> bytes:
    """An OpenRosaResponse with one message, as submissions are answered (nature: e.g. "error")."""
    root = ET.Element("OpenRosaResponse", xmlns=RESPONSE)
    element = ET.SubElement(root, "message")
    if nature:
        element.set("nature", nature)
    element.text = text
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
