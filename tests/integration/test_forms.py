"""Forms over the API: create, read, change, delete; validation; roles; tenancy."""

import pytest

from chalicelib.platform import db, problems
from tests.integration.formkit import add_version, create_form, fixture_bytes
from tests.integration.helpers import call, make_tenant
from tests.integration.registrykit import post

ROLES = ("form_manager", "viewer", "reviewer", "data_collector", "registry_editor")


@pytest.fixture
def alpha(client):
    return make_tenant(client, "alpha", roles=ROLES)


@pytest.fixture
def beta(client):
    return make_tenant(client, "beta", roles=("form_manager",))


def test_a_form_is_created_read_changed_listed_and_deleted(client, alpha):
    token = alpha.tokens["form_manager"]
    other = post(
        client, alpha.tokens["admin"], "/api/projects", {"name": "Second", "app_id": "org.alpha.two"}
    )
    facility = post(client, alpha.tokens["admin"], "/api/orgunit-types", {"name": "Facility"})
    form = create_form(
        client, token, [alpha.project_id], org_unit_type_ids=[facility["id"]], period_type="MONTH",
        single_per_period=True,
    )  # fmt: skip
    assert form["project_ids"] == [alpha.project_id] and form["org_unit_type_ids"] == [facility["id"]]
    assert (form["period_type"], form["single_per_period"]) == ("MONTH", True)
    assert form["xform_id"] is None and form["latest_version"] is None
    path = f"/api/forms/{form['id']}"
    assert call(client, "GET", path, alpha.tokens["viewer"])[1] == form

    changes = {
        "name": "Monthly visit",
        "project_ids": [other["id"]],
        "single_per_period": False,
        "period_type": None,
    }
    status, changed, _ = call(client, "PATCH", path, token, changes)
    assert status == 200, changed
    assert (changed["name"], changed["project_ids"], changed["period_type"]) == (
        "Monthly visit",
        [other["id"]],
        None,
    )
    assert changed["org_unit_type_ids"] == [facility["id"]]  # untouched
    second = create_form(client, token, [alpha.project_id], name="Second survey")
    _, listed, _ = call(client, "GET", "/api/forms?limit=1", alpha.tokens["reviewer"])
    assert [f["id"] for f in listed["results"]] == [form["id"]] and listed["next_cursor"]
    _, rest, _ = call(client, "GET", f"/api/forms?limit=1&cursor={listed['next_cursor']}", token)
    assert [f["id"] for f in rest["results"]] == [second["id"]] and rest["next_cursor"] is None
    _, of_project, _ = call(client, "GET", f"/api/forms?project={alpha.project_id}", token)
    assert [f["id"] for f in of_project["results"]] == [second["id"]]

    assert call(client, "DELETE", path, token)[0] == 204
    assert call(client, "GET", path, token)[0] == 404
    assert call(client, "PATCH", path, token, {"name": "again"})[0] == 404
    _, listed, _ = call(client, "GET", "/api/forms", token)
    assert [f["id"] for f in listed["results"]] == [second["id"]]
    with db.transaction() as cur:
        cur.execute("SELECT action FROM audit_log WHERE object_type = 'form' AND object_id = %s ORDER BY id",
                    (form["id"],))  # fmt: skip
        assert [row["action"] for row in cur.fetchall()] == ["create", "update", "delete"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"project_ids": [1]}, "name"),
        ({"name": "  "}, "name"),
        ({"name": "F", "project_ids": [999999]}, "project_ids"),
        ({"name": "F", "project_ids": ["1"]}, "project_ids[0]"),
        ({"name": "F", "org_unit_type_ids": [999999]}, "org_unit_type_ids"),
        ({"name": "F", "period_type": "FORTNIGHT"}, "period_type"),
        ({"name": "F", "single_per_period": True}, "single_per_period"),
        ({"name": "F", "single_per_period": "yes"}, "single_per_period"),
    ],
)
def test_bad_fields_are_named(client, alpha, body, field):
    status, error, _ = call(client, "POST", "/api/forms", alpha.tokens["form_manager"], body)
    assert status == 400, error
    assert error["error"]["details"]["field"] == field
    assert call(client, "GET", "/api/forms", alpha.tokens["form_manager"])[1]["results"] == []


