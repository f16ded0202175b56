"""Org units over the API against real PostGIS: reads, filters, GeoJSON, writes, moves, audit."""

import geojson
import pytest

from tests.integration.helpers import call, make_tenant, restrict
from tests.integration.registrykit import build_registry, point, square


@pytest.fixture
def alpha(client):
    return make_tenant(client, "alpha", roles=("viewer", "registry_editor"))


def _list(client, token, query=""):
    status, body, _ = call(client, "GET", f"/api/orgunits?{query}", token)
    assert status == 200, body
    return body


def _names(body) -> list[str]:
    return [unit["name"] for unit in body["results"]]


def test_get_returns_the_unit_with_its_ancestors(client, alpha, tree):
    status, unit, _ = call(
        client, "GET", f"/api/orgunits/{tree['Centre de Santé Pikine']}", alpha.tokens["viewer"]
    )
    assert status == 200
    assert unit["name"] == "Centre de Santé Pikine" and unit["org_unit_type_name"] == "Facility"
    assert [a["name"] for a in unit["ancestors"]] == ["Sénégal", "Dakar", "Pikine"]
    assert unit["ancestor_ids"] == [tree["Sénégal"], tree["Dakar"], tree["Pikine"]]
    assert unit["parent_name"] == "Pikine" and unit["depth"] == 3
    assert unit["location"] == {"type": "Point", "coordinates": [-17.35, 14.75]}
    assert unit["group_ids"] == [tree["public"]] and unit["validation_status"] == "VALID"
    assert unit["opening_date"] == "2001-01-01"


def test_children_descendants_and_roots(client, alpha, tree):
    token = alpha.tokens["viewer"]
    assert _names(_list(client, token, f"parent={tree['Sénégal']}")) == ["Dakar", "Kédougou"]
    descendants = _names(_list(client, token, f"descendants_of={tree['Dakar']}"))
    assert descendants == ["Pikine", "Centre de Santé Pikine", "Rufisque"]
    assert _names(_list(client, token, "roots=true")) == ["Sénégal"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("search=kedou", ["Kédougou"]),  # accent- and case-insensitive
        ("search=SANTÉ", ["Centre de Santé Pikine", "Poste de Santé Saraya"]),
        ("search=pik&match=prefix", ["Pikine"]),
        ("search=sante&match=prefix", []),
        ("search=100%25", []),  # a literal %, not a wildcard
        ("refs=SN-DK,F2", ["Dakar", "Poste de Santé Saraya"]),
        ("codes=CS-PK", ["Centre de Santé Pikine"]),
        ("validation_status=VALID", ["Centre de Santé Pikine", "Poste de Santé Saraya"]),
        ("has_geometry=false", ["Rufisque", "Saraya"]),
        ("bbox=-17.45,14.65,-17.3,14.8", ["Sénégal", "Dakar", "Pikine", "Centre de Santé Pikine"]),
        ("open_at=2021-06-01", None),  # everything but the closed Saraya post
        ("closed_at=2020-12-31", ["Poste de Santé Saraya"]),
    ],
)
def test_filters(client, alpha, tree, query, expected):
    body = _list(client, alpha.tokens["viewer"], query)
    if expected is None:
        assert "Poste de Santé Saraya" not in _names(body) and len(body["results"]) == 7
    else:
        assert sorted(_names(body)) == sorted(expected)


def test_filters_by_type_group_ids_and_version(client, alpha, tree):
    token = alpha.tokens["viewer"]
    assert _names(_list(client, token, f"type={tree['Region']}")) == ["Dakar", "Kédougou"]
    assert _names(_list(client, token, f"group={tree['public']}")) == ["Centre de Santé Pikine"]
    assert _names(_list(client, token, f"ids={tree['Saraya']},{tree['Dakar']}")) == ["Dakar", "Saraya"]
    assert len(_list(client, token, f"version={tree['version']}")["results"]) == 8


