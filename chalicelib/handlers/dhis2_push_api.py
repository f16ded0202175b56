"""Pushing org-unit changes to DHIS2: a task sends what a version changed since its DHIS2 mirror
through /api/metadata, as a dry run or for real; its artifact push-report.json says, object by
object, what DHIS2 made of it (chalicelib/dhis2/push_task.py)."""

from typing import Annotated

from chalicelib.dhis2 import push_task
from chalicelib.handlers.http import Call
from chalicelib.handlers.wire import Task
from chalicelib.identity.permissions import RUN_TASKS
from chalicelib.platform.contract import Body, Id, PathId, bounded, given, operation
from chalicelib.tasks import task_views

ConnectionId = Annotated[int, PathId("dhis2_connection")]


class Dhis2Push(Body):
    version_id: Id  # the version whose changes go to DHIS2
    mirror_version_id: Id | None = None  # default: the last version an import or sync made of the source
    dry_run: bool = False  # importMode=VALIDATE: DHIS2 checks everything, changes nothing
    batch_size: bounded(1, push_task.MAX_BATCH_SIZE) = push_task.DEFAULT_BATCH_SIZE  # units per request


@operation(
    "POST",
    "/api/dhis2/connections/{connection_id}/pushes",
    summary="A task sending a version's org-unit changes since its DHIS2 mirror to DHIS2 "
    "(POST /api/metadata in batches; dry_run validates only); push-report.json lists each object's fate",
    tag="dhis2",
    status=201,
    permission=RUN_TASKS,
)
def push_to_dhis2(call: Call, body: Dhis2Push, connection_id: ConnectionId) -> Task:
    launched = push_task.launch(call.cur, call.principal, connection_id, given(body))
    return task_views.present(launched)
