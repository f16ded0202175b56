"""POST /api/orgunits/bulk-update: a task applying one change to every matching unit, audited."""

import pytest

from tests.integration.helpers import call, make_tenant, restrict
from tests.integration.registrykit import build_registry
from tests.integration.taskkit import drain, row

pytestmark = pytest.mark.commits  # tasks report progress on a second connection


@pytest.fixture
def alpha(client, task_aws):
    return make_tenant(client, "alpha", roles=("viewer", "registry_editor"))


def _launch(client, token, body):
    status, created, _ = call(client, "POST", "/api/orgunits/bulk-update", token, body)
    assert status == 201, created
    return created


def test_bulk_update_changes_every_matching_unit_with_progress_and_audit(client, alpha, tree, task_aws):
    token = alpha.tokens["registry_editor"]
    body = {
        "filters": {"descendants_of": tree["Dakar"]},
        "changes": {"validation_status": "VALID", "add_group_ids": [tree["public"]]},
    }
    created = _launch(client, token, body)
    assert created["kind"] == "orgunits.bulk_update" and created["status"] == "QUEUED"
    drain(task_aws)
    done = row(created["id"])
    assert done["status"] == "SUCCESS" and done["result"] == {"updated": 3}
    assert (done["progress_value"], done["end_value"]) == (3, 3)
    _, listed, _ = call(client, "GET", f"/api/orgunits?descendants_of={tree['Dakar']}", token)
    assert all(
        u["validation_status"] == "VALID" and tree["public"] in u["group_ids"] for u in listed["results"]
    )
    _, outside, _ = call(client, "GET", f"/api/orgunits/{tree['Saraya']}", token)
    assert outside["validation_status"] == "NEW" and outside["group_ids"] == []
    _, history, _ = call(client, "GET", f"/api/orgunits/{tree['Rufisque']}/history", token)
    bulk = [e for e in history["results"] if e["source"] == "bulk_update"]
    assert {e["action"] for e in bulk} == {"update", "groups"} and all(
        e["task_id"] == created["id"] for e in bulk
    )


def test_bulk_update_respects_the_launchers_subtree(client, alpha, tree, task_aws):
    admin = alpha.tokens["admin"]
    restrict(client, alpha, "registry_editor", tree["Kédougou"])
    created = _launch(
        client, alpha.tokens["registry_editor"], {"filters": {}, "changes": {"validation_status": "REJECTED"}}
    )
    drain(task_aws)
    assert row(created["id"])["result"] == {"updated": 3}
    _, dakar, _ = call(client, "GET", f"/api/orgunits/{tree['Dakar']}", admin)
    assert dakar["validation_status"] == "NEW"


def test_a_unit_that_refuses_the_change_fails_the_task_and_rolls_everything_back(
    client, alpha, tree, task_aws
):
    # Facility is not allowed under a Country, so re-typing every region fails at the first one
    body = {"filters": {"type": str(tree["Region"])}, "changes": {"org_unit_type_id": tree["Facility"]}}
    body["filters"]["parent"] = str(tree["Sénégal"])
    created = _launch(client, alpha.tokens["registry_editor"], body)
    drain(task_aws)
    failed = row(created["id"])
    assert failed["status"] == "ERRORED" and "is not allowed under" in failed["error_message"]
    _, regions, _ = call(client, "GET", f"/api/orgunits?type={tree['Region']}", alpha.tokens["viewer"])
    assert len(regions["results"]) == 2


def test_bulk_update_input_is_checked_before_anything_is_queued(client, alpha, tree, task_aws):
    token = alpha.tokens["registry_editor"]
    cases = [
        ({"filters": {"bbox": "1,2"}, "changes": {"validation_status": "VALID"}}, "parameter", "bbox"),
        ({"filters": {}, "changes": {}}, "field", "changes"),
        ({"filters": {}, "changes": {"name": "All the same"}}, "fields", ["changes.name"]),
        ({"filters": {}, "changes": {"validation_status": "MAYBE"}}, "field", "changes.validation_status"),
        ({"changes": {"validation_status": "VALID"}}, "field", "filters"),
    ]
    for body, key, value in cases:
        status, error, _ = call(client, "POST", "/api/orgunits/bulk-update", token, body)
        assert status == 400 and error["error"]["details"].get(key) == value, (body, error)
    assert task_aws.depth(task_aws.queue_url) == 0
    assert (
        call(
            client,
            "POST",
            "/api/orgunits/bulk-update",
            alpha.tokens["viewer"],
            {"filters": {}, "changes": {"validation_status": "VALID"}},
        )[0]
        == 403
    )


def test_another_account_cannot_bulk_update_our_units(client, alpha, tree, task_aws):
    beta = make_tenant(client, "beta")
    build_registry(client, beta.tokens["admin"])
    body = {"filters": {"ids": str(tree["Dakar"])}, "changes": {"validation_status": "REJECTED"}}
    created = _launch(client, beta.tokens["admin"], body)
    drain(task_aws)
    assert row(created["id"])["result"] == {"updated": 0}
    body = {"filters": {"descendants_of": tree["Dakar"]}, "changes": {"validation_status": "VALID"}}
    status, _, _ = call(client, "POST", "/api/orgunits/bulk-update", beta.tokens["admin"], body)
    assert status == 404
    _, dakar, _ = call(client, "GET", f"/api/orgunits/{tree['Dakar']}", alpha.tokens["admin"])
    assert dakar["validation_status"] == "NEW"


def test_unknown_types_or_groups_are_refused_at_launch(client, alpha, tree, task_aws):
    token = alpha.tokens["registry_editor"]
    for changes in ({"org_unit_type_id": 999999}, {"add_group_ids": [999999]}):
        status, error, _ = call(
            client, "POST", "/api/orgunits/bulk-update", token, {"filters": {}, "changes": changes}
        )
        assert status == 400 and error["error"]["details"]["field"] == "changes", changes
    assert task_aws.depth(task_aws.queue_url) == 0


def test_a_bulk_update_too_big_for_one_run_changes_nothing(client, alpha, tree, task_aws):
    from tests.integration.test_tasks import DeadlineAfter

    body = {"filters": {}, "changes": {"validation_status": "REJECTED"}}
    created = _launch(client, alpha.tokens["registry_editor"], body)
    drain(task_aws, context_factory=lambda name: DeadlineAfter(name, calls=1))
    failed = row(created["id"])
    assert failed["status"] == "ERRORED" and "narrow the filters" in failed["error_message"]
    _, dakar, _ = call(client, "GET", f"/api/orgunits/{tree['Dakar']}", alpha.tokens["viewer"])
    assert dakar["validation_status"] == "NEW"
