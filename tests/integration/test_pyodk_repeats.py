"""pyodk reads a form's repeat group as ODK Central serves it, a table of its own: the service document
and $metadata list it, each row has the repeat's answers, Central's `__id` and the submission's key
(`__Submissions-id`), the submission's row links to it, and it pages, counts and filters as Central's."""

import hashlib

import pytest
from pyodk.client import Client
from pyodk.errors import PyODKError

from tests.integration.helpers import PASSWORD
from tests.integration.ingestkit import FIXTURES, publish_form

pytestmark = pytest.mark.commits

FORM_ID = "eventtracker2334"
TABLE = "Submissions.households.hh_repeat"
FIRST_ID = "uuid:87eefa63-7523-479e-bb91-d21aa27cc6e7"
SECOND_ID = "uuid:5a1ee4d2-0c8e-4e0b-9d59-3c1f6e0a7b21"


def _row_id(instance_id: str, index: int) -> str:
    """Central's id of a repeat row (lib/data/odata.js hashId)."""
    return hashlib.sha1(f"Submissions#{instance_id}%%households#%%hh_repeat#{index}".encode()).hexdigest()


def test_pyodk_reads_a_repeat_group_as_its_own_table(live, tmp_path):
    alpha = live.tenant("alpha")
    publish_form(alpha.account_id, [alpha.project_id], "repeat_group_form.xlsx")
    first = (FIXTURES / "repeat_group_submission.xml").read_text()
    cut = first.index("</hh_repeat><hh_repeat>") + len("</hh_repeat>")
    second = (first[:cut] + first[first.index("</households>") - 0 :]).replace(FIRST_ID, SECOND_ID)
    config = tmp_path / "config.toml"
    config.write_text(
        f'[central]\nbase_url = "{live.url}"\nusername = "{alpha.admin_email}"\npassword = "{PASSWORD}"\n'
        f"default_project_id = {alpha.project_id}\n"
    )
    with Client(config_path=config, cache_path=tmp_path / "cache.toml") as client:
        empty = client.submissions.get_table(form_id=FORM_ID, table_name=TABLE, count=True)
        assert (empty["value"], empty["@odata.count"]) == ([], 0)  # a new form's table: an empty page
        client.submissions.create(xml=first, form_id=FORM_ID)
        client.submissions.create(xml=second, form_id=FORM_ID)
        service = client.get(f"projects/{alpha.project_id}/forms/{FORM_ID}.svc").json()["value"]
        assert [table["name"] for table in service] == ["Submissions", TABLE]
        metadata = client.get(f"projects/{alpha.project_id}/forms/{FORM_ID}.svc/$metadata").text
        assert f'<EntitySet Name="{TABLE}"' in metadata and '<Property Name="__Submissions-id"' in metadata

        table = client.submissions.get_table(form_id=FORM_ID, table_name=TABLE)
        assert table["@odata.context"].endswith(f"/{FORM_ID}.svc/$metadata#{TABLE}")
        assert [row["__id"] for row in table["value"]] == [
            _row_id(SECOND_ID, 0), _row_id(FIRST_ID, 0), _row_id(FIRST_ID, 1)
        ]  # fmt: skip
        assert table["value"][2] == {
            "name": "household 2", "gender": "Female", "age": 11,
            "households_address": {"street": "street b", "number": "45", "city": "Namur"},
            "__id": _row_id(FIRST_ID, 1), "__Submissions-id": FIRST_ID,
        }  # fmt: skip
        assert [row["__Submissions-id"] for row in table["value"]] == [SECOND_ID, FIRST_ID, FIRST_ID]

        parent = client.submissions.get_table(form_id=FORM_ID, filter=f"__id eq '{FIRST_ID}'")["value"][0]
        assert parent["households"]["hh_repeat@odata.navigationLink"] == (
            "Submissions('uuid%3A87eefa63-7523-479e-bb91-d21aa27cc6e7')/households/hh_repeat"
        )

        page = client.submissions.get_table(form_id=FORM_ID, table_name=TABLE, top=2, count=True)
        assert [row["name"] for row in page["value"]] == ["household 1", "household 1"]
        assert page["@odata.count"] == 3
        rest = client.session.get(page["@odata.nextLink"]).json()
        assert [row["__id"] for row in rest["value"]] == [
            _row_id(FIRST_ID, 1)
        ] and "@odata.nextLink" not in rest

        dates = [
            row["__system"]["submissionDate"]
            for row in client.submissions.get_table(form_id=FORM_ID)["value"]
        ]
        older = client.submissions.get_table(
            form_id=FORM_ID,
            table_name=TABLE,
            filter=f"$root/Submissions/__system/submissionDate lt {dates[0]}",
        )
        assert [row["__Submissions-id"] for row in older["value"]] == [FIRST_ID, FIRST_ID]
        with pytest.raises(PyODKError, match="Status: 404"):
            client.submissions.get_table(form_id=FORM_ID, table_name="Submissions.households")
