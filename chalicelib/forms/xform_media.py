"""The media files an XForm references, found in the XForm itself as ODK Central finds them
(central-backend lib/data/schema.js `expectedFormAttachments`), so that a form accepts the same files
here as there:

- external instances, `<instance src="jr://file/x.csv">` or `jr://file-csv/…` (pyxform writes these for
  `select_one_from_file x.csv`, `csv-external` and `pulldata('x', …)`);
- itext media, `<value form="image">jr://images/x.png</value>` (the `image`, `media::image`, `audio`,
  `video` and `big-image` columns);
- defaults that name an image, `jr://images/x.png` as an instance value;
- `itemsets.csv` for an `<input query=…>` (select_one_external);
- `search('x', …)` appearances on selects, which read `x.csv`.

Each file is expected once, by its name (the last segment of its jr:// path); the first reference
gives its type.
"""

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

XFORMS = "{http://www.w3.org/2002/xforms}"
XHTML = "{http://www.w3.org/1999/xhtml}"
JR_PATH = re.compile(r"^jr://(?:images|audio|video|file|file-csv)/([^/]+)$")
DEFAULT_IMAGE = re.compile(r"^jr://images/.")
MEDIA_FORMS = {"image": "image", "audio": "audio", "video": "video", "big-image": "image"}
SEARCH = re.compile(r"^\s*(?:\w*\s+)?search\s*\(\s*(\"|')(.+)\)\s*$")
ITEMSETS = "itemsets.csv"


@dataclass(frozen=True)
class Expected:
    filename: str
    media_type: str  # image, audio, video or file


def expected_media(xml: bytes) -> list[Expected]:
    """The files the XForm `xml` (one we generated) references, in the order they appear."""
    root = ET.fromstring(xml)
    model = root.find(f"{XHTML}head/{XFORMS}model")
    body = root.find(f"{XHTML}body")
    found = [
        *(_instances(model) if model is not None else []),
        *(_itext_media(model) if model is not None else []),
        *(_default_images(model) if model is not None else []),
        *(_body_references(body) if body is not None else []),
    ]
    seen: dict[str, Expected] = {}
    for expected in found:
        seen.setdefault(expected.filename, expected)
    return list(seen.values())


def _instances(model: ET.Element) -> list[Expected]:
    names = (_jr_name(instance.get("src")) for instance in model.iter(f"{XFORMS}instance"))
    return [Expected(name, "file") for name in names if name]


def _itext_media(model: ET.Element) -> list[Expected]:
    found = []
    for value in model.iter(f"{XFORMS}value"):
        media_type, name = MEDIA_FORMS.get(value.get("form") or ""), _jr_name(value.text)
        if media_type and name:
            found.append(Expected(name, media_type))
    return found


def _default_images(model: ET.Element) -> list[Expected]:
    found = []
    for instance in model.iter(f"{XFORMS}instance"):
        for node in instance.iter():
            text = (node.text or "").strip()
            if node is not instance and DEFAULT_IMAGE.match(text) and (name := _jr_name(text)):
                found.append(Expected(name, "image"))
    return found


def _body_references(body: ET.Element) -> list[Expected]:
    found = []
    if any(element.get("query") is not None for element in body.iter(f"{XFORMS}input")):
        found.append(Expected(ITEMSETS, "file"))
    selects = (e for e in body.iter() if e.tag in (f"{XFORMS}select", f"{XFORMS}select1"))
    for select in selects:
        if "search" in (appearance := select.get("appearance") or "") and (name := search_file(appearance)):
            found.append(Expected(name, "file"))
    return found


def search_file(appearance: str) -> str | None:
    """`x.csv` of a `search('x', …)` appearance; None when it has no usable first argument (Collect
    fails on names with surrounding blanks, so Central expects no file for them, nor do we)."""
    match = SEARCH.match(appearance)
    if match is None:
        return None
    quote, arguments = match.groups()
    quoted = re.match(rf"([^{quote}]*){quote}\s*(?:,|$)", arguments)  # the first argument, to its quote
    first = quoted[1] if quoted else ""
    if not first or first != first.strip() or "/" in first:
        return None
    return first if first.endswith(".csv") else f"{first}.csv"


def _jr_name(path: str | None) -> str | None:
    match = JR_PATH.match((path or "").strip())
    return match[1] if match else None
