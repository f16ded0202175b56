"""GeoPackage imports as tasks: real Iaso files, new and existing versions, dry runs, bad input."""

import contextlib
import json
import shutil
import sqlite3
from pathlib import Path

import psycopg2.errors
import pytest

from chalicelib.platform import db
from tests.integration.helpers import call, make_tenant, restrict
from tests.integration.registrykit import post
from tests.integration.taskkit import UPLOADS, drain, row

pytestmark = pytest.mark.commits  # tasks report progress on a second connection; imports COPY and ATTACH

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture
def alpha(client, task_aws):
    return make_tenant(client, "alpha", roles=("viewer", "registry_editor"))


@pytest.fixture
def source(client, alpha):
    return post(client, alpha.tokens["admin"], "/api/data-sources", {"name": "Iaso pyramid"})


def _upload(client, task_aws, tenant, content: bytes, filename: str = "units.gpkg") -> str:
    status, upload, _ = call(
        client, "POST", "/api/imports/upload-url", tenant.tokens["registry_editor"], {"filename": filename}
    )
    assert status == 201 and upload["s3_key"].startswith(f"imports/{tenant.account_id}/")
    conditions = upload["fields"]
    assert upload["fields"]["key"] == upload["s3_key"] and "policy" in conditions
    task_aws.s3.put_object(Bucket=UPLOADS, Key=upload["s3_key"], Body=content)
    return upload["s3_key"]


def _import(client, task_aws, tenant, source, content, **extra) -> dict:
    key = _upload(client, task_aws, tenant, content)
    body = {"s3_key": key, "format": "gpkg", "data_source_id": source["id"]} | extra
    status, created, _ = call(client, "POST", "/api/imports", tenant.tokens["registry_editor"], body)
    assert status == 201, created
    drain(task_aws)
    return row(created["id"])


def _units(version_id: int) -> dict[str, dict]:
    with db.transaction() as cur:
        cur.execute(
            """SELECT ou.*, t.name AS type_name, p.source_ref AS parent_ref, ST_AsText(ou.location) AS point,
                      ST_GeometryType(ou.geom) AS territory,
                      (SELECT array_agg(g.source_ref ORDER BY g.source_ref)
                       FROM org_unit_groups m JOIN groups g ON g.id = m.group_id
                       WHERE m.version_id = ou.version_id AND m.org_unit_id = ou.id) AS groups
               FROM org_units ou JOIN org_unit_types t ON t.id = ou.org_unit_type_id
               LEFT JOIN org_units p ON p.version_id = ou.version_id AND p.id = ou.parent_id
               WHERE ou.version_id = %s""",
            (version_id,),
        )
        return {unit["source_ref"]: unit for unit in cur.fetchall()}


def _versions(source_id: int) -> int:
    with db.transaction() as cur:
        return db.one(
            cur, "SELECT count(*) AS n FROM source_versions WHERE data_source_id = %(s)s", {"s": source_id}
        )["n"]


def test_iaso_minimal_imports_into_a_new_version(client, alpha, source, task_aws):
    done = _import(client, task_aws, alpha, source, (FIXTURES / "iaso_minimal.gpkg").read_bytes())
    assert done["status"] == "SUCCESS", done["error_message"]
    result = done["result"]
    assert (result["created"], result["errors"], result["warnings"]) == (3, 0, 0)
    units = _units(result["version_id"])
    district = units["cdd3e94c-3c2a-4ab1-8900-be97f82347de"]
    area = units["cc5421f2-2003-4f01-be4f-5f64463ab456"]
    facility = units["3c24c6ca-3012-4d38-abe8-6d620fe1deb8"]
    assert (district["type_name"], district["depth"], district["parent_ref"]) == ("DS", 0, None)
    assert area["parent_ref"] == district["source_ref"] and facility["parent_ref"] == area["source_ref"]
    assert facility["path"] == f"/{district['id']}/{area['id']}/{facility['id']}/" and facility["depth"] == 2
    assert district["territory"] == "ST_MultiPolygon" and facility["point"].startswith("POINT Z (13.9993")
    assert facility["groups"] == ["group_a", "group_b"] and facility["code"] == "ES0025"
    assert str(district["opening_date"]) == "2020-01-01" and facility["validation_status"] == "VALID"
    # The new version is served like any other, through the API
    _, listed, _ = call(
        client, "GET", f"/api/orgunits?version={result['version_id']}&search=garga", alpha.tokens["viewer"]
    )
    assert [u["name"] for u in listed["results"]] == ["CSI de Garga-Sarali"]
    _, shown, _ = call(client, "GET", f"/api/tasks/{done['id']}", alpha.tokens["registry_editor"])
    assert [a["name"] for a in shown["artifacts"]] == ["report.json"]
    # the partition's name-search index and statistics come from a task that follows the import's commit
    with db.transaction() as cur:
        cur.execute("SELECT status, result FROM tasks WHERE kind = 'orgunits.finish_version'")
        assert cur.fetchall() == [{"status": "SUCCESS", "result": {"finished": True}}]
        cur.execute(
            "SELECT to_regclass(%s) IS NOT NULL AS present",
            (f"org_units_v{result['version_id']}_name_trgm_idx",),
        )
        assert cur.fetchone()["present"]
        cur.execute(
            "SELECT count(*) AS n FROM pg_stats WHERE tablename = %s", (f"org_units_v{result['version_id']}",)
        )
        assert cur.fetchone()["n"] > 0


