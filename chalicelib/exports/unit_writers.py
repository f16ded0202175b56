"""Files written from a stream of unit rows (exports/unit_export_sql.py), row by row: memory does not grow
with the number of units. CSV with `csv`, XLSX with openpyxl's write-only mode, GeoJSON by hand (a
streamed FeatureCollection), GeoPackage with sqlite3 and WKB in Iaso's layout, so that a GeoPackage
we export imports back into us and into Iaso unchanged."""

import csv
import itertools
import json
import operator
import re
import sqlite3
import struct
from collections.abc import Iterable

import shapely

from chalicelib.exports import gpkg_writer_sql
from chalicelib.imports.gpkg_reader import IASO_COLUMNS

HEADERS = [
    "id",
    "uuid",
    "ref",
    "name",
    "org_unit_type",
    "validation_status",
    "code",
    "parent_id",
    "parent_ref",
    "parent_name",
    "latitude",
    "longitude",
    "altitude",
    "opening_date",
    "closed_date",
    "groups",
    "group_refs",
    "depth",
    "wkt",
]
# The control characters Excel refuses in cells (openpyxl's ILLEGAL_CHARACTERS_RE).
ILLEGAL_CHARACTERS = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
SRS_ROWS = [
    (
        "Undefined cartesian SRS",
        -1,
        "NONE",
        -1,
        "undefined",
        "undefined cartesian coordinate reference system",
    ),
    (
        "Undefined geographic SRS",
        0,
        "NONE",
        0,
        "undefined",
        "undefined geographic coordinate reference system",
    ),
    (
        "WGS 84 geodetic",
        4326,
        "EPSG",
        4326,
        'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],'
        'AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,'
        'AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]',
        "longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid",
    ),
]
# Iaso's columns, and validation_status (which Iaso ignores) so that our round trips keep it
LAYER_COLUMNS = IASO_COLUMNS
INSERTED = slice(1, -2)  # the layer's columns
# What each feature row carries: its type (which layer), the layer's columns in order, then what a
# layer made for a type that appeared late needs (_late_layer).
GPKG_RECORD = ("org_unit_type", "geom", *LAYER_COLUMNS, "type_depth", "has_territory")


def ancestor_headers(levels: int) -> list[str]:
    return [f"level_{n}_{what}" for n in range(1, levels) for what in ("name", "ref")]


def flat(row: dict, levels: int) -> list:
    """One line: the unit's fields, then its ancestors' name and ref per level (root first)."""
    values = [
        row["id"],
        row["uuid"],
        row["ref"],
        row["name"],
        row["org_unit_type"],
        row["validation_status"],
        row["code"],
        row["parent_id"],
        row["parent_ref"],
        row["parent_name"],
        row["latitude"],
        row["longitude"],
        row["altitude"],
        _date(row["opening_date"]),
        _date(row["closed_date"]),
        ", ".join(row["group_names"] or []),
        ", ".join(row["group_refs"] or []),
        row["depth"],
        row["territory_wkt"],
    ]
    names, refs = row["ancestor_names"] or [], row["ancestor_refs"] or []
    for level in range(levels - 1):
        values += [names[level], refs[level]] if level < len(names) else [None, None]
    return values


def _date(value) -> str | None:
    return value.isoformat() if value else None


def csv_header(levels: int) -> bytes:
    return (",".join(HEADERS + ancestor_headers(levels)) + "\n").encode()


def write_csv(path: str, rows: Iterable[dict], levels: int, progress) -> int:
    count = 0
    with open(path, "w", newline="", encoding="utf-8") as file:
        table = csv.writer(file)
        table.writerow(HEADERS + ancestor_headers(levels))
        for count, row in enumerate(rows, start=1):
            table.writerow(["" if value is None else value for value in flat(row, levels)])
            progress(count)
    return count


def write_xlsx(path: str, rows: Iterable[dict], levels: int, progress) -> int:
    from openpyxl import Workbook  # imported when an XLSX is written, not at every cold start

    book = Workbook(write_only=True)
    sheet = book.create_sheet("org units")
    sheet.append(HEADERS + ancestor_headers(levels))
    count = 0
    for count, row in enumerate(rows, start=1):
        sheet.append([xlsx_cell(value) for value in flat(row, levels)])
        progress(count)
    book.save(path)
    return count


def xlsx_cell(value):
    """Excel refuses control characters in cells; drop them rather than fail the export."""
    return ILLEGAL_CHARACTERS.sub("", value) if isinstance(value, str) else value


def write_geojson(path: str, rows: Iterable[dict], levels: int, progress) -> int:
    """RFC 7946: longitude first, 6 decimals; the territory, else the point, as geometry."""
    count = 0
    with open(path, "w", encoding="utf-8") as file:
        file.write('{"type": "FeatureCollection", "features": [\n')
        for count, row in enumerate(rows, start=1):
            geometry = _geometry(row)
            properties = dict(zip(HEADERS + ancestor_headers(levels), flat(row, levels), strict=True))
            feature = {
                "type": "Feature",
                "id": row["id"],
                "properties": properties,
                "geometry": json.loads(shapely.to_geojson(geometry)) if geometry is not None else None,
            }
            if feature["geometry"]:
                feature["geometry"]["coordinates"] = _rounded(feature["geometry"]["coordinates"])
            file.write(("" if count == 1 else ",\n") + json.dumps(feature, ensure_ascii=False))
            progress(count)
        file.write("\n]}\n")
    return count


