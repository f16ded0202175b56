"""DHIS2 syncs against the real stand-in over HTTP: changes made in the stand-in between syncs (renamed,
moved, new, closed, deleted units; a group's membership) reach a new version and the diff artifact
exactly; an empty delta creates nothing; schedules (EventBridge rate and cron) fire through the app's
trigger, two firings at once queue one sync, and a firing while one is queued is a recorded no-op."""

import csv
import datetime
import io
import json
import threading

import pytest

import app as app_module
from chalicelib.dhis2 import schedules_cron, sync_task, tree_fetch
from chalicelib.platform import db
from devstack.dhis2_standin import Dhis2StandIn, generated_tree
from devstack.worker import LocalContext, scheduled_event
from tests.integration.helpers import call, make_tenant
from tests.integration.registrykit import post
from tests.integration.taskkit import BUCKET, drain, row
from tests.integration.test_dhis2_import import PASSWORD, TOKEN, USER, connect, units


@pytest.fixture
def dhis2(monkeypatch):
    monkeypatch.setattr(tree_fetch, "PAGE_SIZE", 40)
    tree = generated_tree(60, seed=5)
    for group in tree.groups:  # as real DHIS2 keeps on every object (the generated groups lack it)
        group.setdefault("lastUpdated", "2024-01-01T00:00:00.000")
    server = Dhis2StandIn(*tree, username=USER, password=PASSWORD, token=TOKEN).start()
    yield server
    server.stop()


@pytest.fixture
def alpha(client, task_aws):
    return make_tenant(client, "alpha", roles=("viewer", "registry_editor"))


@pytest.fixture
def pair(client, alpha, dhis2):
    source = post(client, alpha.tokens["admin"], "/api/data-sources", {"name": "Mirror"})
    return connect(client, alpha, dhis2.url), source


def sync(
    client, task_aws, tenant, connection, source, what: str = "syncs", context_factory=LocalContext
) -> dict:
    path = f"/api/dhis2/connections/{connection['id']}/{what}"
    status, run, _ = call(
        client, "POST", path, tenant.tokens["registry_editor"], {"data_source_id": source["id"]}
    )
    assert status == 201, run
    drain(task_aws, context_factory)
    done = row(run["task_id"])
    assert done["status"] == "SUCCESS", done["error_message"]
    return done


def runs(client, tenant, connection) -> list[dict]:
    status, body, _ = call(
        client, "GET", f"/api/dhis2/connections/{connection['id']}/runs", tenant.tokens["viewer"]
    )
    assert status == 200, body
    return body["results"]


def artifact(task_aws, task: dict, name: str) -> bytes:
    key = next(a["key"] for a in task["artifacts"] if a["name"] == name)
    return task_aws.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()


def version_count() -> int:
    with db.transaction() as cur:
        return db.one(cur, "SELECT count(*) AS n FROM source_versions")["n"]


class Edits:
    """Changes to the stand-in's tree, as DHIS2 would make them (lastUpdated moves with the object)."""

    def __init__(self, standin: Dhis2StandIn):
        self.standin, self.now = standin, standin.system_info()["serverDate"]
        self.units = standin.index.by_kind["units"]

    def named(self, name: str) -> dict:
        return next(u for u in self.standin.tree.units if u["name"] == name)

    def touch(self, unit: dict, **fields) -> dict:
        unit.update(fields, lastUpdated=self.now)
        return unit

    def move(self, unit: dict, parent: dict) -> None:
        self.touch(unit, path=f"{parent['path']}/{unit['id']}", parent={"id": parent["id"]})

    def add(self, uid: str, name: str, parent: dict) -> None:
        unit = {
            "id": uid,
            "name": name,
            "shortName": name,
            "path": f"{parent['path']}/{uid}",
            "level": 4,
            "parent": {"id": parent["id"]},
            "openingDate": "2026-01-01T00:00:00.000",
            "lastUpdated": self.now,
            "geometry": {"type": "Point", "coordinates": [1.5, 1.5]},
            "organisationUnitGroups": [],
        }
        self.standin.tree.units.append(unit)
        self.units[uid] = unit

    def delete(self, unit: dict) -> None:
        self.standin.tree.units.remove(unit)
        del self.units[unit["id"]]
        for group in self.standin.tree.groups:
            group["organisationUnits"] = [m for m in group["organisationUnits"] if m["id"] != unit["id"]]

    def regroup(self, unit: dict, leave: str, join: str) -> None:
        """On the groups' side only, as DHIS2 keeps membership: the unit's lastUpdated stays."""
        groups = {g["name"]: g for g in self.standin.tree.groups}
        groups[leave]["organisationUnits"].remove({"id": unit["id"]})
        groups[join]["organisationUnits"].append({"id": unit["id"]})
        for group in (groups[leave], groups[join]):
            group["lastUpdated"] = self.now
        unit["organisationUnitGroups"] = [{"id": groups[join]["id"]}]