@pytest.mark.parametrize("how", ["import", "api"])
def test_a_versions_units_keep_their_parents_and_memberships_within_it(client, alpha, source, task_aws, how):
    """The keys from a unit to its parent and from a membership to its unit are the version's
    partitions' own (migration 0014), whether the version was imported or made through the API."""
    if how == "import":
        done = _import(client, task_aws, alpha, source, (FIXTURES / "iaso_minimal.gpkg").read_bytes())
        version = done["result"]["version_id"]
    else:
        version = source["default_version_id"]
        post(
            client, alpha.tokens["registry_editor"], "/api/orgunits", {"version_id": version, "name": "Root"}
        )
    other = post(client, alpha.tokens["registry_editor"], "/api/data-sources", {"name": "Other"})
    stranger = post(client, alpha.tokens["registry_editor"], "/api/orgunits",
                    {"version_id": other["default_version_id"], "name": "Elsewhere"})  # fmt: skip
    with db.transaction() as cur:
        unit = db.one(
            cur, "SELECT id, account_id FROM org_units WHERE version_id = %(v)s LIMIT 1", {"v": version}
        )
        group = db.one(cur, "INSERT INTO groups (account_id, version_id, name) VALUES (%(a)s, %(v)s, 'G')"
                            " RETURNING id", {"a": unit["account_id"], "v": version})  # fmt: skip
    for statement in (
        "UPDATE org_units SET parent_id = %(stranger)s WHERE version_id = %(v)s AND id = %(unit)s",
        "INSERT INTO org_unit_groups (account_id, version_id, org_unit_id, group_id)"
        " VALUES (%(account)s, %(v)s, %(stranger)s, %(group)s)",
    ):
        with pytest.raises(psycopg2.errors.ForeignKeyViolation), db.transaction() as cur:
            cur.execute(statement, {"v": version, "unit": unit["id"], "stranger": stranger["id"],
                                    "account": unit["account_id"], "group": group["id"]})  # fmt: skip
    with db.transaction() as cur:
        cur.execute(
            "SELECT conname FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text IN (%s, %s)",
            (f"org_unit_groups_v{version}", f"org_units_v{version}"),
        )
        names = [row["conname"] for row in cur.fetchall()]
    assert f"org_units_v{version}_parent_fkey" in names and f"org_unit_groups_v{version}_unit_fkey" in names


def test_refs_in_every_iaso_format_link_parents_and_groups(client, alpha, source, task_aws):
    done = _import(
        client, task_aws, alpha, source, (FIXTURES / "iaso_multiple_ref_formats.gpkg").read_bytes()
    )
    assert done["status"] == "SUCCESS", done["error_message"]
    units = _units(done["result"]["version_id"])
    assert len(units) == 7
    assert units["awG7snlrjVy"]["parent_ref"] == "iaso#6688"
    assert units["iaso#178465"]["groups"] == ["FnGKoaZpj4u", "iaso#49591", "iaso#49592"]
    assert (
        units["iaso#178465"]["location"] is None
        and units["O8KHatHm4dw"]["point"] == "POINT Z (-4.3167 13.1 0)"
    )
    assert {u["depth"] for u in units.values()} == {0, 1, 2, 3, 4}


def test_reimporting_the_same_file_into_its_version_changes_nothing(client, alpha, source, task_aws):
    content = (FIXTURES / "iaso_multiple_ref_formats.gpkg").read_bytes()
    first = _import(client, task_aws, alpha, source, content)
    version_id = first["result"]["version_id"]
    again = _import(client, task_aws, alpha, source, content, version_id=version_id)
    assert again["status"] == "SUCCESS", again["error_message"]
    assert (again["result"]["created"], again["result"]["updated"], again["result"]["unchanged"]) == (0, 0, 7)


