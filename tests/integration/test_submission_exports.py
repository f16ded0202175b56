"""Exporting a form's submissions: CSV (a zip with one file per repeat), XLSX (a sheet per repeat),
GeoJSON; one column per question, org-unit ancestry, labels on request; as tasks writing to S3."""

import csv
import io
import json
import zipfile

import openpyxl
import pytest

from tests.integration.helpers import call, make_tenant
from tests.integration.ingestkit import EXPORTS, collecting_tenant, publish_form
from tests.integration.taskkit import row
from tests.integration.test_submissions import FORM_1_UUID, FORM_1_XML, REPEAT_XML, _submit

pytestmark = pytest.mark.commits  # tasks report progress on a second connection

REPEAT_UUID = "87eefa63-7523-479e-bb91-d21aa27cc6e7"


@pytest.fixture
def alpha(client, ingest_stack):
    return collecting_tenant(client, "alpha", ("viewer", "registry_editor"))


@pytest.fixture
def submitted(client, ingest_stack, alpha, tree):
    forms = {
        "form_1": publish_form(alpha.account_id, [alpha.project_id], "form_1.xlsx"),
        "repeat": publish_form(alpha.account_id, [alpha.project_id], "repeat_group_form.xlsx"),
    }
    _submit(client, ingest_stack, alpha, forms["form_1"], FORM_1_XML, FORM_1_UUID,
            org_unit_id=tree["Centre de Santé Pikine"], period="202006")  # fmt: skip
    _submit(client, ingest_stack, alpha, forms["repeat"], REPEAT_XML, REPEAT_UUID,
            org_unit_id=tree["Poste de Santé Saraya"])  # fmt: skip
    return forms


def _export(client, stack, tenant, body: dict) -> tuple[dict, bytes]:
    status, created, _ = call(client, "POST", "/api/exports", tenant.tokens["viewer"], body)
    assert status == 201, created
    stack.run_tasks()
    done = row(created["id"])
    assert done["status"] == "SUCCESS", done["error_message"]
    [artifact] = done["artifacts"]
    return done, stack.s3.get_object(Bucket=EXPORTS, Key=artifact["key"])["Body"].read()


def test_xlsx_has_a_column_per_question_ancestry_and_a_sheet_per_repeat(
    client, ingest_stack, alpha, submitted
):
    body = {"what": "submissions", "form": submitted["repeat"]["form_id"], "format": "xlsx"}
    done, content = _export(client, ingest_stack, alpha, body)
    assert done["result"]["exported"] == 1 and done["result"]["repeat_tables"] == ["households/hh_repeat"]
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    main, repeat = (list(sheet.values) for sheet in book.worksheets)
    book.close()
    header, values = main[0], dict(zip(main[0], main[1], strict=True))
    assert header[:2] == ("submission_id", "instance_uuid")
    assert "birth/section_1_1_demo/DE_2008294" in header and "households/hh_repeat/name" not in header
    assert values["birth/section_1_1_demo/DE_2008294"] == "NVP only" and values["last_name"] == "of mine"
    unit = [values[name] for name in ("org_unit_name", "level_1_name", "level_2_name", "level_3_name")]
    assert unit == ["Poste de Santé Saraya", "Sénégal", "Kédougou", "Saraya"]
    assert repeat[0] == ("submission_id", "position", "name", "gender", "age", "households_address/street",
                         "households_address/number", "households_address/city")  # fmt: skip
    assert repeat[1:] == [
        (values["submission_id"], "1", "household 1", "Male", "42", "streeet 1", "44b", "bxl"),
        (values["submission_id"], "2", "household 2", "Female", "11", "street b", "45", "Namur"),
    ]


def test_csv_with_repeats_is_a_zip_and_labels_may_head_the_columns(client, ingest_stack, alpha, submitted):
    body = {"what": "submissions", "form": submitted["repeat"]["form_id"], "format": "csv", "labels": True}
    done, content = _export(client, ingest_stack, alpha, body)
    archive = zipfile.ZipFile(io.BytesIO(content))
    assert sorted(archive.namelist()) == ["households_hh_repeat.csv", "submissions.csv"]
    main = list(csv.reader(io.StringIO(archive.read("submissions.csv").decode())))
    assert "ARV at birth" in main[0] and "Last name" in main[0]
    households = list(csv.reader(io.StringIO(archive.read("households_hh_repeat.csv").decode())))
    assert len(households) == 3 and households[2][2] == "household 2"


def test_a_form_without_repeats_is_one_csv_and_filters_apply(client, ingest_stack, alpha, submitted, tree):
    form_id = submitted["form_1"]["form_id"]
    body = {"what": "submissions", "form": form_id, "format": "csv", "filters": {"period": "202006"}}
    done, content = _export(client, ingest_stack, alpha, body)
    table = list(csv.DictReader(io.StringIO(content.decode())))
    assert len(table) == 1 and table[0]["instance_uuid"] == FORM_1_UUID
    assert table[0]["section_6/gr1/QOC_HD_FA_NG_6.1_max"] == "10" and table[0]["level_2_name"] == "Dakar"
    body["filters"] = {"period": "199901"}
    done, content = _export(client, ingest_stack, alpha, body)
    assert done["result"]["exported"] == 0 and len(content.decode().splitlines()) == 1


def test_geojson_export_keeps_answers_nested(client, ingest_stack, alpha, submitted):
    body = {"what": "submissions", "form": submitted["repeat"]["form_id"], "format": "geojson"}
    _, content = _export(client, ingest_stack, alpha, body)
    collection = json.loads(content)
    [feature] = collection["features"]
    assert feature["properties"]["answers"]["households"]["hh_repeat"][1]["name"] == "household 2"
    assert feature["properties"]["org_unit_ancestors"] == ["Sénégal", "Kédougou", "Saraya"]


def test_export_requests_are_checked_and_other_accounts_get_nothing(client, ingest_stack, alpha, submitted):
    form_id = submitted["form_1"]["form_id"]
    for body, field in [
        ({"what": "submissions", "format": "csv"}, "form"),
        ({"what": "submissions", "form": form_id, "format": "shp"}, "format"),
    ]:
        status, problem, _ = call(client, "POST", "/api/exports", alpha.tokens["viewer"], body)
        assert status == 400 and problem["error"]["details"]["field"] == field, problem
    body = {"what": "submissions", "form": form_id, "format": "csv", "filters": {"colour": "red"}}
    status, problem, _ = call(client, "POST", "/api/exports", alpha.tokens["viewer"], body)
    assert status == 400 and problem["error"]["details"]["parameter"] == "colour"
    beta = make_tenant(client, "beta", roles=("viewer",))
    body = {"what": "submissions", "form": form_id, "format": "csv"}
    assert call(client, "POST", "/api/exports", beta.tokens["viewer"], body)[0] == 404
    assert call(client, "POST", "/api/exports", alpha.tokens["registry_editor"], body)[0] == 403
