"""Imports and exports of a whole version, beside GDAL's ogr2ogr and raw COPY, in one run.

    .venv/bin/python -m bench.bench_imports --units 100000

Generates the tree of bench_registry.py (regions, districts, health areas as polygons, facilities as
points) in a throwaway PostgreSQL + PostGIS, then times, in this order:
- our GeoPackage and CSV exports (the task functions; S3 a moto server in a process of its own),
  against `ogr2ogr` PostGIS → GPKG and `COPY (SELECT …) TO STDOUT`, and, for scale, the CSV
  export's own `COPY` into a local file;
- our GeoPackage and CSV imports of those files into a new version, against `ogr2ogr` GPKG →
  PostGIS and a raw `COPY` into a staging table + `INSERT … SELECT` into an indexed table, and the
  floor (our COPY lines into a bare table, then our partition's indexes).
Prints seconds, ratios and the process's peak memory (max RSS) after each step; each import runs in
a forked copy of the process, whose memory growth is the import's own. After each step that loads a
million rows, an untimed VACUUM (autovacuum's work, which would otherwise land in the next step).
"""

import argparse
import ctypes
import gc
import json
import os
import resource
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3
import psycopg2

from bench.bench_registry import ADMIN_EMAIL, GROUPS, PASSWORD, load, set_environment, start_cluster
from devstack.postgres import free_port, port_in_use

BUCKET = "bench-exports"
UPLOADS = "bench-uploads"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(label: str, action) -> tuple[float, object]:
    begin = time.perf_counter()
    value = action()
    seconds = time.perf_counter() - begin
    print(f"  {label:<52} {seconds:8.2f} s   peak RSS {peak_mb():7.0f} MB", flush=True)
    return seconds, value


def proc_status_mb(field: str) -> float:
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith(f"{field}:"))
    return int(line.split()[1]) / 1024


def in_child(action) -> tuple[float, float, float, object]:
    """Runs `action` in a forked copy of this process: its seconds, how far its memory rose above
    where it started (the worker's own peak, apart from what moto and the exports hold here), the
    peak memory of the worker's own children (the import's reader), and what it returned (JSON). The
    heap's free pages are given back first, so that what the action allocates shows in its resident
    memory instead of reusing pages the exports left resident.

    The worker's peak is exact (VmHWM). The reader's is sampled every 10 ms from here: its unique set
    size (USS, the pages it does not share; those it shares with the worker, copy-on-write after the
    fork, are already counted in the worker's)."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: fresh database connections (the parent's stay the parent's)
        from chalicelib.platform import db

        os.close(reader)
        db._local.main = db._local.side = None
        gc.collect()
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")  # the peak (VmHWM) starts again from here
        start = proc_status_mb("VmRSS")
        os.write(writer, b"started\n")
        begin = time.perf_counter()
        value = action()
        seconds = time.perf_counter() - begin
        growth = proc_status_mb("VmHWM") - start
        os.write(writer, json.dumps([seconds, growth, value], default=str).encode())
        os.close(writer)
        os._exit(0)
    os.close(writer)
    answer, peak = b"", 0.0
    while True:
        ready, _, _ = select.select([reader], [], [], 0.01)
        if ready:
            chunk = os.read(reader, 1 << 16)
            if not chunk:
                break
            answer += chunk
        peak = max(peak, children_uss_mb(pid))
    os.close(reader)
    os.waitpid(pid, 0)
    seconds, growth, value = json.loads(answer.removeprefix(b"started\n"))
    return seconds, growth, peak, value


def children_uss_mb(pid: int) -> float:
    """The unique set size of a process's children, in MB (0 for one that has ended)."""
    total = 0.0
    for child in _children(pid):
        try:
            with open(f"/proc/{child}/smaps_rollup") as rollup:
                total += (
                    sum(
                        int(line.split()[1])
                        for line in rollup
                        if line.startswith(("Private_Clean:", "Private_Dirty:"))
                    )
                    / 1024
                )
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            return [int(child) for child in children.read().split()]
    except FileNotFoundError:
        return []