def test_a_uuid_given_twice_is_kept_once_and_the_repeats_get_new_ones(
    client, alpha, source, task_aws, tmp_path
):
    hf = '"level-5-Health facility/Formation sanitaire - HF"'
    country = '"level-1-Country/Pays - COUN"'
    given = "0b6f3c2e-8a5d-4f7e-9c1b-2d3e4f5a6b7c"
    content = _edited(
        tmp_path,
        [
            f"UPDATE {country} SET uuid = '{given}'",
            f"UPDATE {hf} SET uuid = '{given}'",
            f"UPDATE {hf} SET uuid = 'not a uuid' WHERE ref = 'O8KHatHm4dw'",
        ],
    )
    done = _import(client, task_aws, alpha, source, content)
    assert done["status"] == "SUCCESS", done["error_message"]
    with db.transaction() as cur:
        cur.execute(
            "SELECT source_ref, uuid::text AS uuid FROM org_units WHERE version_id = %(v)s",
            {"v": done["result"]["version_id"]},
        )
        uuids = {row["source_ref"]: row["uuid"] for row in cur.fetchall()}
    assert len(set(uuids.values())) == len(uuids) == 7  # unique, the attach retried once
    assert uuids["iaso#6688"] == given  # the first to carry it (the country) keeps it


def _edited(tmp_path, sql: list[str]) -> bytes:
    path = tmp_path / "edited.gpkg"
    shutil.copy(FIXTURES / "iaso_multiple_ref_formats.gpkg", path)
    with contextlib.closing(sqlite3.connect(path)) as gpkg, gpkg:
        gpkg.execute("PRAGMA journal_mode = DELETE")  # the file alone must hold the edits
        # GDAL's R-tree triggers call these spatial functions; plain sqlite3 lacks them
        gpkg.create_function("ST_IsEmpty", 1, lambda blob: 1 if blob is None else 0)
        for name in ("ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY"):
            gpkg.create_function(name, 1, lambda blob: 0.0)
        for statement in sql:
            gpkg.execute(statement)
    return path.read_bytes()


def test_an_existing_version_is_updated_field_by_field_and_audited(client, alpha, source, task_aws, tmp_path):
    first = _import(
        client, task_aws, alpha, source, (FIXTURES / "iaso_multiple_ref_formats.gpkg").read_bytes()
    )
    version_id = first["result"]["version_id"]
    hf = '"level-5-Health facility/Formation sanitaire - HF"'
    # A rename, a move up to the district, a unit gone from the file, a new one
    content = _edited(
        tmp_path,
        [
            f"UPDATE {hf} SET name = 'CSPS Madouba (new)' WHERE ref = 'O8KHatHm4dw'",
            f"UPDATE {hf} SET parent_ref = 'B4Ra7K6HuCE' WHERE ref IN ('iaso#178466', 'iaso:178466')",
            f"DELETE FROM {hf} WHERE ref = 'iaso#178465'",
            f"INSERT INTO {hf} (name, ref, parent_ref) VALUES ('CSPS Nouveau', 'NEW1', 'cfke3S7Q8Vo')",
        ],
    )
    done = _import(
        client, task_aws, alpha, source, content, version_id=version_id, options={"close_missing": True}
    )
    assert done["status"] == "SUCCESS", done["error_message"]
    assert {k: done["result"][k] for k in ("created", "updated", "unchanged", "closed")} == {
        "created": 1,
        "updated": 2,
        "unchanged": 4,
        "closed": 1,
    }
    units = _units(version_id)
    assert units["O8KHatHm4dw"]["name"] == "CSPS Madouba (new)"
    moved, district = units["iaso#178466"], units["B4Ra7K6HuCE"]
    assert moved["parent_ref"] == "B4Ra7K6HuCE" and moved["path"] == district["path"] + f"{moved['id']}/"
    assert moved["depth"] == district["depth"] + 1
    assert units["iaso#178465"]["closed_date"] is not None
    assert units["NEW1"]["parent_ref"] == "cfke3S7Q8Vo" and units["NEW1"]["depth"] == 4
    _, history, _ = call(
        client, "GET", f"/api/orgunits/{units['O8KHatHm4dw']['id']}/history", alpha.tokens["viewer"]
    )
    change = history["results"][-1]
    assert change["source"] == "import" and change["before"] == {"name": "CSPS Madouba"}
    assert change["after"] == {"name": "CSPS Madouba (new)"}


def test_a_dry_run_reports_without_writing(client, alpha, source, task_aws):
    done = _import(
        client, task_aws, alpha, source, (FIXTURES / "iaso_minimal.gpkg").read_bytes(), dry_run=True
    )
    assert done["status"] == "SUCCESS"
    assert (
        done["result"]["dry_run"] is True
        and done["result"]["created"] == 3
        and done["result"]["version_id"] is None
    )
    assert _versions(source["id"]) == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty"), (b"ref,name\nA,B\n", "not a GeoPackage"), (None, "damaged")],
)
def test_unreadable_files_end_errored_and_leave_nothing(client, alpha, source, task_aws, content, message):
    if content is None:
        content = (FIXTURES / "iaso_minimal.gpkg").read_bytes()[:20_000]
    done = _import(client, task_aws, alpha, source, content)
    assert done["status"] == "ERRORED" and message in done["error_message"] and done["attempts"] == 1
    assert _versions(source["id"]) == 1


