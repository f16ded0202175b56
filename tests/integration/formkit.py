"""Test support for forms: a moto forms bucket, XLSForm workbooks built in memory, upload helpers."""

import pytest
from moto import mock_aws

from chalicelib.platform import aws, config
from tests.integration.helpers import aws_client, call, make_tenant
from tests.workbooks import SIMPLE_SURVEY, fixture_bytes, workbook  # noqa: F401 (for the form tests)

FORMS_BUCKET = "georegistry-test-forms"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLS = "application/vnd.ms-excel"


@pytest.fixture
def forms_s3(database, monkeypatch):
    """A moto S3 with the forms bucket, named in FORMS_BUCKET."""
    with mock_aws():
        s3 = aws_client("s3")
        s3.create_bucket(Bucket=FORMS_BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        monkeypatch.setenv("FORMS_BUCKET", FORMS_BUCKET)
        config.reset()
        aws.reset()
        yield s3
        aws.reset()


@pytest.fixture(name="alpha")
def form_managing_tenant(client, forms_s3):
    """The `alpha` of the form tests: a tenant with a form manager and a viewer."""
    return make_tenant(client, "alpha", roles=("form_manager", "viewer"))


@pytest.fixture(name="form")
def alphas_form(client, alpha):
    return create_form(client, alpha.tokens["form_manager"], [alpha.project_id])


def create_form(client, token: str, project_ids: list[int], **fields) -> dict:
    status, form, _ = call(
        client, "POST", "/api/forms", token, {"name": "Survey", "project_ids": project_ids} | fields
    )
    assert status == 201, form
    return form


def post_xlsform(client, token: str, form_id: int, content: bytes, filename: str | None = "form.xlsx",
                 content_type: str = XLSX):  # fmt: skip
    """(status, body) of a direct-body version upload."""
    path = f"/api/forms/{form_id}/versions" + (f"?filename={filename}" if filename else "")
    status, body, _ = call(client, "POST", path, token, content, headers={"Content-Type": content_type})
    return status, body


def add_version(client, token: str, form_id: int, content: bytes, filename: str = "form.xlsx") -> dict:
    status, version = post_xlsform(client, token, form_id, content, filename)
    assert status == 201, version
    return version
