"""Vector tiles: what a tile holds (decoded by mapbox-vector-tile, a real MVT reader), its caching
headers, its errors, and that no tile ever holds another account's or another subtree's units."""

import math

import mapbox_vector_tile
import pytest
import requests

from chalicelib.registry import tiles
from tests.integration.helpers import call, make_tenant, restrict
from tests.integration.registrykit import build_registry

MVT = "application/vnd.mapbox-vector-tile"
DAKAR = (-17.35, 14.75)  # the Pikine health centre, inside Pikine, Dakar and Sénégal
KEDOUGOU = (-11.8, 12.8)  # the Saraya health post, inside Kédougou and Sénégal


@pytest.fixture
def alpha(client):
    return make_tenant(client, "alpha", roles=("viewer",))


def tile_of(lon: float, lat: float, z: int) -> str:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return f"{z}/{x}/{y}"


def get_tile(client, token: str, where: str, query: str = "", headers: dict | None = None):
    sent = {"Authorization": f"Bearer {token}", "Accept": MVT} | (headers or {})
    response = client.http.request("GET", f"/api/tiles/{where}.mvt{query}", headers=sent)
    return response.status_code, response.body, response.headers


def features(body: bytes) -> dict[str, dict[str, dict]]:
    """Layer → unit name → the feature's properties (and its id)."""
    decoded = mapbox_vector_tile.decode(body)
    return {
        layer: {
            f["properties"]["name"]: f["properties"] | {"feature_id": f["id"]} for f in content["features"]
        }
        if layer != "overflow"
        else content["features"]
        for layer, content in decoded.items()
    }


def unit_ids(client, token: str, where: str, query: str = "") -> set[int]:
    status, body, _ = get_tile(client, token, where, query)
    if status == 204:
        return set()
    assert status == 200, body
    return {props["id"] for layer in features(body).values() for props in layer.values()}


def test_a_tile_holds_the_territories_and_points_of_the_selection(client, alpha, tree):
    token = alpha.tokens["viewer"]
    status, body, headers = get_tile(client, token, tile_of(*DAKAR, 9))
    assert status == 200 and headers["Content-Type"] == MVT
    layers = features(body)
    assert set(layers["territories"]) == {"Sénégal", "Dakar", "Pikine"}
    assert set(layers["points"]) == {"Centre de Santé Pikine"}
    health_centre = layers["points"]["Centre de Santé Pikine"]
    assert health_centre == {
        "feature_id": tree["Centre de Santé Pikine"],
        "id": tree["Centre de Santé Pikine"],
        "name": "Centre de Santé Pikine",
        "type_id": tree["Facility"],
        "type": "Facility",
        "status": "VALID",
        "depth": 3,
    }
    # The list's filters select the same units on the map.
    regions = f"?type={tree['Region']},{tree['Country']}"
    assert unit_ids(client, token, tile_of(*DAKAR, 9), regions) == {tree["Sénégal"], tree["Dakar"]}
    public = f"?group={tree['public']}"
    assert unit_ids(client, token, tile_of(*DAKAR, 9), public) == {tree["Centre de Santé Pikine"]}
    below_dakar = f"?descendants_of={tree['Dakar']}&validation_status=VALID"
    assert unit_ids(client, token, tile_of(*DAKAR, 9), below_dakar) == {tree["Centre de Santé Pikine"]}
    # Far from any unit, and for a filter that matches nothing: an empty tile.
    assert get_tile(client, token, tile_of(100.0, 40.0, 9))[0] == 204
    assert get_tile(client, token, tile_of(*DAKAR, 9), "?validation_status=REJECTED")[0] == 204


def test_territories_are_simplified_and_small_ones_left_out_at_low_zoom(client, alpha, tree):
    token = alpha.tokens["admin"]
    # At zoom 5 a pixel is 0.044°: Pikine (0.1°) is under 8 of them, Dakar (0.5°) and Kédougou are not.
    low = features(get_tile(client, token, tile_of(*DAKAR, 5))[1])
    assert set(low["territories"]) == {"Sénégal", "Dakar", "Kédougou"}
    assert set(low["points"]) == {"Centre de Santé Pikine", "Poste de Santé Saraya"}
    assert "Pikine" in features(get_tile(client, token, tile_of(*DAKAR, 7))[1])["territories"]
    decoded = mapbox_vector_tile.decode(get_tile(client, token, tile_of(*DAKAR, 3))[1])
    senegal = next(f for f in decoded["territories"]["features"] if f["properties"]["name"] == "Sénégal")
    assert senegal["geometry"]["type"] == "Polygon"
    assert len(senegal["geometry"]["coordinates"][0]) == 5  # a square stays a square