def test_row_errors_import_nothing_unless_skip_invalid(client, alpha, source, task_aws, tmp_path):
    hf = '"level-5-Health facility/Formation sanitaire - HF"'
    content = _edited(
        tmp_path,
        [
            f"UPDATE {hf} SET parent_ref = 'nowhere' WHERE ref = 'O8KHatHm4dw'",
            f"UPDATE {hf} SET name = NULL WHERE ref = 'iaso#178465'",
        ],
    )
    failed = _import(client, task_aws, alpha, source, content)
    assert failed["status"] == "ERRORED"
    assert "2 error(s), nothing imported" in failed["error_message"]
    assert "row 1, parent_ref: names no unit 'nowhere'" in failed["error_message"]
    assert "row 2, name: is missing" in failed["error_message"]
    assert _versions(source["id"]) == 1
    partial = _import(client, task_aws, alpha, source, content, options={"skip_invalid": True})
    assert (
        partial["status"] == "SUCCESS"
        and partial["result"]["created"] == 5
        and partial["result"]["errors"] == 2
    )


@pytest.mark.parametrize("read_ahead", [True, False], ids=["read in a child", "read here"])
def test_a_file_found_wrong_half_way_through_its_stream_ends_errored_and_leaves_nothing(
    client, alpha, source, task_aws, tmp_path, monkeypatch, read_ahead
):
    """A GeoPackage is read while its units are already being copied: a reason to give up found
    there (here, too many bad rows) still reaches the user whole, and nothing stays."""
    from chalicelib.imports import import_writer, unit_model

    monkeypatch.setattr(unit_model, "MAX_PROBLEMS", 2)
    monkeypatch.setattr(import_writer, "READ_AHEAD", read_ahead)
    hf = '"level-5-Health facility/Formation sanitaire - HF"'
    content = _edited(
        tmp_path, [f"UPDATE {hf} SET name = NULL WHERE rowid IN (SELECT rowid FROM {hf} LIMIT 3)"]
    )
    done = _import(client, task_aws, alpha, source, content)
    assert done["status"] == "ERRORED" and done["attempts"] == 1
    assert "more than 2 rows have problems; is this the right file?" in done["error_message"]
    assert "row 1, name: is missing" in done["error_message"]
    assert _versions(source["id"]) == 1


def test_a_killed_import_leaves_nothing(client, alpha, source, task_aws, monkeypatch):
    from contextlib import contextmanager

    from chalicelib.imports import gpkg_reader

    original = gpkg_reader.opened

    @contextmanager
    def open_then_get_killed(path):
        with db.side_cursor() as side:
            side.execute("UPDATE tasks SET should_be_killed = true WHERE kind = 'orgunits.import'")
        with original(path) as source:
            yield source

    monkeypatch.setattr(gpkg_reader, "opened", open_then_get_killed)
    done = _import(client, task_aws, alpha, source, (FIXTURES / "iaso_minimal.gpkg").read_bytes())
    assert done["status"] == "KILLED"
    assert _versions(source["id"]) == 1


@pytest.mark.parametrize("read_ahead", [True, False], ids=["read in a child", "read here"])
def test_a_kill_while_the_units_stream_in_stops_the_import_and_leaves_nothing(
    client, alpha, source, task_aws, monkeypatch, read_ahead
):
    from chalicelib.imports import import_writer

    monkeypatch.setattr(import_writer, "PROGRESS_EVERY", 2)
    monkeypatch.setattr(import_writer, "READ_AHEAD", read_ahead)
    original, seen = import_writer._placed, []

    def placed_then_killed(batches, placer, progress, total):
        def killing(done, of):
            seen.append((done, of))
            with db.side_cursor() as side:  # the user presses "kill" while the units are copied
                side.execute("UPDATE tasks SET should_be_killed = true WHERE kind = 'orgunits.import'")
            progress(done, of)

        return original(batches, placer, killing, total)

    monkeypatch.setattr(import_writer, "_placed", placed_then_killed)
    done = _import(
        client, task_aws, alpha, source, (FIXTURES / "iaso_multiple_ref_formats.gpkg").read_bytes()
    )
    assert done["status"] == "KILLED" and seen == [(2, 7)]  # stopped at the first report, mid-COPY
    assert _versions(source["id"]) == 1


