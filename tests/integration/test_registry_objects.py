"""Data sources, versions, types, groups and group sets: CRUD, rules, tenancy."""

import pytest

from tests.integration.helpers import call, make_tenant
from tests.integration.registrykit import build_registry, post


@pytest.fixture
def alpha(client):
    return make_tenant(client, "alpha", roles=("viewer", "registry_editor"))


def test_a_data_source_starts_with_a_version_that_becomes_the_default(client, alpha):
    token = alpha.tokens["registry_editor"]
    source = post(client, token, "/api/data-sources", {"name": "Pyramid", "description": "MoH"})
    assert source["default_version_id"] and source["read_only"] is False
    _, version, _ = call(client, "GET", f"/api/versions/{source['default_version_id']}", token)
    assert version["number"] == 1 and version["org_unit_count"] == 0
    second = post(client, token, f"/api/data-sources/{source['id']}/versions", {"description": "2027 update"})
    assert second["number"] == 2
    _, versions, _ = call(client, "GET", f"/api/data-sources/{source['id']}/versions", token)
    assert [v["number"] for v in versions["results"]] == [1, 2]
    # New units go to the account's default version until another is made default
    unit = post(client, token, "/api/orgunits", {"name": "Root"})
    assert unit["version_id"] == source["default_version_id"]
    call(client, "POST", f"/api/versions/{second['id']}/make-default", token)
    assert post(client, token, "/api/orgunits", {"name": "Root 2"})["version_id"] == second["id"]
    assert (
        post(client, token, "/api/orgunits", {"name": "R", "version_id": version["id"]})["version_id"]
        == version["id"]
    )


def test_data_source_rules(client, alpha):
    token = alpha.tokens["registry_editor"]
    source = post(client, token, "/api/data-sources", {"name": "Pyramid"})
    status, error, _ = call(client, "POST", "/api/data-sources", token, {"name": "Pyramid"})
    assert status == 409 and error["error"]["code"] == "data_source.name_taken"
    other = post(client, token, "/api/data-sources", {"name": "Other"})
    path = f"/api/data-sources/{source['id']}"
    status, error, _ = call(client, "PATCH", path, token, {"default_version_id": other["default_version_id"]})
    assert status == 400 and error["error"]["details"]["field"] == "default_version_id"
    status, changed, _ = call(client, "PATCH", path, token, {"read_only": True, "name": "Frozen"})
    assert status == 200 and changed["read_only"] is True and changed["name"] == "Frozen"
    status, error, _ = call(client, "POST", f"{path}/versions", token, {})
    assert status == 409 and error["error"]["code"] == "data_source.read_only"
    body = {"name": "X", "version_id": source["default_version_id"]}
    status, error, _ = call(client, "POST", "/api/orgunits", token, body)
    assert status == 409 and error["error"]["code"] == "data_source.read_only"


def test_without_any_data_source_reads_are_empty_and_writes_say_what_to_do(client, alpha):
    status, page, _ = call(client, "GET", "/api/orgunits", alpha.tokens["viewer"])
    assert status == 200 and page == {"results": [], "next_cursor": None}
    status, error, _ = call(client, "POST", "/api/orgunits", alpha.tokens["registry_editor"], {"name": "X"})
    assert status == 400 and error["error"]["code"] == "orgunit.no_version"


def test_types_with_allowed_sub_types(client, alpha):
    token = alpha.tokens["registry_editor"]
    facility = post(
        client, token, "/api/orgunit-types", {"name": "Facility", "short_name": "FAC", "depth": 4}
    )
    district = post(
        client, token, "/api/orgunit-types", {"name": "District", "sub_type_ids": [facility["id"]]}
    )
    assert district["sub_type_ids"] == [facility["id"]]
    status, error, _ = call(client, "POST", "/api/orgunit-types", token, {"name": "Facility"})
    assert status == 409 and error["error"]["code"] == "org_unit_type.name_taken"
    status, error, _ = call(
        client, "POST", "/api/orgunit-types", token, {"name": "Bad", "sub_type_ids": [99999]}
    )
    assert status == 400 and error["error"]["details"]["field"] == "sub_type_ids"
    status, error, _ = call(client, "POST", "/api/orgunit-types", token, {"name": "Deep", "depth": 99})
    assert status == 400 and error["error"]["details"]["field"] == "depth"
    path = f"/api/orgunit-types/{district['id']}"
    status, changed, _ = call(client, "PATCH", path, token, {"sub_type_ids": [], "depth": 2})
    assert status == 200 and changed["sub_type_ids"] == [] and changed["depth"] == 2
    _, listed, _ = call(client, "GET", "/api/orgunit-types", alpha.tokens["viewer"])
    assert [t["name"] for t in listed["results"]] == ["Facility", "District"]


