"""Change requests: proposed by field workers, checked at once, approved field by field or rejected."""

import pytest

from tests.integration.helpers import call, make_tenant, restrict
from tests.integration.registrykit import build_registry, point


@pytest.fixture
def alpha(client):
    return make_tenant(client, "alpha", roles=("viewer", "data_collector", "reviewer"))


def _propose(client, token, body):
    status, created, _ = call(client, "POST", "/api/change-requests", token, body)
    assert status == 201, created
    return created


def test_approving_selected_fields_applies_them_and_audits(client, alpha, tree):
    unit = tree["Centre de Santé Pikine"]
    proposed = {"name": "CS Pikine Nord", "location": point(-17.36, 14.76), "opening_date": "2002-02-02"}
    request = _propose(client, alpha.tokens["data_collector"], {"org_unit_id": unit, "proposed": proposed})
    assert request["status"] == "new" and request["proposed"]["opening_date"] == "2002-02-02"
    assert request["created_by_email"] == "data_collector@alpha.example.org"
    assert request["reviewed_by_email"] is None
    # Nothing changes before review
    _, before, _ = call(client, "GET", f"/api/orgunits/{unit}", alpha.tokens["viewer"])
    assert before["name"] == "Centre de Santé Pikine"
    approve = f"/api/change-requests/{request['id']}/approve"
    for fields in ([], ["colour"]):
        status, error, _ = call(client, "POST", approve, alpha.tokens["reviewer"], {"fields": fields})
        assert status == 400 and error["error"]["details"]["field"] == "fields", error
    status, approved, _ = call(
        client, "POST", approve, alpha.tokens["reviewer"], {"fields": ["name", "location"]}
    )
    assert (
        status == 200
        and approved["status"] == "approved"
        and approved["approved_fields"] == ["name", "location"]
        and approved["reviewed_by_email"] == "reviewer@alpha.example.org"
    )
    _, after, _ = call(client, "GET", f"/api/orgunits/{unit}", alpha.tokens["viewer"])
    assert after["name"] == "CS Pikine Nord" and after["location"]["coordinates"] == [-17.36, 14.76]
    assert after["opening_date"] == "2001-01-01"  # not approved
    _, history, _ = call(client, "GET", f"/api/orgunits/{unit}/history", alpha.tokens["viewer"])
    update = history["results"][-1]
    assert update["source"] == "change_request" and update["user_email"] == "reviewer@alpha.example.org"
    assert (
        update["before"]["name"] == "Centre de Santé Pikine" and update["after"]["name"] == "CS Pikine Nord"
    )
    status, error, _ = call(
        client, "POST", f"/api/change-requests/{request['id']}/approve", alpha.tokens["reviewer"], {}
    )
    assert status == 409 and error["error"]["code"] == "change_request.already_reviewed"


def test_a_proposed_new_unit_is_new_until_approved_then_valid(client, alpha, tree):
    body = {
        "new_unit": {
            "name": "Case de Santé Keur Massar",
            "parent_id": tree["Pikine"],
            "org_unit_type_id": tree["Facility"],
            "location": point(-17.3, 14.78),
        }
    }
    request = _propose(client, alpha.tokens["data_collector"], body)
    assert request["creates_unit"] is True
    _, unit, _ = call(client, "GET", f"/api/orgunits/{request['org_unit_id']}", alpha.tokens["viewer"])
    assert unit["validation_status"] == "NEW" and unit["parent_id"] == tree["Pikine"]
    call(client, "POST", f"/api/change-requests/{request['id']}/approve", alpha.tokens["reviewer"], {})
    _, unit, _ = call(client, "GET", f"/api/orgunits/{request['org_unit_id']}", alpha.tokens["viewer"])
    assert unit["validation_status"] == "VALID"


