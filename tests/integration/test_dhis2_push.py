"""Pushing org-unit changes to DHIS2 (issue 17, item 4) against the real stand-in over HTTP: a dry
run changes nothing, a commit creates and updates exactly the diff's units (parents first, emptied
fields emptied, group membership through the group), a retry after a fault mid-push leaves no
duplicate, DHIS2's error reports reach push-report.json with their codes, 2.36 and 2.38 shapes;
tenancy and roles. Also the stand-in's /api/metadata itself: atomicMode ALL and the two shapes."""

import copy
import json

import pytest
import urllib3

from chalicelib.dhis2.reports import read_import_report
from chalicelib.dhis2.uids import is_uid
from chalicelib.platform import db
from devstack.dhis2_query import generated_tree
from devstack.dhis2_standin import Dhis2StandIn, Fault
from devstack.worker import LocalContext
from tests.integration.helpers import call, make_tenant
from tests.integration.taskkit import BUCKET, drain, row

pytestmark = pytest.mark.commits  # tasks report progress on a second connection

USER, PASSWORD = "admin", "district-Push-42"
TOO_LONG = "A short name that is much longer than fifty characters, as DHIS2 refuses"


class NthPost(Fault):
    """Fails the `nth` POST to /api/metadata (and only it): a fault in the middle of a push."""

    def __init__(self, nth: int, status: int):
        super().__init__(path="/api/metadata", status=status, times=1)
        self.nth, self.seen = nth, 0

    def takes(self, path: str, page: int) -> bool:
        if not path.startswith(self.path):
            return False
        self.seen += 1
        return self.seen == self.nth


def standin(version: str) -> Dhis2StandIn:
    tree = generated_tree(3, regions=1, districts=2)
    return Dhis2StandIn(*tree, version=version, username=USER, password=PASSWORD).start()


@pytest.fixture
def alpha(client, task_aws):
    return make_tenant(client, "pushalpha", roles=("viewer", "registry_editor"))


def api(client, token: str, method: str, path: str, body=None, expect: int = 200) -> dict:
    status, answer, _ = call(client, method, path, token, body)
    assert status == expect, (method, path, answer)
    return answer


def mirror_of(client, token: str, dhis2: Dhis2StandIn) -> dict:
    """The stand-in's tree as a registry version (what an import makes): uid = source_ref."""
    source = api(client, token, "POST", "/api/data-sources", {"name": "DHIS2 mirror"}, 201)
    version = source["default_version_id"]
    ids = {"version": version, "source": source["id"]}
    for group in dhis2.tree.groups:
        body = {"version_id": version, "name": group["name"], "source_ref": group["id"]}
        ids[group["id"]] = api(client, token, "POST", "/api/groups", body, 201)["id"]
    for unit in sorted(dhis2.tree.units, key=lambda u: u["level"]):
        geometry = unit["geometry"]
        body = {"version_id": version, "name": unit["name"], "source_ref": unit["id"], "code": unit["code"]}
        body |= {
            "opening_date": unit["openingDate"][:10],
            "parent_id": ids.get(unit.get("parent", {}).get("id")),
        }
        body |= {"location" if geometry["type"] == "Point" else "geom": geometry}
        body["group_ids"] = [ids[g["id"]] for g in unit["organisationUnitGroups"]]
        ids[unit["id"]] = api(client, token, "POST", "/api/orgunits", body, 201)["id"]
    return ids


