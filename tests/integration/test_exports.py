"""Exports as tasks: CSV, XLSX, GeoJSON, GeoPackage; read by GDAL and openpyxl; round trips."""

import csv
import io
import json
import subprocess
from pathlib import Path

import geojson
import openpyxl
import pytest

from chalicelib.imports import gpkg_reader
from tests.integration.helpers import call, make_tenant, restrict
from tests.integration.registrykit import post
from tests.integration.taskkit import BUCKET, UPLOADS, drain, row

pytestmark = pytest.mark.commits  # tasks report progress on a second connection


@pytest.fixture
def alpha(client, task_aws):
    return make_tenant(client, "alpha", roles=("viewer", "registry_editor"))


def _export(client, task_aws, tenant, file_format: str, filters=None) -> tuple[dict, bytes]:
    body = {"what": "orgunits", "format": file_format, "filters": filters or {}}
    status, created, _ = call(client, "POST", "/api/exports", tenant.tokens["viewer"], body)
    assert status == 201, created
    drain(task_aws)
    done = row(created["id"])
    assert done["status"] == "SUCCESS", done["error_message"]
    [artifact] = done["artifacts"]
    return done, task_aws.s3.get_object(Bucket=BUCKET, Key=artifact["key"])["Body"].read()


def test_csv_has_stable_headers_and_ancestors_per_level(client, alpha, tree, task_aws):
    done, content = _export(client, task_aws, alpha, "csv")
    assert done["result"]["exported"] == 8
    rows = list(csv.DictReader(io.StringIO(content.decode())))
    facility = next(r for r in rows if r["ref"] == "F1")
    assert facility["name"] == "Centre de Santé Pikine" and facility["org_unit_type"] == "Facility"
    assert (facility["latitude"], facility["longitude"]) == ("14.75", "-17.35")
    assert (facility["level_1_name"], facility["level_2_name"], facility["level_3_name"]) == (
        "Sénégal",
        "Dakar",
        "Pikine",
    )
    assert (facility["level_1_ref"], facility["level_3_ref"]) == ("SN", "SN-DK-PK")
    assert facility["groups"] == "Public" and facility["group_refs"] == "pub"
    assert list(rows[0])[:6] == ["id", "uuid", "ref", "name", "org_unit_type", "validation_status"]


def test_filters_and_subtrees_apply_to_exports(client, alpha, tree, task_aws, tmp_path):
    done, content = _export(client, task_aws, alpha, "csv", {"descendants_of": tree["Dakar"]})
    assert done["result"]["exported"] == 3
    restrict(client, alpha, "viewer", tree["Kédougou"])
    done, content = _export(client, task_aws, alpha, "csv")
    rows = {r["ref"]: r for r in csv.DictReader(io.StringIO(content.decode()))}
    assert set(rows) == {"SN-KE", "SN-KE-SR", "F2"}
    # Nothing above the root is named
    assert rows["SN-KE"]["parent_ref"] == "" and rows["F2"]["level_1_name"] == "Kédougou"
    assert "Sénégal" not in content.decode()
    # a GeoPackage too (made row by row, unlike an unrestricted one)
    done, content = _export(client, task_aws, alpha, "gpkg")
    path = tmp_path / "restricted.gpkg"
    path.write_bytes(content)
    units = {f.ref: f for f in gpkg_reader.read(path).features}
    assert set(units) == {"SN-KE", "SN-KE-SR", "F2"} and done["result"]["exported"] == 3
    assert units["SN-KE"].parent_ref is None and units["F2"].parent_ref == "SN-KE-SR"


def test_xlsx_opens_in_openpyxl(client, alpha, tree, task_aws, tmp_path):
    _, content = _export(client, task_aws, alpha, "xlsx")
    path = tmp_path / "units.xlsx"
    path.write_bytes(content)
    rows = _xlsx_rows(path)
    assert rows[0][:4] == ("id", "uuid", "ref", "name") and len(rows) == 9


def _xlsx_rows(path: Path) -> list[tuple]:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return list(book["org units"].iter_rows(values_only=True))
    finally:
        book.close()  # a read-only workbook keeps its file open until closed


def _ogrinfo(path: Path) -> str:
    return subprocess.run(
        ["ogrinfo", "-ro", "-al", "-so", str(path)], capture_output=True, text=True, check=True
    ).stdout


