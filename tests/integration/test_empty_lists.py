"""Empty is not an error: a brand-new account (nothing in it but what an account is born with, its
admin and its first project) gets 200 and an empty page from every list endpoint, mobile sync
included, in JSON and in each GeoJSON variant (Accept: application/geo+json, format=geojson).

The cases are generated from the mounted operations: an operation whose answer holds rows
(`results`, `features`, `value`, or a bare JSON list) is a list endpoint and needs a case in CASES,
so a new list endpoint without one fails here. Operations answering raw bodies (XML, files) say
nothing of their shape in their types: each must be classified, as a case or in NOT_LISTS.
"""

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field

import msgspec
import pytest

import app  # noqa: F401 (mounts the operations)
from chalicelib.handlers.http import GEOJSON, MOUNTED
from chalicelib.platform import config, db
from chalicelib.platform.contract import RawResponse
from chalicelib.tasks import tasks_sql
from tests.integration.formkit import add_version
from tests.integration.helpers import Tenant, aws_client, call, login, make_tenant
from tests.integration.registrykit import post
from tests.workbooks import SIMPLE_SURVEY, workbook

ROW_FIELDS = ("results", "features", "value")  # ours, GeoJSON's, OData's
XFORM_ID = "empty_survey"


@dataclass(frozen=True)
class Case:
    path: str  # formatted with the tenant's ids and what `parent` made
    born_with: int = 0  # rows a new account has there: its admin, its first project
    parent: Callable[..., dict] | None = (
        None  # (client, tenant, request): the bare parent a nested list needs
    )
    rows: Callable[[str], int] | None = None  # counts the rows of a raw (non-JSON) answer
    checks: dict = field(default_factory=dict)  # other members of the answer, as they must be


def _source(client, tenant: Tenant, request=None) -> dict:
    """A data source with its first version (it comes with one) and nothing in it."""
    return {"source_id": post(client, tenant.tokens["admin"], "/api/data-sources", {"name": "Empty"})["id"]}


def _unit(client, tenant: Tenant, request=None) -> dict:
    _source(client, tenant)
    return {"unit_id": post(client, tenant.tokens["admin"], "/api/orgunits", {"name": "Lone"})["id"]}


def _version_and_collect_token(client, tenant: Tenant, request) -> dict:
    return _version(client, tenant, request) | _collect_token(client, tenant, request)


def _form(client, tenant: Tenant, request=None) -> dict:
    body = {"name": "No versions yet", "project_ids": [tenant.project_id]}
    return {"form_id": post(client, tenant.tokens["admin"], "/api/forms", body)["id"]}


def _version(client, tenant: Tenant, request) -> dict:
    """A form with one version, without media, nor submissions."""
    request.getfixturevalue("forms_s3")
    form = _form(client, tenant)
    book = workbook(SIMPLE_SURVEY, {"form_id": XFORM_ID, "version": "1"})
    return form | {"number": add_version(client, tenant.tokens["admin"], form["form_id"], book)["number"]}


