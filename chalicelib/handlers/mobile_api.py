"""Endpoints for the mobile app."""

import datetime

from chalicelib.handlers.http import Call, endpoint, path_id
from chalicelib.platform import paging, problems
from chalicelib.registry import mobile_sync


@endpoint()
def orgunit_changes(call: Call) -> dict:
    """?project=&since=ISO-8601&limit=&cursor="""
    if not call.query.get("project"):
        raise problems.invalid_parameter("project", "is required")
    project_id = path_id(call.query["project"], "project")
    page = paging.page_request(call.query, key_shape=(str, int))
    return mobile_sync.changes(
        call.cur, call.principal, project_id, _since(call.query), page.after, page.limit
    )


def _since(query: dict) -> datetime.datetime | None:
    raw = query.get("since")
    if not raw:
        return None
    try:
        since = datetime.datetime.fromisoformat(raw.replace(" ", "+"))
    except ValueError as error:
        raise problems.invalid_parameter(
            "since", "must be an ISO 8601 time, e.g. 2026-11-22T10:00:00+00:00"
        ) from error
    return since if since.tzinfo else since.replace(tzinfo=datetime.UTC)
