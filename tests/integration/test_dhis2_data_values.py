"""Aggregate data to DHIS2 against the real stand-in over HTTP: a mapping checked against its form,
submissions sent as data values (element, unit, period), a closed period's conflict laid on its
submission and kept in the result, a second run sending nothing, 2.36 and 2.38 shapes, dry runs,
tenancy and roles."""

import json
import uuid

import pytest
from pyxform import builder

from chalicelib.dhis2 import data_export
from chalicelib.dhis2.data_periods import PeriodProblem, dhis2_period
from chalicelib.platform import db
from devstack.dhis2_datavalues import DEFAULT_COMBO, store_of
from devstack.dhis2_standin import Dhis2StandIn, load_fixture_tree
from devstack.worker import LocalContext
from tests.integration.helpers import call, make_tenant
from tests.integration.registrykit import post
from tests.integration.taskkit import BUCKET, drain, row

pytestmark = pytest.mark.commits  # tasks report progress on a second connection

USER, PASSWORD = "admin", "district-Data-42"
DATA_SET, CASES, DEATHS, REMARKS = "dsMonthly01", "deCases0001", "deDeaths001", "deRemarks01"
UNDER_5, COMBO_AOC = "cocUnder5Ab", "aocFunderAb"
KAIMA, KENEMA, STUB = "LOpWauwwghf", "kJq2mPyFEHo", "ImspTQPwCqd"  # units of the stand-in's tree
SURVEY = {
    "type": "survey", "name": "data", "title": "Monthly report", "id_string": "monthly_report",
    "children": [
        {"type": "group", "name": "counts", "label": "Counts", "children": [
            {"type": "integer", "name": "cases", "label": "Cases"},
            {"type": "integer", "name": "deaths", "label": "Deaths"},
        ]},
        {"type": "text", "name": "remarks", "label": "Remarks"},
        {"type": "note", "name": "thanks", "label": "Thanks"},
        {"type": "repeat", "name": "visits", "label": "Visits", "children": [
            {"type": "integer", "name": "visitors", "label": "Visitors"},
        ]},
    ],
}  # fmt: skip
ELEMENTS = [
    {"question": "cases", "data_element": CASES},
    {"question": "counts/deaths", "data_element": DEATHS, "category_option_combo": UNDER_5},
    {"question": "remarks", "data_element": REMARKS},
]


@pytest.fixture(scope="module")
def standin():
    server = Dhis2StandIn(*load_fixture_tree(), username=USER, password=PASSWORD).start()
    yield server
    server.stop()


@pytest.fixture
def dhis2(standin):
    standin.version = "2.38.4"
    store = store_of(standin)
    store.values.clear()
    store.received.clear()
    store.data_elements.update({CASES: "INTEGER_ZERO_OR_POSITIVE", DEATHS: "INTEGER", REMARKS: "TEXT"})
    store.data_sets[DATA_SET] = {CASES, DEATHS, REMARKS}
    store.category_option_combos |= {UNDER_5}
    store.locked = {(DATA_SET, "202401")}
    return standin


@pytest.fixture
def alpha(client, task_aws):
    return make_tenant(client, "alpha", roles=("viewer", "form_manager"))


@pytest.fixture
def world(client, alpha, dhis2):
    """A connection, a monthly form, units (two with DHIS2 uids as source_ref, one without) and a
    mapping of three questions."""
    token = alpha.tokens["admin"]
    body = {
        "name": "Ministry",
        "base_url": dhis2.url,
        "auth_kind": "basic",
        "username": USER,
        "password": PASSWORD,
    }
    connection = post(client, token, "/api/dhis2/connections", body)
    source = post(client, token, "/api/data-sources", {"name": "Ministry pyramid"})
    kind = post(client, token, "/api/orgunit-types", {"name": "Facility"})["id"]
    units = {}
    for name, ref in (("Kaima", KAIMA), ("Kenema", KENEMA), ("Local", "local-17")):
        body = {
            "name": name,
            "org_unit_type_id": kind,
            "source_ref": ref,
            "version_id": source["default_version_id"],
        }
        units[name] = post(client, token, "/api/orgunits", body)
    form = _publish(alpha.account_id)
    mapping = {"name": "Monthly report → HMIS", "connection_id": connection["id"], "form_id": form["form_id"],
               "data_set": DATA_SET, "elements": ELEMENTS}  # fmt: skip
    return {
        "connection": connection,
        "units": units,
        "form": form,
        "mapping": post(client, token, MAPPINGS, mapping),
    }


