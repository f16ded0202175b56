"""Copying a version and diffing two versions, as tasks with artifacts."""

import csv
import io
import json

import pytest

from tests.integration.helpers import call, make_tenant, restrict
from tests.integration.registrykit import build_registry, point
from tests.integration.taskkit import BUCKET, drain, row

pytestmark = pytest.mark.commits  # tasks report progress on a second connection


@pytest.fixture
def alpha(client, task_aws):
    return make_tenant(client, "alpha", roles=("viewer", "registry_editor"))


def _copy(client, token, version_id):
    status, copied, _ = call(
        client, "POST", f"/api/versions/{version_id}/copy", token, {"description": "2027"}
    )
    assert status == 201, copied
    return copied


def _artifact(task_aws, task_id: int, account_id: int, name: str) -> str:
    key = f"tasks/{account_id}/{task_id}/{name}"
    return task_aws.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode()


def test_copying_a_version_copies_units_tree_and_groups(client, alpha, tree, task_aws):
    token = alpha.tokens["registry_editor"]
    copied = _copy(client, token, tree["version"])
    assert copied["version"]["number"] == 2 and copied["task"]["kind"] == "versions.copy"
    drain(task_aws)
    done = row(copied["task"]["id"])
    assert done["status"] == "SUCCESS" and done["result"]["org_units"] == 8 and done["result"]["groups"] == 1
    new_version = copied["version"]["id"]
    _, units, _ = call(client, "GET", f"/api/orgunits?version={new_version}&limit=50", token)
    by_ref = {u["source_ref"]: u for u in units["results"]}
    assert len(by_ref) == 8 and tree["Dakar"] not in [u["id"] for u in units["results"]]  # new ids
    facility = by_ref["F1"]
    _, shown, _ = call(client, "GET", f"/api/orgunits/{facility['id']}", token)
    assert [a["name"] for a in shown["ancestors"]] == ["Sénégal", "Dakar", "Pikine"]
    assert all(a["id"] not in (tree["Sénégal"], tree["Dakar"]) for a in shown["ancestors"])
    assert len(shown["group_ids"]) == 1 and shown["group_ids"] != [tree["public"]]
    _, original, _ = call(client, "GET", f"/api/orgunits/{tree['Centre de Santé Pikine']}", token)
    assert shown["uuid"] == original["uuid"] and shown["location"] == original["location"]
    # The copy is independent: moving in it leaves the original alone
    call(
        client,
        "PATCH",
        f"/api/orgunits/{by_ref['SN-DK-PK']['id']}",
        token,
        {"parent_id": by_ref["SN-KE"]["id"]},
    )
    _, original, _ = call(client, "GET", f"/api/orgunits/{tree['Centre de Santé Pikine']}", token)
    assert [a["name"] for a in original["ancestors"]] == ["Sénégal", "Dakar", "Pikine"]


def test_a_sources_versions_are_listed_with_their_unit_counts_and_the_accounts_default(
    client, alpha, tree, task_aws
):
    token = alpha.tokens["registry_editor"]
    empty = call(client, "POST", f"/api/data-sources/{tree['source']}/versions", token, {})[1]
    _, listed, _ = call(client, "GET", f"/api/data-sources/{tree['source']}/versions", alpha.tokens["viewer"])
    counted = {v["id"]: (v["org_unit_count"], v["account_default"]) for v in listed["results"]}
    assert counted == {tree["version"]: (8, True), empty["id"]: (0, False)}
    call(client, "POST", f"/api/versions/{empty['id']}/make-default", token)
    _, shown, _ = call(client, "GET", f"/api/versions/{empty['id']}", token)
    assert (shown["org_unit_count"], shown["account_default"]) == (0, True)


