"""Data for the submissions pages' browser tests: a bilingual household form (a group, a repeat, choice
questions, a photo, a geopoint) published from its XLSForm through the API, and submissions with a
real PNG photo made the two ways phones make them: presigned S3 uploads that ingestion picks up from
the bucket's events, and an OpenRosa multipart POST (ODK Collect) to the served API."""

import struct
import uuid
import zlib
from dataclasses import dataclass

import requests

from tests.integration.formkit import add_version, create_form
from tests.integration.helpers import Tenant, call
from tests.integration.ingestkit import join_project
from tests.integration.registrykit import build_registry
from tests.workbooks import SIMPLE_SURVEY, workbook

EN, FR = "English (en)", "French (fr)"
HOUSEHOLD_SURVEY = [
    ["type", "name", f"label::{EN}", f"label::{FR}"],
    ["text", "visitor", "Visitor", "Visiteur"],
    ["geopoint", "where", "Location of the house", "Position de la maison"],
    ["begin_group", "household", "Household", "Ménage"],
    ["select_one water", "water", "Water source", "Source d'eau"],
    ["select_multiple water", "other_water", "Other sources", "Autres sources"],
    ["image", "photo", "Photo of the house", "Photo de la maison"],
    ["end_group", "", "", ""],
    ["begin_repeat", "member", "Member", "Membre"],
    ["text", "member_name", "Name", "Nom"],
    ["integer", "age", "Age", "Âge"],
    ["end_repeat", "", "", ""],
]
WATER = [
    ["list_name", "name", f"label::{EN}", f"label::{FR}"],
    ["water", "well", "Well", "Puits"],
    ["water", "river", "River", "Rivière"],
    ["water", "tap", "Tap", "Robinet"],
]
PHOTO_NAME = "1733580000000.png"
COLLECT = {"X-OpenRosa-Version": "1.0", "User-Agent": "org.odk.collect.android/v2025.2.3"}


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A real PNG (one colour), which a browser decodes to `width` × `height` pixels."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


PHOTO = png(64, 48, (200, 120, 40))


def household_xml(version: str, instance_uuid: str, visitor: str, members: list[tuple[str, int]],
                  where: str = "14.75 -17.35 12 5") -> bytes:  # fmt: skip
    repeats = "".join(
        f"<member><member_name>{name}</member_name><age>{age}</age></member>" for name, age in members
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><data id="household_visit" version="{version}">'
        f"<visitor>{visitor}</visitor><where>{where}</where>"
        f"<household><water>well</water><other_water>well river</other_water>"
        f"<photo>{PHOTO_NAME}</photo></household>"
        f"{repeats}<meta><instanceID>uuid:{instance_uuid}</instanceID></meta></data>"
    ).encode()


@dataclass
class Surveys:
    tenant: Tenant
    units: dict
    form: dict
    version: dict
    other_form: dict
    uploaded: int  # through S3, linked to a unit, with the photo: PENDING
    collected: int  # through OpenRosa, no unit, REJECTED
    elsewhere: int  # the other form's


def surveys(console, stack) -> Surveys:
    tenant = console.tenant("surveys", roles=("data_collector", "form_manager", "reviewer", "viewer"))
    join_project(console.client, tenant, "data_collector")
    units = build_registry(console.client, tenant.tokens["admin"])
    manager = tenant.tokens["form_manager"]
    form = create_form(console.client, manager, [tenant.project_id], name="Household visit")
    book = workbook(HOUSEHOLD_SURVEY, {"form_id": "household_visit", "default_language": EN}, choices=WATER)
    version = add_version(console.client, manager, form["id"], book)
    other_form = create_form(console.client, manager, [tenant.project_id], name="Simple survey")
    other_version = add_version(console.client, manager, other_form["id"],
                                workbook(SIMPLE_SURVEY, {"form_id": "simple_survey"}))  # fmt: skip

    members = [("Awa Diop", 34), ("Moussa Diop", 8)]
    uploaded_uuid = str(uuid.uuid4())
    xml = household_xml(version["version"], uploaded_uuid, "Fatou", members)
    upload(console, stack, tenant, form["id"], version["version"], uploaded_uuid, xml,
           org_unit_id=units["Centre de Santé Pikine"])  # fmt: skip
    collected_uuid = str(uuid.uuid4())
    collect(console, tenant, household_xml(version["version"], collected_uuid, "Ibrahima", [("Binta", 51)]))
    elsewhere_uuid = str(uuid.uuid4())
    simple = (f'<data id="simple_survey" version="{other_version["version"]}">'
              f"<name>Aminata</name><age>40</age>"
              f"<meta><instanceID>uuid:{elsewhere_uuid}</instanceID></meta></data>").encode()  # fmt: skip
    collect(console, tenant, simple, with_photo=False)

    listed = console.api("GET", "/api/submissions", tenant.tokens["reviewer"])["results"]
    ids = {row["instance_uuid"]: row["id"] for row in listed}
    console.api("PATCH", f"/api/submissions/{ids[collected_uuid]}", tenant.tokens["reviewer"],
                {"validation_status": "REJECTED", "comment": "Wrong household"})  # fmt: skip
    return Surveys(tenant, units, form, version, other_form, ids[uploaded_uuid], ids[collected_uuid],
                   ids[elsewhere_uuid])  # fmt: skip


def upload(console, stack, tenant: Tenant, form_id: int, version: str, instance_uuid: str, xml: bytes,
           org_unit_id: int) -> None:  # fmt: skip
    """As our mobile app does: upload grants, the files POSTed to S3, then ingestion of the bucket's
    events."""
    files = [{"name": "instance.xml", "size": len(xml), "content_type": "text/xml"},
             {"name": PHOTO_NAME, "size": len(PHOTO), "content_type": "image/png"}]  # fmt: skip
    body = {"project_id": tenant.project_id, "instance_uuid": instance_uuid, "form_id": form_id,
            "form_version": version, "files": files, "org_unit_id": org_unit_id}  # fmt: skip
    status, granted, _ = call(
        console.client, "POST", "/api/mobile/submissions/upload-urls", tenant.tokens["data_collector"], body
    )
    assert status == 201, granted
    grants = {file["name"]: file for file in granted["files"]}
    assert stack.post(grants[PHOTO_NAME], PHOTO, "image/png").status_code == 204
    assert stack.post(grants["instance.xml"], xml, "text/xml").status_code == 204
    stack.drain()


def collect(console, tenant: Tenant, xml: bytes, with_photo: bool = True) -> None:
    """As ODK Collect does: a multipart POST of the instance and its photo to the served API."""
    files = {"xml_submission_file": ("instance.xml", xml, "text/xml")}
    if with_photo:
        files[PHOTO_NAME] = (PHOTO_NAME, PHOTO, "image/png")
    headers = COLLECT | {"Authorization": f"Bearer {tenant.tokens['data_collector']}"}
    answer = requests.post(
        f"{console.url}/api/openrosa/{tenant.project_id}/submission", files=files, headers=headers, timeout=10
    )
    assert answer.status_code == 201, answer.text
