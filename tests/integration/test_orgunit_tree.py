"""GET /api/orgunits/child-counts: each unit's children per org-unit type, for the console's tree,
within what the caller may see."""

import pytest

from tests.integration.helpers import call, make_tenant, restrict
from tests.integration.registrykit import build_registry


@pytest.fixture
def alpha(client):
    return make_tenant(client, "alpha", roles=("viewer",))


def _counts(client, token, query):
    status, body, _ = call(client, "GET", f"/api/orgunits/child-counts?{query}", token)
    assert status == 200, body
    return body["results"]


def test_counts_children_per_type_in_the_order_asked(client, alpha, tree):
    ids = f"{tree['Dakar']},{tree['Sénégal']},{tree['Centre de Santé Pikine']}"
    dakar, senegal, centre = _counts(client, alpha.tokens["viewer"], f"ids={ids}")
    assert dakar == {
        "id": tree["Dakar"],
        "children": 2,
        "by_type": [{"org_unit_type_id": tree["District"], "org_unit_type_name": "District", "count": 2}],
    }
    assert senegal["id"] == tree["Sénégal"] and senegal["children"] == 2
    assert centre == {"id": tree["Centre de Santé Pikine"], "children": 0, "by_type": []}
    token = alpha.tokens["admin"]  # an untyped child, and a deleted one left out
    call(client, "POST", "/api/orgunits", token, {"name": "Poste", "parent_id": tree["Dakar"],
                                                  "org_unit_type_id": tree["District"]})  # fmt: skip
    call(client, "POST", "/api/orgunits", token, {"name": "Loose", "parent_id": tree["Dakar"]})
    assert call(client, "DELETE", f"/api/orgunits/{tree['Rufisque']}", token)[0] == 204
    (dakar,) = _counts(client, token, f"ids={tree['Dakar']}&version={tree['version']}")
    assert dakar["children"] == 3
    assert sorted((c["org_unit_type_name"] or "", c["count"]) for c in dakar["by_type"]) == [
        ("", 1),
        ("District", 2),
    ]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "ids=",
        "ids=1,x",
        "ids=²",
        "ids=0",
        "ids=99999999999999999999",
        "ids=" + ",".join(map(str, range(1, 102))),
    ],
)
def test_bad_ids_name_the_parameter(client, alpha, tree, query):
    status, body, _ = call(client, "GET", f"/api/orgunits/child-counts?{query}", alpha.tokens["viewer"])
    assert status == 400 and body["error"]["details"].get("parameter") == "ids", body


def test_another_account_or_another_subtree_gets_not_found(client, alpha, tree):
    beta = make_tenant(client, "beta")
    build_registry(client, beta.tokens["admin"])
    status, error, _ = call(
        client, "GET", f"/api/orgunits/child-counts?ids={tree['Dakar']}", beta.tokens["admin"]
    )
    assert status == 404 and error["error"]["code"] == "orgunit.not_found"
    status, _, _ = call(
        client, "GET", f"/api/orgunits/child-counts?ids=1&version={tree['version']}", beta.tokens["admin"]
    )
    assert status == 404

    restrict(client, alpha, "viewer", tree["Kédougou"])
    token = alpha.tokens["viewer"]
    for outside in (tree["Dakar"], tree["Sénégal"]):
        status, error, _ = call(client, "GET", f"/api/orgunits/child-counts?ids={outside}", token)
        assert status == 404 and error["error"]["code"] == "orgunit.not_found"
    (kedougou,) = _counts(client, token, f"ids={tree['Kédougou']}")
    assert kedougou["children"] == 1
