"""dhis2_runs (every import or sync asked for), dhis2_fetched_pages (an import's pages kept across
invocations), and what a sync reads of and does to a version's units."""

import json

from chalicelib.platform.db import all_rows, one

RUN_COLUMNS = """r.id, r.connection_id, r.data_source_id, r.schedule_id, r.kind, r.status, r.task_id,
    r.base_version_id, r.version_id, r.server_started, r.counts, r.note, r.created_at, r.finished_at"""


def connection(cur, account_id: int, connection_id: int) -> dict | None:
    return one(
        cur,
        "SELECT id, name, base_url FROM dhis2_connections WHERE account_id = %(a)s AND id = %(id)s",
        {"a": account_id, "id": connection_id},
    )


def lock_pair(cur, connection_id: int, data_source_id: int) -> None:
    """Serialises whoever queues a run for this (connection, data source) until the transaction ends."""
    cur.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('dhis2.run:' || %(c)s || ':' || %(s)s, 0))",
        {"c": connection_id, "s": data_source_id},
    )


def insert_run(
    cur,
    account_id: int,
    connection_id: int,
    data_source_id: int,
    kind: str,
    status: str,
    task_id: int | None,
    schedule_id: int | None = None,
    note: str | None = None,
) -> dict:
    return one(
        cur,
        f"""INSERT INTO dhis2_runs AS r (account_id, connection_id, data_source_id, kind, status, task_id,
                                        schedule_id, note, finished_at)
            VALUES (%(a)s, %(c)s, %(s)s, %(kind)s, %(status)s, %(task)s, %(schedule)s, %(note)s,
                    CASE WHEN %(status)s = 'SKIPPED' THEN now() END)
            RETURNING {RUN_COLUMNS}""",
        {
            "a": account_id,
            "c": connection_id,
            "s": data_source_id,
            "kind": kind,
            "status": status,
            "task": task_id,
            "schedule": schedule_id,
            "note": note,
        },
    )


def finish_run(cur, task_id: int, status: str, values: dict) -> None:
    """The run of task `task_id`: its outcome (SUCCESS, UNCHANGED) and what it made."""
    cur.execute(
        """UPDATE dhis2_runs SET status = %(status)s, base_version_id = %(base)s, version_id = %(version)s,
                  server_started = %(started)s, counts = %(counts)s, note = %(note)s, finished_at = now()
           WHERE task_id = %(task)s""",
        {
            "task": task_id,
            "status": status,
            "base": values.get("base_version_id"),
            "version": values.get("version_id"),
            "started": values.get("server_started"),
            "counts": json.dumps(values.get("counts", {})),
            "note": values.get("note"),
        },
    )


def last_done(cur, connection_id: int, data_source_id: int) -> dict | None:
    """The latest run that succeeded (made a version, or found nothing to change) whose version is
    still there: a sync applies DHIS2's changes since it started to the latest version made."""
    return one(
        cur,
        f"""SELECT {RUN_COLUMNS},
                   (SELECT m.version_id FROM dhis2_runs m
                    WHERE m.connection_id = r.connection_id AND m.data_source_id = r.data_source_id
                      AND m.version_id IS NOT NULL AND m.status = 'SUCCESS'
                    ORDER BY m.id DESC LIMIT 1) AS mirror_version_id
            FROM dhis2_runs r
            WHERE r.connection_id = %(c)s AND r.data_source_id = %(s)s
              AND r.status IN ('SUCCESS', 'UNCHANGED')
            ORDER BY r.id DESC LIMIT 1""",
        {"c": connection_id, "s": data_source_id},
    )


def list_runs(cur, account_id: int, connection_id: int, after: int | None, limit: int) -> list[dict]:
    """Newest first, as the task list: `after` is the last id of the page before."""
    return all_rows(
        cur,
        f"""SELECT {RUN_COLUMNS.replace("r.status, ", "")}, t.status AS task_status, t.error_message,
                   -- a run still QUEUED says what its task is doing: RUNNING, or how it failed
                   CASE WHEN r.status = 'QUEUED' AND t.status IN ('RUNNING', 'ERRORED', 'KILLED')
                        THEN t.status
                        ELSE r.status END AS status
            FROM dhis2_runs r LEFT JOIN tasks t ON t.id = r.task_id
            WHERE r.account_id = %(a)s AND r.connection_id = %(c)s AND r.id < %(before)s
            ORDER BY r.id DESC LIMIT %(limit)s""",
        {"a": account_id, "c": connection_id, "before": after or 2**62, "limit": limit},
    )