def test_a_duplicate_delivery_imports_once(client, alpha, source, task_aws):
    key = _upload(client, task_aws, alpha, (FIXTURES / "iaso_minimal.gpkg").read_bytes())
    body = {"s3_key": key, "format": "gpkg", "data_source_id": source["id"]}
    _, created, _ = call(client, "POST", "/api/imports", alpha.tokens["registry_editor"], body)
    task_aws.sqs.send_message(QueueUrl=task_aws.queue_url, MessageBody=f'{{"task_id": {created["id"]}}}')
    drain(task_aws)
    assert row(created["id"])["status"] == "SUCCESS" and _versions(source["id"]) == 2


def test_imports_check_keys_sources_and_roles(client, alpha, source, task_aws):
    beta = make_tenant(client, "beta", roles=("registry_editor",))
    beta_source = post(client, beta.tokens["admin"], "/api/data-sources", {"name": "Beta"})
    key = _upload(client, task_aws, alpha, b"x")
    body = {"s3_key": key, "format": "gpkg", "data_source_id": beta_source["id"]}
    status, error, _ = call(client, "POST", "/api/imports", beta.tokens["registry_editor"], body)
    assert status == 400 and error["error"]["details"]["field"] == "s3_key"  # another account's upload
    body = {"s3_key": key, "format": "gpkg", "data_source_id": beta_source["id"]}
    assert call(client, "POST", "/api/imports", alpha.tokens["registry_editor"], body)[0] == 404
    body = {"s3_key": key, "format": "shp", "data_source_id": source["id"]}
    status, error, _ = call(client, "POST", "/api/imports", alpha.tokens["registry_editor"], body)
    assert status == 400 and error["error"]["details"]["field"] == "format"
    body = {"s3_key": key, "format": "gpkg", "data_source_id": source["id"]}
    assert call(client, "POST", "/api/imports", alpha.tokens["viewer"], body)[0] == 403
    assert (
        call(client, "POST", "/api/imports/upload-url", alpha.tokens["viewer"], {"filename": "x.gpkg"})[0]
        == 403
    )
    assert task_aws.depth(task_aws.queue_url) == 0


def test_a_csv_imports_with_types_parents_and_points(client, alpha, source, task_aws):
    content = (
        "ref,name,parent_ref,type,latitude,longitude\n"
        "KD,Kédougou,,Region,,\n"
        "SR,Saraya,KD,District,,\n"
        "PS,Poste de Santé Saraya,SR,Facility,12.8,-11.8\n"
    ).encode()
    key = _upload(client, task_aws, alpha, content, "units.csv")
    body = {"s3_key": key, "format": "csv", "data_source_id": source["id"]}
    _, created, _ = call(client, "POST", "/api/imports", alpha.tokens["registry_editor"], body)
    drain(task_aws)
    done = row(created["id"])
    assert done["status"] == "SUCCESS", done["error_message"]
    units = _units(done["result"]["version_id"])
    assert units["PS"]["parent_ref"] == "SR" and units["PS"]["type_name"] == "Facility"
    assert units["PS"]["point"] == "POINT Z (-11.8 12.8 0)" and units["PS"]["depth"] == 2


def test_a_latin1_csv_ends_errored_with_advice(client, alpha, source, task_aws):
    key = _upload(client, task_aws, alpha, "ref,name\nA,Thiès\n".encode("latin-1"), "units.csv")
    body = {"s3_key": key, "format": "csv", "data_source_id": source["id"]}
    _, created, _ = call(client, "POST", "/api/imports", alpha.tokens["registry_editor"], body)
    drain(task_aws)
    failed = row(created["id"])
    assert failed["status"] == "ERRORED" and "not UTF-8" in failed["error_message"]
    assert _versions(source["id"]) == 1


def test_a_csv_of_a_million_garbage_rows_ends_errored_quickly_and_leaves_nothing(
    client, alpha, source, task_aws
):
    key = _upload(client, task_aws, alpha, b"ref,name\n" + b",\n" * 1_000_000, "units.csv")
    body = {"s3_key": key, "format": "csv", "data_source_id": source["id"]}
    _, created, _ = call(client, "POST", "/api/imports", alpha.tokens["registry_editor"], body)
    drain(task_aws)
    failed = row(created["id"])
    assert failed["status"] == "ERRORED" and "is this the right file" in failed["error_message"]
    assert "csv, row 2, ref: is missing" in failed["error_message"]
    assert _versions(source["id"]) == 1


