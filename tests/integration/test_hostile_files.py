"""Hostile imported files (GeoPackage, GeoJSON, CSV): each ends ERRORED at once (no retry) naming the
budget it hit or the reason (platform/limits), quickly, with nothing stored; a kill stops a reading
stuck in one SQLite statement within seconds."""

import contextlib
import json
import sqlite3
import time

import pytest

from chalicelib.imports import import_writer
from chalicelib.platform import db, limits
from tests.integration.helpers import call, make_tenant
from tests.integration.registrykit import post
from tests.integration.taskkit import UPLOADS, drain, row, run_in_thread

pytestmark = pytest.mark.commits  # tasks report progress on a second connection; imports COPY and ATTACH

FOREVER = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r)"
MIB = 1024 * 1024
QUICK_SECONDS = 20  # what "at once" allows a task here, moto and a forked reader included
KILL_SECONDS = 10


@pytest.fixture
def alpha(client, task_aws):
    return make_tenant(client, "alpha", roles=("registry_editor",))


@pytest.fixture
def source(client, alpha):
    return post(client, alpha.tokens["admin"], "/api/data-sources", {"name": "Hostile"})


@pytest.fixture(params=[True, False], ids=["read in a child", "read here"])
def read_ahead(request, monkeypatch):
    monkeypatch.setattr(import_writer, "READ_AHEAD", request.param)
    return request.param


def _geopackage(tmp_path, layer_sql: str, before: tuple[str, ...] = ()) -> bytes:
    """A GeoPackage with the least the reader needs, whose one layer `level-1-Region` is `layer_sql`
    (a CREATE VIEW or CREATE TABLE statement naming it)."""
    path = tmp_path / "hostile.gpkg"
    path.unlink(missing_ok=True)
    with contextlib.closing(sqlite3.connect(path)) as gpkg, gpkg:
        gpkg.execute("CREATE TABLE gpkg_contents (table_name TEXT PRIMARY KEY, data_type TEXT NOT NULL)")
        gpkg.execute(
            "CREATE TABLE gpkg_geometry_columns (table_name TEXT, column_name TEXT,"
            " geometry_type_name TEXT, srs_id INTEGER, z TINYINT, m TINYINT)"
        )
        for statement in (*before, layer_sql):
            gpkg.execute(statement)
        gpkg.execute("INSERT INTO gpkg_contents VALUES ('level-1-Region', 'features')")
        gpkg.execute(
            "INSERT INTO gpkg_geometry_columns VALUES ('level-1-Region', 'geom', 'GEOMETRY', 4326, 0, 0)"
        )
    return path.read_bytes()


def _start(client, task_aws, tenant, source, content: bytes, file_format: str = "gpkg", **extra) -> int:
    token = tenant.tokens["registry_editor"]
    status, upload, _ = call(
        client, "POST", "/api/imports/upload-url", token, {"filename": f"f.{file_format}"}
    )
    assert status == 201, upload
    task_aws.s3.put_object(Bucket=UPLOADS, Key=upload["s3_key"], Body=content)
    body = {"s3_key": upload["s3_key"], "format": file_format, "data_source_id": source["id"]} | extra
    status, created, _ = call(client, "POST", "/api/imports", token, body)
    assert status == 201, created
    return created["id"]


def _imported(client, task_aws, tenant, source, content: bytes, file_format: str = "gpkg", **extra) -> dict:
    """The import's task row once it ended, checked to have ended at once: ERRORED on its first
    attempt, quickly."""
    task_id = _start(client, task_aws, tenant, source, content, file_format, **extra)
    started = time.monotonic()
    drain(task_aws)
    done = row(task_id)
    assert done["status"] == "ERRORED" and done["attempts"] == 1, (done["status"], done["error_message"])
    assert time.monotonic() - started < QUICK_SECONDS
    return done