def edited_copy(client, task_aws, token: str, dhis2: Dhis2StandIn, mirror: dict) -> dict:
    """A copy of the mirror with changes: renamed, moved, geometry removed, regrouped, three new
    units (one under another new one, one with a shortName DHIS2 refuses)."""
    copied = api(
        client, token, "POST", f"/api/versions/{mirror['version']}/copy", {"description": "edits"}, 201
    )
    drain(task_aws)
    version = copied["version"]["id"]
    units = api(client, token, "GET", f"/api/orgunits?version={version}&limit=50")["results"]
    here = {u["source_ref"]: u["id"] for u in units}
    by_name = {u["name"]: u["id"] for u in dhis2.tree.units}
    f1, f2, f3 = (by_name[f"Facility 0000{i}"] for i in (1, 2, 3))
    d1, d2 = by_name["District 1.1"], by_name["District 1.2"]
    patch = lambda uid, body: api(client, token, "PATCH", f"/api/orgunits/{here[uid]}", body)  # noqa: E731
    patch(f1, {"name": "Facility One (renamed)"})
    patch(f2, {"parent_id": here[d1 if dhis2.index.by_kind["units"][f2]["parent"]["id"] == d2 else d2]})
    patch(d1, {"geom": None})
    patch(f3, {"group_ids": []})
    new = {"version_id": version, "opening_date": "2024-03-01"}
    n1 = api(client, token, "POST", "/api/orgunits", new | {"name": "New Clinic", "parent_id": here[d2]}, 201)
    child = new | {
        "name": "New Clinic Annex",
        "parent_id": n1["id"],
        "location": {"type": "Point", "coordinates": [1, 2]},
    }
    api(client, token, "POST", "/api/orgunits", child, 201)
    bad = new | {"name": "Badly Named", "parent_id": here[d2], "extra_fields": {"shortName": TOO_LONG}}
    api(client, token, "POST", "/api/orgunits", bad, 201)
    return {"version": version, "f1": f1, "f2": f2, "f3": f3, "d1": d1, "d2": d2}


def connect(client, token: str, dhis2: Dhis2StandIn) -> int:
    body = {
        "name": "Ministry",
        "base_url": dhis2.url,
        "auth_kind": "basic",
        "username": USER,
        "password": PASSWORD,
    }
    return api(client, token, "POST", "/api/dhis2/connections", body, 201)["id"]


def push(client, token: str, connection: int, version: int, mirror: int, dry_run: bool) -> dict:
    body = {"version_id": version, "mirror_version_id": mirror, "dry_run": dry_run, "batch_size": 2}
    return api(client, token, "POST", f"/api/dhis2/connections/{connection}/pushes", body, 201)


def report(task_aws, account_id: int, task_id: int) -> dict:
    key = f"tasks/{account_id}/{task_id}/push-report.json"
    return json.loads(task_aws.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())


def objects(pushed: dict) -> dict[str, dict]:
    return {o["name"]: o for batch in pushed["batches"] for o in batch["objects"]}


def test_dry_run_changes_nothing_then_commit_creates_and_updates_the_diff(client, alpha, task_aws):
    dhis2 = standin("2.38.4")
    try:
        token = alpha.tokens["admin"]
        mirror = mirror_of(client, token, dhis2)
        edits = edited_copy(client, task_aws, token, dhis2, mirror)
        connection = connect(client, token, dhis2)
        before = copy.deepcopy(dhis2.tree)
        dry = push(
            client, alpha.tokens["registry_editor"], connection, edits["version"], mirror["version"], True
        )
        drain(task_aws)
        assert row(dry["id"])["status"] == "SUCCESS", row(dry["id"])
        assert dhis2.tree == before  # VALIDATE: nothing applied
        dry_report = report(task_aws, alpha.account_id, dry["id"])
        fates = {name: o["outcome"] for name, o in objects(dry_report).items()}
        assert fates == {
            "District 1.1": "would_update", "Facility One (renamed)": "would_update",
            "Facility 00002": "would_update", "New Clinic": "would_create",
            "New Clinic Annex": "would_create", "Badly Named": "invalid", "Urban": "would_update",
        }  # fmt: skip
        assert dry_report["totals"]["deferred"] == 1  # the annex's parent, created by an earlier batch
        # Near its Lambda's deadline after every batch, a push goes on in new invocations, report in parts.
        parted = push(client, token, connection, edits["version"], mirror["version"], True)
        drain(task_aws, context_factory=lambda name: LocalContext(name, 30))  # 30 s left: under the margin
        assert row(parted["id"])["result"] == dry_report["totals"] and dhis2.tree == before
        names = [a["name"] for a in row(parted["id"])["artifacts"]]
        assert names == ["push-report.json"] + [f"push-report-{n}.json" for n in (2, 3, 4)], names

        done = push(client, token, connection, edits["version"], mirror["version"], False)
        drain(task_aws)
        result = row(done["id"])
        assert result["status"] == "SUCCESS", result
        assert result["result"]["created"] == 2 and result["result"]["updated"] == 4  # 3 units, 1 group
        assert result["result"]["ignored"] == 1 and result["result"]["units_unchanged"] == 4
        pushed = objects(report(task_aws, alpha.account_id, done["id"]))
        bad = pushed["Badly Named"]
        assert bad["outcome"] == "ignored" and [e["error_code"] for e in bad["errors"]] == ["E4001"]
        assert "`shortName`" in bad["errors"][0]["message"]
        assert pushed["Facility One (renamed)"]["changed"] == ["name", "shortName"]
        assert pushed["District 1.1"]["changed"] == ["geometry"]
        units = dhis2.index.by_kind["units"]
        assert units[edits["f1"]]["name"] == "Facility One (renamed)"
        assert "geometry" not in units[edits["d1"]]  # removed here: removed there
        moved = units[edits["f2"]]
        assert (
            moved["parent"]["id"]
            != before.units[[u["id"] for u in before.units].index(edits["f2"])]["parent"]["id"]
        )
        clinic = next(u for u in units.values() if u["name"] == "New Clinic")
        annex = next(u for u in units.values() if u["name"] == "New Clinic Annex")
        assert (
            is_uid(clinic["id"])
            and annex["parent"]["id"] == clinic["id"]
            and clinic["parent"]["id"] == edits["d2"]
        )
        assert annex["geometry"] == {"type": "Point", "coordinates": [1.0, 2.0]}
        assert clinic["id"] == pushed["New Clinic"]["uid"] and clinic["openingDate"] == "2024-03-01"
        assert not units[edits["f3"]]["organisationUnitGroups"]  # membership through the group
        assert len(units) == len(before.units) + 2
        assert "Badly Named" not in {u["name"] for u in units.values()}
    finally:
        dhis2.stop()