MAPPINGS = "/api/dhis2/data-mappings"


def _publish(account_id: int) -> dict:
    descriptor = builder.create_survey_element_from_dict(SURVEY).to_json_dict()
    with db.transaction() as cur:
        form_id = db.one(
            cur,
            """INSERT INTO forms (account_id, name, xform_id, period_type)
               VALUES (%(a)s, 'Monthly report', 'monthly_report', 'MONTH') RETURNING id""",
            {"a": account_id},
        )["id"]
        version_id = db.one(
            cur,
            """INSERT INTO form_versions (account_id, form_id, number, version, xlsform_key, xform_key,
                                          xform_md5, descriptor)
               VALUES (%(a)s, %(f)s, 1, '2024010101', 'k.xlsx', 'k.xml', 'md5', %(d)s) RETURNING id""",
            {"a": account_id, "f": form_id, "d": json.dumps(descriptor)},
        )["id"]
    return {"form_id": form_id, "version_id": version_id}


def submit(
    tenant, world, unit: str | None, period: str | None, answers: dict, status: str = "PENDING"
) -> int:
    """A submission as ingestion stores it (answers nested by group)."""
    found = world["units"][unit] if unit else None
    with db.transaction() as cur:
        return db.one(
            cur,
            """INSERT INTO submissions (account_id, form_id, form_version_id, instance_uuid, org_unit_id,
                                        org_unit_version_id, org_unit_path, period, answers, xml_key, xml_md5,
                                        validation_status)
               SELECT %(a)s, %(f)s, %(v)s, %(uuid)s, ou.id, ou.version_id, ou.path::text, %(p)s, %(answers)s,
                      'x.xml', 'md5', %(status)s
               FROM (SELECT 1) one
               LEFT JOIN org_units ou ON ou.id = %(unit)s AND ou.version_id = %(version)s
               RETURNING id""",
            {"a": tenant.account_id, "f": world["form"]["form_id"], "v": world["form"]["version_id"],
             "uuid": str(uuid.uuid4()), "p": period, "answers": json.dumps(answers), "status": status,
             "unit": found["id"] if found else None, "version": found["version_id"] if found else None},
        )["id"]  # fmt: skip


def run(
    client, task_aws, tenant, mapping: dict, role="form_manager", context=LocalContext, **options
) -> dict:
    status, task, _ = call(client, "POST", f"{MAPPINGS}/{mapping['id']}/runs", tenant.tokens[role], options)
    assert status == 201, task
    drain(task_aws, context)
    return row(task["id"])


def near_deadline(function_name: str) -> LocalContext:
    return LocalContext(function_name, timeout_seconds=0)  # every read of submissions ends an invocation


def exports(client, tenant, mapping: dict, role: str = "viewer") -> dict[int, dict]:
    status, page, _ = call(
        client, "GET", f"{MAPPINGS}/{mapping['id']}/exports?limit=500", tenant.tokens[role]
    )
    assert status == 200, page
    return {entry["submission_id"]: entry for entry in page["results"]}


def counts(name="cases", deaths=None, remarks=None) -> dict:
    return {"counts": {"cases": name, "deaths": deaths}, "remarks": remarks}