def test_tiles_are_cached_privately_with_a_strong_etag(client, alpha, tree):
    token = alpha.tokens["viewer"]
    where = tile_of(*DAKAR, 9)
    status, body, headers = get_tile(client, token, where)
    assert headers["Cache-Control"] == f"private, max-age={30}"
    assert "Authorization" in headers["Vary"]
    etag = headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    status, body, again = get_tile(client, token, where, headers={"If-None-Match": etag})
    assert status == 304 and body == b"" and again["ETag"] == etag
    call(client, "PATCH", f"/api/orgunits/{tree['Pikine']}", alpha.tokens["admin"], {"name": "Pikine Est"})
    status, body, changed = get_tile(client, token, where, headers={"If-None-Match": etag})
    assert status == 200 and changed["ETag"] != etag and "Pikine Est" in features(body)["territories"]


def test_a_crowded_tile_says_so_instead_of_its_points(client, alpha, tree, monkeypatch):
    monkeypatch.setattr(tiles, "POINTS_MAX", 1)
    layers = features(get_tile(client, alpha.tokens["viewer"], tile_of(*DAKAR, 5))[1])
    assert "points" not in layers and "Sénégal" in layers["territories"]
    assert [f["properties"] for f in layers["overflow"]] == [{"layer": "points", "at_least": 2}]


def test_no_tile_holds_another_accounts_or_another_subtrees_units(client, alpha, tree):
    beta = make_tenant(client, "beta")
    theirs = build_registry(client, beta.tokens["admin"])  # the same places, in another account
    their_ids = {theirs[name] for name in ("Sénégal", "Dakar", "Pikine", "Centre de Santé Pikine")}
    ours = unit_ids(client, alpha.tokens["viewer"], tile_of(*DAKAR, 9))
    assert ours == {tree[name] for name in ("Sénégal", "Dakar", "Pikine", "Centre de Santé Pikine")}
    assert not ours & their_ids
    status, body, _ = get_tile(
        client, alpha.tokens["viewer"], tile_of(*DAKAR, 9), f"?version={theirs['version']}"
    )
    assert status == 404, body
    status, body, _ = get_tile(
        client, alpha.tokens["viewer"], tile_of(*DAKAR, 9), f"?descendants_of={theirs['Dakar']}"
    )
    assert status == 404, body

    restrict(client, alpha, "viewer", tree["Kédougou"])
    viewer = alpha.tokens["viewer"]
    assert unit_ids(client, viewer, tile_of(*DAKAR, 9)) == set()  # Dakar, and Sénégal above it, hidden
    assert unit_ids(client, viewer, tile_of(*KEDOUGOU, 5)) == {
        tree["Kédougou"],
        tree["Poste de Santé Saraya"],
    }
    status, body, _ = get_tile(client, viewer, tile_of(*DAKAR, 9), f"?descendants_of={tree['Dakar']}")
    assert status == 404, body


@pytest.mark.parametrize(
    ("where", "parameter"),
    [("23/0/0", "z"), ("2/4/0", "x"), ("2/0/4", "y"), ("a/0/0", "z"), ("2/-1/0", "x"), ("2/0/1.png", "y")],
)
def test_a_bad_tile_address_is_a_400_naming_the_segment(client, alpha, where, parameter):
    response = client.http.request(
        "GET",
        f"/api/tiles/{where}",
        headers={"Authorization": f"Bearer {alpha.tokens['viewer']}", "Accept": MVT},
    )
    assert response.status_code == 400
    assert f"'{parameter}'" in response.json_body["error"]["message"]
    assert response.json_body["error"]["details"] == {"parameter": parameter}


def test_unknown_filters_and_unacceptable_types_are_refused(client, alpha):
    token = alpha.tokens["viewer"]
    status, body, _ = get_tile(client, token, "2/1/1", "?limit=5")
    assert status == 400 and body and b"limit" in body
    for accept in ("application/json", None):
        headers = {"Authorization": f"Bearer {token}"} | ({"Accept": accept} if accept else {})
        response = client.http.request("GET", "/api/tiles/2/1/1", headers=headers)
        assert response.status_code == 406 and response.json_body["error"]["code"] == "request.not_acceptable"
    # A browser's own Accept (*/* last) is served: MapLibre without transformRequest, or curl.
    browser = {"Authorization": f"Bearer {token}", "Accept": "text/html,*/*;q=0.8"}
    assert client.http.request("GET", "/api/tiles/2/1/1", headers=browser).status_code == 204
    assert client.http.request("GET", "/api/tiles/2/1/1", headers={"Accept": MVT}).status_code == 401


@pytest.mark.commits
def test_the_local_server_answers_bytes_to_the_tile_type_and_to_a_browsers_accept(live):
    """Over real HTTP, as `make run` serves the console: the body is the tile itself, not base64."""
    tenant = live.tenant("alpha")
    ids = build_registry(live.client, tenant.tokens["admin"])
    url = f"{live.url}/api/tiles/{tile_of(*DAKAR, 9)}.mvt"
    for accept in (MVT, "*/*"):
        headers = {"Authorization": f"Bearer {tenant.tokens['admin']}", "Accept": accept}
        response = requests.get(url, headers=headers, timeout=10)
        assert response.status_code == 200 and response.headers["Content-Type"] == MVT
        assert ids["Pikine"] in {props["id"] for props in features(response.content)["territories"].values()}
