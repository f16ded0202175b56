"""The DHIS2 client against the real stand-in over HTTP: pages, both auths, what is retried (429 with
Retry-After, 502/503/504, dead connections) and what never is (any other 4xx, 500), timeouts, and a
409 import report as a result, read by the one reader under 2.36 and 2.38 shapes. Sleeps are
recorded, not slept."""

import pytest

from chalicelib.dhis2.client import Answer, Credentials, Dhis2Client, Dhis2Failure
from chalicelib.dhis2.reports import read_data_value_summary, read_import_report
from devstack.dhis2_standin import Dhis2StandIn, Fault, generated_tree, load_fixture_tree, merge
from devstack.postgres import free_port

USER, PASSWORD, TOKEN = "admin", "district-Client-1", "d2pat_ClientTestToken000000000000000000001"
TREE = merge(load_fixture_tree(), generated_tree(60))


@pytest.fixture(scope="module", params=["2.36.13", "2.38.4"])
def server(request):
    standin = Dhis2StandIn(*TREE, version=request.param, username=USER, password=PASSWORD, token=TOKEN)
    yield standin.start()
    standin.stop()


@pytest.fixture
def dhis2(server):
    server.faults.clear()
    server.requests.clear()
    server.repeat_across_pages = False
    return server


def client_of(standin, sleeps: list, auth: str = "basic", secret: str = PASSWORD, **options) -> Dhis2Client:
    credentials = Credentials(standin.url, auth, USER if auth == "basic" else None, secret)
    return Dhis2Client(credentials, sleep=sleeps.append, **options)


def test_pages_walk_the_tree_one_page_at_a_time(dhis2):
    pages = list(
        client_of(dhis2, []).pages("/api/organisationUnits", "organisationUnits", {"fields": "id"}, 25)
    )
    assert [p.number for p in pages] == list(range(1, pages[0].page_count + 1))
    assert {p.total for p in pages} == {len(TREE.units)}
    assert sum(len(p.items) for p in pages) == len(TREE.units)
    resumed = client_of(dhis2, []).pages("/api/organisationUnits", "organisationUnits", {}, 25, start_page=3)
    assert [p.number for p in resumed] == list(range(3, pages[0].page_count + 1))
    everything = client_of(dhis2, []).pages(
        "/api/organisationUnits", "organisationUnits", {"paging": "false"}
    )
    assert [len(p.items) for p in everything] == [len(TREE.units)]


def test_a_token_signs_in_from_2_37_and_is_wrong_credentials_before(dhis2):
    client = client_of(dhis2, [], auth="token", secret=TOKEN)
    if dhis2.minor >= 37:
        assert client.get("/api/system/info")["version"] == dhis2.version
        assert dhis2.requests[-1]["auth"] == "ApiToken"
    else:
        with pytest.raises(Dhis2Failure) as failed:
            client.get("/api/system/info")
        assert failed.value.kind == "wrong_credentials" and len(dhis2.requests) == 1


def test_429_honours_retry_after_and_503_backs_off_then_both_succeed(dhis2):
    sleeps = []
    dhis2.faults += [Fault(status=429, retry_after=7, times=1), Fault(status=503, times=2)]
    assert client_of(dhis2, sleeps).get("/api/system/info")["version"] == dhis2.version
    assert sleeps == [7.0, 1.0, 2.0] and len(dhis2.requests) == 4  # backoff by attempt number


def test_502_and_504_are_retried_until_the_attempts_run_out(dhis2):
    sleeps = []
    dhis2.faults += [Fault(status=502, times=1), Fault(status=504, times=None)]
    with pytest.raises(Dhis2Failure) as failed:
        client_of(dhis2, sleeps, max_attempts=3).get("/api/system/info")
    assert failed.value.kind == "unreachable" and failed.value.status == 504
    assert sleeps == [0.5, 1.0] and len(dhis2.requests) == 3


@pytest.mark.parametrize(
    ("fault_status", "kind"), [(500, "unreachable"), (400, "refused"), (403, "refused"), (404, "not_dhis2")]
)
def test_other_errors_are_never_retried(dhis2, fault_status, kind):
    sleeps = []
    dhis2.faults.append(Fault(status=fault_status, times=None))
    with pytest.raises(Dhis2Failure) as failed:
        client_of(dhis2, sleeps).get("/api/organisationUnits")
    assert (failed.value.kind, failed.value.status) == (kind, fault_status)
    assert sleeps == [] and len(dhis2.requests) == 1


def test_wrong_credentials_are_said_so_and_not_retried(dhis2):
    sleeps = []
    with pytest.raises(Dhis2Failure) as failed:
        client_of(dhis2, sleeps, secret="wrong").get("/api/organisationUnits")
    assert failed.value.kind == "wrong_credentials" and "wrong credentials" in failed.value.message
    assert sleeps == [] and len(dhis2.requests) == 1 and "wrong" not in repr(client_of(dhis2, []))


def test_a_slow_get_times_out_and_is_retried_a_post_is_not(dhis2):
    sleeps = []
    dhis2.faults.append(Fault(path="/api/system/info", status=None, delay=0.5, times=1))
    assert client_of(dhis2, sleeps, timeout_seconds=0.2).get("/api/system/info")["version"]
    assert sleeps == [0.5]
    dhis2.faults.append(Fault(path="/api/dataValueSets", status=None, delay=0.5, times=1))
    with pytest.raises(Dhis2Failure) as failed:
        client_of(dhis2, sleeps, timeout_seconds=0.2).post("/api/dataValueSets", {"dataValues": []})
    assert failed.value.kind == "unreachable" and "did not answer" in failed.value.message
    assert sleeps == [0.5]


def test_nothing_listening_is_unreachable_after_every_attempt():
    sleeps = []
    client = Dhis2Client(
        Credentials(f"http://127.0.0.1:{free_port()}", "basic", USER, PASSWORD), 2, 3, sleeps.append
    )
    with pytest.raises(Dhis2Failure) as failed:
        client.get("/api/system/info")
    assert failed.value.kind == "unreachable" and sleeps == [0.5, 1.0]


def test_a_conflict_report_is_an_answer_read_alike_in_both_shapes(dhis2):
    client = client_of(dhis2, [])
    unit = {"id": "Zz0NewUnit1", "name": "No parent, no opening date"}
    answer = client.post("/api/metadata", {"organisationUnits": [unit]}, {"importMode": "VALIDATE"})
    assert isinstance(answer, Answer) and answer.status == (409 if dhis2.minor >= 38 else 200)
    outcome = read_import_report(answer)
    assert outcome.status == "ERROR" and outcome.errors
    assert {e.error_code for e in outcome.errors} >= {"E4000"}
    value = {"dataElement": "NoSuchElem1", "period": "202401", "orgUnit": TREE.units[0]["id"], "value": "3"}
    values = {"dataValues": [value]}
    answer = client.post("/api/dataValueSets", values)
    assert answer.status == (409 if dhis2.minor >= 38 else 200)
    summary = read_data_value_summary(answer)
    assert summary.status in ("WARNING", "ERROR") and summary.import_count["ignored"] == 1
    assert summary.conflicts and summary.conflicts[0].message
