"""Locating a point, and the mobile app's incremental sync."""

import datetime
import urllib.parse

import pytest

from chalicelib.registry import mobile_sync
from tests.integration.helpers import PASSWORD, call, login, make_tenant
from tests.integration.registrykit import build_registry


@pytest.fixture
def alpha(client):
    return make_tenant(client, "alpha", roles=("viewer", "data_collector"))


def test_locate_returns_the_territories_containing_a_point_largest_first(client, alpha, tree):
    token = alpha.tokens["viewer"]
    status, found, _ = call(client, "GET", "/api/orgunits/locate?lat=14.75&lon=-17.35", token)
    assert status == 200
    assert [unit["name"] for unit in found["results"]] == ["Sénégal", "Dakar", "Pikine"]
    _, regions, _ = call(
        client, "GET", f"/api/orgunits/locate?lat=14.75&lon=-17.35&type={tree['Region']}", token
    )
    assert [unit["name"] for unit in regions["results"]] == ["Dakar"]
    _, nowhere, _ = call(client, "GET", "/api/orgunits/locate?lat=48.85&lon=2.35", token)
    assert nowhere["results"] == []
    for query, parameter in (("lat=14.75", "lon"), ("lat=95&lon=0", "lat"), ("lat=a&lon=0", "lat")):
        status, error, _ = call(client, "GET", f"/api/orgunits/locate?{query}", token)
        assert status == 400 and error["error"]["details"] == {"parameter": parameter}


def test_locate_respects_accounts_and_subtrees(client, alpha, tree):
    beta = make_tenant(client, "beta")
    build_registry(client, beta.tokens["admin"])
    _, found, _ = call(client, "GET", "/api/orgunits/locate?lat=14.75&lon=-17.35", beta.tokens["admin"])
    assert tree["Dakar"] not in [unit["id"] for unit in found["results"]]
    viewer = alpha.user_ids["viewer"]
    call(client, "PATCH", f"/api/users/{viewer}", alpha.tokens["admin"], {"org_unit_ids": [tree["Kédougou"]]})
    _, found, _ = call(client, "GET", "/api/orgunits/locate?lat=14.75&lon=-17.35", alpha.tokens["viewer"])
    assert found["results"] == []


def _sync(client, token, project_id, since=None, limit=50):
    results, cursor = [], None
    while True:
        query = {"project": project_id, "limit": limit} | ({"since": since} if since else {})
        query |= {"cursor": cursor} if cursor else {}
        status, page, _ = call(client, "GET", "/api/mobile/orgunits?" + urllib.parse.urlencode(query), token)
        assert status == 200, page
        results += page["results"]
        cursor = page["next_cursor"]
        if cursor is None:
            return results, page["next_since"]


def test_mobile_sync_sends_valid_units_then_only_changes_with_tombstones(client, alpha, tree):
    admin, collector = alpha.tokens["admin"], alpha.tokens["data_collector"]
    call(
        client,
        "PATCH",
        f"/api/users/{alpha.user_ids['data_collector']}",
        admin,
        {"project_ids": [alpha.project_id]},
    )
    collector = login(client, "data_collector@alpha.example.org", PASSWORD)
    first, since = _sync(client, collector, alpha.project_id, limit=3)
    valid = [item for item in first if not item.get("deleted")]
    assert sorted(item["name"] for item in valid) == ["Centre de Santé Pikine", "Poste de Santé Saraya"]
    assert all(item["deleted"] for item in first if item not in valid)  # NEW units come as tombstones
    assert valid[0]["ancestor_ids"] and valid[0]["location"]["type"] == "Point"
    assert all(set(item) == set(mobile_sync.FIELDS) for item in valid)
    pikine = next(item for item in valid if item["id"] == tree["Centre de Santé Pikine"])
    assert pikine["ancestor_ids"] == [tree["Sénégal"], tree["Dakar"], tree["Pikine"]]
    assert (pikine["parent_id"], pikine["opening_date"], pikine["group_ids"]) == (
        tree["Pikine"], "2001-01-01", [tree["public"]],
    )  # fmt: skip
    # Then: one unit renamed, one rejected, one validated; the sync returns just those
    call(client, "PATCH", f"/api/orgunits/{tree['Centre de Santé Pikine']}", admin, {"name": "CS Pikine"})
    call(
        client,
        "PATCH",
        f"/api/orgunits/{tree['Poste de Santé Saraya']}",
        admin,
        {"validation_status": "REJECTED"},
    )
    call(client, "PATCH", f"/api/orgunits/{tree['Rufisque']}", admin, {"validation_status": "VALID"})
    changes, _ = _sync(client, collector, alpha.project_id, since=since)
    by_id = {item["id"]: item for item in changes}
    assert by_id[tree["Centre de Santé Pikine"]]["name"] == "CS Pikine"
    rejected = by_id[tree["Poste de Santé Saraya"]]
    assert rejected == {
        "id": tree["Poste de Santé Saraya"],
        "deleted": True,
        "updated_at": rejected["updated_at"],
    }
    assert by_id[tree["Rufisque"]]["validation_status"] == "VALID"
    # The look-back means recent changes may come twice, never that they are missed
    assert set(by_id) >= {tree["Centre de Santé Pikine"], tree["Poste de Santé Saraya"], tree["Rufisque"]}