def _submission(client, tenant: Tenant, request) -> dict:
    """A submission that names no file, made as pyodk makes one."""
    made = _version(client, tenant, request)
    aws_client("s3").create_bucket(
        Bucket=config.settings().uploads_bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    instance_id = "uuid:5f0e2c1a-0000-4000-8000-000000000001"
    xml = f'<data id="{XFORM_ID}" version="1"><name>A</name><age>3</age><meta><instanceID>{instance_id}' \
        "</instanceID></meta></data>"  # fmt: skip
    path = f"/v1/projects/{tenant.project_id}/forms/{XFORM_ID}/submissions"
    headers = {"Content-Type": "application/xml", "Authorization": f"Bearer {tenant.tokens['admin']}"}
    response = client.http.post(path, headers=headers, body=xml.encode())
    assert response.status_code == 200, response.body
    return made | {"instance_id": instance_id}


def _queued_task(client, tenant: Tenant, request=None) -> dict:
    """A task that has not run yet (so has logged nothing); written directly, as nothing consumes it."""
    with db.transaction() as cur:
        task = tasks_sql.insert(cur, tenant.account_id, tenant.user_ids["admin"], "demo.count", {"n": 1})
    return {"task_id": task["id"]}


def _collect_token(client, tenant: Tenant, request=None) -> dict:
    path = f"/api/projects/{tenant.project_id}/collect-tokens"
    return {"key": post(client, tenant.tokens["admin"], path, {"name": "Phones"})["token"]}


def _data_mapping(client, tenant: Tenant, request=None) -> dict:
    """A DHIS2 data-value mapping never run: its connection, form and version written directly."""
    descriptor = {"type": "survey", "name": "data", "children": [{"type": "integer", "name": "n"}]}
    with db.transaction() as cur:
        ids = db.one(
            cur,
            """WITH c AS (INSERT INTO dhis2_connections (account_id, name, base_url, auth_kind,
                                                         secret_arn)
                          VALUES (%(a)s, 'HMIS', 'https://dhis2.example.org', 'token', 'arn:none')
                          RETURNING id),
                    f AS (INSERT INTO forms (account_id, name) VALUES (%(a)s, 'Monthly') RETURNING id),
                    v AS (INSERT INTO form_versions (account_id, form_id, number, version, xlsform_key,
                                                     xform_key, xform_md5, descriptor)
                          SELECT %(a)s, f.id, 1, '1', 'x', 'x', 'md5', %(d)s FROM f RETURNING form_id)
               INSERT INTO dhis2_data_mappings (account_id, connection_id, form_id, name, data_set, elements)
               SELECT %(a)s, c.id, v.form_id, 'Monthly', 'dsMonthly01', %(e)s FROM c, v RETURNING id""",
            {"a": tenant.account_id, "d": json.dumps(descriptor),
             "e": json.dumps([{"question": "n", "data_element": "deCases0001"}])},
        )  # fmt: skip
    return {"mapping_id": ids["id"]}


def _dhis2_connection(client, tenant: Tenant, request=None) -> dict:
    """A DHIS2 connection never imported from, nor scheduled (its row written directly)."""
    with db.transaction() as cur:
        row = db.one(
            cur,
            """INSERT INTO dhis2_connections (account_id, name, base_url, auth_kind, secret_arn)
               VALUES (%(a)s, 'Ministry', 'https://dhis2.example.org', 'token', 'arn:none') RETURNING id""",
            {"a": tenant.account_id},
        )
    return {"connection_id": row["id"]}


def _xforms(body: str) -> int:
    return len(ET.fromstring(body).findall("{http://openrosa.org/xforms/xformsList}xform"))


def _media_files(body: str) -> int:
    return len(ET.fromstring(body).findall("{http://openrosa.org/xforms/xformsManifest}mediaFile"))


CASES: dict[str, Case] = {
    "get_me_api_keys": Case("/api/me/api-keys"),
    "get_projects": Case("/api/projects", born_with=1),
    "get_users": Case("/api/users", born_with=1),
    "get_data_sources": Case("/api/data-sources"),
    "get_data_sources_source_id_versions": Case(
        "/api/data-sources/{source_id}/versions", born_with=1, parent=_source
    ),
    "get_orgunit_types": Case("/api/orgunit-types"),
    "get_groups": Case("/api/groups"),
    "get_group_sets": Case("/api/group-sets"),
    # The issue's own report: search and refs on an account without a data source.
    "get_orgunits": Case(
        "/api/orgunits?search=Kinshasa&refs=a,b&count=true", checks={"count": 0, "next_cursor": None}
    ),
    "get_orgunits_unit_id_history": Case("/api/orgunits/{unit_id}/history", born_with=1, parent=_unit),
    "get_orgunits_child_counts": Case("/api/orgunits/child-counts?ids={unit_id}", born_with=1, parent=_unit),
    "get_orgunits_locate": Case("/api/orgunits/locate?lat=-4.3&lon=15.3"),
    "get_change_requests": Case("/api/change-requests"),
    "get_mobile_orgunits": Case("/api/mobile/orgunits?project={project_id}", checks={"next_cursor": None}),
    "get_submissions": Case("/api/submissions?form=1", checks={"next_cursor": None}),
    "get_quarantined_uploads": Case("/api/quarantined-uploads"),
    "get_tasks": Case("/api/tasks"),
    "get_tasks_task_id_logs": Case("/api/tasks/{task_id}/logs", parent=_queued_task),
    "get_forms": Case("/api/forms?project={project_id}"),
    "get_forms_form_id_versions": Case("/api/forms/{form_id}/versions", parent=_form),
    "get_mobile_forms": Case("/api/mobile/forms?project={project_id}"),
    "get_openrosa_project_id_formList": Case("/api/openrosa/{project_id}/formList", rows=_xforms),
    "get_openrosa_key_key_project_id_formList": Case(
        "/api/openrosa/key/{key}/{project_id}/formList", parent=_collect_token, rows=_xforms
    ),
    "get_openrosa_project_id_forms_form_id_manifest": Case(
        "/api/openrosa/{project_id}/forms/{form_id}/manifest", parent=_version, rows=_media_files
    ),
    "get_openrosa_key_key_project_id_forms_form_id_manifest": Case(
        "/api/openrosa/key/{key}/{project_id}/forms/{form_id}/manifest",
        parent=_version_and_collect_token,
        rows=_media_files,
    ),
    "get_forms_form_id_versions_number_media": Case(
        "/api/forms/{form_id}/versions/{number}/media", parent=_version, checks={"missing": []}
    ),
    "get_projects_project_id_collect_tokens": Case("/api/projects/{project_id}/collect-tokens"),
    "get_dhis2_connections": Case("/api/dhis2/connections"),
    "get_dhis2_connections_connection_id_runs": Case(
        "/api/dhis2/connections/{connection_id}/runs", parent=_dhis2_connection
    ),
    "get_dhis2_connections_connection_id_schedules": Case(
        "/api/dhis2/connections/{connection_id}/schedules", parent=_dhis2_connection
    ),
    "get_dhis2_data_mappings": Case("/api/dhis2/data-mappings"),
    "get_dhis2_data_mappings_mapping_id_runs": Case(
        "/api/dhis2/data-mappings/{mapping_id}/runs", parent=_data_mapping
    ),
    "get_dhis2_data_mappings_mapping_id_exports": Case(
        "/api/dhis2/data-mappings/{mapping_id}/exports", parent=_data_mapping
    ),
    # ODK Central's API, as pyodk reads it
    "get__v1_projects": Case("/v1/projects", born_with=1),
    "get__v1_projects_project_id_forms": Case("/v1/projects/{project_id}/forms"),
    "get__v1_projects_project_id_forms_form_ref_submissions": Case(
        "/v1/projects/{project_id}/forms/{xform_id}/submissions", parent=_version
    ),
    "get__v1_projects_project_id_forms_form_ref_submissions_instance_id_attachments": Case(
        "/v1/projects/{project_id}/forms/{xform_id}/submissions/{instance_id}/attachments",
        parent=_submission,
    ),
    "get__v1_projects_project_id_forms_form_ref_resource": Case(
        "/v1/projects/{project_id}/forms/{xform_id}.svc/Submissions?$count=true",
        parent=_version,
        checks={"@odata.count": 0},
    ),
}

# Raw answers that are one thing, not a list.
NOT_LISTS = {
    "get_forms_form_id_versions_number_xform",  # an XForm
    "get_openrosa_project_id_forms_form_id",  # an XForm
    "get_openrosa_key_key_project_id_forms_form_id",  # an XForm
    "get__v1_projects_project_id_forms_form_ref_submissions_instance_id_attachments_name",  # a file
    "get_tiles_z_x_y",  # a vector tile; a new account's is empty, a 204 (test_tiles.py)
}


def _holds_rows(tp) -> bool:
    info = msgspec.inspect.type_info(tp)
    if isinstance(info, msgspec.inspect.ListType):
        return True
    fields = getattr(info, "fields", ())
    return any(f.name in ROW_FIELDS and isinstance(f.type, msgspec.inspect.ListType) for f in fields)


def _is_list(op) -> bool:
    if op.method != "GET":
        return False
    if op.response is RawResponse:
        return op.operation_id in CASES
    return any(_holds_rows(tp) for tp in [op.response, *op.alternatives.values()] if tp is not None)


def _variants() -> list:
    params = []
    for op in MOUNTED:
        if not _is_list(op):
            continue
        params.append(pytest.param(op, None, id=op.operation_id))
        if GEOJSON in op.alternatives:
            params.append(pytest.param(op, "accept", id=f"{op.operation_id}[Accept geo+json]"))
            params.append(pytest.param(op, "format", id=f"{op.operation_id}[format=geojson]"))
    return params


def test_every_raw_answer_is_classified():
    raw = {op.operation_id for op in MOUNTED if op.method == "GET" and op.response is RawResponse}
    unclassified = raw - set(CASES) - NOT_LISTS
    assert not unclassified, f"list endpoints get a case in CASES, others go in NOT_LISTS: {unclassified}"


def test_every_case_is_a_mounted_list_endpoint():
    assert set(CASES) <= {op.operation_id for op in MOUNTED if _is_list(op)}


@pytest.mark.parametrize(("op", "geojson"), _variants())
def test_a_new_account_gets_an_empty_page(client, request, op, geojson):
    case = CASES.get(op.operation_id)
    if case is None:
        pytest.fail(f"{op.method} {op.path} lists rows: add its case to CASES in {__name__}")
    tenant = make_tenant(client, "newcomer")
    ids = {"project_id": tenant.project_id, "xform_id": XFORM_ID}
    ids |= case.parent(client, tenant, request) if case.parent else {}
    path, headers = case.path.format(**ids), {"Authorization": f"Bearer {tenant.tokens['admin']}"}
    if case.rows:
        headers["Accept"] = "text/xml"
    if geojson == "accept":
        headers["Accept"] = GEOJSON
    elif geojson == "format":
        path += ("&" if "?" in path else "?") + "format=geojson"
    response = client.http.get(path, headers=headers)
    assert response.status_code == 200, response.body
    if case.rows:
        assert case.rows(response.body.decode()) == case.born_with
        return
    answer = json.loads(response.body)
    rows = answer if isinstance(answer, list) else next(answer[name] for name in ROW_FIELDS if name in answer)
    assert len(rows) == case.born_with, answer
    if geojson:
        content_type = {k.lower(): v for k, v in response.headers.items()}["content-type"]
        assert answer["type"] == "FeatureCollection" and content_type == GEOJSON
    assert {name: answer[name] for name in case.checks} == case.checks


def test_a_phone_that_syncs_before_any_data_exists_gets_empty_lists(client):
    """As the issue found it: the project's data collector, not an admin, on the phone's routes."""
    tenant = make_tenant(client, "fresh", roles=("data_collector",))
    body = {"project_ids": [tenant.project_id]}
    assert (
        call(
            client, "PATCH", f"/api/users/{tenant.user_ids['data_collector']}", tenant.tokens["admin"], body
        )[0]
        == 200
    )
    phone = login(client, "data_collector@fresh.example.org")
    status, synced, _ = call(client, "GET", f"/api/mobile/orgunits?project={tenant.project_id}", phone)
    assert (
        status == 200 and synced["results"] == [] and synced["next_cursor"] is None and synced["next_since"]
    )
    status, forms, _ = call(client, "GET", f"/api/mobile/forms?project={tenant.project_id}", phone)
    assert status == 200 and forms == {"results": []}