def test_fields_count_and_paging(client, alpha, tree):
    token = alpha.tokens["viewer"]
    first = _list(client, token, "limit=3&count=true&fields=name,depth")
    assert first["count"] == 8 and len(first["results"]) == 3
    assert set(first["results"][0]) == {"id", "name", "depth"}
    seen, cursor = _names(first), first["next_cursor"]
    while cursor:
        page = _list(client, token, f"limit=3&fields=name&cursor={cursor}")
        seen += _names(page)
        cursor = page["next_cursor"]
    assert len(seen) == 8 and len(set(seen)) == 8


def test_geometry_only_when_asked(client, alpha, tree):
    token = alpha.tokens["viewer"]
    plain = _list(client, token, f"ids={tree['Dakar']}")["results"][0]
    assert "geom" not in plain and plain["has_territory"] is True
    full = _list(client, token, f"ids={tree['Dakar']}&with_geometry=true")["results"][0]
    assert full["geom"]["type"] == "MultiPolygon"
    assert full["geom"]["coordinates"][0][0][0] == [-17.5, 14.6]  # longitude first


def test_geojson_output_is_valid_rfc7946(client, alpha, tree):
    status, body, headers = call(
        client, "GET", "/api/orgunits?format=geojson&limit=10", alpha.tokens["viewer"]
    )
    assert status == 200 and headers["Content-Type"] == "application/geo+json"
    collection = geojson.loads(__import__("json").dumps(body))
    assert collection.is_valid and collection["type"] == "FeatureCollection"
    assert len(collection["features"]) == 8
    by_name = {f["properties"]["name"]: f for f in collection["features"]}
    assert by_name["Poste de Santé Saraya"]["geometry"] == {"type": "Point", "coordinates": [-11.8, 12.8]}
    assert by_name["Sénégal"]["geometry"]["type"] == "MultiPolygon"
    assert by_name["Rufisque"]["geometry"] is None
    lon, lat = by_name["Centre de Santé Pikine"]["geometry"]["coordinates"][:2]
    assert -180 <= lon <= 180 and -90 <= lat <= 90 and lon < 0 < lat  # Dakar is west, north
    status, feature, _ = call(
        client,
        "GET",
        f"/api/orgunits/{tree['Dakar']}",
        alpha.tokens["viewer"],
        headers={"Accept": "application/geo+json"},
    )
    assert geojson.loads(__import__("json").dumps(feature)).is_valid and feature["type"] == "Feature"


def test_bad_filters_name_the_parameter(client, alpha, tree):
    token = alpha.tokens["viewer"]
    for query, parameter in [
        ("bbox=1,2,3", "bbox"),
        ("bbox=10,0,5,5", "bbox"),
        ("open_at=yesterday", "open_at"),
        ("validation_status=MAYBE", "validation_status"),
        ("type=x", "type"),
        ("fields=name,secret", "fields"),
        ("colour=red", "colour"),
        ("format=kml", "format"),
    ]:
        status, error, _ = call(client, "GET", f"/api/orgunits?{query}", token)
        assert status == 400, query
        assert error["error"]["details"] == {"parameter": parameter}, query


def test_moving_a_unit_moves_its_whole_subtree(client, alpha, tree):
    token = alpha.tokens["registry_editor"]
    # Move Pikine (with its facility) from Dakar to Kédougou
    status, moved, _ = call(
        client, "PATCH", f"/api/orgunits/{tree['Pikine']}", token, {"parent_id": tree["Kédougou"]}
    )
    assert status == 200 and moved["parent_id"] == tree["Kédougou"]
    _, facility, _ = call(client, "GET", f"/api/orgunits/{tree['Centre de Santé Pikine']}", token)
    assert [a["name"] for a in facility["ancestors"]] == ["Sénégal", "Kédougou", "Pikine"]
    assert _names(_list(client, token, f"descendants_of={tree['Dakar']}")) == ["Rufisque"]
    assert _names(_list(client, token, f"descendants_of={tree['Kédougou']}")) == [
        "Pikine",
        "Centre de Santé Pikine",
        "Saraya",
        "Poste de Santé Saraya",
    ]
    # Up one level (as a region, the only type allowed under a country): depths follow
    body = {"parent_id": tree["Sénégal"], "org_unit_type_id": tree["Region"]}
    assert call(client, "PATCH", f"/api/orgunits/{tree['Pikine']}", token, body)[0] == 200
    _, facility, _ = call(client, "GET", f"/api/orgunits/{tree['Centre de Santé Pikine']}", token)
    assert facility["depth"] == 2 and facility["ancestor_ids"] == [tree["Sénégal"], tree["Pikine"]]


