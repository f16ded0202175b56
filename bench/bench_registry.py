"""Registry reads at a million org units, through the API, with the query plans behind them.

    .venv/bin/python -m bench.bench_registry [--units 1000000] [--requests 300] [--warmup 20]
                                             [--seed 42] [--plans full|summary]

Starts a throwaway PostgreSQL 15 + PostGIS cluster (shared_buffers 1 GB, what RDS gives a 4 GB
instance), migrates it, and builds a registry the way a user would: an account with its admin and
project, then through the API a data source (its first version becomes the account default), the
org-unit types Country > Region > District > HealthArea > Facility and five groups. Then SQL fills
that version's partition with a generated pyramid: 1 country, 26 regions, 500 districts and 5,000
health areas (MultiPolygons tiling West Africa between 17°W-2°W and 6°N-13.5°N), and the rest
facilities (PointZ inside their health area), about 10% of them in a group; 95% VALID, 0.3%
soft-deleted, updated_at spread over two years; VACUUM ANALYZE.

Each read is then timed in-process through the route handlers (chalice.test.Client with a Bearer
token: routing, auth, the transaction, every query and the JSON response), `--requests` times after
`--warmup` untimed ones, on random targets. An authenticated `GET /api/me` is the anchor: the fixed
cost of any request. Last, a typical and the slowest request of each kind are replayed with their SQL
captured (the app's cursor is swapped for one that records what it sends), and every statement that
reads org_units runs again under EXPLAIN (ANALYZE, BUFFERS) to show which index it uses. Target: p99
<= 10 ms. Figures and the proposed fixes for the misses: bench/README.md.
"""

import argparse
import datetime
import json
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import psycopg2.extensions
import psycopg2.extras

from devstack.postgres import Cluster, free_port

REPO = Path(__file__).resolve().parents[1]
ADMIN_EMAIL = "admin@bench.example.org"
PASSWORD = "bench-password-1"
TARGET_MS = 10.0
SERVER_SETTINGS = {  # RDS's defaults for a 4 GB instance, plus room for the bulk load
    "shared_buffers": "1GB",
    "effective_cache_size": "3GB",
    "maintenance_work_mem": "512MB",
    "max_wal_size": "8GB",
}

# The generated pyramid: a grid of 100 x 50 health areas of 0.15°; a district is 2 x 5 of them.
REGIONS, DISTRICTS, HEALTH_AREAS = 26, 500, 5000
UPPER_UNITS = 1 + REGIONS + DISTRICTS + HEALTH_AREAS
WEST, SOUTH, CELL = -17.0, 6.0, 0.15
EAST, NORTH = WEST + 100 * CELL, SOUTH + 50 * CELL

# Names: 2 or 3 syllables (West-African-looking), built so that a 3-letter prefix is shared by a
# handful to ~1,500 of a million units: the first syllable is mostly consonant + plain vowel + one
# more letter, since a digraph (ou, ai) or a two-letter onset (ng, dj) would fix all three letters.
FIRST_ONSETS = list("kbsmdtngyflwzhrpcv")
ONSETS = FIRST_ONSETS + ["dj", "ny", "ng", "mb", "nd", "kp", "gb", "ch", "ts", "sh", "j"]
FIRST_VOWELS = (
    ["a"] * 12 + ["o"] * 12 + ["i"] * 12 + ["e"] * 8 + ["é"] * 3 + ["è"] + ["u"] * 12 + ["ou", "ai", "ia"]
)
VOWELS = ["a", "o", "ou", "i", "e", "é", "u", "ia", "è", "ai"]
CODAS = ["n", "m", "r", "l", "s", "k", "b", "g", "t"]
FACILITY_KINDS = ["Poste de Santé", "CSPS", "Centre de Santé", "Case de Santé", "Dispensaire", "CSCom",
                  "Maternité", "Clinique", "Cabinet de Soins", "Hôpital de District"]  # fmt: skip
GROUPS = ["Public", "Privé", "Confessionnel", "Communautaire", "Militaire"]