def test_a_profile_restricted_to_a_subtree_cannot_import(client, alpha, source, task_aws):
    admin = alpha.tokens["admin"]
    root = post(client, admin, "/api/orgunits", {"name": "Root"})
    restrict(client, alpha, "registry_editor", root["id"])
    key = _upload(client, task_aws, alpha, (FIXTURES / "iaso_minimal.gpkg").read_bytes())
    body = {"s3_key": key, "format": "gpkg", "data_source_id": source["id"]}
    status, error, _ = call(client, "POST", "/api/imports", alpha.tokens["registry_editor"], body)
    assert status == 403 and error["error"]["code"] == "auth.restricted_profile"


def test_an_existing_unit_may_move_under_a_unit_new_in_the_same_file(
    client, alpha, source, task_aws, tmp_path
):
    first = _import(
        client, task_aws, alpha, source, (FIXTURES / "iaso_multiple_ref_formats.gpkg").read_bytes()
    )
    version_id = first["result"]["version_id"]
    area = '"level-4-Health area/Aire de santé - AREA"'
    hf = '"level-5-Health facility/Formation sanitaire - HF"'
    content = _edited(
        tmp_path,
        [
            f"INSERT INTO {area} (name, ref, parent_ref) VALUES ('Nouvelle aire', 'AREA2', 'B4Ra7K6HuCE')",
            f"UPDATE {hf} SET parent_ref = 'AREA2' WHERE ref = 'O8KHatHm4dw'",
        ],
    )
    done = _import(client, task_aws, alpha, source, content, version_id=version_id)
    assert done["status"] == "SUCCESS", done["error_message"]
    units = _units(version_id)
    moved, new_area = units["O8KHatHm4dw"], units["AREA2"]
    assert moved["parent_id"] == new_area["id"] and moved["path"] == new_area["path"] + f"{moved['id']}/"


HIERARCHY = {
    "levels": [
        {"column": "Région", "type": "Region"},
        {"column": "District", "type": "District"},
        {"column": "Structure", "type": "Facility"},
    ],
    "ref": "code_structure",
    "latitude": "lat",
    "longitude": "lon",
}


def test_a_csv_with_one_column_per_level_builds_the_tree_and_reimports_unchanged(
    client, alpha, source, task_aws
):
    content = (
        "Région;District;Structure;code_structure;lat;lon\n"
        "Kédougou;Saraya;PS Saraya;PS1;12.8;-11.8\n"
        "Kédougou;Saraya;PS Bembou;PS2;12.9;-11.9\n"
        "Kédougou;Salémata;PS Dakateli;PS3;12.6;-12.6\n"
    ).encode("utf-8-sig")
    done = _import_csv(client, task_aws, alpha, source, content, {"hierarchy": HIERARCHY})
    assert done["status"] == "SUCCESS", done["error_message"]
    assert done["result"]["created"] == 6
    version_id = done["result"]["version_id"]
    units = _units(version_id)
    assert units["PS2"]["parent_ref"] == "Kédougou/Saraya" and units["PS2"]["type_name"] == "Facility"
    assert units["Kédougou/Saraya"]["parent_ref"] == "Kédougou" and units["Kédougou"]["depth"] == 0
    assert units["PS3"]["point"] == "POINT Z (-12.6 12.6 0)"
    assert (
        units["PS1"]["path"]
        == f"/{units['Kédougou']['id']}/{units['Kédougou/Saraya']['id']}/{units['PS1']['id']}/"
    )
    again = _import_csv(
        client, task_aws, alpha, source, content, {"hierarchy": HIERARCHY}, version_id=version_id
    )
    assert again["status"] == "SUCCESS", again["error_message"]
    assert (again["result"]["created"], again["result"]["updated"], again["result"]["unchanged"]) == (0, 0, 6)


def test_a_hierarchical_csv_with_a_bad_row_imports_nothing_and_names_it(client, alpha, source, task_aws):
    content = "Région,District,Structure,code_structure,lat,lon\nK,,PS,P1,1,1\n".encode()
    failed = _import_csv(client, task_aws, alpha, source, content, {"hierarchy": HIERARCHY})
    assert failed["status"] == "ERRORED"
    assert "csv, row 2, District: is empty but a deeper level is filled" in failed["error_message"]
    assert _versions(source["id"]) == 1


def test_a_wrong_hierarchy_mapping_is_refused_before_any_task(client, alpha, source, task_aws):
    key = _upload(client, task_aws, alpha, b"A\n", "units.csv")
    body = {"s3_key": key, "format": "csv", "data_source_id": source["id"],
            "options": {"hierarchy": {"levels": [{"column": "A"}]}}}  # fmt: skip
    status, problem, _ = call(client, "POST", "/api/imports", alpha.tokens["registry_editor"], body)
    assert status == 400 and problem["error"]["details"]["field"] == "options.hierarchy"
    assert "levels[0] needs a column and a type" in problem["error"]["message"]
    body = body | {"format": "gpkg", "options": {"hierarchy": HIERARCHY}}
    status, problem, _ = call(client, "POST", "/api/imports", alpha.tokens["registry_editor"], body)
    assert status == 400 and "csv format only" in problem["error"]["message"]


