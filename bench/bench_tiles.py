"""Vector tiles at zoom 6, 10 and 14 over the million-unit registry of bench_registry.py.

    .venv/bin/python -m bench.bench_tiles [--units 1000000] [--requests 300] [--warmup 20]
                                          [--anchor-requests 30] [--seed 42]

Builds the registry as bench_registry.py does (its own PostgreSQL 15 + PostGIS cluster, the account,
types and groups through the API, then SQL fills the version: 5,527 territories tiling West Africa
and the rest facilities as points). Then, per zoom, `--requests` tiles around random places of the
registry are fetched in-process through the route handlers (chalice.test.Client, Bearer token,
Accept: the tile type: routing, auth, the transaction, the statement, the ETag), after `--warmup`
untimed ones, as the account's admin (no filter: the fullest tiles), and as a viewer restricted to
one region with a filter (validation_status=VALID), which adds the subtree's and the filter's clauses.

Anchors, on the same tiles: ST_AsMVT alone, the textbook statement (every unit in the tile, one layer,
ST_AsMVTGeom of the projected geometry, nothing simplified, capped or left out), through psycopg2;
and our own statement alone through psycopg2 (what the app adds around it). Targets: p99 <= 25 ms per
tile, tiles <= 500 KB. Figures: bench/README.md.
"""

import argparse
import json
import math
import random
import statistics
import sys
import time

import psycopg2

from bench.bench_registry import (
    ADMIN_EMAIL,
    EAST,
    GROUPS,
    NORTH,
    PASSWORD,
    REPO,
    SOUTH,
    UPPER_UNITS,
    WEST,
    load,
    on_own_cluster,
    percentile,
    post,
)

ZOOMS = (6, 10, 14)
TARGET_MS, TARGET_BYTES = 25.0, 500_000
MVT = "application/vnd.mapbox-vector-tile"
TEXTBOOK = """
SELECT ST_AsMVT(q, 'units', 4096, 'geom', 'id') AS mvt FROM (
    SELECT ou.id, ou.name, ou.org_unit_type_id AS type_id, ou.validation_status AS status,
           ST_AsMVTGeom(ST_Transform(coalesce(ou.geom, ou.location), 3857),
                        ST_TileEnvelope(%(z)s, %(x)s, %(y)s), 4096, 64, true) AS geom
    FROM org_units ou
    WHERE ou.version_id = %(version)s AND ou.deleted_at IS NULL
      AND (ou.geom && ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s), 4326)
           OR ou.location && ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s), 4326))
) q
"""


