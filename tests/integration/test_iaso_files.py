"""Iaso's files as they are: its tree importer's CSV and data_dict.json, its GeoPackages, and ours
opened the way Iaso's GeoPackage importer opens them."""

import json
import re
import sqlite3
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from chalicelib.imports.unit_model import normalise_ref
from chalicelib.platform import db
from tests.integration.helpers import call, make_tenant
from tests.integration.registrykit import post
from tests.integration.taskkit import BUCKET, UPLOADS, drain, row

pytestmark = pytest.mark.commits  # tasks report progress on a second connection; imports COPY

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DATA_DICT = json.loads((FIXTURES / "iaso_data_dict.json").read_text())  # Iaso's testdata, unchanged
# The columns Iaso's GeoPackage importer reads of a layer (iaso/gpkg/import_gpkg.py: PropertyDict,
# create_or_update_orgunit, import_gpkg_file2), and its layer names (`level-{depth}-{type}`, split
# on "-" twice, depth an int).
IASO_READS = {"ref", "name", "parent_ref", "group_refs", "code", "opening_date", "closed_date"}
IASO_LAYER = re.compile(r"^level-(\d+)-(.+)$")


@pytest.fixture
def alpha(client, task_aws):
    return make_tenant(client, "alpha", roles=("viewer", "registry_editor"))


@pytest.fixture
def source(client, alpha):
    return post(client, alpha.tokens["admin"], "/api/data-sources", {"name": "Iaso files"})


def _import(client, task_aws, tenant, source, content: bytes, file_format: str, **body) -> dict:
    key = f"imports/{tenant.account_id}/iaso/{len(content)}-{len(body)}.{file_format}"
    task_aws.s3.put_object(Bucket=UPLOADS, Key=key, Body=content)
    request = {"s3_key": key, "format": file_format, "data_source_id": source["id"]} | body
    status, created, _ = call(client, "POST", "/api/imports", tenant.tokens["registry_editor"], request)
    assert status == 201, created
    drain(task_aws)
    return row(created["id"])


def _export_gpkg(client, task_aws, tenant, version_id: int, path: Path) -> Path:
    body = {"what": "orgunits", "format": "gpkg", "filters": {"version": version_id}}
    status, created, _ = call(client, "POST", "/api/exports", tenant.tokens["viewer"], body)
    assert status == 201, created
    drain(task_aws)
    done = row(created["id"])
    assert done["status"] == "SUCCESS", done["error_message"]
    path.write_bytes(task_aws.s3.get_object(Bucket=BUCKET, Key=done["artifacts"][0]["key"])["Body"].read())
    return path


def _units(version_id: int) -> list[dict]:
    with db.transaction() as cur:
        cur.execute(
            """SELECT ou.source_ref AS ref, ou.name, ou.code, ou.closed_date, t.name AS type_name,
                      p.source_ref AS parent_ref, p.name AS parent_name, ST_X(ou.location) AS lon,
                      ou.opening_date::text AS opened, ou.closed_date::text AS closed,
                      (SELECT array_agg(g.source_ref ORDER BY g.source_ref) FROM org_unit_groups m
                       JOIN groups g ON g.id = m.group_id
                       WHERE m.version_id = ou.version_id AND m.org_unit_id = ou.id) AS groups
               FROM org_units ou JOIN org_unit_types t ON t.id = ou.org_unit_type_id
               LEFT JOIN org_units p ON p.version_id = ou.version_id AND p.id = ou.parent_id
               WHERE ou.version_id = %s AND ou.deleted_at IS NULL""",
            (version_id,),
        )
        return cur.fetchall()


def _groups(version_id: int) -> set[tuple[str, str]]:
    with db.transaction() as cur:
        cur.execute("SELECT source_ref, name FROM groups WHERE version_id = %s", (version_id,))
        return {(group["source_ref"], group["name"]) for group in cur.fetchall()}