def test_the_move_is_one_statement(database, client, alpha, tree):
    from chalicelib.platform import db
    from chalicelib.registry import units_sql

    with db.transaction() as cur:
        unit = units_sql.get(cur, tree["version"], tree["Dakar"], with_geometry=False)
        parent = units_sql.get(cur, tree["version"], tree["Kédougou"], with_geometry=False)
        assert units_sql.move_subtree(cur, unit, parent, None) == 4  # Dakar and its 3 descendants, one UPDATE


def test_a_move_into_its_own_subtree_is_refused(client, alpha, tree):
    token = alpha.tokens["registry_editor"]
    for parent in (tree["Centre de Santé Pikine"], tree["Dakar"]):
        status, error, _ = call(
            client, "PATCH", f"/api/orgunits/{tree['Dakar']}", token, {"parent_id": parent}
        )
        assert status == 400 and error["error"]["code"] == "orgunit.cycle"
    _, dakar, _ = call(client, "GET", f"/api/orgunits/{tree['Dakar']}", token)
    assert dakar["parent_id"] == tree["Sénégal"]


def test_create_checks_parent_type_and_geometry(client, alpha, tree):
    token = alpha.tokens["registry_editor"]
    cases = [
        ({"name": "X", "parent_id": 999999}, "parent_id"),
        ({"name": "X", "parent_id": tree["Dakar"], "org_unit_type_id": tree["Facility"]}, "org_unit_type_id"),
        ({"name": "X", "org_unit_type_id": 999999}, "org_unit_type_id"),
        ({"name": "X", "location": point(14.7, -17.4 * 10)}, "location"),  # latitude out of range
        ({"name": "X", "location": square(0, 0, 1)}, "location"),
        ({"name": "X", "geom": point(1, 1)}, "geom"),
        ({"name": "X", "geom": {"type": "Polygon", "coordinates": "nope"}}, "geom"),
        ({"name": "X", "opening_date": "2020-02-30"}, "opening_date"),
        ({"name": "X", "opening_date": "2020-01-02", "closed_date": "2020-01-01"}, "closed_date"),
        ({"name": " "}, "name"),
        ({"name": "X", "validation_status": "MAYBE"}, "validation_status"),
    ]
    for body, field in cases:
        status, error, _ = call(client, "POST", "/api/orgunits", token, body)
        assert status == 400, body
        assert error["error"]["details"].get("field") == field, (body, error)
    assert _list(client, token, "count=true&limit=1")["count"] == 8


def test_an_invalid_polygon_is_repaired_and_reported(client, alpha, tree):
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    status, created, _ = call(
        client, "POST", "/api/orgunits", alpha.tokens["admin"], {"name": "Bowtie", "geom": bowtie}
    )
    assert status == 201
    assert created["warnings"] and "repaired" in created["warnings"][0]
    _, shown, _ = call(client, "GET", f"/api/orgunits/{created['id']}", alpha.tokens["admin"])
    assert shown["geom"]["type"] == "MultiPolygon" and len(shown["geom"]["coordinates"]) == 2


def test_duplicate_source_ref_in_a_version_is_a_conflict(client, alpha, tree):
    status, error, _ = call(
        client, "POST", "/api/orgunits", alpha.tokens["admin"], {"name": "Again", "source_ref": "F1"}
    )
    assert status == 409 and error["error"]["code"] == "orgunit.source_ref_taken"


