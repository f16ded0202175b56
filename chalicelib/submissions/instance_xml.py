"""Reading a filled XForm instance (what ODK Collect or our mobile app uploads) into JSON.

The instance is the form's data tree: `<data id="form id" version="v"> … <meta><instanceID>`. Answers
keep that shape: a group becomes an object, a repeat a list of objects (even with one entry, as the
form's descriptor says which nodes repeat), a leaf its text (None when empty). Values stay strings,
as the XForm sends them: nothing is lost or reinterpreted; exports type them with the descriptor.

Uploads are untrusted: defusedxml parses them with DTDs forbidden, so no entity of any kind (external,
or expanding into a bomb) is ever declared; an instance never needs one. The parse itself refuses an
XML nested deeper than XML_MAX_DEPTH or holding more than XML_MAX_ELEMENTS elements as soon as it gets
there, and the answers must fit in ANSWERS_MAX_BYTES as JSON (what the API returns).
"""

import datetime
import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import defusedxml
import defusedxml.ElementTree

from chalicelib.platform.filenames import has_dot_segment
from chalicelib.platform.limits import ANSWERS_MAX_BYTES, XML_MAX_DEPTH, XML_MAX_ELEMENTS, limit_message

MAX_XML_BYTES = 10 * 1024 * 1024


class InstanceError(Exception):
    """The upload is not a readable XForm instance; the message says why."""


@dataclass(frozen=True)
class Shape:
    """What a form version's descriptor tells the reader: which paths repeat, which are geopoints."""

    repeats: frozenset[tuple[str, ...]] = frozenset()
    geopoints: tuple[tuple[str, ...], ...] = ()

    @classmethod
    def of(cls, descriptor: dict | None) -> "Shape":
        repeats, geopoints = set(), []

        def walk(node: dict, path: tuple[str, ...]) -> None:
            for child in node.get("children", []):
                child_path = (*path, child.get("name", ""))
                if child.get("type") in ("group", "repeat"):
                    if child["type"] == "repeat":
                        repeats.add(child_path)
                    walk(child, child_path)
                elif child.get("type") == "geopoint":
                    geopoints.append(child_path)

        walk(descriptor or {}, ())
        return cls(frozenset(repeats), tuple(geopoints))


@dataclass
class Instance:
    xform_id: str
    version: str | None
    instance_uuid: str
    deprecated_uuid: str | None
    answers: dict
    started_at: datetime.datetime | None = None
    ended_at: datetime.datetime | None = None
    device_id: str | None = None
    location: tuple[float, float, float] | None = None  # lon, lat, altitude
    accuracy: float | None = None
    leaves: int = 0
    problems: list[str] = field(default_factory=list)  # readable, but something was off


@dataclass(frozen=True)
class Document:
    """A parsed instance, before its form is known: the root and what it says of its form."""

    root: ET.Element
    xform_id: str
    version: str | None


def load(xml: bytes) -> Document:
    if not xml or not xml.strip():
        raise InstanceError("the XML file is empty")
    if len(xml) > MAX_XML_BYTES:
        raise InstanceError(f"the XML file is {len(xml)} bytes, more than {MAX_XML_BYTES}")
    try:
        root = _parsed(xml)
    except ET.ParseError as error:
        raise InstanceError(f"the XML is malformed ({error})") from error
    except defusedxml.DefusedXmlException as error:
        raise InstanceError(
            f"the XML declares a DTD or entities, which an instance never needs ({error})"
        ) from error
    except (LookupError, ValueError) as error:  # an encoding Python lacks, or one expat cannot take
        raise InstanceError(f"the XML's declared encoding cannot be read ({error})") from error
    xform_id = root.get("id")
    if not xform_id:
        raise InstanceError(f"the root element <{_local(root.tag)}> has no id attribute naming its form")
    return Document(root, xform_id, root.get("version"))


def _parsed(xml: bytes) -> ET.Element:
    parser = defusedxml.ElementTree.DefusedXMLParser(target=_BoundedBuilder(), forbid_dtd=True)
    parser.feed(xml)
    return parser.close()