@pytest.mark.parametrize(
    ("raw", "period_type", "expected"),
    [("202401", "MONTH", "202401"), ("2024-01", None, "202401"), ("2024W05", "WEEK", "2024W5"),
     ("2024-W5", None, "2024W5"), ("2024Q3", "QUARTER", "2024Q3"), ("2024S2", None, "2024S2"),
     ("2024", "YEAR", "2024"), ("2024-02-29", "DAY", "20240229"), ("20230229", None, "not a real day"),
     ("2024W54", None, "not a real week"), ("202413", None, "not a real month"),
     ("2024Q1", "MONTH", "QUARTER"), ("", None, "has no period"),
     ("Jan 2024", None, "not a period DHIS2 knows")],
)  # fmt: skip
def test_periods_become_dhis2_iso_periods(raw, period_type, expected):
    try:
        assert dhis2_period(raw, period_type) == expected
    except PeriodProblem as problem:
        assert expected in str(problem)


def test_a_mapping_is_checked_against_its_form(client, alpha, world):
    token, base = alpha.tokens["form_manager"], world["mapping"]
    assert base["elements"][0] == {
        "question": "counts/cases",
        "data_element": CASES,
        "category_option_combo": None,
    }
    body = {k: base[k] for k in ("connection_id", "form_id", "data_set")} | {"name": "other"}

    def refused(elements, **changes):
        status, answer, _ = call(client, "POST", MAPPINGS, token, body | {"elements": elements} | changes)
        assert status in (400, 404, 409), answer
        return answer["error"]

    one = {"question": "cases", "data_element": CASES}
    error = refused([one, {"question": "casse", "data_element": DEATHS}])
    assert error["details"]["field"] == "elements[1].question" and "no question 'casse'" in error["message"]
    assert "inside a repeat" in refused([{"question": "visitors", "data_element": CASES}])["message"]
    assert "is a group" in refused([{"question": "counts", "data_element": CASES}])["message"]
    assert (
        "no question 'thanks'" in refused([{"question": "thanks", "data_element": CASES}])["message"]
    )  # a note
    error = refused([one, {"question": "remarks", "data_element": CASES}])
    assert error["details"]["field"] == "elements[1]" and "same data element" in error["message"]
    error = refused([{"question": "cases", "data_element": "12345678901"}])
    assert error["details"]["field"] == "elements[0].data_element" and "DHIS2 uid" in error["message"]
    assert refused([one], data_set="short")["details"]["field"] == "data_set"
    assert refused([])["details"]["field"] == "elements"
    assert refused([one], connection_id=999999)["code"] == "dhis2_connection.not_found"
    assert refused([one], form_version_id=999999)["details"]["field"] == "form_version_id"
    assert refused([one], name=base["name"])["code"] == "dhis2_data_mapping.name_taken"


