"""SQLite statements that write a GeoPackage in Iaso's layout (unit_writers). Layer names are type
names, user input: each is a double-quoted SQLite identifier (psycopg2's sql.Identifier is
PostgreSQL's, not SQLite's)."""

# A fresh file: nothing to recover if writing it fails, so no journal and no syncing.
PRAGMAS = (
    "PRAGMA application_id = 1196444487",  # 'GPKG'
    "PRAGMA user_version = 10300",
    "PRAGMA journal_mode = OFF",
    "PRAGMA synchronous = OFF",
)
GPKG_TABLES = """
CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY,
    organization TEXT NOT NULL,
    organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,
    identifier TEXT UNIQUE,
    description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
    CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL,
    geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
    CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
    CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
    CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
"""
INSERT_SRS = "INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)"
CREATE_GROUPS = "CREATE TABLE groups (fid INTEGER PRIMARY KEY AUTOINCREMENT, ref TEXT, name TEXT)"
GROUPS_CONTENTS = (
    "INSERT INTO gpkg_contents (table_name, data_type, identifier) VALUES ('groups', 'attributes', 'groups')"
)
INSERT_GROUP = "INSERT INTO groups (ref, name) VALUES (?, ?)"
SET_EXTENT = "UPDATE gpkg_contents SET min_x = ?, min_y = ?, max_x = ?, max_y = ? WHERE table_name = ?"
LAYER_CONTENTS = (
    "INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) VALUES (?, 'features', ?, 4326)"
)
LAYER_GEOMETRY_COLUMN = "INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', ?, 4326, ?, 0)"


def quoted(name: str) -> str:
    """For a double-quoted SQLite identifier: type names are user input."""
    return name.replace('"', '""')


def create_layer(name: str, kind: str) -> str:
    """A layer's table; `kind` is its geometry type (POINT, MULTIPOLYGON or GEOMETRY)."""
    return (
        f'CREATE TABLE "{quoted(name)}" (fid INTEGER PRIMARY KEY AUTOINCREMENT, geom {kind}, ref TEXT, '
        "name TEXT, parent_ref TEXT, group_refs TEXT, code TEXT, opening_date DATE, closed_date DATE, "
        "uuid TEXT, validation_status TEXT)"
    )


def insert_features(layer: str, columns: tuple[str, ...]) -> str:
    """Rows of a layer: the geometry, then `columns`."""
    marks = ", ".join("?" for _ in range(len(columns) + 1))
    return f'INSERT INTO "{quoted(layer)}" (geom, {", ".join(columns)}) VALUES ({marks})'
