"""Tasks over HTTP: list, inspect, kill, relaunch, read logs; and the demo task (local stages)."""

from typing import Annotated

from chalicelib.handlers import task_kinds  # noqa: F401
from chalicelib.handlers.http import Call
from chalicelib.handlers.wire import Page, Task
from chalicelib.identity.permissions import RUN_TASKS, require
from chalicelib.platform import config, paging, problems
from chalicelib.platform.contract import (
    UNSET,
    Body,
    Id,
    PageQuery,
    PathId,
    Timestamp,
    UnsetType,
    Wire,
    bounded,
    given,
    one_of,
    operation,
    text,
)
from chalicelib.tasks import engine, task_views

DEMO_STAGES = ("local", "test")
TaskId = Annotated[int, PathId("task")]


class TaskListQuery(PageQuery):
    status: one_of(*task_views.STATUSES) | None = None
    kind: str | None = None
    launcher: Id | None = None  # a user id


class LogLine(Wire):
    id: int
    created_at: Timestamp
    level: str
    message: str


class DemoRequest(Body):
    n: bounded(1, 1_000_000)
    sleep_seconds: bounded(0, 10) | bounded(0, 10, float) | UnsetType = UNSET  # an int stays an int in params
    fail: one_of("input", "transient") | UnsetType = UNSET
    fail_times: bounded(0, 100) | UnsetType = UNSET
    unique_key: text(200) | None = None


@operation(
    "GET",
    "/api/tasks",
    summary="Tasks of the account (admins) or the caller's own, newest first",
    tag="tasks",
)
def list_tasks(call: Call, query: TaskListQuery) -> Page[Task]:
    page = paging.page_request(query)
    filters = {"status": query.status, "kind": query.kind or None, "launcher_id": query.launcher}
    found = task_views.list_page(call.cur, call.principal, filters, page.after, page.limit + 1)
    return paging.page(found, page)


@operation(
    "POST",
    "/api/tasks/demo",
    summary="Launch the demo task, counting to n (local stages only)",
    tag="tasks",
    status=201,
)
def launch_demo(call: Call, body: DemoRequest) -> Task:
    # The route does not exist elsewhere, so that comes before the caller's permission
    if config.settings().stage not in DEMO_STAGES:
        raise problems.Problem(404, "route.not_found", "The demo task exists only in local stages.")
    require(call.principal, RUN_TASKS)
    params = {name: value for name, value in given(body).items() if name != "unique_key"}
    created = engine.enqueue(
        call.cur, call.principal.account_id, call.principal.user_id, "demo.count", params, body.unique_key
    )
    return task_views.present(created)


@operation(
    "GET", "/api/tasks/{task_id}", summary="One task, with download links to its artifacts", tag="tasks"
)
def get_task(call: Call, task_id: TaskId) -> Task:
    return task_views.get(call.cur, call.principal, task_id)


@operation(
    "POST", "/api/tasks/{task_id}/kill", summary="Ask a task to stop; a queued one ends at once", tag="tasks"
)
def kill_task(call: Call, task_id: TaskId) -> Task:
    return task_views.kill(call.cur, call.principal, task_id)


@operation(
    "POST",
    "/api/tasks/{task_id}/relaunch",
    summary="Run an ERRORED or KILLED task again, anew",
    tag="tasks",
    status=201,
)
def relaunch_task(call: Call, task_id: TaskId) -> Task:
    return task_views.relaunch(call.cur, call.principal, task_id)


@operation("GET", "/api/tasks/{task_id}/logs", summary="A task's log lines, oldest first, paged", tag="tasks")
def task_logs(call: Call, query: PageQuery, task_id: TaskId) -> Page[LogLine]:
    page = paging.page_request(query)
    return paging.page(task_views.logs(call.cur, call.principal, task_id, page.after, page.limit + 1), page)