def test_a_type_in_use_cannot_be_deleted(client, alpha):
    token = alpha.tokens["admin"]
    tree = build_registry(client, token)
    status, error, _ = call(client, "DELETE", f"/api/orgunit-types/{tree['Facility']}", token)
    assert status == 409 and error["error"]["code"] == "org_unit_type.in_use"
    unused = post(client, token, "/api/orgunit-types", {"name": "Unused"})
    assert call(client, "DELETE", f"/api/orgunit-types/{unused['id']}", token)[0] == 204


def test_groups_and_group_sets(client, alpha):
    token = alpha.tokens["admin"]
    tree = build_registry(client, token)
    private = post(
        client, token, "/api/groups", {"version_id": tree["version"], "name": "Private", "source_ref": "prv"}
    )
    status, error, _ = call(
        client,
        "POST",
        "/api/groups",
        token,
        {"version_id": tree["version"], "name": "P", "source_ref": "prv"},
    )
    assert status == 409 and error["error"]["code"] == "group.source_ref_taken"
    _, public, _ = call(client, "GET", f"/api/groups/{tree['public']}", token)
    assert public["org_unit_count"] == 1
    ownership = post(
        client, token, "/api/group-sets", {"name": "Ownership", "group_ids": [tree["public"], private["id"]]}
    )
    assert ownership["group_ids"] == sorted([tree["public"], private["id"]])
    status, changed, _ = call(
        client, "PATCH", f"/api/group-sets/{ownership['id']}", token, {"group_ids": [private["id"]]}
    )
    assert status == 200 and changed["group_ids"] == [private["id"]]
    status, error, _ = call(client, "POST", "/api/group-sets", token, {"name": "Bad", "group_ids": [999999]})
    assert status == 400 and error["error"]["details"]["field"] == "group_ids"
    _, listed, _ = call(client, "GET", f"/api/groups?version={tree['version']}", token)
    assert {g["name"] for g in listed["results"]} == {"Public", "Private"}
    status, renamed, _ = call(
        client, "PATCH", f"/api/groups/{private['id']}", token, {"name": "Private sector"}
    )
    assert renamed["name"] == "Private sector"
    assert call(client, "DELETE", f"/api/groups/{private['id']}", token)[0] == 204
    assert call(client, "DELETE", f"/api/group-sets/{ownership['id']}", token)[0] == 204
    # A unit cannot join a group of another version
    other = post(client, token, f"/api/data-sources/{tree['source']}/versions", {})
    foreign = post(client, token, "/api/groups", {"version_id": other["id"], "name": "Elsewhere"})
    status, error, _ = call(
        client, "PATCH", f"/api/orgunits/{tree['Dakar']}", token, {"group_ids": [foreign["id"]]}
    )
    assert status == 400 and error["error"]["details"]["field"] == "group_ids"


def test_viewers_read_but_do_not_write(client, alpha):
    tree = build_registry(client, alpha.tokens["admin"])
    token = alpha.tokens["viewer"]
    for path in ("/api/data-sources", "/api/orgunit-types", "/api/groups", "/api/group-sets"):
        assert call(client, "GET", path, token)[0] == 200
    writes = [
        ("POST", "/api/data-sources", {"name": "x"}),
        ("PATCH", f"/api/data-sources/{tree['source']}", {"name": "x"}),
        ("POST", f"/api/data-sources/{tree['source']}/versions", {}),
        ("POST", f"/api/versions/{tree['version']}/make-default", None),
        ("POST", "/api/orgunit-types", {"name": "x"}),
        ("PATCH", f"/api/orgunit-types/{tree['Region']}", {"name": "x"}),
        ("DELETE", f"/api/orgunit-types/{tree['Region']}", None),
        ("POST", "/api/groups", {"version_id": tree["version"], "name": "x"}),
        ("PATCH", f"/api/groups/{tree['public']}", {"name": "x"}),
        ("DELETE", f"/api/groups/{tree['public']}", None),
        ("POST", "/api/group-sets", {"name": "x"}),
    ]
    for method, path, body in writes:
        assert call(client, method, path, token, body)[0] == 403, (method, path)