def _nothing_stored(source) -> None:
    with db.transaction() as cur:
        versions = db.one(cur, "SELECT count(*) AS n FROM source_versions WHERE data_source_id = %(s)s",
                          {"s": source["id"]})  # fmt: skip
        units = db.one(cur, "SELECT count(*) AS n FROM org_units")
        types = db.one(cur, "SELECT count(*) AS n FROM org_unit_types")
    assert (versions["n"], units["n"], types["n"]) == (1, 0, 0)  # the source's first version, empty


def _names_limit(done: dict, name: str) -> None:
    assert f"exceeds the limit of {getattr(limits, name):,}" in done["error_message"], done["error_message"]
    assert f"({name})" in done["error_message"]


# GeoPackage views that never end, or make values bigger than the file


def test_a_layer_that_never_ends_is_interrupted_at_the_statement_limit(
    client, alpha, source, task_aws, tmp_path, monkeypatch
):
    monkeypatch.setattr(limits, "GPKG_MAX_STATEMENT_SECONDS", 1)
    content = _geopackage(
        tmp_path, f'CREATE VIEW "level-1-Region" AS {FOREVER} SELECT n AS ref, n AS name, NULL AS geom FROM r'
    )
    done = _imported(client, task_aws, alpha, source, content)
    _names_limit(done, "GPKG_MAX_STATEMENT_SECONDS")
    assert "a statement over the GeoPackage" in done["error_message"]
    _nothing_stored(source)


def _endless_rows(tmp_path) -> bytes:
    """A layer counted at once whose one row's geometry never comes: read by `features` alone."""
    return _geopackage(
        tmp_path,
        f'CREATE VIEW "level-1-Region" AS SELECT ref, name, ({FOREVER} SELECT max(n) FROM r) AS geom'
        " FROM base",
        ("CREATE TABLE base (ref TEXT, name TEXT)", "INSERT INTO base VALUES ('R1', 'Region 1')"),
    )


def test_rows_that_never_come_are_interrupted_at_the_statement_limit(
    client, alpha, source, task_aws, tmp_path, monkeypatch, read_ahead
):
    monkeypatch.setattr(limits, "GPKG_MAX_STATEMENT_SECONDS", 1)
    done = _imported(client, task_aws, alpha, source, _endless_rows(tmp_path))
    _names_limit(done, "GPKG_MAX_STATEMENT_SECONDS")
    _nothing_stored(source)


def test_a_view_of_huge_zero_blobs_is_refused_before_they_are_made(
    client, alpha, source, task_aws, tmp_path, read_ahead
):
    content = _geopackage(
        tmp_path,
        'CREATE VIEW "level-1-Region" AS WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r'
        " WHERE n < 8) SELECT 'R' || n AS ref, 'Region' AS name, zeroblob(128 * 1024 * 1024) AS geom FROM r",
    )
    assert len(content) < 64 * 1024
    done = _imported(client, task_aws, alpha, source, content)
    _names_limit(done, "GPKG_MAX_BLOB_BYTES")
    assert "a value of the GeoPackage" in done["error_message"]
    _nothing_stored(source)


def test_many_values_each_under_the_blob_limit_end_at_the_readers_memory_limit(
    client, alpha, source, task_aws, tmp_path, monkeypatch
):
    # Given a view of 16 rows of 32 MiB blobs (512 MiB in all, each value under GPKG_MAX_BLOB_BYTES)
    # and a reader allowed to grow by 128 MiB (the real budget, 1 GiB, works the same way)
    monkeypatch.setattr(import_writer, "READ_AHEAD", True)
    monkeypatch.setattr(limits, "IMPORT_READER_MAX_BYTES", 128 * MIB)
    content = _geopackage(
        tmp_path,
        'CREATE VIEW "level-1-Region" AS WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r'
        " WHERE n < 16) SELECT 'R' || n AS ref, 'Region' AS name, zeroblob(32 * 1024 * 1024) AS geom FROM r",
    )
    # When it is imported, Then the task ends ERRORED at once naming the reader's limit, nothing stored
    done = _imported(client, task_aws, alpha, source, content)
    _names_limit(done, "IMPORT_READER_MAX_BYTES")
    _nothing_stored(source)


