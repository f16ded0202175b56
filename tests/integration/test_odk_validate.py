"""Every XForm we serve passes ODK Validate, the JavaRosa parser that ODK Collect itself runs: each
workbook of the tests (the XLSForms in tests/fixtures and those built in tests/workbooks.py) goes in
as a version, comes out of the OpenRosa download route, and the jar (shipped in pyxform's wheel)
validates them all in one JVM run (~1 s; a run per form would cost that each)."""

import base64
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from pyxform.validators.odk_validate import ODK_VALIDATE_PATH

from chalicelib.forms import xlsforms
from tests.integration.formkit import SIMPLE_SURVEY, add_version, create_form, workbook
from tests.integration.helpers import PASSWORD, make_tenant
from tests.workbooks import FIXTURES, media_workbook

XFORMS_LIST = "{http://openrosa.org/xforms/xformsList}"


def served_workbooks() -> dict[str, bytes]:
    """Every XLSForm the tests publish, by a name for the report."""
    fixtures = {path.name: path.read_bytes() for path in sorted(FIXTURES.glob("*.xls*"))}
    return fixtures | {
        "SIMPLE_SURVEY": workbook(SIMPLE_SURVEY),
        "SIMPLE_SURVEY with settings": workbook(SIMPLE_SURVEY, {"form_id": "household", "version": "7"}),
        "media_workbook": media_workbook(),
    }


def test_every_form_we_serve_passes_odk_validate(client, forms_s3, tmp_path):
    java = shutil.which("java")
    assert java, "ODK Validate needs Java 17: apt-get install default-jre-headless (devstack/bootstrap.sh)"
    # Two of the fixtures are one form (.xls and .xlsx): an XForm id is the account's once, so a tenant
    # takes each workbook whose id it does not have yet, the next tenant the others.
    tenants = [make_tenant(client, name) for name in ("alpha", "beta")]
    taken: list[set[str]] = [set(), set()]
    for name, content in served_workbooks().items():
        xform_id = xlsforms.read(content, _stem(name)).xform_id
        tenant, ids = next((t, ids) for t, ids in zip(tenants, taken, strict=True) if xform_id not in ids)
        ids.add(xform_id)
        form = create_form(client, tenant.tokens["admin"], [tenant.project_id], name=name)
        add_version(client, tenant.tokens["admin"], form["id"], content, filename=f"{_stem(name)}.xlsx")
    files = []
    for tenant in tenants:
        for url in _download_urls(client, tenant):
            xform = _get(client, tenant, url)
            assert xform.status_code == 200, xform.body
            files.append(tmp_path / f"{len(files)}.xml")
            files[-1].write_bytes(xform.body)
    assert len(files) == len(served_workbooks())

    run = subprocess.run(
        [java, "-Djava.awt.headless=true", "-jar", ODK_VALIDATE_PATH, *map(str, files)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, f"ODK Validate refused a served XForm:\n{run.stdout}\n{run.stderr}"
    assert run.stdout.count("Xform is valid!") == len(files), run.stdout


def _download_urls(client, tenant) -> list[str]:
    listed = _get(client, tenant, f"/api/openrosa/{tenant.project_id}/formList")
    assert listed.status_code == 200, listed.body
    return [entry.findtext(f"{XFORMS_LIST}downloadUrl") for entry in ET.fromstring(listed.body)]


def _get(client, tenant, url: str):
    credentials = base64.b64encode(f"{tenant.admin_email}:{PASSWORD}".encode())
    headers = {"X-OpenRosa-Version": "1.0", "Authorization": f"Basic {credentials.decode()}"}
    return client.http.get(url.removeprefix("http://localhost"), headers=headers)


def _stem(name: str) -> str:
    return Path(name).stem.replace(" ", "_")


@pytest.fixture(autouse=True)
def _jar_is_there():
    assert Path(ODK_VALIDATE_PATH).is_file(), f"pyxform's wheel should ship {ODK_VALIDATE_PATH}"