def test_another_account_gets_404_on_every_registry_object(client, alpha):
    tree = build_registry(client, alpha.tokens["admin"])
    set_id = post(
        client, alpha.tokens["admin"], "/api/group-sets", {"name": "S", "group_ids": [tree["public"]]}
    )["id"]
    beta = make_tenant(client, "beta")
    token = beta.tokens["admin"]
    routes = [
        ("GET", f"/api/data-sources/{tree['source']}", None),
        ("PATCH", f"/api/data-sources/{tree['source']}", {"name": "stolen"}),
        ("GET", f"/api/data-sources/{tree['source']}/versions", None),
        ("POST", f"/api/data-sources/{tree['source']}/versions", {}),
        ("GET", f"/api/versions/{tree['version']}", None),
        ("POST", f"/api/versions/{tree['version']}/make-default", None),
        ("GET", f"/api/orgunit-types/{tree['Region']}", None),
        ("PATCH", f"/api/orgunit-types/{tree['Region']}", {"name": "stolen"}),
        ("DELETE", f"/api/orgunit-types/{tree['Region']}", None),
        ("GET", f"/api/groups/{tree['public']}", None),
        ("PATCH", f"/api/groups/{tree['public']}", {"name": "stolen"}),
        ("DELETE", f"/api/groups/{tree['public']}", None),
        ("GET", f"/api/group-sets/{set_id}", None),
        ("PATCH", f"/api/group-sets/{set_id}", {"name": "stolen"}),
        ("DELETE", f"/api/group-sets/{set_id}", None),
    ]
    for method, path, body in routes:
        assert call(client, method, path, token, body)[0] == 404, (method, path)
    for path in ("/api/data-sources", "/api/orgunit-types", "/api/groups", "/api/group-sets"):
        assert call(client, "GET", path, token)[1]["results"] == [], path
    # Beta cannot use alpha's objects in its own writes either
    post(client, token, "/api/data-sources", {"name": "Beta pyramid"})
    status, error, _ = call(
        client, "POST", "/api/groups", token, {"version_id": tree["version"], "name": "x"}
    )
    assert status == 404
    status, error, _ = call(
        client, "POST", "/api/orgunit-types", token, {"name": "x", "sub_type_ids": [tree["Region"]]}
    )
    assert status == 400
    status, error, _ = call(
        client, "POST", "/api/group-sets", token, {"name": "x", "group_ids": [tree["public"]]}
    )
    assert status == 400
    status, error, _ = call(
        client, "POST", "/api/orgunits", token, {"name": "x", "org_unit_type_id": tree["Region"]}
    )
    assert status == 400 and error["error"]["details"]["field"] == "org_unit_type_id"
    _, region, _ = call(client, "GET", f"/api/orgunit-types/{tree['Region']}", alpha.tokens["admin"])
    assert region["name"] == "Region"


@pytest.mark.commits  # the long reader is another connection
def test_a_new_version_waits_briefly_for_long_readers_then_says_busy(client, alpha, database):
    import psycopg2

    source = post(client, alpha.tokens["admin"], "/api/data-sources", {"name": "Pyramid"})
    reader = psycopg2.connect(database)  # a long export holding org_units open
    with reader.cursor() as cur:
        cur.execute("SELECT count(*) FROM org_units")
    try:
        status, error, _ = call(
            client, "POST", f"/api/data-sources/{source['id']}/versions", alpha.tokens["admin"], {}
        )
        assert status == 503 and error["error"]["code"] == "registry.busy"
    finally:
        reader.rollback()
        reader.close()
    assert (
        call(client, "POST", f"/api/data-sources/{source['id']}/versions", alpha.tokens["admin"], {})[0]
        == 201
    )
