"""Bulk writes of org units with COPY, and the rest of an import's SQL on org_units.

A new version is loaded into a table of its own, without indexes, which is then attached as the
version's partition: PostgreSQL builds the indexes once over the loaded rows (instead of maintaining
them row by row) and, thanks to the CHECK constraint, attaches without scanning. ATTACH lets other
tenants read org_units meanwhile, but writes to org_units and the tables that reference it wait until
the import commits (a few seconds at most: the attach is the import's last big step).
"""

import io
from collections.abc import Callable, Iterable, Sequence

from chalicelib.platform.db import UniqueViolation, all_rows, composed, identifiers, savepoint, set_local
from chalicelib.registry import sources_sql

UNIT_COLUMNS = ("id", "version_id", "account_id", "uuid", "parent_id", "org_unit_type_id", "name", "code",
                "source_ref", "validation_status", "location", "geom", "simplified_geom", "opening_date",
                "closed_date", "path", "depth", "created_by", "updated_by")  # fmt: skip
GROUP_COLUMNS = ("account_id", "version_id", "org_unit_id", "group_id")

# Names of tables and constraints are composed (db.composed): {version_id} is an integer literal.
DETACHED_PARTITION = "CREATE TABLE {table} (LIKE {parent} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
VERSION_CHECK = "ALTER TABLE {table} ADD CONSTRAINT {constraint} CHECK (version_id = {version_id})"
ATTACH_PARTITION = "ALTER TABLE {parent} ATTACH PARTITION {table} FOR VALUES IN ({version_id})"
RENEW_REPEATED_UUIDS = """
UPDATE {table} u SET uuid = gen_random_uuid() FROM (
    SELECT id, row_number() OVER (PARTITION BY uuid ORDER BY id) AS nth FROM {table}
    WHERE uuid IN (SELECT uuid FROM {table} GROUP BY uuid HAVING count(*) > 1)
) repeated
WHERE u.id = repeated.id AND repeated.nth > 1
"""
TABLE_EXISTS = "SELECT to_regclass(%(table)s) IS NOT NULL AS present"
ANALYZE = "ANALYZE {table}"
COPY_FROM = "COPY {table} ({columns}) FROM STDIN"


def reserve_ids(cur, count: int) -> Sequence[int]:
    """`count` new unit ids: a range when the sequence gave them in one run, as it does unless another
    session takes ids meanwhile (a million ids as a list would take 36 MB)."""
    if count == 0:
        return []
    cur.execute(
        """
        WITH reserved AS (SELECT nextval('org_units_id_seq') AS id FROM generate_series(1, %(n)s))
        SELECT min(id) AS first, max(id) AS last,
               CASE WHEN max(id) - min(id) + 1 <> count(*) THEN array_agg(id ORDER BY id) END AS ids
        FROM reserved
        """,
        {"n": count},
    )
    reserved = cur.fetchone()
    return reserved["ids"] if reserved["ids"] is not None else range(reserved["first"], reserved["last"] + 1)


def load_new_version(cur, version_id: int, units: Iterable[tuple], memberships: Iterable[tuple],
                     stopped: Callable[[], bool] = lambda: False) -> None:  # fmt: skip
    """Fills the (partition-less) version `version_id` with `units` (tuples in UNIT_COLUMNS order) and
    their group `memberships` (GROUP_COLUMNS), each into a table of its own then attached. If the
    units' stream was `stopped` (the caller will roll back), the rest is not done."""
    table = sources_sql.partition("org_units", version_id)
    groups_table = sources_sql.partition("org_unit_groups", version_id)
    _detached_partition(cur, "org_units", table, version_id)
    copy_rows(cur, table, UNIT_COLUMNS, units)
    if stopped():
        return
    _detached_partition(cur, "org_unit_groups", groups_table, version_id)
    copy_rows(cur, groups_table, GROUP_COLUMNS, memberships)
    # ATTACH locks org_units (SHARE UPDATE EXCLUSIVE) and the tables referencing it (SHARE ROW
    # EXCLUSIVE: their writes wait) until the import commits, which it does right after. If long
    # transactions hold those tables, give up after a while: the task is retried later.
    set_local(cur, {"lock_timeout": "30s"})
    _attach_units(cur, table, version_id)
    # The memberships' foreign keys are checked here, by one query each (not one lookup per row); so
    # are the keys to the version's own units (not checked against every version's: migration 0014).
    cur.execute(
        composed(ATTACH_PARTITION, parent="org_unit_groups", table=groups_table, version_id=int(version_id))
    )
    sources_sql.unit_foreign_keys(cur, version_id)
    sources_sql.tune_partition(cur, table)
    # No trigram index and no ANALYZE here: 1.5 s per 100k units inside the import; the task that
    # follows its commit does both (imports.finish_version).


