"""Submissions as rows of ODK Central's OData feed, shaped from the form's fields as Central does.

Central builds each row from the form's current fields, not from what a submission holds: every
field is there (null when unanswered), a group is a nested object, a repeat is left out with a
`name@odata.navigationLink` where the submission has one. `int` and `decimal` answers are numbers;
geopoints, geotraces and geoshapes are GeoJSON (with the accuracy in `properties`) or, with
`$wkt=true`, WKT text; a dateTime's `+07` zone becomes `+07:00`; everything else stays text. Each
row has `__id` (the instanceID) and `__system`, the submission's metadata.

Paging: `$skiptoken` is Central's own, "01" and base64 of `{"instanceId": …}`, the last row of the
page before; `@odata.nextLink` carries it, with the request's other options.
"""

import base64
import binascii
import json
import re
import urllib.parse
from dataclasses import dataclass

from chalicelib.platform import problems

# pyxform's question types as the XForm's bind types, which Central types answers by.
BIND_TYPES = {
    "integer": "int", "range": "int", "decimal": "decimal", "geopoint": "geopoint", "geotrace": "geotrace",
    "geoshape": "geoshape", "date": "date", "dateTime": "dateTime", "datetime": "dateTime",
    "start": "dateTime", "end": "dateTime", "time": "time",
}  # fmt: skip
BINARY = {"image", "photo", "audio", "video", "file", "background-audio", "background-video", "binary"}
EDM_TYPES = {
    "int": "Edm.Int64", "decimal": "Edm.Decimal", "geopoint": "Edm.GeographyPoint",
    "geotrace": "Edm.GeographyLineString", "geoshape": "Edm.GeographyPolygon", "date": "Edm.Date",
    "dateTime": "Edm.DateTimeOffset",
}  # fmt: skip
LEADING_INT = re.compile(r"^\s*[+-]?\d+")
LEADING_FLOAT = re.compile(r"^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
SHORT_ZONE = re.compile(r"[+-]\d\d$")
URL_SAFE = "-_.!~*'()"  # what JavaScript's encodeURIComponent leaves alone
NOT_FIRST = re.compile(r"^([^A-Za-z_])")
NOT_IDENTIFIER = re.compile(r"[^A-Za-z0-9_]+")


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # "group", "repeat", or a bind type ("string", "int", "geopoint", …)
    children: tuple["Field", ...] = ()


def fields_of(descriptor: dict | None) -> tuple[Field, ...]:
    """The form's fields, from pyxform's descriptor of its version."""
    return tuple(_field(child) for child in (descriptor or {}).get("children", []) if child.get("name"))


def _field(node: dict) -> Field:
    kind = node.get("type", "")
    if kind in ("group", "repeat"):
        return Field(node["name"], kind, fields_of(node))
    bound = ((node.get("bind") or {}).get("type") or "").removeprefix("xsd:")
    return Field(node["name"], bound or BIND_TYPES.get(kind) or ("binary" if kind in BINARY else "string"))


def identifier(name: str) -> str:
    """Central's sanitizeOdataIdentifier: an XML name as an OData one (`my-field` is `my_field`)."""
    return NOT_IDENTIFIER.sub("_", NOT_FIRST.sub(r"_\1", name))


def binary_paths(fields: tuple[Field, ...], answers: dict) -> set[str]:
    """The file names a submission's answers name in its binary fields (Central's expected attachments)."""
    names: set[str] = set()
    for field in fields:
        value = answers.get(field.name) if isinstance(answers, dict) else None
        if field.kind == "binary" and isinstance(value, str) and value:
            names.add(value)
        elif field.kind == "group" and isinstance(value, dict):
            names |= binary_paths(field.children, value)
        elif field.kind == "repeat":
            for entry in value if isinstance(value, list) else [value]:
                if isinstance(entry, dict):
                    names |= binary_paths(field.children, entry)
    return names


def row(fields: tuple[Field, ...], answers: dict, instance_id: str, system: dict, wkt: bool) -> dict:
    shaped = frame(fields)
    shaped["__id"] = instance_id
    shaped["__system"] = system
    fill(shaped, fields, answers, f"Submissions('{urllib.parse.quote(instance_id, safe=URL_SAFE)}')", wkt)
    return shaped


def frame(fields: tuple[Field, ...]) -> dict:
    """Every field of a row, null until filled; groups nested, repeats left to their tables."""
    empty: dict = {}
    for field in fields:
        if field.kind == "group":
            empty[identifier(field.name)] = frame(field.children)
        elif field.kind != "repeat":
            empty[identifier(field.name)] = None
    return empty


def fill(target: dict, fields: tuple[Field, ...], answers, link: str, wkt: bool) -> None:
    if not isinstance(answers, dict):
        return
    for field in fields:
        if field.name not in answers:
            continue
        value, name = answers[field.name], identifier(field.name)
        if field.kind == "group":
            fill(target[name], field.children, value, f"{link}/{name}", wkt)
        elif field.kind == "repeat":
            target[f"{name}@odata.navigationLink"] = f"{link}/{name}"
        elif isinstance(value, str):
            target[name] = typed(field.kind, value, wkt)


def typed(kind: str, text: str, wkt: bool):
    """One answer as Central gives it; None when it cannot be read as its type."""
    if kind == "int":
        match = LEADING_INT.match(text)
        return int(match[0]) if match else None
    if kind == "decimal":
        match = LEADING_FLOAT.match(text)
        return float(match[0]) if match else None
    if kind == "geopoint":
        return _point(text, wkt)
    if kind in ("geotrace", "geoshape"):
        return _line(kind, text, wkt)
    if kind == "dateTime":
        return f"{text}:00" if SHORT_ZONE.search(text) else text
    return text


def _numbers(text: str) -> list[float | None]:
    found = []
    for part in text.split():
        match = LEADING_FLOAT.match(part)
        found.append(float(match[0]) if match else None)
    return found


def _point(text: str, wkt: bool):
    numbers = _numbers(text) + [None] * 4
    lat, lon, altitude, accuracy = numbers[:4]
    if lat is None or lon is None:
        return None
    coordinates = [lon, lat] + ([altitude] if altitude is not None else [])
    if wkt:
        return f"POINT ({' '.join(_number(c) for c in coordinates)})"
    point: dict = {"type": "Point", "coordinates": coordinates}
    if accuracy is not None:
        point["properties"] = {"accuracy": accuracy}
    return point


def _line(kind: str, text: str, wkt: bool):
    points, accuracies = [], []
    for part in re.split(r"; ?", text):
        numbers = _numbers(part) + [None] * 4
        lat, lon, altitude, accuracy = numbers[:4]
        if lat is None or lon is None:
            continue
        points.append([lon, lat] + ([altitude] if altitude is not None else []))
        accuracies.append(accuracy)
    if not points:
        return None
    if wkt:
        joined = ",".join(" ".join(_number(c) for c in point) for point in points)
        return f"LINESTRING ({joined})" if kind == "geotrace" else f"POLYGON (({joined}))"
    shape: dict = {"type": "LineString", "coordinates": points} if kind == "geotrace" else {
        "type": "Polygon", "coordinates": [points]}  # fmt: skip
    if any(accuracy is not None for accuracy in accuracies):
        shape["properties"] = {"accuracies": accuracies}
    return shape


def _number(value: float) -> str:
    """As JavaScript prints a number: 12.0 is 12."""
    return str(int(value)) if value == int(value) else repr(value)


# Paging


def skiptoken(instance_id: str) -> str:
    return token_of({"instanceId": instance_id})


def token_of(data: dict) -> str:
    """As Central writes one: "01" and base64 of compact JSON."""
    return "01" + base64.b64encode(json.dumps(data, separators=(",", ":")).encode()).decode()


def instance_of_skiptoken(token: str, key: str = "instanceId") -> str:
    """The instanceID (or a repeat table's `repeatId`) a token of this feed carries."""
    try:
        if not token.startswith("01"):
            raise ValueError(token)
        value = json.loads(base64.b64decode(token[2:], validate=True))[key]
        if not isinstance(value, str):
            raise ValueError(token)
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError) as error:
        raise problems.invalid_parameter("$skiptoken", "is not a token this feed gave") from error
    return value


def next_link(url: str, params: dict[str, str], token: str) -> str:
    """The request's URL with `$skip` replaced by a `$skiptoken` after the page's last row."""
    kept = {name: value for name, value in params.items() if name not in ("$skip", "$skiptoken")}
    query = urllib.parse.urlencode(kept | {"$skiptoken": token}, safe="$")
    return f"{url}?{query}"


def service_document(service_url: str, repeat_tables: list[str]) -> dict:
    """Submissions and a table per repeat, as Central lists them."""
    return {
        "@odata.context": f"{service_url}/$metadata",
        "value": [
            {"name": name, "kind": "EntitySet", "url": name} for name in ["Submissions", *repeat_tables]
        ],
    }