def test_delete_is_refused_while_the_unit_has_children(client, alpha, tree):
    token = alpha.tokens["registry_editor"]
    status, error, _ = call(client, "DELETE", f"/api/orgunits/{tree['Saraya']}", token)
    assert status == 409 and error["error"]["code"] == "orgunit.has_children"
    assert call(client, "DELETE", f"/api/orgunits/{tree['Poste de Santé Saraya']}", token)[0] == 204
    assert call(client, "GET", f"/api/orgunits/{tree['Poste de Santé Saraya']}", token)[0] == 404
    assert call(client, "DELETE", f"/api/orgunits/{tree['Saraya']}", token)[0] == 204


def test_every_change_is_audited_with_before_and_after(client, alpha, tree):
    token = alpha.tokens["registry_editor"]
    path = f"/api/orgunits/{tree['Rufisque']}"
    body = {
        "name": "Rufisque-Est",
        "code": "RF",
        "group_ids": [tree["public"]],
        "location": point(-17.27, 14.72),
    }
    status, changed, _ = call(client, "PATCH", path, token, body)
    assert status == 200 and changed["name"] == "Rufisque-Est" and changed["group_ids"] == [tree["public"]]
    call(client, "PATCH", path, token, {"group_ids": []})
    _, history, _ = call(client, "GET", f"{path}/history", alpha.tokens["viewer"])
    entries = history["results"]
    assert [e["action"] for e in entries] == ["create", "groups", "update", "groups"]
    update = entries[2]
    assert update["before"]["name"] == "Rufisque" and update["after"]["name"] == "Rufisque-Est"
    assert update["before"]["location"] is None and update["after"]["location"]["coordinates"] == [
        -17.27,
        14.72,
    ]
    assert entries[1]["before"] == {"group_ids": []} and entries[1]["after"] == {
        "group_ids": [tree["public"]]
    }
    assert entries[3]["after"] == {"group_ids": []}
    assert update["user_email"] == "registry_editor@alpha.example.org" and update["source"] == "api"


def test_viewers_cannot_write(client, alpha, tree):
    token = alpha.tokens["viewer"]
    assert call(client, "POST", "/api/orgunits", token, {"name": "X"})[0] == 403
    assert call(client, "PATCH", f"/api/orgunits/{tree['Dakar']}", token, {"name": "X"})[0] == 403
    assert call(client, "DELETE", f"/api/orgunits/{tree['Rufisque']}", token)[0] == 403


def test_another_account_sees_none_of_it(client, alpha, tree):
    beta = make_tenant(client, "beta")
    build_registry(client, beta.tokens["admin"])
    token = beta.tokens["admin"]
    unit = tree["Dakar"]
    for method, path, body in [
        ("GET", f"/api/orgunits/{unit}", None),
        ("PATCH", f"/api/orgunits/{unit}", {"name": "stolen"}),
        ("DELETE", f"/api/orgunits/{unit}", None),
        ("GET", f"/api/orgunits/{unit}/history", None),
    ]:
        status, error, _ = call(client, method, path, token, body)
        assert status == 404 and error["error"]["code"] == "orgunit.not_found", (method, path)
    assert call(client, "GET", f"/api/orgunits?version={tree['version']}", token)[0] == 404
    assert call(client, "GET", f"/api/orgunits?descendants_of={unit}", token)[0] == 404
    assert unit not in [u["id"] for u in _list(client, token, "limit=50")["results"]]
    status, error, _ = call(client, "POST", "/api/orgunits", token, {"name": "X", "parent_id": unit})
    assert status == 400 and error["error"]["details"]["field"] == "parent_id"
    _, dakar, _ = call(client, "GET", f"/api/orgunits/{unit}", alpha.tokens["admin"])
    assert dakar["name"] == "Dakar"