def sql_array(items: list[str]) -> str:
    return "ARRAY[" + ", ".join("'" + item.replace("'", "''") + "'" for item in items) + "]"


def pick(items: list[str]) -> str:
    return f"({sql_array(items)})[1 + floor(random() * {len(items)})::int]"


PLACE_NAME = f"""
CREATE FUNCTION pg_temp.place_name() RETURNS text LANGUAGE plpgsql VOLATILE AS $f$
DECLARE
    word text;
    start float8 := random();
BEGIN
    word := CASE WHEN start < 0.06 THEN '' WHEN start < 0.12 THEN {pick(ONSETS)} ELSE {pick(FIRST_ONSETS)} END
        || {pick(FIRST_VOWELS)} || CASE WHEN random() < 0.3 THEN {pick(CODAS)} ELSE '' END;
    FOR i IN 1 .. 1 + (random() < 0.5)::int LOOP
        word := word || {pick(ONSETS)} || {pick(VOWELS)} || CASE WHEN random() < 0.12 THEN 'n' ELSE '' END;
    END LOOP;
    RETURN upper(left(word, 1)) || substr(word, 2);
END
$f$
"""

COLUMNS = """id, version_id, account_id, parent_id, org_unit_type_id, name, code, source_ref,
    validation_status, geom, simplified_geom, path, depth, created_by, updated_by, created_at, updated_at"""
TERRITORY = "ST_Multi(ST_Segmentize({env}, {step}))"
CHANGED = "now() - random() * interval '730 days'"