def test_a_huge_name_made_by_a_view_is_refused(client, alpha, source, task_aws, tmp_path):
    content = _geopackage(
        tmp_path,
        "CREATE VIEW \"level-1-Region\" AS SELECT 'R1' AS ref, hex(zeroblob(40 * 1024 * 1024)) AS name,"
        " NULL AS geom",  # 80 MiB of text
    )
    done = _imported(client, task_aws, alpha, source, content)
    _names_limit(done, "GPKG_MAX_BLOB_BYTES")
    _nothing_stored(source)


def test_a_stored_geometry_over_the_blob_limit_is_refused(
    client, alpha, source, task_aws, tmp_path, monkeypatch
):
    monkeypatch.setattr(limits, "GPKG_MAX_BLOB_BYTES", MIB)
    _geopackage(
        tmp_path,
        'CREATE TABLE "level-1-Region" (fid INTEGER PRIMARY KEY, ref TEXT, name TEXT, geom BLOB)',
        (),
    )
    path = tmp_path / "hostile.gpkg"
    with contextlib.closing(sqlite3.connect(path)) as gpkg, gpkg:
        gpkg.execute(
            "INSERT INTO \"level-1-Region\" (ref, name, geom) VALUES ('R1', 'R', zeroblob(2 * 1024 * 1024))"
        )
    done = _imported(client, task_aws, alpha, source, path.read_bytes())
    _names_limit(done, "GPKG_MAX_BLOB_BYTES")
    _nothing_stored(source)


def test_a_view_of_more_features_than_a_file_holds_is_refused(
    client, alpha, source, task_aws, tmp_path, monkeypatch
):
    monkeypatch.setattr(limits, "GPKG_MAX_FEATURES", 1_000)
    content = _geopackage(
        tmp_path,
        'CREATE VIEW "level-1-Region" AS WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r'
        " WHERE n < 5000) SELECT 'R' || n AS ref, 'Region' AS name, NULL AS geom FROM r",
    )
    done = _imported(client, task_aws, alpha, source, content)
    _names_limit(done, "GPKG_MAX_FEATURES")
    assert "its 5,000 features" in done["error_message"]
    _nothing_stored(source)


# GeoPackages that are damaged or strange


def test_a_geopackage_damaged_in_its_middle_is_an_input_error(client, alpha, source, task_aws, tmp_path):
    content = bytearray(
        _geopackage(
            tmp_path,
            'CREATE TABLE "level-1-Region" (fid INTEGER PRIMARY KEY, ref TEXT, name TEXT, geom BLOB)',
            (),
        )
    )
    content[100:4096] = b"\xff" * (4096 - 100)  # the first page's b-tree: the schema itself
    done = _imported(client, task_aws, alpha, source, bytes(content))
    assert "damaged" in done["error_message"] or "not a GeoPackage" in done["error_message"]
    _nothing_stored(source)


def test_layer_names_stored_as_numbers_and_geometries_that_are_not_blobs_are_input_errors(
    client, alpha, source, task_aws, tmp_path
):
    _geopackage(
        tmp_path,
        'CREATE TABLE "level-1-Region" (fid INTEGER PRIMARY KEY, ref TEXT, name TEXT, geom BLOB)',
        (
            'CREATE TABLE "7" (x)',
            "INSERT INTO gpkg_contents VALUES (7, 'features')",
            "INSERT INTO gpkg_geometry_columns VALUES (7, 7, 'GEOMETRY', 4326, 0, 0)",
        ),  # fmt: skip
    )
    path = tmp_path / "hostile.gpkg"
    header = b"GP\x00\x01" + (4326).to_bytes(4, "little")
    with contextlib.closing(sqlite3.connect(path)) as gpkg, gpkg:
        for ref, geometry in (("R1", header + b"\x01\x07"), ("R2", 42), ("R3", "GP text")):
            gpkg.execute(
                'INSERT INTO "level-1-Region" (ref, name, geom) VALUES (?, ?, ?)', (ref, ref, geometry)
            )
    done = _imported(client, task_aws, alpha, source, path.read_bytes())
    assert (
        "3 error(s), nothing imported: level-1-Region, row 1, geom: has unreadable WKB"
        in done["error_message"]
    )
    assert (
        "row 2, geom: is not a GeoPackage geometry; level-1-Region, row 3, geom: is not a GeoPackage"
        in (done["error_message"])
    )
    _nothing_stored(source)