def test_gdal_reads_our_geojson_and_geopackage(client, alpha, tree, task_aws, tmp_path):
    _, content = _export(client, task_aws, alpha, "geojson")
    collection = geojson.loads(content.decode())
    assert collection.is_valid and len(collection["features"]) == 8
    (tmp_path / "units.geojson").write_bytes(content)
    assert "Feature Count: 8" in _ogrinfo(tmp_path / "units.geojson")
    _, content = _export(client, task_aws, alpha, "gpkg")
    path = tmp_path / "units.gpkg"
    path.write_bytes(content)
    info = _ogrinfo(path)
    layers = {name: block for name, block in _layers(info).items()}
    assert set(layers) == {
        "level-1-Country",
        "level-2-Region",
        "level-3-District",
        "level-4-Facility",
        "groups",
    }
    assert (
        "Geometry: Multi Polygon" in layers["level-2-Region"]
        and "Feature Count: 2" in layers["level-2-Region"]
    )
    assert "Point" in layers["level-4-Facility"] and "Feature Count: 2" in layers["level-4-Facility"]
    package = gpkg_reader.read(path)
    assert package.errors == [] and len(package.features) == 8 and package.groups == {"pub": "Public"}


def _layers(info: str) -> dict[str, str]:
    blocks, current = {}, None
    for line in info.splitlines():
        if line.startswith("Layer name: "):
            current = line.removeprefix("Layer name: ")
            blocks[current] = ""
        elif current:
            blocks[current] += line + "\n"
    return blocks


@pytest.mark.parametrize(
    "file_format, in_two_processes",
    [("gpkg", True), ("gpkg", False), ("csv", True), ("csv", False), ("geojson", True)],
)
def test_an_export_imports_back_into_a_new_version_with_no_difference(
    client, alpha, tree, task_aws, file_format, in_two_processes, monkeypatch
):
    from chalicelib.exports import unit_exports
    from chalicelib.imports import import_writer

    monkeypatch.setattr(unit_exports, "WRITE_BEHIND", in_two_processes)  # the GeoPackage's writing
    monkeypatch.setattr(import_writer, "READ_AHEAD", in_two_processes)  # the file's reading
    _, content = _export(client, task_aws, alpha, file_format)
    key = f"imports/{alpha.account_id}/round-trip/units.{file_format}"
    task_aws.s3.put_object(Bucket=UPLOADS, Key=key, Body=content)
    body = {"s3_key": key, "format": file_format, "data_source_id": tree["source"]}
    _, started, _ = call(client, "POST", "/api/imports", alpha.tokens["registry_editor"], body)
    drain(task_aws)
    imported = row(started["id"])
    assert imported["status"] == "SUCCESS", imported["error_message"]
    assert imported["result"]["created"] == 8
    body = {"before_version_id": tree["version"], "after_version_id": imported["result"]["version_id"]}
    _, diff, _ = call(client, "POST", "/api/versions/diff", alpha.tokens["registry_editor"], body)
    drain(task_aws)
    compared = row(diff["id"])
    changes = task_aws.s3.get_object(Bucket=BUCKET, Key=compared["artifacts"][0]["key"])["Body"].read()
    assert compared["result"] == {"added": 0, "removed": 0, "changed": 0, "unchanged": 8}, json.loads(changes)


def test_export_input_is_checked_and_tenants_stay_apart(client, alpha, tree, task_aws):
    token = alpha.tokens["viewer"]
    for body, field in [
        ({"what": "forms", "format": "csv"}, "what"),
        ({"what": "orgunits", "format": "shp"}, "format"),
    ]:
        status, error, _ = call(client, "POST", "/api/exports", token, body)
        assert status == 400 and error["error"]["details"]["field"] == field
    status, error, _ = call(
        client, "POST", "/api/exports", token, {"what": "orgunits", "format": "csv", "filters": {"bbox": "x"}}
    )
    assert status == 400 and error["error"]["details"]["parameter"] == "bbox"
    beta = make_tenant(client, "beta", roles=("viewer",))
    post(client, beta.tokens["admin"], "/api/data-sources", {"name": "Beta"})
    body = {"what": "orgunits", "format": "csv", "filters": {"version": tree["version"]}}
    assert call(client, "POST", "/api/exports", beta.tokens["viewer"], body)[0] == 404
    done, content = _export(client, task_aws, beta, "csv")
    assert done["result"]["exported"] == 0 and len(content.decode().splitlines()) == 1


def test_hostile_type_names_and_control_characters_do_not_break_exports(
    client, alpha, tree, task_aws, tmp_path
):
    admin = alpha.tokens["admin"]
    odd = post(client, admin, "/api/orgunit-types", {"name": 'Quoted "type"; DROP TABLE groups'})
    post(client, admin, "/api/orgunits", {"name": "Bell\x07 clinic", "org_unit_type_id": odd["id"]})
    _, content = _export(client, task_aws, alpha, "gpkg")
    path = tmp_path / "odd.gpkg"
    path.write_bytes(content)
    package = gpkg_reader.read(path)
    assert len(package.features) == 9 and package.groups == {"pub": "Public"}
    assert any(f.type_name == 'Quoted "type"; DROP TABLE groups' for f in package.features)
    _, content = _export(client, task_aws, alpha, "xlsx")
    (tmp_path / "odd.xlsx").write_bytes(content)
    assert "Bell clinic" in [row[3] for row in _xlsx_rows(tmp_path / "odd.xlsx")]