def test_submissions_reach_dhis2_as_data_values_and_a_second_run_sends_nothing(
    client, task_aws, alpha, world, dhis2
):
    store, mapping = store_of(dhis2), world["mapping"]
    sent = submit(alpha, world, "Kaima", "202402", counts("12", "1", "all good"), "APPROVED")
    dashed = submit(alpha, world, "Kenema", "2024-03", counts("7"))  # a typed period, one answer
    closed = submit(alpha, world, "Kenema", "202401", counts("3", "0"))
    older = submit(alpha, world, "Kaima", "202403", counts("99"))
    newer = submit(alpha, world, "Kaima", "202403", counts("5", "-2"))
    bad = submit(alpha, world, "Kaima", "202404", counts("many"))
    no_uid = submit(alpha, world, "Local", "202402", counts("4"))
    no_unit = submit(alpha, world, None, "202402", counts("4"))
    quarter = submit(alpha, world, "Kenema", "2024Q1", counts("4"))
    empty = submit(alpha, world, "Kenema", "202405", counts(None))
    rejected = submit(alpha, world, "Kenema", "202406", counts("8"), "REJECTED")

    task = run(client, task_aws, alpha, mapping)
    assert task["status"] == "SUCCESS", task
    default = DEFAULT_COMBO
    assert store.values == {
        (CASES, "202402", KAIMA, default, default): "12",
        (DEATHS, "202402", KAIMA, UNDER_5, default): "1",
        (REMARKS, "202402", KAIMA, default, default): "all good",
        (CASES, "202403", KENEMA, default, default): "7",
        (CASES, "202403", KAIMA, default, default): "5",
        (DEATHS, "202403", KAIMA, UNDER_5, default): "-2",
    }
    result = task["result"]
    assert result["requests"] == 1 and result["dry_run"] is False
    assert result["import_count"] == {"imported": 6, "updated": 0, "ignored": 3, "deleted": 0}
    assert result["submissions"] == {"exported": 3, "conflict": 2, "skipped": 5, "unchanged": 0}
    by_code = {c["error_code"]: c for c in result["conflicts"]}
    assert by_code["E7643"]["submission_ids"] == [closed] and "202401" in by_code["E7643"]["message"]
    assert by_code["E7619"]["submission_ids"] == [bad]

    statuses = exports(client, alpha, mapping)
    assert rejected not in statuses
    assert {i: statuses[i]["status"] for i in (sent, dashed, newer)} == dict.fromkeys(
        (sent, dashed, newer), "exported"
    )
    assert statuses[closed]["status"] == "conflict"
    assert "is not open for this data set" in statuses[closed]["message"]
    assert "not zero or positive integer" in statuses[bad]["message"]
    reasons = {i: statuses[i]["message"] for i in (older, no_uid, no_unit, quarter, empty)}
    assert reasons[older] == f"superseded by submission {newer} for the same unit and period"
    assert "has no DHIS2 uid" in reasons[no_uid] and reasons[no_unit] == "the submission has no org unit"
    assert "QUARTER period" in reasons[quarter] and reasons[empty] == "no mapped question is answered"

    assert PASSWORD not in json.dumps(task, default=str)  # the task row: params, result, progress
    posted = len(store.received)
    again = run(client, task_aws, alpha, mapping)["result"]
    assert len(store.received) == posted and again["requests"] == 0  # nothing new: nothing sent
    assert again["submissions"] == {"exported": 0, "conflict": 0, "skipped": 5, "unchanged": 5}

    with db.transaction() as cur:
        cur.execute("UPDATE submissions SET answers = %s WHERE id = %s", (json.dumps(counts("13")), sent))
    changed = run(client, task_aws, alpha, mapping)["result"]
    assert changed["requests"] == 1 and changed["submissions"]["exported"] == 1
    assert [v["dataElement"] for v in store.received[-1]["body"]["dataValues"]] == [CASES]
    assert store.values[(CASES, "202402", KAIMA, default, default)] == "13"

    forced = run(client, task_aws, alpha, mapping, force=True)["result"]
    assert forced["submissions"]["exported"] + forced["submissions"]["conflict"] == 5
    assert forced["import_count"] == {"imported": 0, "updated": 4, "ignored": 3, "deleted": 0}  # none twice