def imported(client, task_aws, token: str, connection: int) -> dict:
    """The mirror as the connection's own import makes it (chalicelib/dhis2/tree_import.py)."""
    source = api(client, token, "POST", "/api/data-sources", {"name": "DHIS2"}, 201)
    path = f"/api/dhis2/connections/{connection}/imports"
    api(client, token, "POST", path, {"data_source_id": source["id"]}, 201)
    drain(task_aws)
    runs = api(client, token, "GET", f"/api/dhis2/connections/{connection}/runs")["results"]
    assert runs[0]["version_id"], runs
    return {"version": runs[0]["version_id"], "source": source["id"]}


def test_a_retry_after_a_fault_mid_push_creates_nothing_twice_on_2_36(client, alpha, task_aws):
    dhis2 = standin("2.36.13")
    try:
        token = alpha.tokens["admin"]
        connection = connect(client, token, dhis2)
        mirror = imported(client, task_aws, token, connection)
        edits = edited_copy(client, task_aws, token, dhis2, mirror)
        count = len(dhis2.tree.units)
        # The 3rd POST (the batch holding the new clinic's annex, after the clinic's) fails with a 500,
        # which the client does not retry: the task is tried again, and sends every batch again.
        dhis2.faults.append(NthPost(3, 500))
        body = {"version_id": edits["version"], "batch_size": 2}  # the mirror: the import's version
        path = f"/api/dhis2/connections/{connection}/pushes"
        done = api(client, token, "POST", path, body, 201)
        assert done["params"]["mirror_version_id"] == mirror["version"]
        drain(task_aws)
        result = row(done["id"])
        assert result["status"] == "SUCCESS" and result["attempts"] == 2, result
        names = [u["name"] for u in dhis2.tree.units]
        assert (
            len(names) == count + 2
            and names.count("New Clinic") == 1
            and names.count("New Clinic Annex") == 1
        )
        with db.transaction() as cur:
            stored = db.all_rows(
                cur, "SELECT dhis2_uid FROM dhis2_unit_uids WHERE connection_id = %(c)s", {"c": connection}
            )
        assert len(stored) == 3 and all(is_uid(s["dhis2_uid"]) for s in stored)
        pushed = report(task_aws, alpha.account_id, done["id"])
        # The second try updated the clinic the first one created; only the annex was new to DHIS2.
        assert pushed["totals"]["dhis2_stats"]["created"] == 1
        bad = objects(pushed)["Badly Named"]
        assert [e["error_code"] for e in bad["errors"]] == ["E4001"]  # read from 2.36's bare report
        posts = [r for r in dhis2.requests if r["path"] == "/api/metadata"]
        assert all(r["query"]["importStrategy"] == ["CREATE_AND_UPDATE"] for r in posts)
        assert PASSWORD not in json.dumps(result, default=str) + json.dumps(pushed)
        # DHIS2 turning the credentials down mid-push: ERRORED in words, the report of what it took kept.
        dhis2.faults.append(NthPost(2, 401))
        again = api(client, token, "POST", path, body, 201)
        drain(task_aws)
        failed = row(again["id"])
        assert failed["status"] == "ERRORED" and "wrong credentials" in failed["error_message"], failed
        stopped = report(task_aws, alpha.account_id, again["id"])
        assert stopped["totals"]["batches"] == 1 and "wrong credentials" in stopped["totals"]["stopped_by"]
    finally:
        dhis2.stop()