@pytest.mark.commits
def test_a_sync_applies_exactly_dhis2s_changes_and_an_empty_delta_creates_nothing(
    client, alpha, task_aws, dhis2, pair
):
    connection, source = pair
    imported = sync(client, task_aws, alpha, connection, source, "imports")["result"]
    before = version_count()
    quiet = sync(client, task_aws, alpha, connection, source)["result"]
    assert quiet["version_id"] is None and quiet["counts"]["created"] == quiet["counts"]["updated"] == 0
    assert version_count() == before  # nothing created

    edits = Edits(dhis2)
    edits.touch(edits.named("Facility 00001"), name="Facility One (renamed)", code="RENAMED")
    edits.move(edits.named("Facility 00002"), edits.named("District 3.3"))
    edits.add("NewUnit0001", "Facility New", edits.named("District 1.1"))
    edits.touch(edits.named("Facility 00003"), closedDate="2026-06-30T00:00:00.000")
    edits.delete(edits.named("Facility 00004"))
    edits.regroup(edits.named("Facility 00005"), leave="Urban", join="Rural")
    done = sync(client, task_aws, alpha, connection, source)
    result = done["result"]
    assert (
        result["base_version_id"] == imported["version_id"] and result["version_id"] > imported["version_id"]
    )
    assert result["diff"] == {"created": 1, "updated": 1, "moved": 1, "closed": 1, "deleted": 1, "groups": 1}

    uid = {
        name: edits.named(name)["id"]
        for name in (
            "Facility One (renamed)",
            "Facility 00002",
            "Facility 00003",
            "Facility 00005",
            "District 3.3",
            "District 1.1",
        )
    }
    diff = json.loads(artifact(task_aws, done, "diff.json"))
    assert diff["created"] == [{"uid": "NewUnit0001", "name": "Facility New", "parent": uid["District 1.1"]}]
    (updated,) = diff["updated"]
    assert updated["uid"] == uid["Facility One (renamed)"]
    assert updated["fields"] == {
        "name": ["Facility 00001", "Facility One (renamed)"],
        "code": ["GEN_00013", "RENAMED"],
    }
    assert [(m["uid"], m["to"]) for m in diff["moved"]] == [(uid["Facility 00002"], uid["District 3.3"])]
    assert diff["closed"] == [
        {"uid": uid["Facility 00003"], "name": "Facility 00003", "closed_date": "2026-06-30"}
    ]
    assert [d["name"] for d in diff["deleted"]] == ["Facility 00004"]
    assert diff["groups"] == [
        {"uid": uid["Facility 00005"], "name": "Facility 00005", "added": ["Rural"], "removed": ["Urban"]}
    ]
    table = list(csv.DictReader(io.StringIO(artifact(task_aws, done, "diff.csv").decode())))
    assert {(r["change"], r["field"]) for r in table} >= {
        ("updated", "name"),
        ("moved", "parent"),
        ("deleted", "name"),
    }

    old, new = units(imported["version_id"]), units(result["version_id"])
    assert len(new) == len(old) and "Facility 00004" not in {u["name"] for u in new.values()}  # -1 + 1
    assert (
        new[uid["Facility 00002"]]["parent"] == uid["District 3.3"]
        and new["NewUnit0001"]["type"] == "Facility"
    )
    assert (new[uid["Facility 00005"]]["groups"], old[uid["Facility 00005"]]["groups"]) == (
        ["Rural"],
        ["Urban"],
    )
    assert (
        old[uid["Facility One (renamed)"]]["name"] == "Facility 00001"
    )  # the earlier version stays as it was

    again = sync(client, task_aws, alpha, connection, source)["result"]
    assert again["version_id"] is None  # the same changes, already applied: nothing new
    assert [r["status"] for r in runs(client, alpha, connection)] == [  # newest first
        "UNCHANGED",
        "SUCCESS",
        "UNCHANGED",
        "SUCCESS",
    ]


@pytest.mark.commits
def test_a_big_delta_is_a_whole_import_across_invocations_with_the_same_diff(
    client, alpha, task_aws, dhis2, pair, monkeypatch
):
    connection, source = pair
    imported = sync(client, task_aws, alpha, connection, source, "imports")["result"]
    edits = Edits(dhis2)
    edits.touch(edits.named("District 2.2"), name="District Two-Two")
    edits.delete(edits.named("Facility 00007"))
    monkeypatch.setattr(sync_task, "WHOLE_IMPORT_ABOVE", 0)  # any delta is "big"

    def short_lived(function_name: str) -> LocalContext:
        return LocalContext(function_name, timeout_seconds=0)  # near the deadline at every page

    done = sync(client, task_aws, alpha, connection, source, context_factory=short_lived)
    result = done["result"]
    assert done["attempts"] > 2 and result["base_version_id"] == imported["version_id"]
    assert result["diff"] == {"created": 0, "updated": 1, "moved": 0, "closed": 0, "deleted": 1, "groups": 0}
    diff = json.loads(artifact(task_aws, done, "diff.json"))
    assert diff["updated"][0]["fields"] == {"name": ["District 2.2", "District Two-Two"]}
    assert [r["status"] for r in runs(client, alpha, connection)] == ["SUCCESS", "SUCCESS"]