# Kills reach a reading stuck in one SQLite statement


@pytest.mark.parametrize("where", ["counting the layer", "reading its rows"])
def test_a_kill_stops_an_import_stuck_in_one_statement_within_seconds(
    client, alpha, source, task_aws, tmp_path, read_ahead, where
):
    if where == "counting the layer":
        layer = f'CREATE VIEW "level-1-Region" AS {FOREVER} SELECT n AS ref, n AS name, NULL AS geom FROM r'
        content = _geopackage(tmp_path, layer)
    else:
        content = _endless_rows(tmp_path)
    task_id = _start(client, task_aws, alpha, source, content)
    thread, outcome = run_in_thread(task_id)
    try:
        _wait_until(lambda: row(task_id)["status"] == "RUNNING")
        time.sleep(1.5)  # well inside the statement (or waiting for the child stuck in it)
        asked = time.monotonic()
        status, killed, _ = call(
            client, "POST", f"/api/tasks/{task_id}/kill", alpha.tokens["registry_editor"]
        )
        assert status == 200, killed
        thread.join(KILL_SECONDS)
        assert not thread.is_alive(), f"the import was still running {KILL_SECONDS} s after its kill"
        assert time.monotonic() - asked < KILL_SECONDS
    finally:
        thread.join(limits.GPKG_MAX_STATEMENT_SECONDS + 30)
    done = row(task_id)
    assert (done["status"], outcome.get("value")) == ("KILLED", "killed"), (done, outcome)
    assert done["attempts"] == 1
    _nothing_stored(source)


def _wait_until(condition, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition never came true"
        time.sleep(0.05)


# GeoJSON

NAMED = {"name": "A"}


def _nested(depth: int) -> bytes:
    inner = "[" * depth + "]" * depth
    return (
        json.dumps({"type": "FeatureCollection", "features": [], "x": "{}"}).replace('"{}"', inner).encode()
    )


@pytest.mark.parametrize("depth", [40, 100_000], ids=["past the limit", "past Python's recursion limit"])
def test_geojson_nested_too_deep_is_an_input_error_at_once(client, alpha, source, task_aws, depth):
    done = _imported(client, task_aws, alpha, source, _nested(depth), "geojson")
    _names_limit(done, "GEOJSON_MAX_DEPTH")
    _nothing_stored(source)


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ({"type": "FeatureCollection", "features": 7}, "features are not a list"),
        ({"type": "FeatureCollection", "crs": "EPSG:3857", "features": [{"type": "Feature"}]},
         "geojson, row 1, ref: is missing"),
        ({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": [1, 2]}]},
         "geojson, row 1, properties: is not an object"),
        ({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"ref": "A"} | NAMED,
                                                      "geometry": {"type": "Point", "coordinates": "x"}}]},
         "geojson, row 1, geometry: is not valid GeoJSON"),
    ],
    ids=["features not a list", "crs a string", "properties a list", "coordinates a string"],
)  # fmt: skip
def test_geojson_of_the_wrong_shapes_is_an_input_error(client, alpha, source, task_aws, document, reason):
    done = _imported(client, task_aws, alpha, source, json.dumps(document).encode(), "geojson")
    assert reason in done["error_message"], done["error_message"]
    _nothing_stored(source)


# CSV


HIERARCHY = {"levels": [{"column": "Region", "type": "Region"}]}