def tile_at(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2**z
    return z, int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


def random_tiles(rng: random.Random, z: int, count: int) -> list[tuple[int, int, int]]:
    return [tile_at(rng.uniform(WEST, EAST), rng.uniform(SOUTH, NORTH), z) for _ in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument(
        "--anchor-requests", type=int, default=30, help="the textbook statement is slow at z6"
    )
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    if args.units <= UPPER_UNITS:
        parser.error(f"--units must exceed the {UPPER_UNITS} units above the facilities")
    on_own_cluster(run, args)


def run(dsn: str, args: argparse.Namespace) -> None:
    from chalice.test import Client

    from app import app
    from chalicelib import cli
    from chalicelib.identity import accounts, credentials, users_sql
    from chalicelib.platform import db

    cli.run_migrations()
    with db.transaction() as cur:
        created = accounts.bootstrap(
            cur, "Bench Ministry", ADMIN_EMAIL, PASSWORD, "Malaria", "org.bench.malaria"
        )
        viewer_id = users_sql.create(
            cur, created["account"]["id"], "viewer@bench.example.org", "Viewer", "viewer",
            credentials.hash_password(PASSWORD),
        )  # fmt: skip
    ids = {
        "account": created["account"]["id"],
        "project": created["project"]["id"],
        "user": created["user"]["id"],
    }
    rng = random.Random(args.seed)
    with Client(app, stage_name="test", project_dir=str(REPO)) as client:
        token = login(client, ADMIN_EMAIL)
        build_reference_data(client, token, ids)
        load(dsn, ids, args.units, args.seed)
        region = restrict_viewer(client, token, dsn, ids["version"], viewer_id)
        viewer = login(client, "viewer@bench.example.org")
        rows = []
        for z in ZOOMS:
            tiles = random_tiles(rng, z, args.warmup + args.requests)
            rows.append(measure(client, dsn, token, tiles, args, f"z{z}", ids["version"]))
        for z in ZOOMS:
            tiles = [
                tile_at(rng.uniform(*region[0]), rng.uniform(*region[1]), z) for _ in range(args.warmup + 100)
            ]
            query = "?validation_status=VALID"
            rows.append(
                measure(client, dsn, viewer, tiles, args, f"z{z} viewer, 1 region, VALID", None, query)
            )
    print_table(rows, args)


def login(client, email: str) -> str:
    body = json.dumps({"email": email, "password": PASSWORD}).encode()
    answer = client.http.request(
        "POST", "/api/auth/login", headers={"Content-Type": "application/json"}, body=body
    )
    return json.loads(answer.body)["token"]


def build_reference_data(client, token: str, ids: dict) -> None:
    """bench_registry's data source, types and groups, through the API."""
    source = post(client, token, "/api/data-sources", {"name": "Pyramide sanitaire"})
    ids["version"] = source["default_version_id"]
    below: list[int] = []
    for key, name, depth in (("t_facility", "Facility", 4), ("t_area", "HealthArea", 3),
                             ("t_district", "District", 2), ("t_region", "Region", 1),
                             ("t_country", "Country", 0)):  # fmt: skip
        body = {"name": name, "short_name": name[:3].upper(), "depth": depth, "sub_type_ids": below}
        ids[key] = post(client, token, "/api/orgunit-types", body)["id"]
        below = [ids[key]]
    ids["groups"] = [
        post(
            client, token, "/api/groups", {"version_id": ids["version"], "name": name, "source_ref": f"G{i}"}
        )["id"]
        for i, name in enumerate(GROUPS)
    ]


def restrict_viewer(client, token: str, dsn: str, version_id: int, viewer_id: int) -> tuple:
    """Restricts the viewer to one region (the first); returns its extent, (west, east), (south, north)."""
    conn = psycopg2.connect(dsn)
    with conn.cursor() as cur:
        cur.execute(
            "SELECT id, ST_XMin(geom), ST_XMax(geom), ST_YMin(geom), ST_YMax(geom) FROM org_units"
            " WHERE version_id = %s AND depth = 1 ORDER BY id LIMIT 1",
            (version_id,),
        )
        region_id, west, east, south, north = cur.fetchone()
    conn.close()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    body = json.dumps({"org_unit_ids": [region_id]}).encode()
    answer = client.http.request("PATCH", f"/api/users/{viewer_id}", headers=headers, body=body)
    assert answer.status_code == 200, answer.body
    print(f"viewer restricted to region {region_id}: {west:.2f}..{east:.2f} E, {south:.2f}..{north:.2f} N")
    return (west, east), (south, north)


def measure(client, dsn, token, tiles, args, label, version_id, query="") -> dict:
    """Our tiles through the route handlers; for the admin's rows also the two anchors."""
    headers = {"Authorization": f"Bearer {token}", "Accept": MVT}
    seconds, sizes, features = [], [], []
    for i, (z, x, y) in enumerate(tiles):
        begin = time.perf_counter()
        answer = client.http.request("GET", f"/api/tiles/{z}/{x}/{y}.mvt{query}", headers=headers)
        elapsed = time.perf_counter() - begin
        if answer.status_code not in (200, 204):
            raise RuntimeError(f"tile {z}/{x}/{y} answered {answer.status_code}: {answer.body[:300]!r}")
        if i >= args.warmup:
            seconds.append(elapsed)
            sizes.append(len(answer.body))
            features.append(_overflowing(answer.body))
    row = {"label": label, "seconds": seconds, "sizes": sizes, "overflow": sum(features), "n": len(seconds)}
    if version_id is not None:
        sample = tiles[args.warmup :][: args.anchor_requests]
        row["textbook"] = anchor(dsn, sample, lambda t: (TEXTBOOK, {"version": version_id} | _zxy(t)))
        row["statement"] = anchor(dsn, sample, lambda t: _our_statement(version_id, t))
        row["ours_on_sample"] = seconds[: len(sample)]
    _print_row(row)
    return row


def _zxy(t: tuple[int, int, int]) -> dict:
    return {"z": t[0], "x": t[1], "y": t[2]}


def _our_statement(version_id: int, t: tuple[int, int, int]) -> tuple[str, dict]:
    """The statement the admin's request runs: no filter, no scope, the zoom's territory column."""
    from chalicelib.registry import tiles, tiles_sql
    from chalicelib.registry.units_sql import Query

    at = tiles.Address(*t)
    column = "simplified_geom" if at.z <= tiles.PRECOMPUTED_UNTIL else "geom"
    sql, params = tiles_sql.tile_statement(Query(version_id), column)
    return sql, params | tiles.settings(at)


def anchor(dsn: str, sample: list, statement) -> dict:
    from chalicelib.registry import tiles_sql

    conn = psycopg2.connect(dsn)
    seconds, sizes = [], []
    with conn.cursor() as cur:
        cur.execute("SET statement_timeout = 0")
        cur.execute(tiles_sql.PLAIN_PLAN)  # as the app runs its statement, for both anchors
        sql, params = statement(sample[0])
        cur.execute(sql, params)  # warm
        for t in sample:
            sql, params = statement(t)
            begin = time.perf_counter()
            cur.execute(sql, params)
            mvt = cur.fetchone()[0]
            seconds.append(time.perf_counter() - begin)
            sizes.append(len(bytes(mvt or b"")))
    conn.close()
    return {"seconds": seconds, "sizes": sizes}


def _overflowing(body: bytes) -> bool:
    return b"overflow" in body  # the layer's name, as MVT stores it in the clear


def _ms(values: list[float], share: float) -> float:
    return percentile(values, share) * 1000


def _print_row(row: dict) -> None:
    s, sizes = row["seconds"], row["sizes"]
    line = (
        f"  {row['label']:<32} p50 {_ms(s, 0.5):6.2f} ms  p99 {_ms(s, 0.99):6.2f} ms"
        f"  max {max(s) * 1000:6.2f} ms  size p50 {statistics.median(sizes) / 1000:6.1f} KB"
        f"  max {max(sizes) / 1000:6.1f} KB  overflow {row['overflow']}/{row['n']}"
    )
    for name in ("textbook", "statement"):
        if name in row:
            a = row[name]
            ratio = statistics.median(row["ours_on_sample"]) / statistics.median(a["seconds"])
            line += (
                f"\n    anchor {name:<9} p50 {_ms(a['seconds'], 0.5):8.2f} ms"
                f"  p99 {_ms(a['seconds'], 0.99):8.2f} ms"
                f"  size p50 {statistics.median(a['sizes']) / 1000:8.1f} KB"
                f"  max {max(a['sizes']) / 1000:8.1f} KB  ratio ours/anchor (p50, same tiles) {ratio:.2f}x"
            )
    print(line)


def print_table(rows: list[dict], args: argparse.Namespace) -> None:
    print(
        f"\n{args.units:,} units, {args.requests} tiles a zoom for the admin, 100 for the viewer; markdown:\n"
    )
    print("| tiles | p50 | p99 | max | size p50 | size max | overflow | textbook ST_AsMVT p50 | size p50 "
          "| ratio | our statement alone p50 | ratio | p99 <= 25 ms, <= 500 KB |")  # fmt: skip
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for row in rows:
        s, sizes = row["seconds"], row["sizes"]
        cells = [row["label"], f"{_ms(s, 0.5):.2f} ms", f"{_ms(s, 0.99):.2f} ms", f"{max(s) * 1000:.2f} ms"]
        cells += [f"{statistics.median(sizes) / 1000:.1f} KB", f"{max(sizes) / 1000:.1f} KB"]
        cells += [f"{row['overflow']}/{row['n']}"]
        for name in ("textbook", "statement"):
            if name in row:
                a = row[name]
                ratio = statistics.median(row["ours_on_sample"]) / statistics.median(a["seconds"])
                cells += [f"{_ms(a['seconds'], 0.5):.2f} ms"]
                cells += [f"{statistics.median(a['sizes']) / 1000:.1f} KB"] if name == "textbook" else []
                cells += [f"{ratio:.2f}×"]
            else:
                cells += ["–", "–", "–"] if name == "textbook" else ["–", "–"]
        met = _ms(s, 0.99) <= TARGET_MS and max(sizes) <= TARGET_BYTES
        cells.append("yes" if met else "**no**")
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
