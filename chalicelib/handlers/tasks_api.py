"""Tasks over HTTP: list, inspect, kill, relaunch, read logs; and the demo task (local stages)."""

from chalicelib.handlers import task_kinds  # noqa: F401
from chalicelib.handlers.http import Call, endpoint, path_id
from chalicelib.identity.permissions import RUN_TASKS, require
from chalicelib.platform import config, paging, problems  # noqa: F401
from chalicelib.platform.query_params import id_param
from chalicelib.tasks import engine, task_views  # noqa: F401

DEMO_STAGES = ("local", "test")


@endpoint()
def list_tasks(call: Call) -> dict:
    page = paging.page_request(call.query)
    filters = {
        "status": _choice(call.query, "status", task_views.STATUSES),
        "kind": call.query.get("kind") or None,
        "launcher_id": id_param(call.query, "launcher"),
    }
    found = task_views.list_page(call.cur, call.principal, filters, page.after, page.limit + 1)
    return paging.page(found, page)


@endpoint()
def get_task(call: Call, task_id: str) -> dict:
    return task_views.get(call.cur, call.principal, path_id(task_id, "task"))


@endpoint()
def kill_task(call: Call, task_id: str) -> dict:
    return task_views.kill(call.cur, call.principal, path_id(task_id, "task"))


@endpoint(status=201)
def relaunch_task(call: Call, task_id: str) -> dict:
    return task_views.relaunch(call.cur, call.principal, path_id(task_id, "task"))


@endpoint()
def task_logs(call: Call, task_id: str) -> dict:
    page = paging.page_request(call.query)
    found = task_views.logs(call.cur, call.principal, path_id(task_id, "task"), page.after, page.limit + 1)
    return paging.page(found, page)


@endpoint(status=201)
def launch_demo(call: Call) -> dict:
    if config.settings().stage not in DEMO_STAGES:
        raise problems.Problem(404, "route.not_found", "The demo task exists only in local stages.")
    require(call.principal, RUN_TASKS)
    body = call.body(["n", "sleep_seconds", "fail", "fail_times", "unique_key"])
    params = {"n": _bounded(body, "n", 1, 1_000_000, required=True)}
    if body.has("sleep_seconds"):
        params["sleep_seconds"] = _bounded(body, "sleep_seconds", 0, 10, kind=int | float)
    if body.has("fail"):
        params["fail"] = body.choice("fail", ("input", "transient"))
    if body.has("fail_times"):
        params["fail_times"] = _bounded(body, "fail_times", 0, 100)
    unique_key = body.text("unique_key", max_length=200)
    created = engine.enqueue(
        call.cur, call.principal.account_id, call.principal.user_id, "demo.count", params, unique_key
    )
    return task_views.present(created)


def _bounded(body, name: str, low: float, high: float, required: bool = False, kind=int):
    value = body.data.get(name)
    if value is None and required:
        raise problems.missing_field(name)
    if isinstance(value, bool) or not isinstance(value, kind) or not low <= value <= high:
        raise problems.invalid_field(name, f"must be a number from {low} to {high}")
    return value


def _choice(query: dict, name: str, options) -> str | None:
    value = query.get(name)
    if value is not None and value not in options:
        raise problems.invalid_parameter(name, f"must be one of {', '.join(options)}")
    return value