def test_constraints_behind_the_checks_are_named_too(client, alpha):
    form = create_form(client, alpha.tokens["form_manager"], [alpha.project_id])
    path = f"/api/forms/{form['id']}"
    status, error, _ = call(client, "PATCH", path, alpha.tokens["form_manager"], {"single_per_period": True})
    assert status == 400 and error["error"]["details"]["field"] == "single_per_period"
    status, error, _ = call(client, "POST", "/api/forms", alpha.tokens["form_manager"], {"name": "F", "x": 1})
    assert status == 400 and error["error"]["code"] == "request.unknown_field"


@pytest.mark.parametrize("role", ["viewer", "reviewer", "data_collector", "registry_editor"])
def test_only_form_managers_and_admins_write(client, alpha, role):
    form = create_form(client, alpha.tokens["admin"], [alpha.project_id])
    path = f"/api/forms/{form['id']}"
    token = alpha.tokens[role]
    writes = [
        ("POST", "/api/forms", {"name": "Mine"}),
        ("PATCH", path, {"name": "Mine"}),
        ("DELETE", path, None),
        ("POST", f"{path}/versions/upload-url", {"filename": "f.xlsx"}),
        ("POST", f"{path}/versions", {"s3_key": "forms/x"}),
    ]
    for method, route, body in writes:
        status, error, _ = call(client, method, route, token, body)
        assert status == 403, (method, route, status)
        assert error["error"]["code"] == "auth.forbidden"
    assert call(client, "GET", path, alpha.tokens["admin"])[1]["name"] == "Survey"


def test_reading_forms_needs_submissions_read_or_forms_manage(client, alpha):
    form = create_form(client, alpha.tokens["form_manager"], [alpha.project_id])
    for role in ("form_manager", "viewer", "reviewer", "admin"):
        assert call(client, "GET", f"/api/forms/{form['id']}", alpha.tokens[role])[0] == 200
    for role in ("data_collector", "registry_editor"):
        assert call(client, "GET", f"/api/forms/{form['id']}", alpha.tokens[role])[0] == 403
        assert call(client, "GET", "/api/forms", alpha.tokens[role])[0] == 403


def test_another_account_gets_404_on_every_forms_endpoint(client, alpha, beta, forms_s3):
    form = create_form(client, alpha.tokens["form_manager"], [alpha.project_id])
    add_version(client, alpha.tokens["form_manager"], form["id"], fixture_bytes("form_1.xlsx"))
    path = f"/api/forms/{form['id']}"
    routes = [
        ("GET", path, None),
        ("PATCH", path, {"name": "stolen"}),
        ("DELETE", path, None),
        ("GET", f"{path}/versions", None),
        ("POST", f"{path}/versions/upload-url", {"filename": "f.xlsx"}),
        ("POST", f"{path}/versions", {"s3_key": f"forms/{alpha.account_id}/{form['id']}/uploads/x/f.xlsx"}),
        ("GET", f"{path}/versions/1", None),
        ("GET", f"{path}/versions/1/xform", None),
    ]
    for role in ("admin", "form_manager"):
        for method, route, body in routes:
            status, error, _ = call(client, method, route, beta.tokens[role], body)
            assert status == 404, (role, method, route, status)
            assert error["error"]["code"] == "form.not_found"
    raw = {"Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
    status, _, _ = call(
        client, "POST", f"{path}/versions", beta.tokens["admin"], fixture_bytes("form_1.xlsx"), raw
    )
    assert status == 404
    # Beta cannot link its forms to alpha's project either, nor see alpha's forms in lists
    status, error, _ = call(
        client, "POST", "/api/forms", beta.tokens["admin"], {"name": "F", "project_ids": [alpha.project_id]}
    )
    assert status == 400 and error["error"]["details"]["field"] == "project_ids"
    assert call(client, "GET", "/api/forms", beta.tokens["admin"])[1]["results"] == []
    _, kept, _ = call(client, "GET", path, alpha.tokens["form_manager"])
    assert kept["name"] == "Survey" and kept["latest_version"]["number"] == 1


def test_every_form_constraint_the_catalogue_maps_exists(cur):
    mapped = {name for name in problems.CONSTRAINTS if name.startswith(("form_", "forms_"))}
    cur.execute("SELECT conname AS name FROM pg_constraint UNION SELECT indexname FROM pg_indexes")
    assert len(mapped) == 8 and mapped <= {row["name"] for row in cur.fetchall()}
