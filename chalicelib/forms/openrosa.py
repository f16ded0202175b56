"""The OpenRosa pieces that ODK Collect and Enketo need, shared by every /api/openrosa route.

- Authentication is forms/openrosa_auth.py's: Digest or Basic after a 401 challenge, Bearer, or a
  Collect token URL.
- Every response carries `X-OpenRosa-Version: 1.0` and a `Date`; bodies are `text/xml; charset=utf-8`.
- XML: the xformsList of the form list, and the OpenRosaResponse message that submissions answer with.

Nothing here knows HTTP frameworks: headers come in as a mapping and go out as a dict.
"""

import email.utils
import xml.etree.ElementTree as ET
from collections.abc import Callable

VERSION = "1.0"
XML = "text/xml; charset=utf-8"
XFORMS_LIST = "http://openrosa.org/xforms/xformsList"
XFORMS_MANIFEST = "http://openrosa.org/xforms/xformsManifest"
RESPONSE = "http://openrosa.org/http/response"


def response_headers() -> dict[str, str]:
    return {"X-OpenRosa-Version": VERSION, "Content-Type": XML, "Date": email.utils.formatdate(usegmt=True)}


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