LOAD_STEPS: list[tuple[str, str]] = [
    (
        "country",
        f"""
CREATE TEMP TABLE b_country AS
SELECT id, '/' || id || '/' AS path FROM (SELECT nextval('org_units_id_seq') AS id) s;
INSERT INTO org_units ({COLUMNS})
SELECT id, %(version)s, %(account)s, NULL, %(t_country)s, pg_temp.place_name(), 'BX', 'CTRY-0', 'VALID',
       g, ST_Multi(ST_SimplifyPreserveTopology(g, 0.0005)), path, 0, %(user)s, %(user)s, ts, ts
FROM b_country, LATERAL (
    SELECT {TERRITORY.format(env=f"ST_MakeEnvelope({WEST}, {SOUTH}, {EAST}, {NORTH}, 4326)", step=0.05)} AS g,
           {CHANGED} AS ts) x;
""",
    ),
    (
        "regions",
        f"""
-- Districts are numbered column by column; a region is a run of ~19 of them (a strip, or an L).
CREATE TEMP TABLE b_cell AS
SELECT d, d * {REGIONS} / {DISTRICTS} AS r,
       ST_MakeEnvelope({WEST} + (d / 10) * 2 * {CELL}, {SOUTH} + mod(d, 10) * 5 * {CELL},
                       {WEST} + ((d / 10) * 2 + 2) * {CELL}, {SOUTH} + (mod(d, 10) * 5 + 5) * {CELL},
                       4326) AS env
FROM generate_series(0, {DISTRICTS - 1}) d;
CREATE TEMP TABLE b_region AS
SELECT y.*, c.path || y.id || '/' AS path FROM (
    SELECT nextval('org_units_id_seq') AS id, x.* FROM (
        SELECT r, {TERRITORY.format(env="ST_Union(env)", step=0.05)} AS g FROM b_cell GROUP BY r ORDER BY r
    ) x
) y, b_country c;
INSERT INTO org_units ({COLUMNS})
SELECT rg.id, %(version)s, %(account)s, c.id, %(t_region)s, pg_temp.place_name(),
       'R' || lpad(r::text, 2, '0'), 'REG-' || r, 'VALID', g,
       ST_Multi(ST_SimplifyPreserveTopology(g, 0.0005)), rg.path, 1, %(user)s, %(user)s, ts, ts
FROM (SELECT *, {CHANGED} AS ts FROM b_region) rg, b_country c;
""",
    ),
    (
        "districts",
        f"""
CREATE TEMP TABLE b_district AS
SELECT y.*, rg.id AS parent_id, rg.path || y.id || '/' AS path FROM (
    SELECT nextval('org_units_id_seq') AS id, x.* FROM (SELECT d, r, env FROM b_cell ORDER BY d) x
) y JOIN b_region rg USING (r);
INSERT INTO org_units ({COLUMNS})
SELECT id, %(version)s, %(account)s, parent_id, %(t_district)s, pg_temp.place_name(),
       'D' || lpad(d::text, 3, '0'), 'DIS-' || d, 'VALID', g,
       ST_Multi(ST_SimplifyPreserveTopology(g, 0.0005)), path, 2, %(user)s, %(user)s, ts, ts
FROM b_district, LATERAL (SELECT {TERRITORY.format(env="env", step=0.05)} AS g, {CHANGED} AS ts) x;
""",
    ),
    (
        "health areas",
        f"""
CREATE TEMP TABLE b_ha AS
SELECT y.*, dd.id AS parent_id, dd.path || y.id || '/' AS path FROM (
    SELECT nextval('org_units_id_seq') AS id, x.* FROM (
        SELECT h, h / 50 AS cx, mod(h, 50) AS cy, (h / 100) * 10 + mod(h, 50) / 5 AS d,
               0.3 + random() * 1.4 AS weight
        FROM generate_series(0, {HEALTH_AREAS - 1}) h ORDER BY 4, 1
    ) x
) y JOIN b_district dd USING (d);
-- How many facilities each health area gets: proportional to its weight (60 to 340 at 1M units).
CREATE TEMP TABLE b_ha_n AS
SELECT id, (upto - coalesce(lag(upto) OVER (ORDER BY id), 0))::int AS n FROM (
    SELECT id, round(%(facilities)s * sum(weight) OVER (ORDER BY id) / (SELECT sum(weight) FROM b_ha)) AS upto
    FROM b_ha
) s;
INSERT INTO org_units ({COLUMNS})
SELECT id, %(version)s, %(account)s, parent_id, %(t_area)s, pg_temp.place_name(),
       'A' || lpad(h::text, 4, '0'), 'HA-' || h, 'VALID', g,
       ST_Multi(ST_SimplifyPreserveTopology(g, 0.0005)), path, 3, %(user)s, %(user)s, ts, ts
FROM b_ha, LATERAL (
    SELECT {
            TERRITORY.format(
                env=f"ST_MakeEnvelope({WEST} + cx * {CELL}, {SOUTH} + cy * {CELL}, "
                f"{WEST} + (cx + 1) * {CELL}, {SOUTH} + (cy + 1) * {CELL}, 4326)",
                step=0.03,
            )
        } AS g, {CHANGED} AS ts) x;
""",
    ),
    (
        # Statistics before the big insert: the foreign-key checks on parent_id plan their lookup once
        # per session, and planned against a near-empty partition they pick an index led by
        # (version_id, updated_at) over the primary key, which makes each check a scan of the version.
        "ANALYZE of the upper levels",
        "ANALYZE org_units",
    ),
    (
        "facilities",
        f"""
INSERT INTO org_units (id, version_id, account_id, parent_id, org_unit_type_id, name, code, source_ref,
                       validation_status, location, path, depth, deleted_at, created_by, updated_by,
                       created_at, updated_at)
SELECT id, %(version)s, %(account)s, parent_id, %(t_facility)s,
       pg_temp.place_name() || ' ' ||
           ({sql_array(FACILITY_KINDS)})[1 + floor(power(random(), 2) * {len(FACILITY_KINDS)})::int],
       CASE WHEN random() < 0.8 THEN 'FS' || lpad(seq::text, 7, '0') END,
       'FAC-' || lpad(seq::text, 7, '0'),
       CASE WHEN random() < 0.95 THEN 'VALID' WHEN random() < 0.6 THEN 'NEW' ELSE 'REJECTED' END,
       ST_SetSRID(ST_MakePoint({WEST} + (cx + random()) * {CELL}, {SOUTH} + (cy + random()) * {CELL},
                               round(random() * 400)), 4326),
       path || id || '/', 4, CASE WHEN random() < 0.003 THEN changed END, %(user)s, %(user)s,
       changed - random() * interval '365 days', changed
FROM (
    SELECT nextval('org_units_id_seq') AS id, {CHANGED} AS changed, x.* FROM (
        SELECT ha.id AS parent_id, ha.path, ha.cx, ha.cy, row_number() OVER (ORDER BY ha.id, k) AS seq
        FROM b_ha ha JOIN b_ha_n USING (id), generate_series(1, b_ha_n.n) k
        ORDER BY ha.id, k
    ) x
) f;
""",
    ),
    (
        "groups (10% of facilities)",
        """
INSERT INTO org_unit_groups (account_id, version_id, org_unit_id, group_id)
SELECT %(account)s, %(version)s, id, (%(groups)s::bigint[])[1 + floor(random() * %(group_count)s)::int]
FROM org_units WHERE version_id = %(version)s AND depth = 4 AND random() < 0.1;
""",
    ),
]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def start_cluster(root: Path) -> tuple[Cluster, str]:
    cluster = Cluster(root / "pg", free_port(), durable=True)
    cluster.start()
    conn = psycopg2.connect(cluster.dsn())
    conn.autocommit = True
    with conn.cursor() as cur:
        for name, value in SERVER_SETTINGS.items():
            cur.execute(f"ALTER SYSTEM SET {name} = %s", (value,))
    conn.close()
    cluster.stop()
    cluster.start()
    return cluster, cluster.create_database("bench")