def setup(units: int, seed: int) -> dict:
    from chalicelib import cli
    from chalicelib.identity import accounts
    from chalicelib.identity.authentication import principal_of_launcher
    from chalicelib.platform import db
    from chalicelib.registry import reference_data

    cli.run_migrations()
    with db.transaction() as cur:
        created = accounts.bootstrap(
            cur, "Bench Ministry", ADMIN_EMAIL, PASSWORD, "Malaria", "org.bench.malaria"
        )
        principal = principal_of_launcher(cur, created["user"]["id"])
        source = reference_data.create_source(cur, principal, "Pyramide", "", False)
        ids = {"account": created["account"]["id"], "user": created["user"]["id"], "source": source["id"]}
        ids["version"] = source["default_version_id"]
        below = []
        for key, name, depth in (
            ("t_facility", "Facility", 4),
            ("t_area", "HealthArea", 3),
            ("t_district", "District", 2),
            ("t_region", "Region", 1),
            ("t_country", "Country", 0),
        ):
            ids[key] = reference_data.create_type(cur, principal, name, name[:3].upper(), depth, below)["id"]
            below = [ids[key]]
        ids["groups"] = [
            reference_data.create_group(cur, principal, ids["version"], name, f"G{i}")["id"]
            for i, name in enumerate(GROUPS)
        ]
    load(os.environ["DATABASE_URL"], ids, units, seed)
    return ids


def run_task(kind: str, params: dict, ids: dict) -> dict:
    from chalicelib.handlers import task_kinds  # noqa: F401 (task_kinds registers the kinds)
    from chalicelib.platform import db
    from chalicelib.tasks import engine, tasks_sql

    with db.transaction() as cur:
        task_id = tasks_sql.insert(cur, ids["account"], ids["user"], kind, params)["id"]
    outcome = engine.run(task_id)
    with db.transaction() as cur:
        row = tasks_sql.get_any(cur, task_id)
    if outcome != "succeeded":
        raise RuntimeError(f"{kind} ended {outcome}: {row['error_message']}")
    return row


def run_queued(ids: dict) -> int:
    """Runs the tasks that others enqueued (an import's ANALYZE), as the worker would next."""
    from chalicelib.platform import db
    from chalicelib.tasks import engine

    with db.transaction() as cur:
        cur.execute("SELECT id FROM tasks WHERE status = 'QUEUED' ORDER BY id")
        queued = [row["id"] for row in cur.fetchall()]
    for task_id in queued:
        engine.run(task_id)
    return len(queued)


def fetch_artifact(s3, row: dict, path: Path) -> Path:
    s3.download_file(BUCKET, row["artifacts"][0]["key"], str(path))
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="georegistry-bench-"))
    root.chmod(0o755)
    cluster, dsn = start_cluster(root)
    moto = MotoServer(root)
    try:
        set_environment(dsn)
        os.environ |= {
            "EXPORTS_BUCKET": BUCKET,
            "UPLOADS_BUCKET": UPLOADS,
            "TASK_PROGRESS_INTERVAL_SECONDS": "1",
            "AWS_ENDPOINT_URL": moto.endpoint,
        }
        sqs = boto3.client("sqs", region_name="eu-west-1", endpoint_url=moto.endpoint)
        os.environ["TASKS_QUEUE_URL"] = sqs.create_queue(QueueName="bench-tasks")["QueueUrl"]
        s3 = boto3.client("s3", region_name="eu-west-1", endpoint_url=moto.endpoint)
        for bucket in (BUCKET, UPLOADS):
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        run(dsn, args, s3, root)
    finally:
        from chalicelib.platform import db

        db.close()
        moto.stop()
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


class MotoServer:
    """A moto server in a process of its own, over real HTTP: S3 is another machine in AWS, and moto
    in this process would spend the process's CPU (and GIL) on every uploaded part."""

    def __init__(self, root: Path):
        port = free_port()
        self.endpoint = f"http://127.0.0.1:{port}"
        self._log = open(root / "moto.log", "wb")  # noqa: SIM115 (closed in stop)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while not port_in_use(port):
            if time.monotonic() > deadline or self._process.poll() is not None:
                raise RuntimeError(f"the moto server did not start (see {root / 'moto.log'})")
            time.sleep(0.1)

    def stop(self) -> None:
        self._process.terminate()
        self._process.wait(timeout=10)
        self._log.close()


