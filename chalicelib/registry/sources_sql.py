"""data_sources and source_versions. A version comes with its partitions of org_units and org_unit_groups."""

from chalicelib.platform import problems
from chalicelib.platform.db import LockNotAvailable, all_rows, composed, local_settings, one

SOURCE_COLUMNS = "id, account_id, name, description, read_only, default_version_id, created_at, updated_at"
VERSION_COLUMNS = "id, account_id, data_source_id, number, description, created_by, created_at"

INSERT_SOURCE = f"""
INSERT INTO data_sources (account_id, name, description, read_only)
VALUES (%(account_id)s, %(name)s, %(description)s, %(read_only)s)
RETURNING {SOURCE_COLUMNS}
"""
GET_SOURCE = f"SELECT {SOURCE_COLUMNS} FROM data_sources WHERE account_id = %(account_id)s AND id = %(id)s"
LIST_SOURCES = f"""
SELECT {SOURCE_COLUMNS} FROM data_sources
WHERE account_id = %(account_id)s AND id > %(after)s ORDER BY id LIMIT %(limit)s
"""
UPDATE_SOURCE = f"""
UPDATE data_sources SET
    name = coalesce(%(name)s, name),
    description = coalesce(%(description)s, description),
    read_only = coalesce(%(read_only)s, read_only),
    default_version_id = CASE WHEN %(set_default)s THEN %(default_version_id)s ELSE default_version_id END,
    updated_at = now()
WHERE account_id = %(account_id)s AND id = %(id)s
RETURNING {SOURCE_COLUMNS}
"""

INSERT_VERSION = f"""
INSERT INTO source_versions (account_id, data_source_id, number, description, created_by)
SELECT %(account_id)s, %(data_source_id)s, coalesce(max(number), 0) + 1, %(description)s, %(created_by)s
FROM source_versions WHERE data_source_id = %(data_source_id)s
RETURNING {VERSION_COLUMNS}
"""
GET_VERSION = (
    f"SELECT {VERSION_COLUMNS} FROM source_versions WHERE account_id = %(account_id)s AND id = %(id)s"
)
LIST_VERSIONS = f"""
SELECT {VERSION_COLUMNS} FROM source_versions
WHERE account_id = %(account_id)s AND data_source_id = %(data_source_id)s AND id > %(after)s
ORDER BY id LIMIT %(limit)s
"""
ACCOUNT_VERSION_IDS = "SELECT id FROM source_versions WHERE account_id = %(account_id)s ORDER BY id"
VERSION_UNIT_COUNT = "SELECT count(*) AS n FROM org_units WHERE version_id = %(id)s AND deleted_at IS NULL"
VERSION_UNIT_COUNTS = """
SELECT version_id, count(*) AS n FROM org_units
WHERE version_id = ANY(%(ids)s) AND deleted_at IS NULL GROUP BY version_id
"""

ACCOUNT_DEFAULT_VERSION = "SELECT default_version_id FROM accounts WHERE id = %(account_id)s"
SET_ACCOUNT_DEFAULT_VERSION = """
UPDATE accounts SET default_version_id = %(version_id)s, updated_at = now() WHERE id = %(account_id)s
"""
SET_ACCOUNT_DEFAULT_IF_NONE = """
UPDATE accounts SET default_version_id = %(version_id)s, updated_at = now()
WHERE id = %(account_id)s AND default_version_id IS NULL
"""

# A version's partitions and what each needs: DDL takes no parameters, so names are composed
# (db.composed: {table} an identifier, {version_id} an integer literal).
CREATE_PARTITION = "CREATE TABLE IF NOT EXISTS {table} PARTITION OF {parent} FOR VALUES IN ({version_id})"
UNIT_PARENT_FKEY = (
    "ALTER TABLE {units} ADD CONSTRAINT {constraint}"
    " FOREIGN KEY (version_id, parent_id) REFERENCES {units} (version_id, id)"
)
MEMBERSHIP_UNIT_FKEY = (
    "ALTER TABLE {memberships} ADD CONSTRAINT {constraint}"
    " FOREIGN KEY (version_id, org_unit_id) REFERENCES {units} (version_id, id) ON DELETE CASCADE"
)
PATH_STATISTICS = "ALTER TABLE {table} ALTER COLUMN path SET STATISTICS 1000"
NAME_SEARCH_INDEX = "CREATE INDEX IF NOT EXISTS {index} ON {table} USING gin (search_text(name) gin_trgm_ops)"
NAME_SEARCH_STATISTICS = "ALTER INDEX {index} ALTER COLUMN 1 SET STATISTICS 1000"


def partition(parent: str, version_id: int) -> str:
    """The name of a version's partition of `parent` (org_units or org_unit_groups)."""
    return f"{parent}_v{int(version_id)}"


def create_source(cur, account_id: int, name: str, description: str, read_only: bool) -> dict:
    params = {"account_id": account_id, "name": name, "description": description, "read_only": read_only}
    return one(cur, INSERT_SOURCE, params)