def fire() -> None:
    app_module.dhis2_schedules(scheduled_event("dhis2_schedules"), None)  # as EventBridge sends it
    db.close()  # a trigger's thread ends here: its connection with it


def make_due(schedule_id: int) -> None:
    with db.transaction() as cur:
        cur.execute(
            "UPDATE dhis2_schedules SET next_run_at = now() - interval '1 minute' WHERE id = %s",
            (schedule_id,),
        )


def sync_tasks() -> int:
    with db.transaction() as cur:
        return db.one(cur, "SELECT count(*) AS n FROM tasks WHERE kind = 'dhis2.sync'")["n"]


@pytest.mark.commits
def test_schedules_fire_one_sync_at_a_time_and_stay_in_their_account(client, alpha, task_aws, pair):
    connection, source = pair
    path = f"/api/dhis2/connections/{connection['id']}/schedules"
    body = {"data_source_id": source["id"], "expression": "rate(15 minutes)"}
    assert call(client, "POST", path, alpha.tokens["viewer"], body)[0] == 403
    bad = call(client, "POST", path, alpha.tokens["registry_editor"], body | {"expression": "every day"})
    assert bad[0] == 400 and "expression" in json.dumps(bad[1])
    status, schedule, _ = call(client, "POST", path, alpha.tokens["registry_editor"], body)
    assert status == 201 and schedule["enabled"], schedule
    assert call(client, "POST", path, alpha.tokens["registry_editor"], body)[0] == 409  # one per data source

    fire()
    assert sync_tasks() == 0  # not due yet
    make_due(schedule["id"])
    firings = [threading.Thread(target=fire) for _ in range(2)]
    for thread in firings:
        thread.start()
    for thread in firings:
        thread.join()
    assert sync_tasks() == 1  # two firings at once: one sync
    make_due(schedule["id"])
    fire()  # while that sync is still queued: a recorded no-op
    assert sync_tasks() == 1
    assert [(r["status"], r["schedule_id"]) for r in runs(client, alpha, connection)] == [
        ("SKIPPED", schedule["id"]),
        ("QUEUED", schedule["id"]),
    ]
    assert "already queued" in runs(client, alpha, connection)[0]["note"]
    drain(task_aws)
    assert runs(client, alpha, connection)[1]["status"] == "SUCCESS"  # the first sync imports the whole tree

    one = f"/api/dhis2/schedules/{schedule['id']}"
    status, changed, _ = call(
        client,
        "PATCH",
        one,
        alpha.tokens["registry_editor"],
        {"expression": "cron(30 2 ? * MON-FRI *)", "enabled": False},
    )
    assert status == 200 and not changed["enabled"], changed
    next_run = datetime.datetime.fromisoformat(changed["next_run_at"])
    assert (next_run.hour, next_run.minute, next_run.isoweekday() <= 5) == (2, 30, True)
    beta = make_tenant(client, "beta")
    for method, url in (("GET", one), ("PATCH", one), ("DELETE", one), ("GET", path)):
        assert call(client, method, url, beta.tokens["admin"], {} if method == "PATCH" else None)[0] == 404
    assert call(client, "DELETE", one, alpha.tokens["registry_editor"])[0] == 204


def test_eventbridge_expressions():
    at = datetime.datetime(2026, 12, 7, 17, 46, 30, tzinfo=datetime.UTC)  # a Monday
    assert schedules_cron.next_after("rate(1 hour)", at) == at.replace(second=0) + datetime.timedelta(hours=1)
    assert schedules_cron.next_after("cron(0 2 * * ? *)", at) == datetime.datetime(
        2026, 12, 8, 2, 0, tzinfo=datetime.UTC
    )
    assert schedules_cron.next_after("cron(0/15 * * * ? *)", at).minute == 0
    assert schedules_cron.next_after("cron(0 8 ? * SAT *)", at).date() == datetime.date(2026, 12, 12)
    assert schedules_cron.next_after("cron(0 0 1 JAN ? 2027)", at).date() == datetime.date(2027, 1, 1)
    for wrong in (
        "rate(1 minutes)",
        "rate(0 hours)",
        "cron(0 2 * * * *)",
        "cron(0 2 L * ? *)",
        "cron(61 * * * ? *)",
    ):
        with pytest.raises(schedules_cron.ExpressionError):
            schedules_cron.parse(wrong)