class _BoundedBuilder:
    """ElementTree's tree builder, stopping the parse at the first element past XML_MAX_DEPTH or
    XML_MAX_ELEMENTS: before the tree, or reading it into answers, costs a Lambda its stack or minutes."""

    def __init__(self) -> None:
        self.builder = ET.TreeBuilder()
        self.depth = self.elements = 0

    def start(self, tag: str, attributes: dict) -> ET.Element:
        self.depth += 1
        self.elements += 1
        if self.depth > XML_MAX_DEPTH:
            raise InstanceError(limit_message("the XML's nesting", "XML_MAX_DEPTH", "levels"))
        if self.elements > XML_MAX_ELEMENTS:
            raise InstanceError(limit_message("the XML's number of elements", "XML_MAX_ELEMENTS"))
        return self.builder.start(tag, attributes)

    def end(self, tag: str) -> ET.Element:
        self.depth -= 1
        return self.builder.end(tag)

    def data(self, text: str) -> None:
        self.builder.data(text)

    def close(self) -> ET.Element:
        return self.builder.close()


def parse(xml: bytes, shape: Shape = Shape()) -> Instance:
    return read(load(xml), shape)


def read(document: Document, shape: Shape) -> Instance:
    counter = [0]
    answers = _object(document.root, (), shape, counter)
    meta = answers.get("meta") if isinstance(answers.get("meta"), dict) else {}
    instance_uuid = _uuid(meta.get("instanceID"))
    if not instance_uuid:
        raise InstanceError("the instance has no meta/instanceID")
    if has_dot_segment(instance_uuid):  # it names the instance's folder of files
        raise InstanceError(f"the instance's meta/instanceID {instance_uuid!r} has a part made only of dots")
    _check_size(answers)
    instance = Instance(
        xform_id=document.xform_id,
        version=document.version,
        instance_uuid=instance_uuid,
        deprecated_uuid=_uuid(meta.get("deprecatedID")),
        answers=answers,
        device_id=_text(answers.get("deviceid")),
        leaves=counter[0],
    )
    instance.started_at = _timestamp(instance, answers.get("start"), "start")
    instance.ended_at = _timestamp(instance, answers.get("end"), "end")
    _place(instance, shape)
    return instance


def _check_size(answers: dict) -> None:
    size = len(json.dumps(answers))  # as the API returns them
    if size > ANSWERS_MAX_BYTES:
        raise InstanceError(
            limit_message(f"the answers as JSON ({size:,} bytes)", "ANSWERS_MAX_BYTES", "bytes")
        )


def _object(element, path: tuple[str, ...], shape: Shape, counter: list[int]) -> dict:
    found: dict = {}
    for child in element:
        name = _local(child.tag)
        child_path = (*path, name)
        value = _value(child, child_path, shape, counter)
        if child_path in shape.repeats:
            found.setdefault(name, []).append(value)
        elif name in found:  # a repeat the descriptor does not know of (an older version's, say)
            previous = found[name]  # a list only if made here: a value is never one
            if isinstance(previous, list):
                previous.append(value)  # in place: copying it for each sibling made N siblings cost N²
            else:
                found[name] = [previous, value]
        else:
            found[name] = value
    return found


def _value(element, path: tuple[str, ...], shape: Shape, counter: list[int]):
    if len(element) or path in shape.repeats:
        return _object(element, path, shape, counter)
    counter[0] += 1
    text = (element.text or "").strip()
    return text or None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _text(value) -> str | None:
    return value if isinstance(value, str) else None


def _uuid(value) -> str | None:
    value = _text(value)
    if not value:
        return None
    return value.removeprefix("uuid:").strip() or None


def _timestamp(instance: Instance, value, name: str) -> datetime.datetime | None:
    value = _text(value)
    if not value:
        return None
    try:
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        instance.problems.append(f"{name} {value!r} is not a timestamp")
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


def _place(instance: Instance, shape: Shape) -> None:
    """The first answered geopoint of the form ("lat lon altitude accuracy") is the location."""
    for path in shape.geopoints:
        value = _at(instance.answers, path)
        if not value:
            continue
        parts = value.split()
        try:
            lat, lon = float(parts[0]), float(parts[1])
            altitude = float(parts[2]) if len(parts) > 2 else 0.0
            accuracy = float(parts[3]) if len(parts) > 3 else None
        except (ValueError, IndexError):
            instance.problems.append(f"{'/'.join(path)} {value!r} is not a geopoint")
            continue
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            instance.problems.append(f"{'/'.join(path)} {value!r} lies outside the globe")
            continue
        instance.location, instance.accuracy = (lon, lat, altitude), accuracy
        return


def _at(answers: dict, path: tuple[str, ...]):
    node = answers
    for name in path:
        if not isinstance(node, dict):
            return None  # inside a repeat: not the submission's own location
        node = node.get(name)
    return node if isinstance(node, str) else None
