"""The demo account's first data, made on `make run`'s first start through the public API, as a user
would: a connection to the DHIS2 stand-in and an import of its tree into a new data source. The import
is a task like any other: the console's Tasks page shows it running, then the Registry its units."""

import json
import urllib.error
import urllib.request

from devstack.dhis2_standin import Dhis2StandIn

SOURCE_NAME = "Demo registry (from DHIS2)"


def _call(api_url: str, method: str, path: str, body: dict | None = None, token: str | None = None) -> dict:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{api_url}{path}", data=data, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def connection_body(dhis2: Dhis2StandIn) -> dict:
    """POST /api/dhis2/connections's body for the stand-in (Basic: every DHIS2 version takes it)."""
    return {"name": "DHIS2 stand-in", "base_url": dhis2.url, "auth_kind": "basic",
            "username": dhis2.username, "password": dhis2.password}  # fmt: skip


def import_from_dhis2(api_url: str, email: str, password: str, dhis2: Dhis2StandIn) -> str:
    """Connects the demo account to the stand-in and starts the import; says what it started, or why
    it could not (the stack is usable without it)."""
    try:
        return _start_import(api_url, email, password, dhis2)
    except (urllib.error.URLError, OSError, KeyError) as error:
        return f"demo registry: not imported ({error}); the DHIS2 lines below say how to do it by hand"


def _start_import(api_url: str, email: str, password: str, dhis2: Dhis2StandIn) -> str:
    token = _call(api_url, "POST", "/api/auth/login", {"email": email, "password": password})["token"]
    connection_id = _call(api_url, "POST", "/api/dhis2/connections", connection_body(dhis2), token)["id"]
    source_id = _call(api_url, "POST", "/api/data-sources", {"name": SOURCE_NAME}, token)["id"]
    imports = f"/api/dhis2/connections/{connection_id}/imports"
    run = _call(api_url, "POST", imports, {"data_source_id": source_id}, token)
    return (
        f"demo registry: importing the stand-in's {len(dhis2.tree.units)} units into '{SOURCE_NAME}' "
        f"(task {run['task_id']}: the console's Tasks page follows it)"
    )