def test_a_profile_restricted_to_a_subtree_sees_and_edits_only_inside_it(client, alpha, tree):
    admin = alpha.tokens["admin"]
    editor_id = alpha.user_ids["registry_editor"]
    status, user, _ = call(
        client, "PATCH", f"/api/users/{editor_id}", admin, {"org_unit_ids": [tree["Dakar"]]}
    )
    assert status == 200 and user["org_unit_ids"] == [tree["Dakar"]]
    token = alpha.tokens["registry_editor"]
    # Reads: only Dakar's subtree, and ancestors above it are hidden
    assert _names(_list(client, token)) == ["Dakar", "Pikine", "Centre de Santé Pikine", "Rufisque"]
    _, pikine, _ = call(client, "GET", f"/api/orgunits/{tree['Pikine']}", token)
    assert [a["name"] for a in pikine["ancestors"]] == ["Dakar"] and pikine["ancestor_ids"] == [tree["Dakar"]]
    _, dakar, _ = call(client, "GET", f"/api/orgunits/{tree['Dakar']}", token)
    assert dakar["parent_id"] is None and dakar["parent_name"] is None and dakar["ancestor_ids"] == []
    for outside in (tree["Kédougou"], tree["Sénégal"]):
        assert call(client, "GET", f"/api/orgunits/{outside}", token)[0] == 404
        assert call(client, "PATCH", f"/api/orgunits/{outside}", token, {"name": "x"})[0] == 404
        assert call(client, "DELETE", f"/api/orgunits/{outside}", token)[0] == 404
        assert call(client, "GET", f"/api/orgunits/{outside}/history", token)[0] == 404
        assert call(client, "GET", f"/api/orgunits?descendants_of={outside}", token)[0] == 404
    # Writes: inside yes; under an outside parent, as a root, or moved out: no
    assert (
        call(client, "POST", "/api/orgunits", token, {"name": "New", "parent_id": tree["Pikine"]})[0] == 201
    )
    for body in ({"name": "X", "parent_id": tree["Saraya"]}, {"name": "X"}):
        status, error, _ = call(client, "POST", "/api/orgunits", token, body)
        assert status == 400 and error["error"]["details"]["field"] == "parent_id"
    status, _, _ = call(
        client, "PATCH", f"/api/orgunits/{tree['Pikine']}", token, {"parent_id": tree["Kédougou"]}
    )
    assert status == 400
    # Lifting the restriction
    call(client, "PATCH", f"/api/users/{editor_id}", admin, {"org_unit_ids": []})
    assert len(_list(client, token)["results"]) == 9


def test_listing_500_units_takes_a_bounded_number_of_queries(client, alpha, tree, monkeypatch):
    from chalicelib.platform import db

    with db.transaction() as cur:
        cur.execute(
            """
            WITH new AS (SELECT nextval('org_units_id_seq') AS id, n FROM generate_series(1, 500) AS n),
                 parent AS (SELECT path, depth FROM org_units
                            WHERE version_id = %(version)s AND id = %(parent)s)
            INSERT INTO org_units (id, version_id, account_id, parent_id, org_unit_type_id, name, path, depth)
            SELECT new.id, %(version)s, %(account)s, %(parent)s, %(type)s, 'Facility ' || n,
                   parent.path || new.id || '/', parent.depth + 1
            FROM new, parent
            """,
            {
                "version": tree["version"],
                "account": alpha.account_id,
                "parent": tree["Saraya"],
                "type": tree["Facility"],
            },
        )
        cur.execute(
            "INSERT INTO org_unit_groups (account_id, version_id, org_unit_id, group_id)"
            " SELECT account_id, version_id, id, %(group)s FROM org_units WHERE parent_id = %(parent)s",
            {"group": tree["public"], "parent": tree["Saraya"]},
        )
    executed = []
    original = db.DictCursor.execute

    def counting(self, query, vars=None):
        executed.append(query)
        return original(self, query, vars)

    monkeypatch.setattr(db.DictCursor, "execute", counting)
    body = _list(client, alpha.tokens["viewer"], f"parent={tree['Saraya']}&limit=500")
    assert len(body["results"]) == 500
    assert all(
        u["group_ids"] == [tree["public"]] and u["org_unit_type_name"] == "Facility" for u in body["results"]
    )
    assert all(u["parent_name"] == "Saraya" for u in body["results"])
    assert len(executed) <= 6, executed  # auth, version, scope, the list: not one per unit