# Pages kept across invocations


def store_pages(cur, task_id: int, seq: int, data: bytes) -> None:
    cur.execute(
        "INSERT INTO dhis2_fetched_pages (task_id, seq, data) VALUES (%(t)s, %(seq)s, %(data)s)",
        {"t": task_id, "seq": seq, "data": data},
    )


def stored_pages(cur, task_id: int):
    """The chunks stored so far, in order, one at a time."""
    cur.execute("SELECT seq FROM dhis2_fetched_pages WHERE task_id = %(t)s ORDER BY seq", {"t": task_id})
    for seq in [row["seq"] for row in cur.fetchall()]:
        row = one(
            cur,
            "SELECT data FROM dhis2_fetched_pages WHERE task_id = %(t)s AND seq = %(s)s",
            {"t": task_id, "s": seq},
        )
        yield bytes(row["data"])


def drop_pages(cur, task_id: int) -> None:
    cur.execute("DELETE FROM dhis2_fetched_pages WHERE task_id = %(t)s", {"t": task_id})


def drop_abandoned_pages(cur, account_id: int) -> None:
    """Pages of the account's imports that ended without writing (errored, killed): nobody goes on."""
    cur.execute(
        """DELETE FROM dhis2_fetched_pages p USING tasks t
           WHERE t.id = p.task_id AND t.account_id = %(a)s AND t.status NOT IN ('QUEUED', 'RUNNING')""",
        {"a": account_id},
    )


# What a sync reads of a version and does to it


def live_refs(cur, version_id: int) -> set[str]:
    rows = all_rows(
        cur,
        "SELECT source_ref FROM org_units WHERE version_id = %(v)s AND deleted_at IS NULL"
        " AND source_ref IS NOT NULL",
        {"v": version_id},
    )
    return {row["source_ref"] for row in rows}


def group_members(cur, version_id: int, group_refs: list[str]) -> dict[str, set[str]]:
    """Group ref -> the refs of its live units in the version."""
    rows = all_rows(
        cur,
        """SELECT g.source_ref AS group_ref,
                  array_agg(ou.source_ref) FILTER (WHERE ou.id IS NOT NULL) AS units
           FROM groups g
           LEFT JOIN org_unit_groups m ON m.version_id = g.version_id AND m.group_id = g.id
           LEFT JOIN org_units ou ON ou.version_id = m.version_id AND ou.id = m.org_unit_id
                                 AND ou.deleted_at IS NULL
           WHERE g.version_id = %(v)s AND g.source_ref = ANY(%(refs)s)
           GROUP BY g.source_ref""",
        {"v": version_id, "refs": group_refs},
    )
    return {row["group_ref"]: set(row["units"] or ()) for row in rows}


def delete_units(cur, version_id: int, refs: list[str], user_id: int | None) -> list[int]:
    rows = all_rows(
        cur,
        """UPDATE org_units SET deleted_at = now(), updated_at = now(), updated_by = %(u)s
           WHERE version_id = %(v)s AND source_ref = ANY(%(refs)s) AND deleted_at IS NULL RETURNING id""",
        {"v": version_id, "refs": refs, "u": user_id},
    )
    return [row["id"] for row in rows]


def describe_version(cur, version_id: int, description: str) -> None:
    cur.execute(
        "UPDATE source_versions SET description = %(d)s WHERE id = %(v)s", {"d": description, "v": version_id}
    )


def link_group_set(cur, account_id: int, version_id: int, name: str, group_refs: list[str]) -> int:
    """The account's group set of that name (made if missing) holds the version's groups of those refs."""
    found = one(
        cur,
        "SELECT id FROM group_sets WHERE account_id = %(a)s AND name = %(n)s",
        {"a": account_id, "n": name},
    )
    set_id = (
        found["id"]
        if found
        else one(
            cur,
            "INSERT INTO group_sets (account_id, name) VALUES (%(a)s, %(n)s) RETURNING id",
            {"a": account_id, "n": name},
        )["id"]
    )
    cur.execute(
        """INSERT INTO group_set_groups (account_id, group_set_id, group_id)
           SELECT %(a)s, %(set)s, g.id FROM groups g
           WHERE g.version_id = %(v)s AND g.source_ref = ANY(%(refs)s)
           ON CONFLICT DO NOTHING""",
        {"a": account_id, "set": set_id, "v": version_id, "refs": group_refs},
    )
    return set_id