def get_source(cur, account_id: int, source_id: int) -> dict | None:
    return one(cur, GET_SOURCE, {"account_id": account_id, "id": source_id})


def list_sources(cur, account_id: int, after: int | None, limit: int) -> list[dict]:
    return all_rows(cur, LIST_SOURCES, {"account_id": account_id, "after": after or 0, "limit": limit})


def update_source(cur, account_id: int, source_id: int, changes: dict) -> dict | None:
    params = {"name": None, "description": None, "read_only": None, "default_version_id": None}
    params |= changes | {"set_default": "default_version_id" in changes}
    return one(cur, UPDATE_SOURCE, params | {"account_id": account_id, "id": source_id})


def create_version(cur, account_id: int, source_id: int, description: str, created_by: int | None,
                   with_partition: bool = True) -> dict:  # fmt: skip
    """A new version; without its partition when an import is about to load one (unit_loader)."""
    cur.execute("SELECT id FROM data_sources WHERE id = %(id)s FOR UPDATE", {"id": source_id})  # numbering
    params = {"account_id": account_id, "data_source_id": source_id, "description": description}
    version = one(cur, INSERT_VERSION, params | {"created_by": created_by})
    if with_partition:
        create_partition(cur, version["id"])
    return version


def create_partition(cur, version_id: int) -> None:
    """The version's partitions of org_units and org_unit_groups. CREATE ... PARTITION OF locks the
    parent exclusively until commit. Waiting for that lock behind a
    long export would queue every tenant's reads behind us, so wait briefly and give up instead."""
    table = partition("org_units", version_id)
    try:
        with local_settings(cur, {"lock_timeout": "3s"}):
            for parent in ("org_units", "org_unit_groups"):  # each version's memberships too (migration 0013)
                name = partition(parent, version_id)
                cur.execute(composed(CREATE_PARTITION, table=name, parent=parent, version_id=int(version_id)))
    except LockNotAvailable as error:
        raise problems.service_unavailable(
            "registry.busy", "The registry is busy with a long export or import; try again in a minute."
        ) from error
    unit_foreign_keys(cur, version_id)
    tune_partition(cur, table)
    name_search_index(cur, table)


def unit_foreign_keys(cur, version_id: int) -> None:
    """The version's partitions' own foreign keys to their units (migration 0014): a unit's parent
    and a membership's unit are in the same version. Checked over this version's rows only."""
    units, memberships = partition("org_units", version_id), partition("org_unit_groups", version_id)
    cur.execute(composed(UNIT_PARENT_FKEY, units=units, constraint=f"{units}_parent_fkey"))
    cur.execute(
        composed(
            MEMBERSHIP_UNIT_FKEY, memberships=memberships, units=units, constraint=f"{memberships}_unit_fkey"
        )
    )


def tune_partition(cur, table: str) -> None:
    """Finer statistics where the planner guesses selectivity from a histogram: prefixes of paths and
    names are near-unique, and 100 buckets made it guess 100 or 10,000 matches (bench/README.md).
    Per partition: a partitioned table passes statistics targets to none created after it."""
    cur.execute(composed(PATH_STATISTICS, table=table))


def name_search_index(cur, table: str) -> None:
    """The partition's own trigram index for "name contains" searches (migration 0012), whose
    expression statistics (finer, as for paths) are the planner's source for name selectivity."""
    index = f"{table}_name_trgm_idx"
    cur.execute(composed(NAME_SEARCH_INDEX, index=index, table=table))
    cur.execute(composed(NAME_SEARCH_STATISTICS, index=index))


def get_version(cur, account_id: int, version_id: int) -> dict | None:
    return one(cur, GET_VERSION, {"account_id": account_id, "id": version_id})


def list_versions(cur, account_id: int, source_id: int, after: int | None, limit: int) -> list[dict]:
    params = {"account_id": account_id, "data_source_id": source_id, "after": after or 0, "limit": limit}
    return all_rows(cur, LIST_VERSIONS, params)


def account_version_ids(cur, account_id: int) -> list[int]:
    return [row["id"] for row in all_rows(cur, ACCOUNT_VERSION_IDS, {"account_id": account_id})]


def unit_count(cur, version_id: int) -> int:
    return one(cur, VERSION_UNIT_COUNT, {"id": version_id})["n"]


def unit_counts(cur, version_ids: list[int]) -> dict[int, int]:
    """The units of each version (deleted ones left out); 0 for an empty one."""
    found = all_rows(cur, VERSION_UNIT_COUNTS, {"ids": version_ids}) if version_ids else []
    return {version_id: 0 for version_id in version_ids} | {row["version_id"]: row["n"] for row in found}


def account_default_version(cur, account_id: int) -> int | None:
    return one(cur, ACCOUNT_DEFAULT_VERSION, {"account_id": account_id})["default_version_id"]


def set_account_default_version(cur, account_id: int, version_id: int, only_if_unset: bool = False) -> None:
    sql = SET_ACCOUNT_DEFAULT_IF_NONE if only_if_unset else SET_ACCOUNT_DEFAULT_VERSION
    cur.execute(sql, {"account_id": account_id, "version_id": version_id})