def _import_csv(client, task_aws, tenant, source, content: bytes, options: dict, **extra) -> dict:
    key = _upload(client, task_aws, tenant, content, "tree.csv")
    body = {"s3_key": key, "format": "csv", "data_source_id": source["id"], "options": options} | extra
    status, created, _ = call(client, "POST", "/api/imports", tenant.tokens["registry_editor"], body)
    assert status == 201, created
    drain(task_aws)
    return row(created["id"])


def test_ids_are_reserved_as_a_range_unless_the_sequence_skips(cur):
    from chalicelib.imports import unit_loader_sql

    reserved = unit_loader_sql.reserve_ids(cur, 1000)
    assert isinstance(reserved, range) and len(reserved) == 1000
    cur.execute("ALTER SEQUENCE org_units_id_seq INCREMENT BY 2")  # as if others took every other id
    try:
        skipping = unit_loader_sql.reserve_ids(cur, 5)
    finally:
        cur.execute("ALTER SEQUENCE org_units_id_seq INCREMENT BY 1")
    assert isinstance(skipping, list) and len(set(skipping)) == 5 and skipping[0] > reserved[-1]
    assert list(unit_loader_sql.reserve_ids(cur, 0)) == []


def test_types_are_made_only_for_the_units_imported(client, alpha, source, task_aws, tmp_path):
    """A type named only by rows the import rejects (with skip_invalid), or only by an empty layer of
    a GeoPackage, is not left behind in the account."""
    content = (
        b"ref,name,parent_ref,type,opening_date\n"
        b"A,Alpha,,Region,2020-01-01\nB,Beta,A,Ghost,not a date\nC,Gamma,A,District,\n"
    )
    done = _import_csv(client, task_aws, alpha, source, content, {"skip_invalid": True})
    assert done["status"] == "SUCCESS" and done["result"]["created"] == 2 and done["result"]["errors"] == 1
    layer = "level-6-Empty layer"
    gpkg_content = _edited(tmp_path, [
        f'CREATE TABLE "{layer}" (fid INTEGER PRIMARY KEY, geom POINT, ref TEXT, name TEXT)',
        f"INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id)"
        f" VALUES ('{layer}', 'features', 'e', 4326)",
        f"INSERT INTO gpkg_geometry_columns VALUES ('{layer}', 'geom', 'POINT', 4326, 0, 0)",
    ])  # fmt: skip
    assert _import(client, task_aws, alpha, source, gpkg_content)["status"] == "SUCCESS"
    with db.transaction() as cur:
        cur.execute("SELECT name FROM org_unit_types WHERE account_id = %(a)s", {"a": alpha.account_id})
        names = {row["name"] for row in cur.fetchall()}
    assert {"Region", "District"} <= names and not {"Ghost", "Empty layer"} & names


def test_without_skip_invalid_the_first_error_stops_the_writing_but_not_the_report():
    from chalicelib.imports.import_writer import _Errors, _until_an_error
    from chalicelib.imports.unit_model import RowProblem

    reader, placer, read = [], [], []

    def rows():
        for number in range(1, 7):
            read.append(number)
            if number == 2:
                reader.append(RowProblem("csv", 2, "geom", "was repaired", fatal=False))
            if number == 3:
                placer.append(RowProblem("csv", 3, "ref", "is also on csv row 1"))
            if number == 5:
                reader.append(RowProblem("csv", 5, "name", "is missing"))
            yield f"row {number}"

    written = list(_until_an_error(rows(), _Errors(reader, placer)))
    # a warning does not stop it; the error found while row 3 was made does (a bad row makes no line)
    assert written == ["row 1", "row 2"] and read == [1, 2, 3, 4, 5, 6]  # all read, for the report
    assert [p.row for p in reader + placer if p.fatal] == [5, 3]