def _attach_units(cur, table: str, version_id: int) -> None:
    """Attaches the loaded units, which builds their indexes. A uuid the file gives twice fails the
    unique one: then every repeat but the first gets a new uuid, and the attach is tried again. (Rare,
    so found this way instead of holding the file's uuids in memory.)"""
    attach = composed(ATTACH_PARTITION, parent="org_units", table=table, version_id=int(version_id))
    with savepoint(cur, "attach_units") as attempt:
        try:
            _attach_or_say_why(cur, attach)
        except RepeatedUuids:
            attempt.roll_back()
            cur.execute(composed(RENEW_REPEATED_UUIDS, table=table))
            _attach_or_say_why(cur, attach)


def _attach_or_say_why(cur, attach) -> None:
    try:
        cur.execute(attach)
    except UniqueViolation as error:
        constraint = error.diag.constraint_name or ""
        if "source_ref" in constraint:
            raise RepeatedRefs() from error
        if "uuid" in constraint:
            raise RepeatedUuids() from error
        raise


class RepeatedUuids(Exception):
    """The loaded units repeat a uuid: the repeats get new ones."""


class RepeatedRefs(Exception):
    """The loaded units repeat a ref (found by the partition's unique index when it is built): the
    caller, which left that to the index, reads the file again to report where."""


def _detached_partition(cur, parent: str, table: str, version_id: int) -> None:
    """A table shaped as `parent`, without indexes, whose CHECK lets ATTACH skip scanning it."""
    cur.execute(composed(DETACHED_PARTITION, table=table, parent=parent))
    cur.execute(
        composed(VERSION_CHECK, table=table, constraint=f"{table}_version", version_id=int(version_id))
    )


def finish_version(cur, version_id: int) -> bool:
    """What a loaded version's partition still needs after the import: its trigram index for name
    searches, then statistics (the name's come from that index). False if the partition is gone."""
    table = sources_sql.partition("org_units", version_id)
    cur.execute(TABLE_EXISTS, {"table": table})
    if not cur.fetchone()["present"]:
        return False
    sources_sql.name_search_index(cur, table)
    cur.execute(composed(ANALYZE, table=table))
    return True


def insert_units(cur, units: Iterable[tuple], memberships: Iterable[tuple]) -> None:
    """Into an existing version's partition (its indexes are maintained as rows arrive)."""
    copy_rows(cur, "org_units", UNIT_COLUMNS, units)
    copy_rows(cur, "org_unit_groups", GROUP_COLUMNS, memberships)


def copy_rows(cur, table: str, columns: tuple[str, ...], rows: Iterable[tuple]) -> None:
    copy = composed(COPY_FROM, table=table, columns=identifiers(columns))
    cur.copy_expert(copy, _CopyStream(rows), size=READ_SIZE)


READ_SIZE = 1024 * 1024  # what COPY asks of the stream at a time
CHUNK_CHARACTERS = 256 * 1024  # rows are turned into text until there is this much


class _CopyStream(io.RawIOBase):
    """COPY text format produced lazily from tuples, so memory does not grow with the row count."""

    def __init__(self, rows: Iterable[tuple]):
        self._rows = iter(rows)
        self._buffer = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        if not self._buffer:
            lines, size = [], 0
            for row in self._rows:
                lines.append(_line(row))
                size += len(lines[-1])
                if size >= CHUNK_CHARACTERS:
                    break
            self._buffer = memoryview("".join(lines).encode())
        size = min(len(target), len(self._buffer))
        target[:size], self._buffer = self._buffer[:size], self._buffer[size:]
        return size


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


NULL = "\\N"