def test_a_restricted_profile_whose_root_is_gone_sees_nothing_not_everything(client, alpha, tree):
    admin = alpha.tokens["admin"]
    restrict(client, alpha, "viewer", tree["Rufisque"])
    assert _names(_list(client, alpha.tokens["viewer"])) == ["Rufisque"]
    assert call(client, "DELETE", f"/api/orgunits/{tree['Rufisque']}", admin)[0] == 204
    assert _list(client, alpha.tokens["viewer"])["results"] == []
    assert call(client, "GET", f"/api/orgunits/{tree['Dakar']}", alpha.tokens["viewer"])[0] == 404


def test_a_restricted_profile_cannot_change_account_wide_settings(client, alpha, tree):
    editor = alpha.tokens["registry_editor"]
    restrict(client, alpha, "registry_editor", tree["Dakar"])
    for method, path, body in [
        ("POST", "/api/orgunit-types", {"name": "Mine"}),
        ("PATCH", f"/api/groups/{tree['public']}", {"name": "Renamed"}),
        ("POST", f"/api/versions/{tree['version']}/make-default", None),
        ("POST", "/api/data-sources", {"name": "Another"}),
    ]:
        status, error, _ = call(client, method, path, editor, body)
        assert status == 403 and error["error"]["code"] == "auth.restricted_profile", (method, path)


@pytest.mark.commits  # two requests at once, on two connections
def test_two_crossing_moves_at_once_cannot_make_a_cycle(client, alpha, tree):
    import threading

    from chalicelib.identity import authentication
    from chalicelib.platform import db, problems
    from chalicelib.registry import units

    admin = alpha.tokens["admin"]
    x = call(client, "POST", "/api/orgunits", admin, {"name": "X", "parent_id": tree["Dakar"]})[1]["id"]
    y = call(client, "POST", "/api/orgunits", admin, {"name": "Y", "parent_id": tree["Dakar"]})[1]["id"]
    with db.transaction() as cur:
        principal = authentication.principal_of_launcher(cur, alpha.user_ids["admin"])
    first_moved, outcome = threading.Event(), {}

    def move_x_under_y():
        with db.transaction() as cur:
            units.update(cur, principal, x, {"parent_id": y})
            first_moved.set()
            threading.Event().wait(0.5)  # still holding the tree lock
        db.close()

    thread = threading.Thread(target=move_x_under_y)
    thread.start()
    assert first_moved.wait(10)
    try:
        with db.transaction() as cur:  # waits for the first move, then sees its paths
            units.update(cur, principal, y, {"parent_id": x})
    except problems.Problem as problem:
        outcome["code"] = problem.code
    thread.join(10)
    assert outcome == {"code": "orgunit.cycle"}
    _, moved, _ = call(client, "GET", f"/api/orgunits/{x}", admin)
    _, stayed, _ = call(client, "GET", f"/api/orgunits/{y}", admin)
    assert moved["parent_id"] == y and stayed["parent_id"] == tree["Dakar"]


def test_a_deleted_units_ref_can_be_used_again(client, alpha, tree):
    admin = alpha.tokens["admin"]
    assert call(client, "DELETE", f"/api/orgunits/{tree['Poste de Santé Saraya']}", admin)[0] == 204
    body = {"name": "Poste de Santé Saraya (rebuilt)", "source_ref": "F2", "parent_id": tree["Saraya"]}
    assert call(client, "POST", "/api/orgunits", admin, body)[0] == 201