def set_environment(dsn: str) -> None:
    os.environ.update(
        {
            "STAGE": "test",
            "DATABASE_URL": dsn,
            "TOKEN_SECRET": "bench-token-secret",
            "POWERTOOLS_SERVICE_NAME": "georegistry",
            "POWERTOOLS_METRICS_NAMESPACE": "georegistry",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "eu-west-1",
            "AWS_REGION": "eu-west-1",
        }
    )
    for leaked in ("DB_SECRET_ARN", "TOKEN_SECRET_ARN", "AWS_ENDPOINT_URL", "AWS_PROFILE"):
        os.environ.pop(leaked, None)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--plans", choices=("full", "summary"), default="full", help="print whole plans")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # progress shows as it happens, even into a file
    if args.units <= UPPER_UNITS:
        parser.error(f"--units must exceed the {UPPER_UNITS} units above the facilities")
    on_own_cluster(run, args)


def on_own_cluster(run, args) -> None:
    """run(dsn, args) against a throwaway PostgreSQL + PostGIS cluster, removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix="georegistry-bench-"))
    root.chmod(0o755)  # the server may run as the postgres user
    cluster, dsn = start_cluster(root)
    try:
        set_environment(dsn)
        run(dsn, args)
    finally:
        from chalicelib.platform import db

        db.close()
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


class Api:
    """GET requests through the route handlers, as the tests make them."""

    def __init__(self, client, token: str):
        self.client, self.headers = client, {"Authorization": f"Bearer {token}"}

    def get(self, path: str) -> tuple[float, dict]:
        begin = time.perf_counter()
        response = self.client.http.request("GET", path, headers=self.headers)
        elapsed = time.perf_counter() - begin
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code}: {response.body[:500]!r}")
        return elapsed, json.loads(response.body)


def post(client, token: str, path: str, body: dict) -> dict:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    response = client.http.request("POST", path, headers=headers, body=json.dumps(body).encode())
    if response.status_code != 201:
        raise RuntimeError(f"POST {path} answered {response.status_code}: {response.body[:500]!r}")
    return json.loads(response.body)


def run(dsn: str, args: argparse.Namespace) -> None:
    from chalice.test import Client

    from app import app
    from chalicelib import cli
    from chalicelib.identity import accounts
    from chalicelib.platform import db

    cli.run_migrations()
    with db.transaction() as cur:
        created = accounts.bootstrap(
            cur, "Bench Ministry", ADMIN_EMAIL, PASSWORD, "Malaria", "org.bench.malaria"
        )
    ids = {
        "account": created["account"]["id"],
        "project": created["project"]["id"],
        "user": created["user"]["id"],
    }
    with Client(app, stage_name="test", project_dir=str(REPO)) as client:
        login = client.http.request(
            "POST",
            "/api/auth/login",
            headers={"Content-Type": "application/json"},
            body=json.dumps({"email": ADMIN_EMAIL, "password": PASSWORD}).encode(),
        )
        token = json.loads(login.body)["token"]
        source = post(client, token, "/api/data-sources", {"name": "Pyramide sanitaire"})
        ids["version"] = source["default_version_id"]
        below = []
        for key, name, depth in (("t_facility", "Facility", 4), ("t_area", "HealthArea", 3),
                                 ("t_district", "District", 2), ("t_region", "Region", 1),
                                 ("t_country", "Country", 0)):  # fmt: skip
            body = {"name": name, "short_name": name[:3].upper(), "depth": depth, "sub_type_ids": below}
            ids[key] = post(client, token, "/api/orgunit-types", body)["id"]
            below = [ids[key]]
        ids["groups"] = [
            post(
                client,
                token,
                "/api/groups",
                {"version_id": ids["version"], "name": name, "source_ref": f"G{i}"},
            )["id"]
            for i, name in enumerate(GROUPS)
        ]
        print(
            f"account {ids['account']}, project {ids['project']}, version {ids['version']} (the default), "
            f"types and {len(GROUPS)} groups created through the API"
        )
        load(dsn, ids, args.units, args.seed)
        samples = Samples(dsn, ids["version"], args.seed)
        api = Api(client, token)
        cases = build_cases(api, samples, ids["project"])
        print(f"timing {args.requests} requests of each kind (after {args.warmup} warm-up), in-process:")
        results, slowest = [], {}
        for case in cases:
            timings: dict[str, list[float]] = {}
            for i in range(args.warmup + args.requests):
                for name, seconds, path in case.step():
                    if i < args.warmup:
                        continue
                    timings.setdefault(name, []).append(seconds)
                    if seconds > slowest.get(name, (0.0, ""))[0]:
                        slowest[name] = (seconds, path)
            for name, values in timings.items():
                results.append(Result(name, case, values))
                print(
                    f"  {name:<40} p50 {statistics.median(values) * 1000:6.2f} ms"
                    f"  p99 {percentile(values, 0.99) * 1000:6.2f} ms  max {max(values) * 1000:6.2f} ms"
                )
        plans = explain_cases(dsn, api, cases, slowest, args.plans == "full")
    print_table(results, plans, args)


@dataclass
class Case:
    label: str
    route: str
    step: Callable[[], list[tuple[str, float, str]]]  # one round: (what, seconds, path) per request


@dataclass
class Result:
    name: str
    case: Case
    seconds: list[float]


class Samples:
    """Random targets drawn from the generated data."""

    def __init__(self, dsn: str, version_id: int, seed: int):
        self.rng = random.Random(seed)
        conn = psycopg2.connect(dsn)
        with conn.cursor() as cur:
            cur.execute("SET statement_timeout = 0")
            cur.execute(
                "SELECT depth, array_agg(id ORDER BY id) FROM org_units"
                " WHERE version_id = %s AND depth IN (2, 3) GROUP BY depth",
                (version_id,),
            )
            by_depth = dict(cur.fetchall())
            self.districts, self.areas = by_depth[2], by_depth[3]
            cur.execute(
                "SELECT min(id), max(id), min(updated_at), max(updated_at) FROM org_units"
                " WHERE version_id = %s AND depth = 4",
                (version_id,),
            )
            low, high, self.oldest, self.newest = cur.fetchone()
            picks = self.rng.sample(range(low, high + 1), min(20_000, high - low + 1))
            cur.execute(
                "SELECT id, name FROM org_units"
                " WHERE version_id = %s AND id = ANY(%s) AND deleted_at IS NULL",
                (version_id, picks),
            )
            rows = cur.fetchall()
            self.facilities = [row[0] for row in rows]
            cur.execute(
                "SELECT name FROM org_units WHERE version_id = %s AND id = ANY(%s)",
                (version_id, self.rng.sample(self.districts + self.areas, 500)),
            )
            names = [row[1] for row in rows[:5000]] + [row[0] for row in cur.fetchall()]
            self.prefixes = [name[:3] for name in names]
            self.prefix_stats(cur, version_id)
        conn.close()

    def prefix_stats(self, cur, version_id: int) -> None:
        cur.execute(
            "SELECT count(*) FROM org_units WHERE version_id = %s GROUP BY left(search_text(name), 3)",
            (version_id,),
        )
        counts = sorted(row[0] for row in cur.fetchall())
        print(
            f"name prefixes: {len(counts)} distinct 3-letter prefixes; units per prefix: min {counts[0]}, "
            f"median {statistics.median(counts):.0f}, p90 {percentile(counts, 0.9)}, max {counts[-1]}"
        )
        searched = self.rng.sample(self.prefixes, 200)
        matches = []
        for prefix in searched:
            cur.execute(
                "SELECT count(*) FROM org_units"
                " WHERE version_id = %s AND search_text(name) LIKE search_text(%s)",
                (version_id, prefix + "%"),
            )
            matches.append(cur.fetchone()[0])
        print(
            "  prefixes searched (taken from random units' names, so common ones come more often)"
            f" match: median {statistics.median(matches):.0f}, p90 {percentile(matches, 0.9)},"
            f" max {max(matches)} units"
        )

    def since(self) -> datetime.datetime:
        span = (self.newest - self.oldest).total_seconds() - 86_400
        return self.oldest + datetime.timedelta(seconds=self.rng.uniform(0, span))


def build_cases(api: Api, samples: Samples, project_id: int) -> list[Case]:
    rng = samples.rng

    def single(label: str, route: str, make_path: Callable[[], str]) -> Case:
        def step() -> list[tuple[str, float, str]]:
            path = make_path()
            return [(label, api.get(path)[0], path)]

        return Case(label, route, step)

    def mobile() -> list[tuple[str, float, str]]:
        since = urllib.parse.quote(samples.since().isoformat())
        path = f"/api/mobile/orgunits?project={project_id}&limit=100&since={since}"
        seconds, page = api.get(path)
        timed = [("mobile sync: first page since a time", seconds, path)]
        if page["next_cursor"]:
            path += f"&cursor={urllib.parse.quote(page['next_cursor'])}"
            timed.append(("mobile sync: next page (cursor)", api.get(path)[0], path))
        return timed

    def children() -> str:
        parent = rng.choice(samples.districts if rng.random() < 0.5 else samples.areas)
        return f"/api/orgunits?parent={parent}&limit=50"

    def descendants() -> str:
        return f"/api/orgunits?descendants_of={rng.choice(samples.districts)}&count=true&limit=1"

    def locate() -> str:
        return f"/api/orgunits/locate?lat={rng.uniform(SOUTH, NORTH):.5f}&lon={rng.uniform(WEST, EAST):.5f}"

    def search() -> str:
        return (
            f"/api/orgunits?search={urllib.parse.quote(rng.choice(samples.prefixes))}&match=prefix&limit=20"
        )

    return [
        single("anchor: GET /api/me", "GET /api/me", lambda: "/api/me"),
        single("unit with ancestors", "GET /api/orgunits/{facility}",
               lambda: f"/api/orgunits/{rng.choice(samples.facilities)}"),
        single("children, limit 50", "GET /api/orgunits?parent={district|area}&limit=50", children),
        single("descendants count of a district",
               "GET /api/orgunits?descendants_of={district}&count=true&limit=1", descendants),
        single("locate a point", "GET /api/orgunits/locate?lat=&lon=", locate),
        single("name prefix search, limit 20", "GET /api/orgunits?search={3 letters}&match=prefix&limit=20",
               search),
        Case("mobile sync", "GET /api/mobile/orgunits?project=&limit=100&since=[&cursor=]", mobile),
    ]  # fmt: skip


@contextmanager
def captured_sql():
    """Every statement the app sends, as the server receives it, while the block runs."""
    from chalicelib.platform import db

    statements: list[str] = []

    class Cursor(psycopg2.extras.RealDictCursor):
        def execute(self, query, vars=None):
            try:
                return super().execute(query, vars)
            finally:
                statements.append(self.query.decode() if self.query else str(query))

    class Connection(psycopg2.extensions.connection):
        def cursor(self, *args, **kwargs):
            kwargs["cursor_factory"] = Cursor
            return super().cursor(*args, **kwargs)

    original = db.connect
    db.close()
    db.connect = lambda refresh_secret=False: psycopg2.connect(db.dsn(), connection_factory=Connection)
    try:
        yield statements
    finally:
        db.close()
        db.connect = original


SCAN = re.compile(r"(Index Only Scan|Index Scan|Bitmap Index Scan|Seq Scan)(?: Backward)? (?:using|on) (\S+)")
REMOVED = re.compile(r"Rows Removed by Filter: (\d+)")


def scans_of(plan: list[str], parent_index: dict[str, str]) -> list[str]:
    """'Index Scan org_units_pkey (filter removed 68,029 rows)': each scan, named by the migration's
    index name, with what its filter threw away when that is a lot."""
    found = []
    for number, line in enumerate(plan):
        match = SCAN.search(line)
        if not match:
            continue
        node, name = match.groups()
        depth = len(line) - len(line.lstrip(" "))
        removed = 0
        for below in plan[number + 1 :]:
            if len(below) - len(below.lstrip(" ")) <= depth:
                break
            hit = REMOVED.search(below)
            removed = max(removed, int(hit.group(1))) if hit else removed
        shown = f"{node} {parent_index.get(name, name)}" + (
            f" (filter removed {removed:,} rows)" if removed >= 1000 else ""
        )
        if shown not in found:
            found.append(shown)
    return found


def reads_units(scan: str) -> bool:
    return bool(re.search(r"\borg_units", scan.split(" (")[0]))  # not org_unit_types, profile_org_units


def short_sql(sql: str) -> str:
    flat = " ".join(sql.split())
    flat = re.sub(r"^SELECT (.{120,}?) FROM org_units ou", "SELECT <columns> FROM org_units ou", flat)
    return flat if len(flat) < 600 else flat[:600] + " …"


def explain_cases(dsn: str, api: Api, cases: list[Case], slowest: dict, full: bool) -> dict[str, list[dict]]:
    """Replays, for each kind, one typical request and the slowest timed one with their SQL captured,
    then runs each statement that reads org_units under EXPLAIN (ANALYZE, BUFFERS)."""
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SET statement_timeout = 0")
        cur.execute(
            "SELECT c.relname, p.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " JOIN pg_class p ON p.oid = i.inhparent WHERE c.relkind = 'i'"
        )
        parent_index = dict(cur.fetchall())
    plans: dict[str, list[dict]] = {}
    print("\nQuery plans: for each kind, a typical request and the slowest timed one are replayed with their")
    print("SQL captured; each statement reading org_units runs again under EXPLAIN (ANALYZE, BUFFERS)")
    for case in cases:
        if case.label.startswith("anchor"):
            continue
        replays = [(name, "typical", path) for name, _, path in case.step()]
        replays += [(name, f"slowest timed: {slowest[name][0] * 1000:.1f} ms", slowest[name][1])
                    for name, _, _ in replays if name in slowest]  # fmt: skip
        for name, which, path in replays:
            with captured_sql() as statements:
                api.get(path)
            print(f"\n=== {name} ({which}): GET {path}  [{len(statements)} SQL statements]")
            for sql in dict.fromkeys(statements):
                if not re.search(r"\borg_units\b", sql):
                    continue
                with conn.cursor() as cur:
                    for _ in range(2):  # the first run in a session loads PostGIS and warms the catalog cache
                        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                        plan = [row[0] for row in cur.fetchall()]
                text = "\n".join(plan)
                entry = {
                    "which": which,
                    "sql": short_sql(sql),
                    "ms": float(re.search(r"Execution Time: ([\d.]+)", text).group(1)),
                    "planning": float(re.search(r"Planning Time: ([\d.]+)", text).group(1)),
                    "scans": scans_of(plan, parent_index),
                }
                entry["units"] = [scan for scan in entry["scans"] if reads_units(scan)]
                entry["seq"] = [scan for scan in entry["units"] if scan.startswith("Seq Scan")]
                plans.setdefault(name, []).append(entry)
                print(f"\n-- {entry['sql']}")
                warning = "  ** SEQ SCAN ON org_units **" if entry["seq"] else ""
                times = f"planning {entry['planning']:.3f} ms, execution {entry['ms']:.3f} ms"
                print(f"-- {times}; {'; '.join(entry['scans'])}{warning}")
                if full:
                    print("\n".join("   " + line for line in plan))
    conn.close()
    return plans


def print_table(results: list[Result], plans: dict[str, list[dict]], args: argparse.Namespace) -> None:
    print(
        f"\nResults: {args.units:,} units, {args.requests} requests of each kind after {args.warmup} warm-up"
    )
    print(
        f"| request | p50 | p99 | max | p99 <= {TARGET_MS:g} ms | how it reads org_units (typical; slowest) |"
    )
    print("| --- | ---: | ---: | ---: | --- | --- |")
    for result in results:
        values = result.seconds
        p99 = percentile(values, 0.99) * 1000
        verdict = "anchor" if result.name.startswith("anchor") else ("yes" if p99 <= TARGET_MS else "**NO**")
        access = []
        for entry in plans.get(result.name, []):
            access += [scan for scan in entry["units"] if scan not in access]
        print(
            f"| {result.name} | {statistics.median(values) * 1000:.2f} ms | {p99:.2f} ms | "
            f"{max(values) * 1000:.2f} ms | {verdict} | {'; '.join(access) or '-'} |"
        )


def load(dsn: str, ids: dict, units: int, seed: int) -> None:
    facilities = units - UPPER_UNITS
    params = ids | {
        "facilities": facilities,
        "group_count": len(ids["groups"]),
        "version": ids["version"],
    }
    conn = psycopg2.connect(dsn)
    total = time.perf_counter()
    with conn.cursor() as cur:
        cur.execute("SET statement_timeout = 0")
        cur.execute("SELECT setseed(%s)", (seed / 2**31,))
        cur.execute(PLACE_NAME)
        print(
            f"loading {units:,} units ({facilities:,} facilities) into version {ids['version']}'s partition"
        )
        for label, sql in LOAD_STEPS:
            begin = time.perf_counter()
            cur.execute(sql, params)
            conn.commit()
            print(f"  {label:<28} {time.perf_counter() - begin:7.1f} s")
    conn.autocommit = True
    with conn.cursor() as cur:
        begin = time.perf_counter()
        cur.execute("VACUUM (ANALYZE)")
        print(f"  {'VACUUM (ANALYZE)':<28} {time.perf_counter() - begin:7.1f} s")
        cur.execute(
            "SELECT count(*), count(*) FILTER (WHERE depth = 4),"
            " count(*) FILTER (WHERE validation_status = 'VALID'),"
            " count(*) FILTER (WHERE deleted_at IS NOT NULL) FROM org_units WHERE version_id = %s",
            (ids["version"],),
        )
        count, facility_count, valid, deleted = cur.fetchone()
        cur.execute("SELECT count(*) FROM org_unit_groups WHERE version_id = %s", (ids["version"],))
        grouped = cur.fetchone()[0]
        partition = f"org_units_v{int(ids['version'])}"
        cur.execute(
            "SELECT pg_size_pretty(pg_table_size(%s)), pg_size_pretty(pg_indexes_size(%s))",
            (partition, partition),
        )
        table_size, index_size = cur.fetchone()
    conn.close()
    print(
        f"loaded in {time.perf_counter() - total:.1f} s: {count:,} units ({facility_count:,} facilities, "
        f"{valid / count:.1%} VALID, {deleted:,} soft-deleted), {grouped:,} in a group; {partition}: "
        f"table {table_size}, indexes {index_size}"
    )


if __name__ == "__main__":
    main()