def test_iasos_tree_csv_imports_with_its_data_dict_one_unit_per_row(client, alpha, source, task_aws):
    content = (FIXTURES / "iaso_schools.csv").read_bytes()  # 195 schools, none with a ref, 2 names twice
    options = {"data_dict": DATA_DICT, "main_org_unit_name": "maternelle"}
    done = _import(client, task_aws, alpha, source, content, "csv", options=options)
    assert done["status"] == "SUCCESS", done["error_message"]
    units = _units(done["result"]["version_id"])
    schools = [unit for unit in units if unit["type_name"] == "maternelle"]
    assert len(schools) == 195 and done["result"]["created"] == len(units)
    twins = [
        u
        for u in schools
        if (u["parent_ref"], u["name"]) == ("KWILU/KWILU 3/KALO", "MUNENE ECOLE MATERNELLE")
    ]
    assert len(twins) == 2 and len({twin["lon"] for twin in twins}) == 2
    assert {unit["type_name"] for unit in units} == {"ProvincePoliAdmin", "Proved", "Sproved", "maternelle"}
    # Again into that version: the unique schools match by parent and name, the twins are reported
    again = _import(client, task_aws, alpha, source, content, "csv", options=options,
                    version_id=done["result"]["version_id"])  # fmt: skip
    assert again["status"] == "ERRORED"
    assert (
        "4 error(s), nothing imported: csv, row 35, name: 2 row(s) of the file (35, 39)"
        in again["error_message"]
    )
    kept = _import(client, task_aws, alpha, source, content, "csv",
                   options=options | {"skip_invalid": True, "close_missing": True},
                   version_id=done["result"]["version_id"])  # fmt: skip
    result = kept["result"]
    assert (result["created"], result["updated"], result["closed"], result["errors"]) == (0, 0, 0, 4)
    assert result["unchanged"] == len(units) - 4


def test_leaves_without_a_ref_are_matched_by_parent_and_name_only_when_unique(
    client, alpha, source, task_aws
):
    header = "ProvincePoliAdmin;Proved;Sproved;Nom Ecole;GPS_latitude;GPS_longitude;Numero SECOPE\n"
    first = header + "K;P;S;EP Nzadi;-5.1;13.1;\nK;P;S;EP Bidimio;-5.2;13.2;\nK;P;S;EP Bidimio;-5.3;13.3;\n"
    done = _import(client, task_aws, alpha, source, first.encode(), "csv", options={"data_dict": DATA_DICT})
    version_id = done["result"]["version_id"]
    # EP Nzadi moved a little; a new EP Kalamu; EP Bidimio, twice in the version, now once in the file
    second = header + "K;P;S;EP Nzadi;-5.1;13.15;\nK;P;S;EP Kalamu;-5.4;13.4;\nK;P;S;EP Bidimio;-5.2;13.2;\n"
    options = {"data_dict": DATA_DICT, "skip_invalid": True, "close_missing": True}
    again = _import(
        client, task_aws, alpha, source, second.encode(), "csv", options=options, version_id=version_id
    )
    result = again["result"]
    assert (result["created"], result["updated"], result["closed"], result["errors"]) == (1, 1, 0, 1)
    schools = {
        (u["ref"], u["name"], u["lon"], u["closed_date"])
        for u in _units(version_id)
        if u["type_name"] == "Nom Ecole"
    }
    assert schools == {
        ("K/P/S/EP Nzadi", "EP Nzadi", 13.15, None), ("K/P/S/EP Kalamu", "EP Kalamu", 13.4, None),
        ("K/P/S/EP Bidimio", "EP Bidimio", 13.2, None), ("K/P/S/EP Bidimio#2", "EP Bidimio", 13.3, None),
    }  # fmt: skip


def test_a_geopackage_export_keeps_every_group_and_imports_back_with_them(
    client, alpha, tree, task_aws, tmp_path
):
    admin = alpha.tokens["admin"]
    post(client, admin, "/api/groups", {"version_id": tree["version"], "name": "Empty", "source_ref": "none"})
    unnamed = post(client, admin, "/api/groups", {"version_id": tree["version"], "name": "Without a ref"})
    path = _export_gpkg(client, task_aws, alpha, tree["version"], tmp_path / "groups.gpkg")
    info = subprocess.run(
        ["ogrinfo", "-ro", "-al", str(path), "groups"], capture_output=True, text=True, check=True
    ).stdout
    assert "Feature Count: 3" in info
    assert all(f"name (String) = {name}" in info for name in ("Public", "Empty", "Without a ref")), info
    before = _groups(tree["version"])
    assert len(before) == 3
    done = _import(client, task_aws, alpha, {"id": tree["source"]}, path.read_bytes(), "gpkg")
    assert done["status"] == "SUCCESS", done["error_message"]
    after = _groups(done["result"]["version_id"])
    # a group without a ref is written with Iaso's ref for it, `iaso#<id>`, which it keeps
    assert after == {(ref or f"iaso#{unnamed['id']}", name) for ref, name in before}


