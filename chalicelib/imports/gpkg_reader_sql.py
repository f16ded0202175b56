"""SQLite statements that read a GeoPackage (gpkg_reader). Layer and column names come from the file:
each is a double-quoted SQLite identifier (psycopg2's sql.Identifier is PostgreSQL's, not SQLite's)."""

TABLES = "SELECT name FROM sqlite_master WHERE type = 'table'"
FEATURE_LAYERS = (
    "SELECT c.table_name, g.column_name, g.srs_id FROM gpkg_contents c"
    " JOIN gpkg_geometry_columns g ON g.table_name = c.table_name WHERE c.data_type = 'features'"
    " ORDER BY c.table_name"
)
GROUPS = 'SELECT ref, name FROM "groups"'


def quoted(name: str) -> str:
    """For a double-quoted SQLite identifier: names are the file's."""
    return name.replace('"', '""')


def table_info(table: str) -> str:
    return f'PRAGMA table_info("{quoted(table)}")'


def count_rows(layer: str) -> str:
    return f'SELECT count(*) FROM "{quoted(layer)}"'


def parent_refs(layer: str) -> str:
    return f"SELECT DISTINCT replace(parent_ref, char(0), '') FROM \"{quoted(layer)}\""


def layer_rows(layer: str, geometry_column: str, columns: tuple[str, ...], present: set[str]) -> str:
    """Every row of the layer: each of `columns` in order (NULL when absent), text without the NUL
    characters PostgreSQL refuses, then the geometry."""
    selected = [f"replace(\"{column}\", char(0), '')" if column in present else "NULL" for column in columns]
    return f'SELECT {", ".join(selected)}, "{quoted(geometry_column)}" FROM "{quoted(layer)}" ORDER BY rowid'
