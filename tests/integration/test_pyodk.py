"""pyodk, ODK's own Python client, run as it is against our /v1 over real HTTP: it logs in, lists
projects and forms, downloads a form, creates submissions from XML and reads the OData feed into rows
with every answer (a geopoint as WKT, groups nested as Central nests them), paged with $top/$skip and
@odata.nextLink, counted, filtered on submission dates. Another account's session sees none of it."""

import uuid

import pytest
from pyodk._endpoints.submission_attachments import SubmissionAttachmentService
from pyodk.client import Client
from pyodk.errors import PyODKError

from tests.integration.formkit import add_version, create_form
from tests.integration.helpers import PASSWORD
from tests.workbooks import workbook

pytestmark = pytest.mark.commits

FORM_ID = "pyodk_survey"
SURVEY = [
    ["type", "name", "label"],
    ["text", "name", "Name"],
    ["integer", "age", "Age"],
    ["begin group", "visit", "Visit"],
    ["decimal", "weight", "Weight"],
    ["geopoint", "where", "Where"],
    ["begin group", "when", "When"],
    ["date", "day", "Day"],
    ["end group", "", ""],
    ["end group", "", ""],
    ["image", "photo", "Photo"],
]


def _client(tmp_path, url: str, email: str, project_id: int, name: str) -> Client:
    config = tmp_path / f"{name}_config.toml"
    config.write_text(
        f'[central]\nbase_url = "{url}"\nusername = "{email}"\npassword = "{PASSWORD}"\n'
        f"default_project_id = {project_id}\n"
    )
    return Client(config_path=config, cache_path=tmp_path / f"{name}_cache.toml")


def _instance(version: str, name: str, age: str, where: str = "", photo: str = "") -> tuple[str, str]:
    instance_id = f"uuid:{uuid.uuid4()}"
    xml = (
        f'<data id="{FORM_ID}" version="{version}"><name>{name}</name><age>{age}</age>'
        f"<visit><weight>61.5</weight><where>{where}</where><when><day>2024-05-01</day></when></visit>"
        f"<photo>{photo}</photo><meta><instanceID>{instance_id}</instanceID></meta></data>"
    )
    return instance_id, xml


@pytest.fixture
def published(live):
    """Alpha's project with the survey published by its form manager; its version string."""
    alpha = live.tenant("alpha", roles=("form_manager",))
    token = alpha.tokens["form_manager"]
    form = create_form(live.client, token, [alpha.project_id], name="Household visit")
    version = add_version(
        live.client, token, form["id"], workbook(SURVEY, {"form_id": FORM_ID, "version": "v1"})
    )
    return alpha, version["version"]


def test_pyodk_logs_in_lists_downloads_submits_and_reads_the_odata_feed(live, published, tmp_path):
    alpha, version = published
    with _client(tmp_path, live.url, alpha.admin_email, alpha.project_id, "alpha") as client:
        assert [p.id for p in client.projects.list()] == [alpha.project_id]
        assert client.projects.get().name == "alpha project"
        forms = client.forms.list()
        assert [(f.xmlFormId, f.version, f.name) for f in forms] == [(FORM_ID, version, "Household visit")]
        assert client.forms.get(FORM_ID).hash == forms[0].hash
        assert f'id="{FORM_ID}"' in client.forms.get_xml(FORM_ID)

        first_id, first = _instance(version, "Ama", "34", "5.6037 -0.187 12 4.5", photo="door.jpg")
        created = client.submissions.create(xml=first, form_id=FORM_ID)
        assert created.instanceId == first_id and created.reviewState is None
        assert [(a.name, a.exists) for a in created.attachments] == [("door.jpg", False)]
        for name in ("Kofi", "Esi"):
            client.submissions.create(xml=_instance(version, name, "41")[1], form_id=FORM_ID)
        listed = client.submissions.list(form_id=FORM_ID)
        assert len(listed) == 3 and client.submissions.get(first_id, form_id=FORM_ID).instanceId == first_id

        table = client.submissions.get_table(form_id=FORM_ID, wkt=True)
        assert [row["name"] for row in table["value"]] == ["Esi", "Kofi", "Ama"]  # newest first, as Central
        ama = table["value"][2]
        assert ama["__id"] == first_id and ama["age"] == 34 and ama["photo"] == "door.jpg"
        assert ama["visit"] == {
            "weight": 61.5,
            "where": "POINT (-0.187 5.6037 12)",
            "when": {"day": "2024-05-01"},
        }
        assert ama["meta"] == {"instanceID": first_id}
        system = ama["__system"]
        assert system["submitterId"] == str(alpha.user_ids["admin"]) and system["formVersion"] == version
        assert (system["attachmentsExpected"], system["attachmentsPresent"], system["edits"]) == (1, 0, 0)
        assert system["reviewState"] is None and system["submissionDate"].endswith("Z")
        assert table["@odata.context"].endswith(
            f"/v1/projects/{alpha.project_id}/forms/{FORM_ID}.svc/$metadata#Submissions"
        )
        geojson = client.submissions.get_table(form_id=FORM_ID)["value"][2]["visit"]["where"]
        assert geojson == {
            "type": "Point",
            "coordinates": [-0.187, 5.6037, 12.0],
            "properties": {"accuracy": 4.5},
        }
        kofi = table["value"][1]
        assert kofi["visit"]["where"] is None and kofi["photo"] is None

        page = client.submissions.get_table(form_id=FORM_ID, top=2, count=True)
        assert [row["name"] for row in page["value"]] == ["Esi", "Kofi"] and page["@odata.count"] == 3
        rest = client.session.get(page["@odata.nextLink"]).json()
        assert [row["name"] for row in rest["value"]] == ["Ama"] and "@odata.nextLink" not in rest
        skipped = client.submissions.get_table(form_id=FORM_ID, skip=1, top=1)
        assert [row["name"] for row in skipped["value"]] == ["Kofi"] and "@odata.nextLink" in skipped

        dates = [row["__system"]["submissionDate"] for row in table["value"]]
        middle = client.submissions.get_table(
            form_id=FORM_ID,
            filter=f"__system/submissionDate gt {dates[2]} and __system/submissionDate lt {dates[0]}",
        )
        assert [row["name"] for row in middle["value"]] == ["Kofi"]
        either = client.submissions.get_table(
            form_id=FORM_ID, count=True,
            filter=f"__system/submissionDate le {dates[2]} or (__system/submissionDate ge {dates[0]})",
        )  # fmt: skip
        assert [row["name"] for row in either["value"]] == ["Esi", "Ama"] and either["@odata.count"] == 2

        service = client.get(f"projects/{alpha.project_id}/forms/{FORM_ID}.svc").json()
        assert service["value"] == [{"name": "Submissions", "kind": "EntitySet", "url": "Submissions"}]
        metadata = client.get(f"projects/{alpha.project_id}/forms/{FORM_ID}.svc/$metadata")
        assert metadata.headers["Content-Type"] == "application/xml"
        assert '<Property Name="where" Type="Edm.GeographyPoint"/>' in metadata.text