@pytest.mark.parametrize("read_ahead", [True, False], ids=["read in a child", "read here"])
@pytest.mark.parametrize("skip_invalid", [False, True])
def test_a_leaf_ref_given_twice_is_reported_where_it_repeats(
    client, alpha, source, task_aws, skip_invalid, monkeypatch, read_ahead
):
    # Only parents' refs are remembered while a file streams in: a leaf's repeat is found by the
    # version's unique index, then the file is read again to say where.
    from chalicelib.imports import import_writer

    monkeypatch.setattr(import_writer, "READ_AHEAD", read_ahead)
    reads, write = [], import_writer._write_new_version
    monkeypatch.setattr(
        import_writer, "_write_new_version", lambda *args: reads.append(args[-1]) or write(*args)
    )
    content = (
        "ref,name,parent_ref,type,latitude,longitude\n"
        "KD,Kédougou,,Region,,\n"
        "PS,Poste de Santé Saraya,KD,Facility,12.8,-11.8\n"
        "BD,Bandafassi,KD,Facility,12.5,-12.3\n"
        "PS,Poste de Santé bis,KD,Facility,12.7,-11.9\n"
    ).encode()
    done = _import_csv(client, task_aws, alpha, source, content, {"skip_invalid": skip_invalid})
    assert reads == [frozenset({"KD"}), None]  # remembering the parents, then every ref
    if not skip_invalid:
        assert done["status"] == "ERRORED"
        assert "row 5, ref: 'PS' is also on csv row 3" in done["error_message"]
        assert _versions(source["id"]) == 1
        return
    assert done["status"] == "SUCCESS", done["error_message"]
    assert (done["result"]["created"], done["result"]["errors"]) == (3, 1)
    units = _units(done["result"]["version_id"])
    assert units["PS"]["name"] == "Poste de Santé Saraya" and set(units) == {"KD", "PS", "BD"}


def test_a_geopackage_leaf_ref_given_twice_imports_nothing_and_names_both_rows(
    client, alpha, source, task_aws, tmp_path
):
    hf = '"level-5-Health facility/Formation sanitaire - HF"'
    content = _edited(tmp_path, [f"UPDATE {hf} SET ref = 'O8KHatHm4dw' WHERE ref = 'iaso#178465'"])
    failed = _import(client, task_aws, alpha, source, content)
    assert failed["status"] == "ERRORED"
    assert (
        "ref: 'O8KHatHm4dw' is also on level-5-Health facility/Formation sanitaire - HF row"
        in (failed["error_message"])
    )
    assert _versions(source["id"]) == 1


def test_a_files_own_problems_survive_its_reading_again(client, alpha, source, task_aws):
    # A GeoJSON is read whole (its problems found then); a repeated leaf ref has it read again
    def feature(ref, name, parent=None):
        properties = {"ref": ref, "name": name, "parent_ref": parent, "type": "T"}
        return {"type": "Feature", "geometry": None, "properties": properties}

    features = [
        feature("KD", "Region"),
        feature("A", "a", "KD"),
        feature("BAD", "", "KD"),
        feature("A", "b", "KD"),
    ]
    key = _upload(
        client, task_aws, alpha, json.dumps({"type": "FeatureCollection", "features": features}).encode()
    )
    body = {
        "s3_key": key,
        "format": "geojson",
        "data_source_id": source["id"],
        "options": {"skip_invalid": True},
    }
    status, created, _ = call(client, "POST", "/api/imports", alpha.tokens["registry_editor"], body)
    assert status == 201, created
    drain(task_aws)
    done = row(created["id"])
    assert done["status"] == "SUCCESS", done["error_message"]
    assert (done["result"]["created"], done["result"]["errors"]) == (2, 2)  # no name; 'A' again


@pytest.mark.parametrize("dry_run", [True, False])
def test_a_repeated_leaf_ref_is_reported_beside_an_error_that_stopped_the_writing(
    client, alpha, source, task_aws, dry_run
):
    content = b"ref,name,parent_ref,type\nKD,Region,,T\nA,a,KD,T\nBAD,,KD,T\nA,again,KD,T\n"
    done = _import_csv(client, task_aws, alpha, source, content, {}, dry_run=dry_run)
    if dry_run:
        assert done["result"]["errors"] == 2
        return
    assert done["status"] == "ERRORED" and "2 error(s), nothing imported" in done["error_message"]
    assert "row 4, name: is missing" in done["error_message"]
    assert "row 5, ref: 'A' is also on csv row 3" in done["error_message"]


def test_a_file_repeating_a_uuid_and_a_leaf_ref_imports_what_is_valid(client, alpha, source, task_aws):
    # End to end, both repeats in one file: PostgreSQL builds the ref's unique index before the
    # uuid's (index order), so the repeated ref is found first, the file read again without it, and
    # the uuid's repeat then given a new uuid.
    given = "3c24c6ca-3012-4d38-abe8-6d620fe1deb8"
    content = (
        f"ref,name,parent_ref,type,uuid\nKD,Region,,T,\nA,a,KD,T,{given}\nB,b,KD,T,{given}\nA,again,KD,T,\n"
    ).encode()
    done = _import_csv(client, task_aws, alpha, source, content, {"skip_invalid": True})
    assert done["status"] == "SUCCESS", done["error_message"]
    assert (done["result"]["created"], done["result"]["errors"]) == (3, 1)
    units = _units(done["result"]["version_id"])
    assert str(units["A"]["uuid"]) == given and str(units["B"]["uuid"]) != given