def _rounded(coordinates):
    if isinstance(coordinates, float | int):
        return round(coordinates, 6)
    return [_rounded(part) for part in coordinates]


def _geometry(row: dict):
    return shapely.from_wkb(bytes.fromhex(row["wkb"])) if row["wkb"] else None


# GeoPackage


def layer_name(depth: int, type_name: str) -> str:
    return f"level-{depth}-{type_name}"


def write_gpkg(path: str, batches: Iterable[list[tuple]], layers: list[dict], groups: list[dict],
               extents: dict[str, tuple], progress) -> int:  # fmt: skip
    """Iaso's layout: a layer per type (`level-{depth}-{type}`), a `groups(ref, name)` table.
    `batches` are lists of GPKG_RECORD tuples (unit_export.gpkg_records, or gpkg_record of unit rows),
    a layer's records best together."""
    db = sqlite3.connect(path)
    try:
        for pragma in gpkg_writer_sql.PRAGMAS:
            db.execute(pragma)
        db.executescript(gpkg_writer_sql.GPKG_TABLES)
        db.executemany(gpkg_writer_sql.INSERT_SRS, SRS_ROWS)
        names = {layer["org_unit_type"]: _create_layer(db, layer) for layer in layers}
        db.execute(gpkg_writer_sql.CREATE_GROUPS)
        db.execute(gpkg_writer_sql.GROUPS_CONTENTS)
        db.executemany(gpkg_writer_sql.INSERT_GROUP, [(g["ref"], g["name"]) for g in groups])
        count = _insert_features(db, names, batches, progress)
        for type_name, (min_x, min_y, max_x, max_y) in extents.items():
            db.execute(gpkg_writer_sql.SET_EXTENT, (min_x, min_y, max_x, max_y, names.get(type_name)))
        db.commit()
    finally:
        db.close()
    return count


def _insert_features(db: sqlite3.Connection, names: dict, batches: Iterable[list[tuple]], progress) -> int:
    """Each run of one type's records in a batch goes in with one executemany: no Python per row."""
    count = 0
    for batch in batches:
        for type_name, run in itertools.groupby(batch, key=operator.itemgetter(0)):
            records = list(run)
            layer = names.get(type_name or "Unknown") or _late_layer(db, names, records[0])
            insert = gpkg_writer_sql.insert_features(layer, LAYER_COLUMNS)
            db.executemany(insert, [record[INSERTED] for record in records])
            count += len(records)
        progress(count)
    return count


def gpkg_record(row: dict) -> tuple:
    """A GPKG_RECORD from a unit row of unit_export.units (the row-by-row path)."""
    geometry = _geometry(row)
    return (
        row["org_unit_type"], _gpkg_blob(geometry),
        row["ref"], row["name"], row["parent_ref"], ", ".join(row["group_refs"] or []) or None, row["code"],
        _date(row["opening_date"]), _date(row["closed_date"]), row["uuid"], row["validation_status"],
        row["type_depth"], row["territory_wkt"] is not None,
    )  # fmt: skip


def _late_layer(db: sqlite3.Connection, names: dict, record: tuple) -> str:
    """A type that appeared after the layers were laid out (created meanwhile): its own layer."""
    type_name, depth, territory = record[0] or "Unknown", record[-2], record[-1]
    names[type_name] = _create_layer(
        db, {"org_unit_type": type_name, "depth": depth, "territories": territory, "points": not territory}
    )
    return names[type_name]


def _create_layer(db: sqlite3.Connection, layer: dict) -> str:
    name = layer_name(layer["depth"], layer["org_unit_type"])
    kind = (
        "MULTIPOLYGON"
        if layer["territories"] and not layer["points"]
        else "POINT"
        if not layer["territories"]
        else "GEOMETRY"
    )
    db.execute(gpkg_writer_sql.create_layer(name, kind))
    db.execute(gpkg_writer_sql.LAYER_CONTENTS, (name, name))
    z = {"POINT": 1, "MULTIPOLYGON": 0}.get(kind, 2)  # locations are 3D points; territories 2D
    db.execute(gpkg_writer_sql.LAYER_GEOMETRY_COLUMN, (name, kind, z))
    return name


def _gpkg_blob(geometry) -> bytes | None:
    """GeoPackage geometry: 'GP', version 0, flags (little-endian, XY envelope), srs 4326, envelope, WKB."""
    if geometry is None:
        return None
    min_x, min_y, max_x, max_y = geometry.bounds
    header = (
        b"GP\x00"
        + bytes([0b00000011])
        + struct.pack("<i", 4326)
        + struct.pack("<4d", min_x, max_x, min_y, max_y)
    )
    return header + shapely.to_wkb(geometry, byte_order=1, flavor="iso")