def test_pushes_are_the_accounts_own_and_not_for_viewers(client, alpha, task_aws):
    dhis2 = standin("2.38.4")
    try:
        token = alpha.tokens["admin"]
        connection = connect(client, token, dhis2)
        source = api(client, token, "POST", "/api/data-sources", {"name": "Mine"}, 201)
        other_version = api(client, token, "POST", f"/api/data-sources/{source['id']}/versions", {}, 201)[
            "id"
        ]
        body = {"version_id": source["default_version_id"], "mirror_version_id": other_version}
        path = f"/api/dhis2/connections/{connection}/pushes"
        status, refused, _ = call(client, "POST", path, alpha.tokens["viewer"], body)
        assert status == 403, refused
        beta = make_tenant(client, "pushbeta")
        status, hidden, _ = call(client, "POST", path, beta.tokens["admin"], body)
        assert status == 404, hidden
        status, missing, _ = call(client, "POST", path, token, {"version_id": source["default_version_id"]})
        assert status == 400 and "mirror_version_id" in json.dumps(missing), missing
        launched = api(client, token, "POST", path, body | {"dry_run": True}, 201)
        status, _, _ = call(client, "GET", f"/api/tasks/{launched['id']}", beta.tokens["admin"])
        assert status == 404
    finally:
        dhis2.stop()


@pytest.mark.parametrize("version", ["2.36.13", "2.38.4"])
def test_the_standin_applies_nothing_of_a_batch_with_an_error_under_atomic_all(version):
    dhis2 = standin(version)
    try:
        http = urllib3.PoolManager()
        headers = urllib3.make_headers(basic_auth=f"{USER}:{PASSWORD}") | {"Content-Type": "application/json"}
        root = next(u["id"] for u in dhis2.tree.units if u["level"] == 1)
        good = {
            "id": "Aaaaaaaaaa1",
            "name": "Good",
            "shortName": "Good",
            "openingDate": "2020-01-01",
            "parent": {"id": root},
        }
        orphan = good | {"id": "Aaaaaaaaaa2", "name": "Orphan", "parent": {"id": "Zzzzzzzzzz9"}}
        unnamed = {"id": "not-a-uid", "openingDate": "2020-01-01"}
        sent = json.dumps({"organisationUnits": [good, orphan, unnamed]})
        answer = http.request("POST", f"{dhis2.url}/api/metadata?atomicMode=ALL", body=sent, headers=headers)
        body = json.loads(answer.data)
        assert answer.status == (409 if version.startswith("2.38") else 200)
        assert ("response" in body) == version.startswith("2.38")
        outcome = read_import_report(body)
        assert outcome.status == "ERROR" and outcome.stats["ignored"] == 3 and outcome.stats["created"] == 0
        assert sorted(e.error_code for e in outcome.errors) == ["E4014", "E5002"]
        again = http.request(
            "POST",
            f"{dhis2.url}/api/metadata?importStrategy=CREATE",
            body=json.dumps(
                {
                    "organisationUnits": [
                        {"id": root, "name": "Root", "shortName": "Root", "openingDate": "2020-01-01"}
                    ]
                }
            ),
            headers=headers,
        )
        assert [e.error_code for e in read_import_report(json.loads(again.data)).errors] == ["E5000"]
        assert "Good" not in {u["name"] for u in dhis2.tree.units}
        answer = http.request("POST", f"{dhis2.url}/api/metadata?atomicMode=NONE", body=sent, headers=headers)
        assert read_import_report(json.loads(answer.data)).stats["created"] == 1
        assert "Good" in {u["name"] for u in dhis2.tree.units}
    finally:
        dhis2.stop()