def test_2_36_answers_at_the_root_and_conflicts_without_indexes(
    client, task_aws, alpha, world, dhis2, monkeypatch
):
    dhis2.version = "2.36.13"
    monkeypatch.setattr(data_export, "VALUES_PER_REQUEST", 3)  # batches of at most 3 values
    monkeypatch.setattr(data_export, "SUBMISSIONS_PER_READ", 2)  # and a new invocation after each read
    store, mapping = store_of(dhis2), world["mapping"]
    ok = submit(alpha, world, "Kaima", "202402", counts("1", "2"))
    closed = submit(alpha, world, "Kenema", "202401", counts("3"))
    closed_too = submit(alpha, world, "Kaima", "202401", counts("4"))
    future = submit(alpha, world, "Kenema", "209912", counts("5"))

    dry = run(client, task_aws, alpha, mapping, dry_run=True)
    assert dry["status"] == "SUCCESS" and dry["result"]["dry_run"] is True
    assert store.values == {} and exports(client, alpha, mapping) == {}  # DHIS2 and our statuses untouched
    assert all(r["query"]["dryRun"] == ["true"] for r in store.received)

    task = run(client, task_aws, alpha, mapping, context=near_deadline)
    result = task["result"]
    assert task["status"] == "SUCCESS", task
    assert result["requests"] == 2 and [len(r["body"]["dataValues"]) for r in store.received[-2:]] == [3, 2]
    assert set(store.values) == {(CASES, "202402", KAIMA, DEFAULT_COMBO, DEFAULT_COMBO),
                                 (DEATHS, "202402", KAIMA, UNDER_5, DEFAULT_COMBO)}  # fmt: skip
    statuses = exports(client, alpha, mapping)
    assert statuses[ok]["status"] == "exported"
    assert {statuses[i]["status"] for i in (closed, closed_too, future)} == {"conflict"}
    assert "after latest open future period" in statuses[future]["message"]
    by_object = {c["object"]: c for c in result["conflicts"]}
    assert by_object[KENEMA]["submission_ids"] == [closed] and by_object[KAIMA]["submission_ids"] == [
        closed_too
    ]
    assert by_object["209912"]["error_code"] is None  # 2.36 has no error codes


def test_long_conflict_lists_go_to_an_artifact(client, task_aws, alpha, world, dhis2, monkeypatch):
    monkeypatch.setattr(data_export, "CONFLICTS_IN_RESULT", 1)
    submit(alpha, world, "Kaima", "202401", counts("1"))
    submit(alpha, world, "Kenema", "202404", counts("x"))
    task = run(client, task_aws, alpha, world["mapping"])
    assert task["result"]["conflict_count"] == 2 and len(task["result"]["conflicts"]) == 1
    key = next(a["key"] for a in task["artifacts"] if a["name"] == "conflicts.json")
    kept = json.loads(task_aws.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    assert {c["error_code"] for c in kept} == {"E7643", "E7619"}


def test_another_account_sees_nothing_and_a_viewer_cannot_write_or_run(client, task_aws, alpha, world):
    mapping, other = world["mapping"], make_tenant(client, "beta")
    path = f"{MAPPINGS}/{mapping['id']}"
    for method, suffix, body in (("GET", "", None), ("DELETE", "", None), ("POST", "/runs", {}),
                                 ("GET", "/runs", None), ("GET", "/exports", None)):  # fmt: skip
        status, answer, _ = call(client, method, path + suffix, other.tokens["admin"], body)
        assert status == 404 and answer["error"]["code"] == "dhis2_data_mapping.not_found", (method, suffix)
    status, listed, _ = call(client, "GET", MAPPINGS, other.tokens["admin"])
    assert status == 200 and listed["results"] == []
    body = {k: mapping[k] for k in ("connection_id", "form_id", "data_set")} | {
        "name": "x",
        "elements": ELEMENTS,
    }
    status, answer, _ = call(client, "POST", MAPPINGS, other.tokens["admin"], body)
    assert status == 404 and answer["error"]["code"] == "dhis2_connection.not_found"

    viewer = alpha.tokens["viewer"]
    assert call(client, "POST", MAPPINGS, viewer, body)[0] == 403
    assert call(client, "POST", f"{path}/runs", viewer, {})[0] == 403
    assert call(client, "DELETE", path, viewer)[0] == 403
    status, seen, _ = call(client, "GET", path, viewer)
    assert status == 200 and seen["id"] == mapping["id"]
    status, runs, _ = call(client, "GET", f"{path}/runs", viewer)
    assert status == 200 and runs["results"] == []
    run(client, task_aws, alpha, mapping)
    status, runs, _ = call(client, "GET", f"{path}/runs", viewer)
    assert [r["kind"] for r in runs["results"]] == ["dhis2.data_values"]
    status, gone, _ = call(client, "DELETE", path, alpha.tokens["form_manager"])
    assert status == 200 and call(client, "GET", path, viewer)[0] == 404
