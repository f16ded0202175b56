"""The DHIS2 stand-in (devstack/dhis2_standin.py) over real HTTP: paging, fields, filters, auth, faults,
and a second client, the dhis2-client package, paging it to the end."""

import json
import time
from pathlib import Path

import pytest
import requests
from dhis2_client import DHIS2Client
from dhis2_client.errors import DHIS2HTTPError

from devstack.dhis2_standin import (
    DEMO_TOKEN,
    Dhis2StandIn,
    Fault,
    demo_standin,
    generated_tree,
    load_fixture_tree,
    merge,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "dhis2"
USER, PASSWORD, TOKEN = "admin", "district", "d2pat_5xVA12xyUbWNedQxy4ohH77WlxRGVvZZ1151814092"
TREE = merge(load_fixture_tree(), generated_tree(120))


@pytest.fixture(scope="module")
def server():
    standin = Dhis2StandIn(*TREE, username=USER, password=PASSWORD, token=TOKEN).start()
    yield standin
    standin.stop()


@pytest.fixture
def dhis2(server):
    server.faults.clear()
    server.repeat_across_pages = False
    server.requests.clear()
    return server


def get(standin, path, auth=(USER, PASSWORD), headers=None, **params):
    return requests.get(standin.url + path, params=params, auth=auth, headers=headers, timeout=10)


def units(standin, **params):
    response = get(standin, "/api/organisationUnits", **params)
    assert response.status_code == 200, response.text
    return response.json()


def test_paging_through_every_page_gives_back_the_tree(dhis2):
    seen, url, pages = [], f"{dhis2.url}/api/organisationUnits?fields=id,parent[id],level&pageSize=7", 0
    while url:
        body = requests.get(url, auth=(USER, PASSWORD), timeout=10).json()
        pager, pages = body["pager"], pages + 1
        assert pager["page"] == pages and pager["pageSize"] == 7 and pager["total"] == len(TREE.units)
        assert pager["pageCount"] == -(-len(TREE.units) // 7)
        assert len(body["organisationUnits"]) == (
            7 if pages < pager["pageCount"] else len(TREE.units) % 7 or 7
        )
        seen += body["organisationUnits"]
        url = pager.get("nextPage")
    assert pages == pager["pageCount"] and "nextPage" not in pager and "prevPage" in pager
    assert len(seen) == len({u["id"] for u in seen}) == len(TREE.units)
    parents = {u["id"]: u.get("parent", {}).get("id") for u in TREE.units}
    assert {u["id"]: u.get("parent", {}).get("id") for u in seen} == parents
    assert "ImspTQPwCqd" in parents and parents["LOpWauwwghf"] == "KXSqt7jv6DU"  # stubbed ancestors


def test_defaults_order_by_name_and_paging_false(dhis2):
    body = units(dhis2)
    assert body["pager"] == {
        "page": 1,
        "pageCount": 3,
        "total": len(TREE.units),
        "pageSize": 50,
        "nextPage": f"{dhis2.url}/api/organisationUnits?page=2",
    }
    assert set(body["organisationUnits"][0]) == {"id", "displayName"}
    names = [u["displayName"] for u in body["organisationUnits"]]
    assert names == sorted(names)
    everything = units(dhis2, paging="false", fields="id")
    assert list(everything) == ["organisationUnits"] and len(everything["organisationUnits"]) == len(
        TREE.units
    )
    levels = get(dhis2, "/api/organisationUnitLevels", fields="level,name").json()["organisationUnitLevels"]
    assert [lv["name"] for lv in levels] == ["Chiefdom", "District", "Facility", "National"]  # as the fixture


def test_fields_nested_all_and_excluded(dhis2):
    real = json.loads((FIXTURES / "organisationUnits_page1.json").read_text())["organisationUnits"][0]
    whole = get(dhis2, "/api/organisationUnits/LOpWauwwghf", fields=":all").json()
    assert {k: v for k, v in whole.items() if k in real} == real  # the real response, field for field
    unit = get(dhis2, "/api/organisationUnits/LOpWauwwghf", fields="id,name,parent[id,name,level]").json()
    assert unit == {
        "id": "LOpWauwwghf",
        "name": "Bambara Kaima CHP",
        "parent": {"id": "KXSqt7jv6DU", "name": "Stub KXSqt7jv6DU", "level": 3},
    }
    kenema = get(dhis2, "/api/organisationUnits/kJq2mPyFEHo", fields=":all,!geometry,!children").json()
    assert "geometry" not in kenema and "children" not in kenema and kenema["code"] == "OU_222616"
    groups = get(dhis2, "/api/organisationUnitGroups", fields="name,groupSets[name]", paging="false").json()
    assert groups["organisationUnitGroups"][0] == {"name": "CHC", "groupSets": [{"name": "Facility Type"}]}
    strange = units(dhis2, fields="id,geometry", filter="id:in:[a,b,c,d]")["organisationUnits"]
    assert {u["id"]: u["geometry"]["type"] for u in strange} == {
        "a": "Polygon",
        "b": "Polygon",
        "c": "MultiPolygon",
        "d": "MultiPolygon",
    }
    missing = get(dhis2, "/api/organisationUnits/nosuchunit1")
    assert missing.status_code == 404 and missing.json()["errorCode"] == "E1005"


def test_filters_are_anded_and_versioned_paths_answer(dhis2):
    def ids(*filters, **params):
        body = units(dhis2, filter=list(filters), fields="id", paging="false", **params)
        return {u["id"] for u in body["organisationUnits"]}

    facilities = {u["id"] for u in TREE.units if u["level"] == 4}
    assert ids("level:eq:4") == facilities and len(facilities) == 121
    assert ids("name:ilike:KENEMA") == {"kJq2mPyFEHo"}
    assert ids("name:ilike:facility 001", "level:eq:4") == {
        u["id"] for u in TREE.units if u["name"].startswith("Facility 001")
    }
    assert ids("name:ilike:kenema", "level:eq:4") == set()  # ANDed
    assert ids("name:ilike:kenema", "level:eq:4", rootJunction="OR") == facilities | {"kJq2mPyFEHo"}
    assert ids("id:in:[a,LOpWauwwghf,zzz]") == {"a", "LOpWauwwghf"}
    recent = {u["id"] for u in TREE.units if u.get("lastUpdated", "") >= "2024-03-01"}
    assert ids("lastUpdated:ge:2024-03-01") == recent and 0 < len(recent) < len(TREE.units)
    assert ids("parent.id:eq:kJq2mPyFEHo") == {"KXSqt7jv6DU"}  # the stub between Kenema and the CHP
    assert ids("parent.id:eq:KXSqt7jv6DU") == {"LOpWauwwghf"}
    assert ids("organisationUnitGroups.id:eq:uYxK4wmcPqA") == {"LOpWauwwghf"}
    assert ids("closedDate:!null") == {"a", "d"}
    assert ids(level="2") == {u["id"] for u in TREE.units if u["level"] == 2}
    bad = get(dhis2, "/api/organisationUnits", filter="nosuch:eq:1")
    assert bad.status_code == 400 and bad.json()["httpStatusCode"] == 400
    assert get(dhis2, "/api/organisationUnits", filter="name:between:1").status_code == 400
    assert get(dhis2, "/api/38/organisationUnits.json", fields="id").json()["pager"]["total"] == len(
        TREE.units
    )
    assert get(dhis2, "/api/40/organisationUnits").status_code == 404  # newer than 2.38
    assert get(dhis2, "/api/system/info").json()["version"] == "2.38.4"


def test_auth_refuses_wrong_credentials(dhis2):
    refused = get(dhis2, "/api/organisationUnits", auth=(USER, "wrong"))
    assert refused.status_code == 401
    assert refused.json() == {
        "httpStatus": "Unauthorized",
        "httpStatusCode": 401,
        "status": "ERROR",
        "message": "Unauthorized",
    }
    assert get(dhis2, "/api/system/info", auth=None).status_code == 401
    assert (
        get(dhis2, "/api/system/info", auth=None, headers={"Authorization": "ApiToken d2pat_x"}).status_code
        == 401
    )
    token = {"Authorization": f"ApiToken {TOKEN}"}
    assert get(dhis2, "/api/system/info", auth=None, headers=token).status_code == 200
    assert (
        get(dhis2, "/api/system/info", auth=None, headers={"Authorization": f"Bearer {TOKEN}"}).status_code
        == 401
    )


def test_a_2_36_server_has_no_api_tokens():
    with Dhis2StandIn(*generated_tree(3), version="2.36.13", token=TOKEN) as old:
        headers = {"Authorization": f"ApiToken {TOKEN}"}
        assert get(old, "/api/system/info", auth=None, headers=headers).status_code == 401
        info = get(old, "/api/system/info").json()
        assert info["version"] == "2.36.13"
        missing = get(old, "/api/organisationUnits/nosuchunit1")
        assert missing.status_code == 404 and "errorCode" not in missing.json()
        assert get(old, "/api/38/organisationUnits").status_code == 404
        assert get(old, "/api/36/organisationUnits").status_code == 200


def test_faults_fire_as_configured(dhis2):
    dhis2.faults += [
        Fault(path="/api/organisationUnits", status=503, times=2),
        Fault(path="/api/organisationUnitLevels", status=429, retry_after=7),
        Fault(path="/api/organisationUnitGroups", status=500, page=2, times=None),
        Fault(path="/api/system/info", status=None, delay=0.4),
    ]
    statuses = [get(dhis2, "/api/37/organisationUnits").status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    limited = get(dhis2, "/api/organisationUnitLevels")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
    assert limited.json()["httpStatusCode"] == 429
    assert get(dhis2, "/api/organisationUnitLevels").status_code == 200
    assert get(dhis2, "/api/organisationUnitGroups", pageSize=2).status_code == 200
    assert [get(dhis2, "/api/organisationUnitGroups", pageSize=2, page=2).status_code for _ in range(2)] == [
        500
    ] * 2
    started = time.monotonic()
    assert get(dhis2, "/api/system/info").status_code == 200
    assert time.monotonic() - started >= 0.4
    assert get(dhis2, "/api/system/info", auth=(USER, "wrong")).status_code == 401  # the delay is spent
    assert [f.fired for f in dhis2.faults] == [2, 1, 2, 1]


def test_a_slow_answer_outlasts_a_client_timeout(dhis2):
    dhis2.faults.append(Fault(path="/api/organisationUnits", status=None, delay=0.6, times=1))
    with pytest.raises(requests.Timeout):
        requests.get(f"{dhis2.url}/api/organisationUnits", auth=(USER, PASSWORD), timeout=0.2)
    time.sleep(0.5)  # the stand-in finishes writing to the closed connection quietly
    assert get(dhis2, "/api/organisationUnits").status_code == 200


def test_the_repeated_item_appears_on_two_pages(dhis2):
    dhis2.repeat_across_pages = True
    pages = [units(dhis2, fields="id", pageSize=10, page=p) for p in (1, 2, 3)]
    page_ids = [[u["id"] for u in body["organisationUnits"]] for body in pages]
    assert page_ids[1][0] == page_ids[0][-1] and page_ids[2][0] == page_ids[1][-1]
    assert pages[1]["pager"]["total"] == len(TREE.units)


def client(standin, **auth):
    return DHIS2Client(standin.url, retries=3, timeout=10, connect_timeout=10, **auth)


@pytest.mark.parametrize(
    "auth", [{"username": USER, "password": PASSWORD}, {"token": TOKEN}], ids=["basic", "token"]
)
def test_dhis2_client_pages_it_completely(dhis2, auth):
    dhis2.faults.append(Fault(path="/api/organisationUnits", status=500, page=3, times=1))
    c = client(dhis2, **auth)
    try:
        assert c.get_system_info()["version"] == "2.38.4"
        fetched = c.fetch_all("/api/organisationUnits", params={"fields": "id,name,path"}, page_size=9)
        assert sorted(u["id"] for u in fetched) == sorted(u["id"] for u in TREE.units)
        roots = list(c.get_organisation_units(level=1, fields="id,name"))
        assert {u["id"] for u in roots} == {u["id"] for u in TREE.units if u["level"] == 1}
        assert c.get_org_unit("LOpWauwwghf", fields="id,level")["level"] == 4
    finally:
        c.close()
    pages = [r["query"]["page"][0] for r in dhis2.requests if r["path"] == "/api/organisationUnits"]
    assert pages[:4] == ["1", "2", "3", "3"]  # page 3 retried after the 500
    assert {r["auth"] for r in dhis2.requests} == {"Basic" if "username" in auth else "ApiToken"}


def test_dhis2_client_is_refused_with_wrong_credentials_and_sees_the_repeat(dhis2):
    c = client(dhis2, username=USER, password="wrong")
    with pytest.raises(DHIS2HTTPError) as refused:
        c.get_system_info()
    c.close()
    assert refused.value.status_code == 401 and refused.value.payload["httpStatusCode"] == 401
    dhis2.repeat_across_pages = True
    c = client(dhis2, token=TOKEN)
    try:
        fetched = c.fetch_all("/api/organisationUnits", params={"fields": "id"}, page_size=50)
    finally:
        c.close()
    assert len(fetched) == len(TREE.units) + 2  # the client does not deduplicate: pages 2 and 3 repeat one
    assert {u["id"] for u in fetched} == {u["id"] for u in TREE.units}


def test_me_names_the_user_as_each_version_does(dhis2):
    me = get(dhis2, "/api/me").json()
    assert me["username"] == USER and me["userCredentials"]["username"] == USER
    assert me["organisationUnits"] and me["authorities"] == ["ALL"]
    with Dhis2StandIn(*TREE, version="2.36.13", username=USER, password=PASSWORD) as old:
        me = get(old, "/api/me").json()
        assert "username" not in me and me["userCredentials"]["username"] == USER


def test_outside_the_api_is_the_web_apps_login_page(dhis2):
    answer = requests.get(dhis2.url + "/dhis-web-dashboard/", allow_redirects=False, timeout=10)
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/security/login.action")
    page = requests.get(dhis2.url + "/dhis-web-dashboard/", timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")


def test_make_runs_demo_serves_iaso_units_and_a_generated_country_to_both_auths():
    with demo_standin(units=20) as demo:
        info = get(demo, "/api/system/info", auth=("admin", "district")).json()
        assert info["version"] == demo.version
        headers = {"Authorization": f"ApiToken {DEMO_TOKEN}"}
        body = get(demo, "/api/organisationUnits", auth=None, headers=headers, paging="false").json()
        ids = {unit["id"] for unit in body["organisationUnits"]}
        assert ids == {unit["id"] for unit in demo.tree.units} and ids >= {u["id"] for u in TREE.units[:3]}
