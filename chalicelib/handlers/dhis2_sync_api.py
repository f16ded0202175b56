"""DHIS2 tree imports and syncs: run one now, schedule them (EventBridge rate or cron), list the runs.
Each run is a task (dhis2.import, dhis2.sync) whose artifacts are its report and, for a sync, the
diff; a run asked while another of the same connection and data source is queued or running is
recorded as SKIPPED and queues nothing."""

from typing import Annotated, Any

from chalicelib.dhis2 import schedules, tree_import
from chalicelib.handlers.http import Call
from chalicelib.handlers.wire import Page
from chalicelib.identity.permissions import READ_REGISTRY, WRITE_REGISTRY
from chalicelib.platform import paging
from chalicelib.platform.contract import Body, Id, PageQuery, PathId, Timestamp, Wire, operation, text

ConnectionId = Annotated[int, PathId("dhis2_connection")]
ScheduleId = Annotated[int, PathId("dhis2_schedule")]
Expression = text(200, required=True)


class Dhis2RunRequest(Body):
    data_source_id: Id
    skip_invalid: bool = False  # import: units that cannot be placed are reported and left out


class Dhis2Run(Wire):
    id: int
    connection_id: int
    data_source_id: int
    schedule_id: int | None
    kind: str  # import | sync
    # QUEUED, RUNNING, SUCCESS, UNCHANGED (nothing created), SKIPPED (another was live), ERRORED, KILLED
    status: str
    task_id: int | None
    base_version_id: int | None  # a sync: the version the changes were applied to
    version_id: int | None  # the version made
    server_started: str | None  # DHIS2's clock when it began: the next delta's lastUpdated
    counts: dict[str, Any]
    note: str | None
    created_at: Timestamp
    finished_at: Timestamp | None
    task_status: str | None = None  # the task's own status (QUEUED, RUNNING, SUCCESS, ERRORED, KILLED)
    error_message: str | None = None  # why the task failed


class Dhis2ScheduleCreate(Body):
    data_source_id: Id
    expression: Expression  # rate(15 minutes), cron(0 2 * * ? *): EventBridge's syntax, UTC
    enabled: bool = True


class Dhis2ScheduleUpdate(Body):
    expression: Expression | None = None
    enabled: bool | None = None


class Dhis2Schedule(Wire):
    id: int
    account_id: int
    connection_id: int
    data_source_id: int
    expression: str
    enabled: bool
    next_run_at: Timestamp
    last_fired_at: Timestamp | None
    created_by: int | None
    created_at: Timestamp
    updated_at: Timestamp


@operation(
    "POST",
    "/api/dhis2/connections/{connection_id}/imports",
    summary="Import DHIS2's org-unit tree into a new version of a data source (a task)",
    tag="dhis2",
    status=201,
    permission=WRITE_REGISTRY,
)
def start_dhis2_import(call: Call, body: Dhis2RunRequest, connection_id: ConnectionId) -> Dhis2Run:
    return tree_import.launch(
        call.cur, call.principal, connection_id, body.data_source_id, "import", skip_invalid=body.skip_invalid
    )


@operation(
    "POST",
    "/api/dhis2/connections/{connection_id}/syncs",
    summary="Sync now: DHIS2's changes since the last run into a new version, with a diff (a task)",
    tag="dhis2",
    status=201,
    permission=WRITE_REGISTRY,
)
def start_dhis2_sync(call: Call, body: Dhis2RunRequest, connection_id: ConnectionId) -> Dhis2Run:
    return tree_import.launch(
        call.cur, call.principal, connection_id, body.data_source_id, "sync", skip_invalid=body.skip_invalid
    )


@operation(
    "GET",
    "/api/dhis2/connections/{connection_id}/runs",
    summary="Imports and syncs of a DHIS2 connection, newest first",
    tag="dhis2",
    permission=READ_REGISTRY,
)
def list_dhis2_runs(call: Call, query: PageQuery, connection_id: ConnectionId) -> Page[Dhis2Run]:
    page = paging.page_request(query)
    return paging.page(
        schedules.list_runs(call.cur, call.principal, connection_id, page.after, page.limit + 1), page
    )


@operation(
    "GET",
    "/api/dhis2/connections/{connection_id}/schedules",
    summary="Sync schedules of a DHIS2 connection",
    tag="dhis2",
    permission=READ_REGISTRY,
)
def list_dhis2_schedules(call: Call, query: PageQuery, connection_id: ConnectionId) -> Page[Dhis2Schedule]:
    page = paging.page_request(query)
    rows = schedules.list_page(call.cur, call.principal, connection_id, page.after, page.limit + 1)
    return paging.page(rows, page)


@operation(
    "POST",
    "/api/dhis2/connections/{connection_id}/schedules",
    summary="Schedule syncs of a data source from a DHIS2 connection (EventBridge rate or cron, UTC)",
    tag="dhis2",
    status=201,
    permission=WRITE_REGISTRY,
)
def create_dhis2_schedule(
    call: Call, body: Dhis2ScheduleCreate, connection_id: ConnectionId
) -> Dhis2Schedule:
    return schedules.create(
        call.cur, call.principal, connection_id, body.data_source_id, body.expression, body.enabled
    )


@operation(
    "GET",
    "/api/dhis2/schedules/{schedule_id}",
    summary="A sync schedule",
    tag="dhis2",
    permission=READ_REGISTRY,
)
def get_dhis2_schedule(call: Call, schedule_id: ScheduleId) -> Dhis2Schedule:
    return schedules.get(call.cur, call.principal, schedule_id)


@operation(
    "PATCH",
    "/api/dhis2/schedules/{schedule_id}",
    summary="Change a sync schedule's expression, or pause it (enabled: false)",
    tag="dhis2",
    permission=WRITE_REGISTRY,
)
def update_dhis2_schedule(call: Call, body: Dhis2ScheduleUpdate, schedule_id: ScheduleId) -> Dhis2Schedule:
    return schedules.update(call.cur, call.principal, schedule_id, body.expression, body.enabled)


@operation(
    "DELETE",
    "/api/dhis2/schedules/{schedule_id}",
    summary="Delete a sync schedule (its runs stay)",
    tag="dhis2",
    status=204,
    permission=WRITE_REGISTRY,
)
def delete_dhis2_schedule(call: Call, schedule_id: ScheduleId) -> None:
    schedules.delete(call.cur, call.principal, schedule_id)