def test_mobile_sync_only_for_the_users_projects_and_subtrees(client, alpha, tree):
    admin = alpha.tokens["admin"]
    collector_id = alpha.user_ids["data_collector"]
    status, error, _ = call(
        client, "GET", f"/api/mobile/orgunits?project={alpha.project_id}", alpha.tokens["data_collector"]
    )
    assert status == 404 and error["error"]["code"] == "project.not_found"
    call(
        client,
        "PATCH",
        f"/api/users/{collector_id}",
        admin,
        {"project_ids": [alpha.project_id], "org_unit_ids": [tree["Kédougou"]]},
    )
    synced, _ = _sync(client, alpha.tokens["data_collector"], alpha.project_id)
    assert {item["id"] for item in synced} == {
        tree["Kédougou"],
        tree["Saraya"],
        tree["Poste de Santé Saraya"],
    }
    beta = make_tenant(client, "beta")
    build_registry(client, beta.tokens["admin"])
    assert (
        call(client, "GET", f"/api/mobile/orgunits?project={alpha.project_id}", beta.tokens["admin"])[0]
        == 404
    )
    synced, _ = _sync(client, beta.tokens["admin"], beta.project_id)
    assert not {item["id"] for item in synced} & set(v for k, v in tree.items() if isinstance(v, int))


def test_mobile_sync_input_errors(client, alpha, tree):
    token = alpha.tokens["admin"]
    for query, parameter in (
        ("", "project"),
        (f"project={alpha.project_id}&since=yesterday", "since"),
        (f"project={alpha.project_id}&cursor=abc", "cursor"),
    ):
        status, error, _ = call(client, "GET", f"/api/mobile/orgunits?{query}", token)
        assert status == 400 and error["error"]["details"] == {"parameter": parameter}, query
    future = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)).isoformat()
    _, page, _ = call(
        client,
        "GET",
        f"/api/mobile/orgunits?project={alpha.project_id}&since={urllib.parse.quote(future)}",
        token,
    )
    assert page["results"] == [] and page["next_since"]


def test_a_unit_moved_out_of_a_users_subtree_comes_as_a_tombstone(client, alpha, tree):
    admin, collector = alpha.tokens["admin"], alpha.tokens["data_collector"]
    restriction = {"project_ids": [alpha.project_id], "org_unit_ids": [tree["Kédougou"]]}
    call(client, "PATCH", f"/api/users/{alpha.user_ids['data_collector']}", admin, restriction)
    first, since = _sync(client, collector, alpha.project_id)
    assert tree["Saraya"] in {item["id"] for item in first}
    # Saraya (and its facility) move under Dakar: out of the collector's subtree
    status, moved, _ = call(
        client, "PATCH", f"/api/orgunits/{tree['Saraya']}", admin, {"parent_id": tree["Dakar"]}
    )
    assert status == 200, moved
    changes, _ = _sync(client, collector, alpha.project_id, since=since)
    gone = {
        item["id"]: item for item in changes if item["id"] in (tree["Saraya"], tree["Poste de Santé Saraya"])
    }
    assert set(gone) == {tree["Saraya"], tree["Poste de Santé Saraya"]}
    assert all(
        item == {"id": item["id"], "deleted": True, "updated_at": item["updated_at"]}
        for item in gone.values()
    )
    # an unrestricted user gets the (VALID) facility as it is now, not as a tombstone
    everything, _ = _sync(client, admin, alpha.project_id, since=since)
    facility = next(item for item in everything if item["id"] == tree["Poste de Santé Saraya"])
    assert tree["Dakar"] in facility["ancestor_ids"] and "deleted" not in facility
    # a later sync, past the move, sends nothing more about them
    later = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=1)).isoformat()
    assert _sync(client, collector, alpha.project_id, since=later)[0] == []