def test_another_accounts_pyodk_session_gets_404_on_our_projects_forms_and_submissions(
    live, published, tmp_path
):
    alpha, version = published
    with _client(tmp_path, live.url, alpha.admin_email, alpha.project_id, "alpha") as client:
        instance_id, xml = _instance(version, "Ama", "34")
        client.submissions.create(xml=xml, form_id=FORM_ID)
    beta = live.tenant("beta")
    with _client(tmp_path, live.url, beta.admin_email, alpha.project_id, "beta") as intruder:
        assert [p.id for p in intruder.projects.list()] == [beta.project_id]
        attempts = {
            "project": lambda: intruder.projects.get(),
            "forms": lambda: intruder.forms.list(),
            "form": lambda: intruder.forms.get(FORM_ID),
            "form xml": lambda: intruder.forms.get_xml(FORM_ID),
            "submissions": lambda: intruder.submissions.list(form_id=FORM_ID),
            "submission": lambda: intruder.submissions.get(instance_id, form_id=FORM_ID),
            "odata": lambda: intruder.submissions.get_table(form_id=FORM_ID),
            "create": lambda: intruder.submissions.create(
                xml=_instance(version, "X", "1")[1], form_id=FORM_ID
            ),
        }
        for what, attempt in attempts.items():
            with pytest.raises(PyODKError, match="Status: 404") as refused:
                attempt()
            assert "Ama" not in str(refused.value), what
        # beta's own project does not hold alpha's form either
        with pytest.raises(PyODKError, match="Status: 404"):
            intruder.submissions.get_table(form_id=FORM_ID, project_id=beta.project_id)


def test_pyodk_sends_a_submissions_photo_and_reads_the_same_bytes_back(live, published, tmp_path):
    alpha, version = published
    photo = tmp_path / "door.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 300)  # chunked by pyodk in 16 KB pieces
    instance_id, xml = _instance(version, "Ama", "34", photo="door.jpg")
    with _client(tmp_path, live.url, alpha.admin_email, alpha.project_id, "alpha") as client:
        created = client.submissions.create(xml=xml, form_id=FORM_ID, attachments=[photo])
        assert [(a.name, a.exists) for a in created.attachments] == [("door.jpg", True)]
        path = f"projects/{alpha.project_id}/forms/{FORM_ID}/submissions/{instance_id}/attachments"
        downloaded = client.get(f"{path}/door.jpg")
        assert downloaded.history[0].status_code == 307 and downloaded.content == photo.read_bytes()
        system = client.submissions.get_table(form_id=FORM_ID)["value"][0]["__system"]
        assert (system["attachmentsExpected"], system["attachmentsPresent"]) == (1, 1)

        stray = tmp_path / "stray.jpg"
        stray.write_bytes(b"not named by the submission")
        service = SubmissionAttachmentService(session=client.session)
        with pytest.raises(PyODKError, match="Status: 404"):  # as Central: only the names the XML gives
            service.upload(stray, project_id=alpha.project_id, form_id=FORM_ID, instance_id=instance_id)
        refused = client.session.post(f"{path}/door.jpg", data=b"x", headers={"Content-Type": "x/unheard-of"})
        assert refused.status_code == 415
