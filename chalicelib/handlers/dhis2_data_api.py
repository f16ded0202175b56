"""Aggregate data to DHIS2: mappings from a form's questions to a data set's data elements, runs that
send the submissions as data values (a task, dhis2.data_values), and each submission's export status."""

from typing import Annotated

from chalicelib.dhis2 import data_export, data_sql, mapping_rules
from chalicelib.handlers.http import Call
from chalicelib.handlers.wire import Page, Task
from chalicelib.platform import paging
from chalicelib.platform.contract import Body, Id, PageQuery, PathId, Timestamp, Wire, one_of, operation, text
from chalicelib.tasks import task_views

MappingId = Annotated[int, PathId("dhis2_data_mapping")]
Uid = text(11, required=True)


class MappedElement(Body):
    question: text(500, required=True)  # the question's name, or its path in groups ("group/name")
    data_element: Uid
    category_option_combo: text(11) | None = None


class MappingCreate(Body):
    name: text(200, required=True)
    connection_id: Id
    form_id: Id
    data_set: Uid
    elements: list[MappedElement]
    form_version_id: Id | None = None  # only this version's submissions; none: every version's
    attribute_option_combo: text(11) | None = None
    approved_only: bool = False  # else every submission that is not REJECTED


class MappedElementOut(Wire):
    question: str
    data_element: str
    category_option_combo: str | None


class DataMapping(Wire):
    id: int
    name: str
    connection_id: int
    form_id: int
    form_version_id: int | None
    data_set: str
    attribute_option_combo: str | None
    elements: list[MappedElementOut]
    approved_only: bool
    created_by: int | None
    created_at: Timestamp
    last_exported_at: Timestamp | None


class RunRequest(Body):
    dry_run: bool = False  # DHIS2 checks everything (dryRun=true), stores nothing; no status is recorded
    force: bool = False  # send every submission again, changed or not


class ExportQuery(PageQuery):
    status: one_of("exported", "conflict", "skipped") | None = None


class DataExport(Wire):
    submission_id: int
    status: str  # exported | conflict | skipped
    message: str | None  # DHIS2's conflict, or why it was skipped
    value_count: int
    task_id: int | None
    updated_at: Timestamp


@operation(
    "POST",
    "/api/dhis2/data-mappings",
    summary="Map a form's questions to a DHIS2 data set's data elements, checked against the form",
    tag="dhis2",
    status=201,
)
def create_mapping(call: Call, body: MappingCreate) -> DataMapping:
    fields = {name: getattr(body, name) for name in body.__struct_fields__ if name != "elements"}
    fields["elements"] = [
        {
            "question": e.question,
            "data_element": e.data_element,
            "category_option_combo": e.category_option_combo,
        }
        for e in body.elements
    ]
    return mapping_rules.create(call.cur, call.principal, fields)


@operation("GET", "/api/dhis2/data-mappings", summary="The account's data-value mappings", tag="dhis2")
def list_mappings(call: Call, query: PageQuery) -> Page[DataMapping]:
    page = paging.page_request(query)
    return paging.page(mapping_rules.list_page(call.cur, call.principal, page.after, page.limit + 1), page)


@operation("GET", "/api/dhis2/data-mappings/{mapping_id}", summary="One data-value mapping", tag="dhis2")
def get_mapping(call: Call, mapping_id: MappingId) -> DataMapping:
    return mapping_rules.get(call.cur, call.principal, mapping_id)


@operation(
    "DELETE",
    "/api/dhis2/data-mappings/{mapping_id}",
    summary="Delete a mapping and its export statuses (DHIS2 keeps the values it received)",
    tag="dhis2",
)
def delete_mapping(call: Call, mapping_id: MappingId) -> DataMapping:
    return mapping_rules.delete(call.cur, call.principal, mapping_id)


@operation(
    "POST",
    "/api/dhis2/data-mappings/{mapping_id}/runs",
    summary="Send the mapping's new or changed submissions to DHIS2 as data values (a task); "
    "a run asked while another is queued or running is that run",
    tag="dhis2",
    status=201,
)
def run_mapping(call: Call, body: RunRequest, mapping_id: MappingId) -> Task:
    return task_views.present(
        data_export.launch(call.cur, call.principal, mapping_id, body.dry_run, body.force)
    )


@operation(
    "GET",
    "/api/dhis2/data-mappings/{mapping_id}/runs",
    summary="The mapping's runs (tasks), newest first",
    tag="dhis2",
)
def list_runs(call: Call, query: PageQuery, mapping_id: MappingId) -> Page[Task]:
    page = paging.page_request(query)
    runs = data_export.runs(call.cur, call.principal, mapping_id, page.after, page.limit + 1)
    return paging.page([task_views.present(row) for row in runs], page)


@operation(
    "GET",
    "/api/dhis2/data-mappings/{mapping_id}/exports",
    summary="Each submission's export status for the mapping (?status=exported|conflict|skipped)",
    tag="dhis2",
)
def list_exports(call: Call, query: ExportQuery, mapping_id: MappingId) -> Page[DataExport]:
    mapping_rules.get(call.cur, call.principal, mapping_id)
    page = paging.page_request(query)
    rows = data_sql.exports(
        call.cur, call.principal.account_id, mapping_id, query.status, page.after, page.limit + 1
    )
    return paging.page(rows, page, key=lambda row: row["submission_id"])