def test_our_geopackage_has_the_layout_iasos_importer_reads(client, alpha, tree, task_aws, tmp_path):
    path = _export_gpkg(client, task_aws, alpha, tree["version"], tmp_path / "ours.gpkg")
    listed = subprocess.run(["ogrinfo", "-ro", "-q", str(path)], capture_output=True, text=True, check=True)
    layers = [re.sub(r"^\d+: (.*) \(.*\)$", r"\1", line) for line in listed.stdout.splitlines() if line]
    assert sorted(layers) == [
        "groups",
        "level-1-Country",
        "level-2-Region",
        "level-3-District",
        "level-4-Facility",
    ]
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        groups = dict(conn.execute("SELECT ref, name FROM groups"))  # as Iaso reads it
        assert all(ref and name and "," not in ref for ref, name in groups.items())
        refs, parents = set(), set()
        for layer in (name for name in layers if name != "groups"):
            depth, type_name = layer.split("-", maxsplit=2)[1:]
            assert int(depth) >= 0 and IASO_LAYER.match(layer) and type_name in tree
            columns = {column[1] for column in conn.execute(f'PRAGMA table_info("{layer}")')}
            assert columns >= IASO_READS, columns
            cursor = conn.execute(f'SELECT * FROM "{layer}"')
            names = [column[0] for column in cursor.description]
            for unit in (dict(zip(names, values, strict=True)) for values in cursor.fetchall()):
                assert unit["ref"].strip() and unit["name"].strip()
                refs.add(unit["ref"])
                parents |= {unit["parent_ref"]} - {None}
                assert all(
                    group.strip() in groups for group in (unit["group_refs"] or "").split(",") if group
                )
                for date in (unit["opening_date"], unit["closed_date"]):
                    assert date is None or datetime.strptime(date, "%Y-%m-%d")
        assert parents <= refs and len(refs) == 8


@pytest.mark.parametrize("fixture", ["iaso_minimal.gpkg", "iaso_multiple_ref_formats.gpkg"])
def test_iasos_geopackages_import_exactly_and_export_back_the_same(
    client, alpha, source, task_aws, tmp_path, fixture
):
    original = tmp_path / fixture
    original.write_bytes((FIXTURES / fixture).read_bytes())
    expected = _as_iaso_reads(original)
    done = _import(client, task_aws, alpha, source, original.read_bytes(), "gpkg")
    assert done["status"] == "SUCCESS", done["error_message"]
    version_id = done["result"]["version_id"]
    stored = {
        unit["ref"]: (unit["type_name"], unit["name"], unit["parent_ref"], unit["code"] or None,
                      tuple(unit["groups"] or ()), unit["opened"], unit["closed"])
        for unit in _units(version_id)
    }  # fmt: skip
    assert stored == expected["units"]
    assert _groups(version_id) == expected["groups"]
    exported = _as_iaso_reads(_export_gpkg(client, task_aws, alpha, version_id, tmp_path / "back.gpkg"))
    assert exported == expected


def _as_iaso_reads(path: Path) -> dict:
    """A GeoPackage's units and groups as Iaso's importer takes them (refs in our one spelling)."""
    units = {}
    with sqlite3.connect(f"file:{path}?immutable=1", uri=True) as conn:
        groups = {(normalise_ref(ref), name) for ref, name in conn.execute("SELECT ref, name FROM groups")}
        tables = [
            name
            for (name,) in conn.execute("SELECT table_name FROM gpkg_contents WHERE data_type = 'features'")
        ]
        for layer in tables:
            type_name = layer.split("-", maxsplit=2)[2]
            cursor = conn.execute(f'SELECT * FROM "{layer}"')
            names = [column[0] for column in cursor.description]
            for values in cursor:
                unit = dict.fromkeys(IASO_READS) | dict(zip(names, values, strict=True))
                refs = (unit["group_refs"] or "").split(",")
                units[normalise_ref(unit["ref"])] = (
                    type_name, unit["name"], normalise_ref(unit["parent_ref"]), unit["code"] or None,
                    tuple(sorted(filter(None, map(normalise_ref, refs)))), unit["opening_date"],
                    unit["closed_date"],
                )  # fmt: skip
    return {"units": units, "groups": groups}


@pytest.mark.parametrize(
    ("options", "field", "message"),
    [
        ({"data_dict": {"name": "Nom Ecole"}}, "options.data_dict", "lacks key(s) parents, source_ref"),
        ({"data_dict": DATA_DICT, "hierarchy": {"levels": []}}, "options.hierarchy", "not both"),
        ({"main_org_unit_name": "maternelle"}, "options.main_org_unit_name", "with options.data_dict only"),
    ],
)
def test_a_wrong_data_dict_is_refused_before_any_task(client, alpha, source, options, field, message):
    key = f"imports/{alpha.account_id}/x/tree.csv"
    body = {"s3_key": key, "format": "csv", "data_source_id": source["id"], "options": options}
    status, problem, _ = call(client, "POST", "/api/imports", alpha.tokens["registry_editor"], body)
    assert status == 400 and problem["error"]["details"]["field"] == field
    assert message in problem["error"]["message"]