def test_diffing_two_versions_lists_added_removed_and_changed_fields(client, alpha, tree, task_aws):
    token = alpha.tokens["registry_editor"]
    copied = _copy(client, token, tree["version"])
    drain(task_aws)
    new_version = copied["version"]["id"]
    _, units, _ = call(client, "GET", f"/api/orgunits?version={new_version}&limit=50", token)
    by_ref = {u["source_ref"]: u["id"] for u in units["results"]}
    call(
        client,
        "PATCH",
        f"/api/orgunits/{by_ref['F1']}",
        token,
        {"name": "CS Pikine", "location": point(-17.3, 14.7)},
    )
    call(client, "DELETE", f"/api/orgunits/{by_ref['F2']}", token)
    call(
        client,
        "POST",
        "/api/orgunits",
        token,
        {"name": "Nouveau", "source_ref": "F3", "parent_id": by_ref["SN-KE-SR"], "version_id": new_version},
    )
    status, diff_task, _ = call(
        client,
        "POST",
        "/api/versions/diff",
        token,
        {"before_version_id": tree["version"], "after_version_id": new_version},
    )
    assert status == 201
    drain(task_aws)
    done = row(diff_task["id"])
    assert done["status"] == "SUCCESS"
    assert done["result"] == {"added": 1, "removed": 1, "changed": 1, "unchanged": 6}
    diff = json.loads(_artifact(task_aws, diff_task["id"], alpha.account_id, "diff.json"))
    by_status = {entry["status"]: entry for entry in diff["units"]}
    assert by_status["added"]["source_ref"] == "F3" and by_status["removed"]["source_ref"] == "F2"
    changed = by_status["changed"]
    assert changed["source_ref"] == "F1"
    assert changed["changes"]["name"] == ["Centre de Santé Pikine", "CS Pikine"]
    assert changed["changes"]["location"] == ["POINT Z (-17.35 14.75 0)", "POINT Z (-17.3 14.7 0)"]
    table = list(
        csv.DictReader(io.StringIO(_artifact(task_aws, diff_task["id"], alpha.account_id, "diff.csv")))
    )
    assert {(r["source_ref"], r["status"], r["field"]) for r in table} == {
        ("F3", "added", "name"),
        ("F2", "removed", "name"),
        ("F1", "changed", "name"),
        ("F1", "changed", "location"),
    }
    _, shown, _ = call(client, "GET", f"/api/tasks/{diff_task['id']}", token)
    assert {a["name"] for a in shown["artifacts"]} == {"diff.json", "diff.csv"}


def test_version_tasks_check_input_and_tenancy(client, alpha, tree, task_aws):
    token = alpha.tokens["registry_editor"]
    status, error, _ = call(
        client,
        "POST",
        "/api/versions/diff",
        token,
        {"before_version_id": tree["version"], "after_version_id": tree["version"]},
    )
    assert status == 400 and error["error"]["details"]["field"] == "after_version_id"
    assert call(client, "POST", f"/api/versions/{tree['version']}/copy", alpha.tokens["viewer"], {})[0] == 403
    beta = make_tenant(client, "beta")
    other = build_registry(client, beta.tokens["admin"])
    assert call(client, "POST", f"/api/versions/{tree['version']}/copy", beta.tokens["admin"], {})[0] == 404
    body = {"before_version_id": tree["version"], "after_version_id": other["version"]}
    assert call(client, "POST", "/api/versions/diff", beta.tokens["admin"], body)[0] == 404
    assert task_aws.depth(task_aws.queue_url) == 0


def test_a_profile_restricted_to_a_subtree_cannot_copy_or_diff_whole_versions(client, alpha, tree, task_aws):
    admin = alpha.tokens["admin"]
    restrict(client, alpha, "registry_editor", tree["Dakar"])
    token = alpha.tokens["registry_editor"]
    status, error, _ = call(client, "POST", f"/api/versions/{tree['version']}/copy", token, {})
    assert status == 403 and error["error"]["code"] == "auth.restricted_profile"
    other = call(client, "POST", f"/api/data-sources/{tree['source']}/versions", admin, {})[1]
    body = {"before_version_id": tree["version"], "after_version_id": other["id"]}
    assert call(client, "POST", "/api/versions/diff", token, body)[0] == 403
    assert task_aws.depth(task_aws.queue_url) == 0