@pytest.mark.parametrize(
    ("hierarchy", "commas"),
    [(None, 16 * MIB), (HIERARCHY, 2 * MIB)],  # the reading stops at the limit whatever follows
    ids=["flat, 16 MB", "hierarchical, 2 MB"],
)
def test_a_csv_header_of_megabytes_of_commas_is_refused_at_once(
    client, alpha, source, task_aws, hierarchy, commas
):
    content = b"ref,name" + b"," * commas + b"\nA,B\n"
    options = {"hierarchy": hierarchy} if hierarchy else {}
    done = _imported(client, task_aws, alpha, source, content, "csv", options=options)
    _names_limit(done, "CSV_MAX_HEADER_BYTES")
    assert "the header line" in done["error_message"]
    _nothing_stored(source)


# Texts longer than the registry's indexes take


LONG = "é" * 501  # 1,002 bytes in UTF-8
REGION_TABLE = 'CREATE TABLE "level-1-Region" (ref TEXT, name TEXT, geom BLOB)'


@pytest.mark.parametrize("column", ["ref", "name", "type", "group_refs", "code"])
def test_a_csv_value_too_long_for_the_registry_is_a_row_error(client, alpha, source, task_aws, column):
    values = {"ref": "A", "name": "B", "type": "T", "parent_ref": "", "group_refs": "", "code": ""}
    content = (",".join(values) + "\n" + ",".join((values | {column: LONG}).values()) + "\n").encode()
    done = _imported(client, task_aws, alpha, source, content, "csv")
    assert f"csv, row 2, {column}: its length" in done["error_message"]
    _names_limit(done, "IMPORT_TEXT_MAX_BYTES")
    _nothing_stored(source)


def test_a_hierarchy_whose_path_of_names_is_too_long_is_a_row_error(client, alpha, source, task_aws):
    levels = [{"column": f"L{n}", "type": f"Level {n}"} for n in range(3)]
    content = f"L0,L1,L2\nRegion,District,{LONG}\n".encode()
    done = _imported(
        client, task_aws, alpha, source, content, "csv", options={"hierarchy": {"levels": levels}}
    )
    assert "csv, row 2, ref: its length" in done["error_message"]  # its ref is its path of names
    _names_limit(done, "IMPORT_TEXT_MAX_BYTES")
    _nothing_stored(source)


def test_a_geopackage_layer_or_group_too_long_for_the_registry_is_refused(
    client, alpha, source, task_aws, tmp_path
):
    layer = f"level-1-{LONG}"
    registered = (
        f'CREATE TABLE "{layer}" (ref TEXT, name TEXT, geom BLOB)',
        f"INSERT INTO gpkg_contents VALUES ('{layer}', 'features')",
        f"INSERT INTO gpkg_geometry_columns VALUES ('{layer}', 'geom', 'POINT', 4326, 0, 0)",
    )
    content = _geopackage(tmp_path, REGION_TABLE, registered)
    done = _imported(client, task_aws, alpha, source, content)
    assert "the type named by layer 'level-1-éé" in done["error_message"]
    _names_limit(done, "IMPORT_TEXT_MAX_BYTES")
    groups = ("CREATE TABLE groups (ref TEXT, name TEXT)", f"INSERT INTO groups VALUES ('{LONG}', 'G')")
    content = _geopackage(tmp_path, REGION_TABLE, groups)
    done = _imported(client, task_aws, alpha, source, content)
    assert "a ref of the groups table exceeds" in done["error_message"]
    _names_limit(done, "IMPORT_TEXT_MAX_BYTES")
    _nothing_stored(source)


@pytest.mark.parametrize(
    ("properties", "reason"),
    [('{"ref": "R", "name": "\\ud800"}', "geojson, row 1, properties: hold a lone surrogate"),
     (json.dumps({"ref": "R", "name": LONG}), "geojson, row 1, name: its length exceeds the limit of 1,000")],
    ids=["a lone surrogate", "a name too long"],
)  # fmt: skip
def test_geojson_texts_the_registry_cannot_hold_are_row_errors(
    client, alpha, source, task_aws, properties, reason
):
    document = '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": PROPERTIES}]}'
    document = document.replace("PROPERTIES", properties)
    done = _imported(client, task_aws, alpha, source, document.encode(), "geojson")
    assert reason in done["error_message"], done["error_message"]
    _nothing_stored(source)
