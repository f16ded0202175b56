"""Reading Iaso GeoPackages: the real files (tests/fixtures, see SOURCES.tsv) and broken ones."""

import contextlib
import shutil
import sqlite3
import struct
from pathlib import Path

import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon

from chalicelib.imports import gpkg_reader, unit_model

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_iaso_minimal_reads_with_levels_parents_groups_and_geometries():
    package = gpkg_reader.read(FIXTURES / "iaso_minimal.gpkg")
    assert package.problems == []
    assert package.groups == {"group_a": "Group A", "group_b": "Group B"}
    by_depth = {feature.depth: feature for feature in package.features}
    assert sorted(by_depth) == [3, 4, 5]
    district, area, facility = by_depth[3], by_depth[4], by_depth[5]
    assert (district.type_name, district.name) == ("DS", "District Betare Oya")
    assert district.parent_ref is None and district.opening_date.isoformat() == "2020-01-01"
    assert district.closed_date.isoformat() == "2021-12-31"
    assert area.parent_ref == district.ref and facility.parent_ref == area.ref
    assert district.territory.geom_type == "MultiPolygon" and area.territory.is_valid
    assert facility.location.geom_type == "Point" and facility.territory is None
    assert (round(facility.location.x, 4), round(facility.location.y, 4)) == (13.9993, 5.1795)
    assert facility.group_refs == ["group_b", "group_a"] and facility.code == "ES0025"


def test_iaso_refs_in_every_format_name_the_same_units_and_groups():
    package = gpkg_reader.read(FIXTURES / "iaso_multiple_ref_formats.gpkg")
    assert package.problems == []
    assert [depth for depth, _ in unit_model.iter_layers(package)] == [1, 2, 3, 4, 5]
    refs = {feature.ref for feature in package.features}
    assert all(feature.parent_ref in refs for feature in package.features if feature.parent_ref)
    old, new = (
        next(f for f in package.features if f.name == f"org unit - {age} internal ref")
        for age in ("old", "new")
    )
    assert old.ref == "iaso#178465" and new.ref == "iaso#178466"
    assert old.group_refs == ["FnGKoaZpj4u", "iaso#49591", "iaso#49592"] == new.group_refs
    assert old.location is None and old.territory is None
    assert set(package.groups) == {"FnGKoaZpj4u", "iaso#49591", "iaso#49592"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"ref,name\nA,B\n", "not a GeoPackage"),
        (b"SQLite format 3\x00" + b"\x00" * 50, "damaged"),
    ],
)
def test_files_that_are_not_geopackages_are_refused_clearly(tmp_path, content, message):
    path = tmp_path / "units.gpkg"
    path.write_bytes(content)
    with pytest.raises(unit_model.GpkgError, match=message):
        gpkg_reader.read(path)


def test_a_truncated_geopackage_is_refused(tmp_path):
    path = tmp_path / "truncated.gpkg"
    path.write_bytes((FIXTURES / "iaso_minimal.gpkg").read_bytes()[:20_000])
    with pytest.raises(unit_model.GpkgError):
        gpkg_reader.read(path)


def _blob(geometry, srs_id: int = 4326) -> bytes:
    return b"GP\x00\x01" + struct.pack("<i", srs_id) + shapely.to_wkb(geometry)


def _package(
    tmp_path, layer: str = "level-1-Region", srs_id: int = 4326, columns=("ref", "name"), rows=()
) -> Path:
    path = tmp_path / "built.gpkg"
    shutil.copy(FIXTURES / "iaso_minimal.gpkg", path)
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        for (table,) in db.execute("SELECT table_name FROM gpkg_contents").fetchall():
            db.execute(f'DROP TABLE IF EXISTS "{table}"')
        db.execute("DELETE FROM gpkg_contents")
        db.execute("DELETE FROM gpkg_geometry_columns")
        db.execute(f'CREATE TABLE "{layer}" (fid INTEGER PRIMARY KEY, geom BLOB, {", ".join(columns)})')
        db.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, srs_id) VALUES (?, 'features', ?)",
            (layer, srs_id),
        )
        db.execute(
            "INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', 'GEOMETRY', ?, 0, 0)", (layer, srs_id)
        )
        marks = ", ".join("?" for _ in range(len(columns) + 1))
        db.executemany(f'INSERT INTO "{layer}" (geom, {", ".join(columns)}) VALUES ({marks})', rows)
    return path


def test_a_layer_in_another_crs_is_refused(tmp_path):
    path = _package(tmp_path, srs_id=3857, rows=[(None, "A", "Alpha")])
    with pytest.raises(unit_model.GpkgError, match="EPSG:3857"):
        gpkg_reader.read(path)


def test_a_layer_without_a_name_column_is_refused(tmp_path):
    path = _package(tmp_path, columns=("ref", "label"), rows=[(None, "A", "Alpha")])
    with pytest.raises(unit_model.GpkgError, match="no column name"):
        gpkg_reader.read(path)


def test_no_iaso_layer_is_refused_naming_the_layers_found(tmp_path):
    path = _package(tmp_path, layer="districts", rows=[(None, "A", "Alpha")])
    with pytest.raises(unit_model.GpkgError, match="districts"):
        gpkg_reader.read(path)


def test_row_problems_name_layer_row_and_field(tmp_path):
    bowtie = Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)])
    rows = [
        (_blob(Point(1, 1)), "A", "Alpha"),
        (None, None, "No ref"),
        (None, "C", "  "),
        (_blob(LineString([(0, 0), (1, 1)])), "D", "A road"),
        (_blob(Point(200, 10)), "E", "Off the globe"),
        (_blob(bowtie), "F", "Bow tie"),
        (_blob(Point(1, 1), srs_id=32631), "G", "UTM"),
    ]
    package = gpkg_reader.read(_package(tmp_path, rows=rows))
    assert [f.ref for f in package.features] == ["A", "F"]
    assert [(p.row, p.field) for p in package.errors] == [
        (2, "ref"),
        (3, "name"),
        (4, "geom"),
        (5, "geom"),
        (7, "geom"),
    ]
    assert "LineString" in str(package.errors[2]) and "outside longitude" in str(package.errors[3])
    assert str(package.errors[0]) == "level-1-Region, row 2, ref: is missing"
    [warning] = package.warnings
    assert warning.row == 6 and "repaired" in warning.message
    assert package.features[1].territory.is_valid and len(package.features[1].territory.geoms) == 2


def test_unknown_group_refs_and_bad_dates_are_row_errors(tmp_path):
    rows = [(None, "A", "Alpha", "nope", None), (None, "B", "Beta", None, "31/12/2020")]
    path = _package(tmp_path, columns=("ref", "name", "group_refs", "opening_date"), rows=rows)
    package = gpkg_reader.read(path)
    assert [(p.row, p.field) for p in package.errors] == [(1, "group_refs"), (2, "opening_date")]
