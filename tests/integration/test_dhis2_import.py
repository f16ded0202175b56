"""DHIS2 tree imports against the real stand-in over HTTP: the fixture tree (Iaso's strange geometries
exact) and generated units, in pages that repeat an item, 2.36 and 2.38 shapes, Basic and token;
a task continued across invocations; 429/503 retried; a DHIS2 that dies mid-import leaves nothing."""

import json
import uuid

import pytest

from chalicelib.dhis2 import tree_fetch
from chalicelib.platform import db
from devstack.dhis2_standin import Dhis2StandIn, Fault, generated_tree, load_fixture_tree, merge
from devstack.worker import LocalContext
from tests.integration.helpers import call, make_tenant
from tests.integration.registrykit import post
from tests.integration.taskkit import BUCKET, drain, row

# Import tests are marked `commits`: tasks report progress on a second connection; imports COPY, ATTACH.

USER, PASSWORD, TOKEN = "admin", "district-Import-1", "d2pat_ImportTestToken00000000000000000001"
TREE = merge(load_fixture_tree(), generated_tree(240))
PAGE = 50  # several pages of the 261 units
LEVELS = [sum(u["level"] == level for u in TREE.units) for level in (1, 2, 3, 4)]
PAGES = [-(-count // PAGE) for count in LEVELS]  # pages of each level: fetched level by level


@pytest.fixture(scope="module")
def standin():
    server = Dhis2StandIn(*TREE, username=USER, password=PASSWORD, token=TOKEN).start()
    yield server
    server.stop()


@pytest.fixture
def dhis2(standin, monkeypatch):
    monkeypatch.setattr(tree_fetch, "PAGE_SIZE", PAGE)
    standin.faults.clear()
    standin.repeat_across_pages = True  # DHIS2's known paging bug: every import meets it here
    standin.version = "2.38.4"
    return standin


@pytest.fixture
def alpha(client, task_aws):
    return make_tenant(client, "alpha", roles=("viewer", "registry_editor"))


def connect(client, tenant, url: str, kind: str = "token") -> dict:
    body = {"name": f"DHIS2 {kind}", "base_url": url, "auth_kind": kind}
    body |= {"token": TOKEN} if kind == "token" else {"username": USER, "password": PASSWORD}
    status, made, _ = call(client, "POST", "/api/dhis2/connections", tenant.tokens["admin"], body)
    assert status == 201, made
    return made


def start(
    client, tenant, connection: dict, source: dict, what: str = "imports", role: str = "registry_editor"
):
    path = f"/api/dhis2/connections/{connection['id']}/{what}"
    return call(client, "POST", path, tenant.tokens[role], {"data_source_id": source["id"]})


def run(client, task_aws, tenant, connection, source, context_factory=LocalContext) -> dict:
    status, run_, _ = start(client, tenant, connection, source)
    assert status == 201 and run_["status"] == "QUEUED", run_
    drain(task_aws, context_factory)
    return row(run_["task_id"])


def units(version_id: int) -> dict[str, dict]:
    with db.transaction() as cur:
        cur.execute(
            """SELECT ou.source_ref, ou.name, ou.code, ou.depth, ou.opening_date::text, ou.closed_date::text,
                      t.name AS type, p.source_ref AS parent, ST_AsText(ou.location) AS point,
                      ST_Area(ou.geom) AS area, ST_NumGeometries(ou.geom) AS parts,
                      (SELECT array_agg(ST_NRings(d.geom) ORDER BY d.path) FROM ST_Dump(ou.geom) d) AS rings,
                      (SELECT array_agg(g.name ORDER BY g.name) FROM org_unit_groups m
                       JOIN groups g ON g.id = m.group_id
                       WHERE m.version_id = ou.version_id AND m.org_unit_id = ou.id) AS groups
               FROM org_units ou JOIN org_unit_types t ON t.id = ou.org_unit_type_id
               LEFT JOIN org_units p ON p.version_id = ou.version_id AND p.id = ou.parent_id
               WHERE ou.version_id = %s AND ou.deleted_at IS NULL""",
            (version_id,),
        )
        return {unit["source_ref"]: unit for unit in cur.fetchall()}


def counts(sql: str, **params) -> int:
    with db.transaction() as cur:
        return db.one(cur, f"SELECT count(*) AS n FROM {sql}", params)["n"]


def artifact(task_aws, task: dict, name: str) -> dict:
    key = next(a["key"] for a in task["artifacts"] if a["name"] == name)
    return json.loads(task_aws.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())


@pytest.mark.commits
def test_a_tree_imports_whole_with_its_levels_groups_sets_and_strange_geometries(
    client, alpha, task_aws, dhis2
):
    source = post(client, alpha.tokens["admin"], "/api/data-sources", {"name": "Ministry tree"})
    done = run(client, task_aws, alpha, connect(client, alpha, dhis2.url), source)
    assert done["status"] == "SUCCESS", done["error_message"]
    result = done["result"]
    assert result["created"] == len(TREE.units) and result["repeated"] == sum(PAGES) - len(PAGES)
    assert result["missed"] == 0  # every unit DHIS2 counted, the repeats aside
    assert (result["errors"], result["groups"], result["group_sets"]) == (0, 7, 2)
    got = units(result["version_id"])
    assert len(got) == len(TREE.units)
    by_type = {}
    for unit in got.values():
        by_type[unit["type"]] = by_type.get(unit["type"], 0) + 1
    # levels by DHIS2's names (the fixture's National..Facility win over the generated tree's)
    assert by_type == {"National": 2 + 4, "District": 4, "Chiefdom": 10, "Facility": 241}
    for uid, unit in got.items():  # parents through the path, whatever the page order
        source_unit = next(u for u in TREE.units if u["id"] == uid)
        assert (
            unit["parent"] == source_unit.get("parent", {}).get("id")
            and unit["depth"] == source_unit["level"] - 1
        )
    chp = got["LOpWauwwghf"]
    assert chp["point"] is None and chp["groups"] == ["CHP"]  # no geometry; its other groups are not served
    assert got["kJq2mPyFEHo"]["area"] > 0 and got["kJq2mPyFEHo"]["type"] == "District"
    facility = next(u for u in got.values() if u["name"] == "Facility 00001")
    assert facility["point"].startswith("POINT Z (") and facility["groups"] == ["Urban"]
    assert (chp["code"], chp["opening_date"], chp["closed_date"]) == ("OU_222633", "1994-01-01", None)
    # Iaso's strange geometries, as Iaso's own test expects them
    assert (got["a"]["area"], got["a"]["parts"], got["a"]["closed_date"]) == (1, 1, "2023-10-30")
    assert got["b"]["area"] == pytest.approx(0.64) and got["b"]["rings"] == [2]
    assert got["d"]["area"] == pytest.approx(2) and got["d"]["rings"] == [1, 1]
    assert got["c"]["area"] == pytest.approx(0.019948936631078506) and got["c"]["rings"] == [2, 2]
    assert got["c"]["point"] is None and got["ImspTQPwCqd"]["area"] is None  # a stub: no geometry
    assert (
        counts(
            "group_set_groups gs JOIN group_sets s ON s.id = gs.group_set_id WHERE s.name = 'Facility Type'"
        )
        == 5
    )
    report = artifact(task_aws, done, "report.json")
    with db.transaction() as cur:  # the token is in Secrets Manager only: not in the task, its log, the run
        kept = db.all_rows(
            cur,
            "SELECT t.*, l.message AS logged, r.* FROM tasks t LEFT JOIN task_logs l"
            " ON l.task_id = t.id LEFT JOIN dhis2_runs r ON r.task_id = t.id",
        )
    assert TOKEN not in json.dumps([kept, report], default=str)
    assert report["errors"] == [] and report["result"]["version_id"] == result["version_id"]
    with db.transaction() as cur:
        version = db.one(
            cur, "SELECT description FROM source_versions WHERE id = %(v)s", {"v": result["version_id"]}
        )
        assert version["description"].startswith("DHIS2 import (")
        chp_uuid = db.one(
            cur,
            "SELECT uuid::text FROM org_units WHERE version_id = %(v)s AND source_ref = %(r)s",
            {"v": result["version_id"], "r": "LOpWauwwghf"},
        )["uuid"]
    # the same uuid in every import of this DHIS2: a name-based uuid of its URL and the uid
    assert chp_uuid == str(uuid.uuid5(uuid.uuid5(uuid.NAMESPACE_URL, dhis2.url), "LOpWauwwghf"))
    status, runs, _ = call(
        client,
        "GET",
        f"/api/dhis2/connections/{done['params']['connection_id']}/runs",
        alpha.tokens["viewer"],
    )
    assert status == 200 and [r["status"] for r in runs["results"]] == ["SUCCESS"]
    assert (
        runs["results"][0]["version_id"] == result["version_id"]
        and runs["results"][0]["task_status"] == "SUCCESS"
    )


@pytest.mark.commits
def test_2_36_with_basic_auth_near_the_deadline_continues_from_its_page(client, alpha, task_aws, dhis2):
    dhis2.version = "2.36.13"
    source = post(client, alpha.tokens["admin"], "/api/data-sources", {"name": "Old DHIS2"})

    def short_lived(function_name: str) -> LocalContext:
        return LocalContext(function_name, timeout_seconds=0)  # every page is near the deadline

    done = run(client, task_aws, alpha, connect(client, alpha, dhis2.url, "basic"), source, short_lived)
    assert done["status"] == "SUCCESS", done["error_message"]
    # an invocation a page, and one that finds level 5 empty and writes
    assert done["result"]["created"] == len(TREE.units) and done["attempts"] == sum(PAGES) + 1
    assert (done["result"]["repeated"], done["result"]["missed"]) == (
        sum(PAGES) - len(PAGES),
        0,
    )  # across invocations
    asked = [
        (r["query"]["filter"][0], int(r["query"]["page"][0]))
        for r in dhis2.requests
        if r["path"] == "/api/organisationUnits" and "page" in r["query"]
    ]
    wanted = [
        (f"level:eq:{level}", n) for level, pages in enumerate([*PAGES, 1], 1) for n in range(1, pages + 1)
    ]
    assert asked[-len(wanted) :] == wanted  # each page once, level by level
    assert {r["auth"] for r in dhis2.requests[-5:]} == {"Basic"}
    assert counts("dhis2_fetched_pages") == 0  # the writing invocation deleted them
    assert len(units(done["result"]["version_id"])) == len(TREE.units)


@pytest.mark.commits
def test_429_and_503_are_retried_and_a_dhis2_that_dies_mid_import_leaves_nothing(
    client, alpha, task_aws, dhis2, monkeypatch
):
    connection = connect(client, alpha, dhis2.url)
    source = post(client, alpha.tokens["admin"], "/api/data-sources", {"name": "Flaky"})
    dhis2.faults += [
        Fault("/api/organisationUnits", 429, retry_after=0, page=2),
        Fault("/api/organisationUnits", 503, page=4),
    ]
    monkeypatch.setattr("chalicelib.dhis2.client.BACKOFF_FIRST_SECONDS", 0.01)
    done = run(client, task_aws, alpha, connection, source)
    assert done["status"] == "SUCCESS" and [f.fired for f in dhis2.faults] == [1, 1]
    versions = counts("source_versions")
    dhis2.faults[:] = [Fault("/api/organisationUnits", 500, times=None, page=3)]
    dead = run(client, task_aws, alpha, connection, source)
    assert dead["status"] == "ERRORED" and "500" in dead["error_message"]
    shown = call(client, "GET", f"/api/dhis2/connections/{connection['id']}/runs", alpha.tokens["viewer"])[1]
    assert [r["status"] for r in shown["results"]] == ["ERRORED", "SUCCESS"]  # newest first
    assert counts("source_versions") == versions  # no version, no units, no pages kept
    assert counts("dhis2_fetched_pages") == 0


@pytest.mark.commits
def test_a_dhis2_that_goes_away_mid_import_leaves_nothing_and_a_later_attempt_imports_once(
    client, alpha, task_aws, dhis2, monkeypatch
):
    connection = connect(client, alpha, dhis2.url)
    source = post(client, alpha.tokens["admin"], "/api/data-sources", {"name": "Gone"})
    versions = counts("source_versions")
    monkeypatch.setattr("chalicelib.dhis2.client.BACKOFF_FIRST_SECONDS", 0.01)
    # Gone for good: every attempt finds the connection closed on page 2, until the queue gives up
    dhis2.faults[:] = [Fault("/api/organisationUnits", None, times=None, page=2, drop=True)]
    gone = run(client, task_aws, alpha, connection, source)
    assert gone["status"] == "ERRORED" and "Could not reach" in gone["error_message"], gone
    assert counts("source_versions") == versions and counts("dhis2_fetched_pages") == 0
    # Gone for one attempt (every try of its client): the task's next attempt imports each unit once
    dhis2.faults[:] = [Fault("/api/organisationUnits", None, times=client_tries(), page=2, drop=True)]
    back = run(client, task_aws, alpha, connection, source)
    assert back["status"] == "SUCCESS" and back["attempts"] == 2, back
    assert counts("source_versions") == versions + 1
    assert len(units(back["result"]["version_id"])) == len({unit["id"] for unit in TREE[0]})


def client_tries() -> int:
    from chalicelib.dhis2 import client as dhis2_client

    return dhis2_client.DEFAULT_MAX_ATTEMPTS


@pytest.mark.commits
def test_a_wrong_credential_ends_errored_and_tenancy_holds(client, alpha, task_aws, dhis2):
    connection = connect(client, alpha, dhis2.url, "token")
    source = post(client, alpha.tokens["admin"], "/api/data-sources", {"name": "Tenancy"})
    status, _, _ = start(client, alpha, connection, source, role="viewer")
    assert status == 403
    beta = make_tenant(client, "beta")
    beta_source = post(client, beta.tokens["admin"], "/api/data-sources", {"name": "Beta's"})
    assert start(client, beta, connection, beta_source, role="admin")[0] == 404
    assert (
        call(client, "GET", f"/api/dhis2/connections/{connection['id']}/runs", beta.tokens["admin"])[0] == 404
    )
    assert start(client, alpha, connection, beta_source)[0] == 404  # another account's source
    dhis2.token = "d2pat_another"
    try:
        done = run(client, task_aws, alpha, connection, source)
    finally:
        dhis2.token = TOKEN
    assert done["status"] == "ERRORED" and "wrong credentials" in done["error_message"]


def test_what_a_unit_becomes_and_what_is_reported():
    from chalicelib.dhis2.tree_units import features, namespace_of, record

    units = [
        {
            "id": "pt",
            "name": "Point",
            "path": "/root/pt",
            "level": 2,
            "geometry": {"type": "Point", "coordinates": [1, 2]},
            "openingDate": "2020-05-01T00:00:00.000",
            "closedDate": "2019-01-01T00:00:00.000",
        },
        {
            "id": "far",
            "name": "Far",
            "path": "/root/far",
            "level": 2,
            "geometry": {"type": "Point", "coordinates": [200, 2]},
        },
        {
            "id": "line",
            "name": "Line",
            "path": "/root/line",
            "level": 2,
            "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
        },
        {
            "id": "none",
            "name": "",
            "shortName": "No geometry",
            "path": "/root/none",
            "level": 2,
            "featureType": "NONE",
            "geometry": {"type": "Point", "coordinates": [1, 2]},
            "openingDate": "not a date",
        },
        {
            "id": "bow",
            "name": "Bow tie",
            "path": "/root/bow",
            "level": 2,
            "organisationUnitGroups": [{"id": "g1"}, {"id": "gone"}],
            "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},
        },
    ]
    problems: list = []
    made = features(
        [(n, list(record(u))) for n, u in enumerate(units, 1)],
        {2: "District"},
        {"g1": "G"},
        problems,
        namespace_of("https://dhis2.example.org/"),
    )
    point, far, line, none, bow = made
    assert (point.parent_ref, point.depth, point.type_name, point.location.coords[0]) == (
        "root",
        1,
        "District",
        (1, 2),
    )
    assert point.opening_date is None and str(point.closed_date) == "2019-01-01"  # closing wins, reported
    assert far.location is None and line.location is None and line.territory is None
    assert none.location is None and none.name == "No geometry" and none.opening_date is None
    assert bow.territory.is_valid and bow.territory.area == pytest.approx(0.5) and bow.group_refs == ["g1"]
    assert {(p.ref, p.field, p.fatal) for p in problems} == {
        ("pt", "openingDate", False),
        ("far", "geometry", False),
        ("line", "geometry", False),
        ("none", "openingDate", False),
        ("bow", "geometry", False),
    }
    assert point.uuid == str(uuid.uuid5(uuid.uuid5(uuid.NAMESPACE_URL, "https://dhis2.example.org"), "pt"))
