"""The one DHIS2 import-answer reader over real answers (tests/fixtures/dhis2/, SOURCES.tsv): 2.36's
report at the root and 2.38's WebMessage-wrapped report read the same."""

import json
from pathlib import Path

from chalicelib.dhis2.client import Answer
from chalicelib.dhis2.reports import (
    Conflict,
    ObjectError,
    read_data_value_summary,
    read_import_report,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "dhis2"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def test_a_2_36_data_value_summary_reads_at_the_root():
    outcome = read_data_value_summary(Answer(200, fixture("dataValueSets_import_ok.json")))
    assert outcome.status == "SUCCESS" and outcome.conflicts == []
    assert outcome.import_count == {"imported": 3, "updated": 0, "ignored": 0, "deleted": 0}


def test_a_closed_period_conflict_is_a_result_with_its_message():
    outcome = read_data_value_summary(Answer(409, fixture("dataValueSets_import_error.json")))
    assert outcome.status == "WARNING"
    assert outcome.import_count == {"imported": 0, "updated": 0, "ignored": 1, "deleted": 0}
    text = "Period: 203001 is after latest open future period: 202001 for data element: M62VHgYT2n0"
    assert outcome.conflicts == [Conflict("203001", text, None, text)]


def test_a_2_38_conflict_keeps_its_error_code_and_property():
    outcome = read_data_value_summary(fixture("dataValueSets_import_bad_value.json"))
    assert outcome.status == "WARNING" and outcome.import_count["updated"] == 355
    [conflict] = outcome.conflicts
    assert (conflict.object, conflict.error_code, conflict.property) == ("nymNRxmnj4z", "E7619", "value")
    assert conflict.message.endswith("Data value is not an integer")


def test_a_metadata_report_reads_the_same_in_2_36_and_2_38():
    bare = read_import_report(Answer(200, fixture("metadata_import_2_36_error.json")))
    wrapped = read_import_report(Answer(409, fixture("metadata_import_2_38_error.json")))
    assert bare == wrapped
    assert bare.status == "ERROR"
    assert bare.stats == {"created": 0, "updated": 0, "deleted": 0, "ignored": 3, "total": 3}
    assert [(e.uid, e.klass, e.error_code, e.property) for e in bare.errors] == [
        ("Xq7Nw2LsK8a", "OrganisationUnit", "E5002", "parent"),
        ("Pk3Rt9VbM2c", "OrganisationUnit", "E4000", "openingDate"),
    ]
    assert bare.errors[1].message == "Missing required property `openingDate`"


def test_a_successful_2_38_metadata_import_counts_without_errors():
    outcome = read_import_report(fixture("metadata_import_2_38_ok.json"))
    assert outcome.status == "OK" and outcome.errors == []
    assert outcome.stats == {"created": 2, "updated": 1, "deleted": 0, "ignored": 0, "total": 3}


def test_a_web_message_without_a_report_is_an_error_carrying_its_message():
    body = {"httpStatus": "Conflict", "httpStatusCode": 409, "status": "ERROR", "message": "Bad payload"}
    assert read_import_report(Answer(409, body)).errors == [ObjectError(None, None, None, "Bad payload")]
    assert read_data_value_summary(Answer(409, body)).conflicts == [Conflict(None, None, None, "Bad payload")]
    assert read_data_value_summary(Answer(409, body)).status == "ERROR"


def test_one_object_endpoints_answer_an_object_report_that_reads_too():
    error = {"message": "Missing required property `name`", "errorCode": "E4000", "errorProperty": "name"}
    body = {
        "httpStatus": "Conflict",
        "httpStatusCode": 409,
        "status": "WARNING",
        "response": {
            "responseType": "ObjectReport",
            "uid": "Pk3Rt9VbM2c",
            "klass": "org.hisp.dhis.organisationunit.OrganisationUnit",
            "errorReports": [error],
        },
    }
    [read] = read_import_report(body).errors
    assert (read.uid, read.klass, read.error_code) == ("Pk3Rt9VbM2c", "OrganisationUnit", "E4000")