def _line(row: tuple | str) -> str:
    if type(row) is str:  # whole lines already (an import's, from unit_rows.copy_lines)
        return row
    return "\t".join([text(value) for value in row]) + "\n"


def text(value) -> str:
    """Any value as COPY text, escaped when it holds a backslash, tab or line break."""
    if value is None:
        return "\\N"
    text = value if isinstance(value, str) else str(value)
    if "\\" in text or not text.isprintable():  # tabs and line breaks are not printable
        return text.translate(_ESCAPES)
    return text


def existing_units(cur, version_id: int) -> list[dict]:
    """What matching an import against a version needs, for every live unit with a ref."""
    return all_rows(
        cur,
        """
        SELECT ou.id, ou.source_ref, ou.path, ou.depth, ou.name, ou.code, ou.org_unit_type_id,
               ou.validation_status,
               p.source_ref AS parent_ref, ou.opening_date, ou.closed_date,
               encode(ST_AsEWKB(ou.location), 'hex') AS location, encode(ST_AsEWKB(ou.geom), 'hex') AS geom,
               coalesce((SELECT array_agg(m.group_id ORDER BY m.group_id) FROM org_unit_groups m
                         WHERE m.version_id = ou.version_id AND m.org_unit_id = ou.id), '{}') AS group_ids
        FROM org_units ou
        LEFT JOIN org_units p ON p.version_id = ou.version_id AND p.id = ou.parent_id
        WHERE ou.version_id = %(version_id)s AND ou.deleted_at IS NULL AND ou.source_ref IS NOT NULL
        """,
        {"version_id": version_id},
    )


# Writing into an existing version (version_merge.write): uuids already taken, field updates, and
# the paths recomputed after parents changed.
TAKEN_UUIDS = (
    "SELECT uuid::text AS uuid FROM org_units"
    " WHERE version_id = %(v)s AND deleted_at IS NULL AND uuid::text = ANY(%(wanted)s)"
)
LIVE_TREE = "SELECT id, parent_id, path, depth FROM org_units WHERE version_id = %(v)s AND deleted_at IS NULL"
MOVED_PATHS_TABLE = "CREATE TEMP TABLE moved_paths (id bigint, path text, depth smallint) ON COMMIT DROP"
RECORD_MOVES = (
    "INSERT INTO org_unit_moves (version_id, account_id, org_unit_id, old_path, new_path)"
    " SELECT ou.version_id, ou.account_id, ou.id, ou.path, m.path FROM org_units ou"
    " JOIN moved_paths m ON m.id = ou.id WHERE ou.version_id = %(v)s"
)
APPLY_MOVED_PATHS = (
    "UPDATE org_units ou SET path = m.path, depth = m.depth, updated_at = now() FROM moved_paths m"
    " WHERE ou.version_id = %(v)s AND ou.id = m.id"
)


def taken_uuids(cur, version_id: int, wanted: list[str]) -> set[str]:
    """Which of the file's uuids live units of the version already carry (they get new ones)."""
    return {row["uuid"] for row in all_rows(cur, TAKEN_UUIDS, {"v": version_id, "wanted": wanted})}


def update_unit(cur, version_id: int, unit_id: int, columns: dict, user_id: int) -> None:
    """Sets `columns` (names the import writer chose, values as parameters) on one unit."""
    assignments = ", ".join(f"{name} = %({name})s" for name in columns)
    cur.execute(
        f"UPDATE org_units SET {assignments}, updated_at = now(), updated_by = %(user_id)s"
        " WHERE version_id = %(version_id)s AND id = %(id)s",
        columns | {"version_id": version_id, "id": unit_id, "user_id": user_id},
    )


def live_tree(cur, version_id: int) -> list[dict]:
    """Every live unit's id, parent, path and depth."""
    return all_rows(cur, LIVE_TREE, {"v": version_id})


def move_paths(cur, version_id: int, moved: list[tuple[int, str, int]]) -> None:
    """New (id, path, depth) of units whose paths changed: where each was goes to org_unit_moves."""
    cur.execute(MOVED_PATHS_TABLE)
    copy_rows(cur, "moved_paths", ("id", "path", "depth"), moved)
    cur.execute(RECORD_MOVES, {"v": version_id})
    cur.execute(APPLY_MOVED_PATHS, {"v": version_id})