def test_rejecting_needs_a_reason_and_rejects_a_proposed_unit(client, alpha, tree):
    request = _propose(
        client,
        alpha.tokens["data_collector"],
        {"new_unit": {"name": "Ghost clinic", "parent_id": tree["Saraya"]}},
    )
    path = f"/api/change-requests/{request['id']}/reject"
    status, error, _ = call(client, "POST", path, alpha.tokens["reviewer"], {})
    assert status == 400 and error["error"]["details"]["field"] == "reason"
    status, rejected, _ = call(client, "POST", path, alpha.tokens["reviewer"], {"reason": "Does not exist"})
    assert (
        status == 200
        and rejected["status"] == "rejected"
        and rejected["rejection_reason"] == "Does not exist"
    )
    _, unit, _ = call(client, "GET", f"/api/orgunits/{request['org_unit_id']}", alpha.tokens["viewer"])
    assert unit["validation_status"] == "REJECTED"
    _, history, _ = call(
        client, "GET", f"/api/orgunits/{request['org_unit_id']}/history", alpha.tokens["viewer"]
    )
    rejection = history["results"][-1]
    assert rejection["source"] == "change_request" and rejection["user_email"] == "reviewer@alpha.example.org"
    assert rejection["before"] == {"validation_status": "NEW"} and rejection["after"] == {
        "validation_status": "REJECTED"
    }


def test_a_proposal_is_checked_when_made(client, alpha, tree):
    token = alpha.tokens["data_collector"]
    cases = [
        ({"org_unit_id": tree["Dakar"], "proposed": {"parent_id": tree["Pikine"]}}, "parent_id"),
        ({"org_unit_id": tree["Dakar"], "proposed": {"location": point(500, 0)}}, "location"),
        ({"org_unit_id": tree["Dakar"], "proposed": {}}, "proposed"),
        ({"org_unit_id": tree["Dakar"], "proposed": {"colour": "red"}}, None),
        ({"proposed": {"name": "x"}}, "org_unit_id"),
        ({"new_unit": {"parent_id": tree["Dakar"]}}, "name"),
    ]
    for body, field in cases:
        status, error, _ = call(client, "POST", "/api/change-requests", token, body)
        assert status == 400, body
        if field:
            assert error["error"]["details"].get("field") == field, (body, error)
    _, listed, _ = call(client, "GET", "/api/change-requests", alpha.tokens["reviewer"])
    assert listed["results"] == []
    _, dakar, _ = call(client, "GET", f"/api/orgunits/{tree['Dakar']}", alpha.tokens["viewer"])
    assert dakar["parent_id"] == tree["Sénégal"]  # the dry run left nothing behind


def test_roles_list_filters_and_tenancy(client, alpha, tree):
    request = _propose(
        client, alpha.tokens["data_collector"], {"org_unit_id": tree["Dakar"], "proposed": {"code": "DK"}}
    )
    path = f"/api/change-requests/{request['id']}"
    # Viewers cannot propose; proposers cannot review
    assert (
        call(
            client,
            "POST",
            "/api/change-requests",
            alpha.tokens["viewer"],
            {"org_unit_id": tree["Dakar"], "proposed": {"code": "x"}},
        )[0]
        == 403
    )
    assert call(client, "POST", f"{path}/approve", alpha.tokens["data_collector"], {})[0] == 403
    _, pending, _ = call(client, "GET", "/api/change-requests?status=new", alpha.tokens["viewer"])
    assert [r["id"] for r in pending["results"]] == [request["id"]]
    _, for_unit, _ = call(
        client, "GET", f"/api/change-requests?org_unit={tree['Saraya']}", alpha.tokens["viewer"]
    )
    assert for_unit["results"] == []
    assert call(client, "GET", "/api/change-requests?status=maybe", alpha.tokens["viewer"])[0] == 400
    # Another account: 404 everywhere, empty list
    beta = make_tenant(client, "beta")
    build_registry(client, beta.tokens["admin"])
    for method, route, body in [
        ("GET", path, None),
        ("POST", f"{path}/approve", {}),
        ("POST", f"{path}/reject", {"reason": "x"}),
    ]:
        assert call(client, method, route, beta.tokens["admin"], body)[0] == 404, route
    assert call(client, "GET", "/api/change-requests", beta.tokens["admin"])[1]["results"] == []
    status, _, _ = call(
        client,
        "POST",
        "/api/change-requests",
        beta.tokens["admin"],
        {"org_unit_id": tree["Dakar"], "proposed": {"code": "x"}},
    )
    assert status == 404
    # A reviewer restricted to another subtree neither sees nor reviews it
    restrict(client, alpha, "reviewer", tree["Kédougou"])
    assert call(client, "GET", path, alpha.tokens["reviewer"])[0] == 404
    assert call(client, "POST", f"{path}/approve", alpha.tokens["reviewer"], {})[0] == 404
    assert call(client, "GET", "/api/change-requests", alpha.tokens["reviewer"])[1]["results"] == []