def run(dsn: str, args: argparse.Namespace, s3, root: Path) -> None:
    ids = setup(args.units, args.seed)
    version, pg = ids["version"], _ogr_dsn(dsn)
    select = (
        "SELECT id, name, source_ref, parent_id, coalesce(geom, location) AS geom"
        f" FROM org_units WHERE version_id = {version}"
    )
    print(f"exports of {args.units:,} units")
    ours_gpkg, row = timed(
        "ours: GeoPackage (Iaso's layout)",
        lambda: run_task("orgunits.export", {"what": "orgunits", "format": "gpkg", "filters": {}}, ids),
    )
    gpkg_file = fetch_artifact(s3, row, root / "ours.gpkg")
    anchor_gpkg, _ = timed(
        "anchor: ogr2ogr PostGIS -> GPKG",
        lambda: subprocess.run(
            ["ogr2ogr", "-f", "GPKG", str(root / "ogr.gpkg"), pg, "-sql", select, "-nln", "units"], check=True
        ),
    )
    ours_csv, row = timed(
        "ours: CSV (ancestors per level)",
        lambda: run_task("orgunits.export", {"what": "orgunits", "format": "csv", "filters": {}}, ids),
    )
    csv_file = fetch_artifact(s3, row, root / "ours.csv")
    anchor_copy, _ = timed(
        "anchor: COPY (SELECT ...) TO STDOUT", lambda: _copy_out(dsn, select, root / "copy.csv")
    )
    own_copy, _ = timed(
        "for scale: the COPY of our CSV's own columns, to a file",
        lambda: _our_copy_out(ids, root / "own.csv"),
    )
    print(
        f"  ratios: GPKG {ours_gpkg / anchor_gpkg:.2f}x ogr2ogr; CSV {ours_csv / anchor_copy:.2f}x COPY TO"
        f" ({ours_csv / own_copy:.2f}x the COPY of its own columns)"
    )

    print(f"imports of {args.units:,} units into a new version")
    results = {}
    for file_format, path in (("gpkg", gpkg_file), ("csv", csv_file)):
        key = f"imports/{ids['account']}/bench/{path.name}"
        s3.upload_file(str(path), UPLOADS, key)
        params = {
            "s3_key": key,
            "format": file_format,
            "data_source_id": ids["source"],
            "version_id": None,
            "skip_invalid": False,
            "close_missing": False,
            "dry_run": False,
        }
        results[file_format], growth, together, row = in_child(
            lambda p=params: run_task("orgunits.import", p, ids)
        )
        label = f"ours: {file_format} import (checks, paths, audit)"
        print(
            f"  {label:<52} {results[file_format]:8.2f} s   worker memory +{growth:5.0f} MB,"
            f" its reader {together:4.0f} MB",
            flush=True,
        )
        print(f"    {json.dumps(row['result'])}")
        timed(f"  then, after its commit: ANALYZE of the version ({file_format})", lambda: run_queued(ids))
        _settle(dsn)
    anchor_ogr, _ = timed(
        "anchor: ogr2ogr GPKG -> PostGIS (GiST index)",
        lambda: subprocess.run(
            [
                "ogr2ogr",
                "-f",
                "PostgreSQL",
                pg,
                str(root / "ogr.gpkg"),
                "-nln",
                "ogr_units",
                "-lco",
                "SPATIAL_INDEX=GIST",
            ],
            check=True,
        ),
    )
    _settle(dsn)
    anchor_bare, _ = timed(
        "anchor: COPY to staging, then INSERT into an indexed table", lambda: _copy_in(dsn, root / "copy.csv")
    )
    _settle(dsn)
    lines = _our_copy_lines(gpkg_file, root / "units.copy")
    anchor_floor, _ = timed(
        "floor: COPY of our lines, then our partition's indexes", lambda: _copy_and_index(dsn, lines)
    )
    print(
        f"  ratios: GPKG import {results['gpkg'] / anchor_ogr:.2f}x ogr2ogr; "
        f"CSV import {results['csv'] / anchor_bare:.2f}x COPY + INSERT; "
        f"GPKG import {results['gpkg'] / anchor_floor:.2f}x its floor"
    )


def _our_copy_lines(gpkg_file: Path, path: Path) -> Path:
    """The COPY lines our GeoPackage import sends for `gpkg_file` (read, checked, placed), in a file."""
    import functools
    import itertools

    from chalicelib.imports import (
        gpkg_reader,
        import_writer,
        read_ahead,
        tree_plan,
        unit_loader_sql,
        unit_model,
        unit_rows,
    )

    with gpkg_reader.opened(gpkg_file) as source, open(path, "wb") as out:
        placer = tree_plan.Placer(itertools.count(10**9), unit_model.ProblemList(), source.parents)
        target = unit_rows.Target(1, 1, 1, 1)
        type_ids = {name: 1 for _, name in source.levels}
        group_ids = {ref: 1 for ref in source.package.groups}
        encode = functools.partial(unit_rows.encoded_units, type_ids=type_ids, seen_uuids=None)
        batches = read_ahead.batches(source.features, encode, source.package.problems, in_process=True)
        placed = import_writer._placed(batches, placer, lambda done, total: None, source.count)
        rows = unit_rows.copy_lines(target, placed, group_ids, [])
        shutil.copyfileobj(unit_loader_sql._CopyStream(rows), out, unit_loader_sql.READ_SIZE)
    return path


def _copy_and_index(dsn: str, lines: Path) -> None:
    """What our import cannot go below with this schema: the database's part alone (the COPY of lines
    already made, then the indexes the partition's ATTACH builds), without Python's reading."""
    from chalicelib.imports import unit_loader_sql

    with psycopg2.connect(dsn) as conn, conn.cursor() as cur, open(lines, "rb") as source:
        cur.execute("SET statement_timeout = 0")
        cur.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'org_units_v1' AND indexdef NOT LIKE '%trgm%'"
        )
        indexes = [row[0].replace(" ON public.org_units_v1 ", " ON floor_units ") for row in cur.fetchall()]
        cur.execute("CREATE TABLE floor_units (LIKE org_units INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
        columns = ", ".join(unit_loader_sql.UNIT_COLUMNS)
        cur.copy_expert(f"COPY floor_units ({columns}) FROM STDIN", source, unit_loader_sql.READ_SIZE)
        for number, definition in enumerate(indexes):
            cur.execute(definition.replace(" INDEX org_units_v1_", f" INDEX floor_{number}_", 1))
        conn.rollback()


def _settle(dsn: str) -> None:
    """Untimed, after a step that loaded a million rows: the VACUUM that autovacuum would otherwise
    run on them during the next timed step (seen taking 5-10 s of a core in the middle of an import)."""
    connection = psycopg2.connect(dsn)
    connection.autocommit = True  # VACUUM runs outside a transaction (`with connection` would open one)
    try:
        connection.cursor().execute("VACUUM")
    finally:
        connection.close()


def _ogr_dsn(dsn: str) -> str:
    parts = psycopg2.extensions.parse_dsn(dsn)
    return f"PG:host={parts['host']} port={parts['port']} user={parts['user']} dbname={parts['dbname']}"


def _copy_out(dsn: str, select: str, path: Path) -> None:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur, open(path, "w") as out:
        cur.copy_expert(f"COPY ({select.replace('AS geom', 'AS geom_wkb')}) TO STDOUT WITH CSV HEADER", out)


def _our_copy_out(ids: dict, path: Path) -> None:
    """The CSV export's own COPY (its 28 columns, per-level ancestors included) into a local file: what
    the export costs without its upload to S3."""
    from chalicelib.exports import unit_export_sql
    from chalicelib.identity import authentication
    from chalicelib.platform import db
    from chalicelib.registry import unit_filters

    with db.transaction() as cur, open(path, "wb", buffering=1 << 20) as out:
        query, _ = unit_filters.parse(cur, authentication.principal_of_launcher(cur, ids["user"]), {}, None)
        levels = max(unit_export_sql.summary(cur, query, with_layers=False)["levels"], 1)
        unit_export_sql.copy_csv(cur, query, levels, out)


def _copy_in(dsn: str, path: Path) -> None:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur, open(path) as source:
        cur.execute("SET statement_timeout = 0")
        cur.execute(
            "CREATE UNLOGGED TABLE staging"
            " (id bigint, name text, source_ref text, parent_id bigint, geom text)"
        )
        cur.execute(
            "CREATE TABLE copied (id bigint PRIMARY KEY, name text, source_ref text, parent_id bigint,"
            " geom geometry(Geometry, 4326))"
        )
        cur.execute("CREATE INDEX ON copied (parent_id)")
        cur.execute("CREATE INDEX ON copied USING gist (geom)")
        cur.copy_expert("COPY staging FROM STDIN WITH CSV HEADER", source)
        cur.execute(
            "INSERT INTO copied"
            " SELECT id, name, source_ref, parent_id, ST_Force2D(geom::geometry) FROM staging"
        )


if __name__ == "__main__":
    sys.exit(main())
