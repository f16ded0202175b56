"""A DHIS2 stand-in for tests and local runs: a real HTTP server (stdlib ThreadingHTTPServer on
127.0.0.1, a free port, a thread of its own) answering the read side of DHIS2's Web API over a tree
of organisation units (issue 17, first building block).

    standin = Dhis2StandIn(*load_fixture_tree(), token="d2pat_…").start()
    standin.url  # http://127.0.0.1:PORT; GET {url}/api/organisationUnits?fields=id,parent[id]&page=2
    standin.stop()

Served: /api/system/info, /api/me, /api/organisationUnits[/{uid}], /api/organisationUnitLevels[/{uid}],
/api/organisationUnitGroups[/{uid}], /api/organisationUnitGroupSets[/{uid}], also as /api/{NN}/… (NN
up to the server's own minor version) and with a `.json` suffix. Lists page as DHIS2 does
(`pager: {page, pageCount, total, pageSize, nextPage, prevPage}`, `pageSize` 50 by default,
`paging=false` for all with no pager), are ordered by name (`order=prop:asc|desc`), take `fields`
(nested `parent[id,name]`, `:all`, `!prop`; lists default to `id,displayName`, one object to all its
fields) and `filter=prop:op:value` (eq, !eq, ieq, in:[a,b], !in, gt/ge/lt/le (ISO dates compare as
strings), like, ilike and their variants, null, !null; dotted paths like parent.id; repeated filters
ANDed, `rootJunction=OR` to OR them); organisationUnits also takes `level=`. The write side:
POST /api/metadata (devstack/dhis2_metadata.py) and POST /api/dataValueSets
(devstack/dhis2_datavalues.py). Paths outside /api are DHIS2's web apps: a redirect to the login
page, which is HTML (what a base URL missing its context path meets).

Auth: Basic with the configured user and password, or `Authorization: ApiToken <token>` (DHIS2's
personal access tokens, 2.37 and later only); anything else is 401 with DHIS2's JSON WebMessage.

Versions: `version` picks the response shapes. Before 2.37 there are no API tokens (ApiToken → 401).
From 2.38 on, error WebMessages carry an `errorCode` (E1005 on a missing object) — modelled after
observed 404 bodies, not checked against every release. The list and object shapes are the same in
2.36 and 2.38; where the versions really part (the import summaries of /api/metadata and
/api/dataValueSets, wrapped in a WebMessage from 2.38) is the write side, below.

Fault injection: `faults` is a list of Fault rules (path prefix, optional page, status, times,
retry_after, delay); a rule with a status answers that status (429 with Retry-After) instead of the
real response, one with only a delay answers late. `repeat_across_pages = True` makes every page after
the first start again with the last item of the page before (the unstable ordering real DHIS2 shows
on large trees), so a client that does not deduplicate counts it twice. `requests` records what came.

Not modelled: the `.geojson` endpoints, sessions and cookies, and authorities (the user may do all).
"""

import base64
import json
import math
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from devstack.dhis2_datavalues import import_data_values
from devstack.dhis2_metadata import import_metadata
from devstack.dhis2_query import (
    Index,
    QueryError,
    Tree,
    generated_tree,
    known_property,
    load_fixture_tree,
    matches,
    merge,
    order_key,
    parse_fields,
    parse_filter,
    project,
)
from devstack.postgres import free_port

__all__ = ["Dhis2StandIn", "Fault", "Tree", "demo_standin", "generated_tree", "load_fixture_tree", "merge"]

# Path under /api → (the tree's attribute, the key of the list in DHIS2's answer, the object's type).
RESOURCES = {
    "organisationUnits": ("units", "organisationUnits", "OrganisationUnit"),
    "organisationUnitLevels": ("levels", "organisationUnitLevels", "OrganisationUnitLevel"),
    "organisationUnitGroups": ("groups", "organisationUnitGroups", "OrganisationUnitGroup"),
    "organisationUnitGroupSets": ("group_sets", "organisationUnitGroupSets", "OrganisationUnitGroupSet"),
}
REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
}
REASONS |= {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
REASONS |= {405: "Method Not Allowed"}
LOGIN_PAGE = "/dhis-web-commons/security/login.action"
DEMO_UNITS = 500
DEMO_TOKEN = "d2pat_DemoStandInToken000000000000000000001"


@dataclass
class Fault:
    """Answer requests whose path (versioned paths normalised to /api/…) starts with `path` — and, if
    `page` is set, that ask for that page — with `status` (None: the real answer, after `delay`
    seconds). `times` is how many requests it takes (None: all); `fired` counts them. `drop` closes the
    connection without an answer, as a server that went away mid-request."""

    path: str = "/api/"
    status: int | None = 500
    times: int | None = 1
    retry_after: int | None = None
    delay: float = 0.0
    page: int | None = None
    drop: bool = False
    fired: int = field(default=0)

    def takes(self, path: str, page: int) -> bool:
        live = self.times is None or self.fired < self.times
        return live and path.startswith(self.path) and (self.page is None or self.page == page)


class Dhis2StandIn:
    def __init__(
        self,
        units: list[dict],
        levels: list[dict],
        groups: list[dict],
        group_sets: list[dict],
        version: str = "2.38.4",
        username: str = "admin",
        password: str = "district",
        token: str | None = "d2pat_standin0000000000000000000000000001",
    ):
        self.tree = Tree(units, levels, groups, group_sets)
        self.index = Index(self.tree)
        self.version = version
        self.username, self.password, self.token = username, password, token
        self.faults: list[Fault] = []
        self.repeat_across_pages = False
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    @property
    def minor(self) -> int:
        return int(self.version.split(".")[1])

    def start(self, port: int | None = None) -> "Dhis2StandIn":
        """On `port` (make run's fixed one), or a free port."""
        standin = self

        class Handler(_Handler):
            pass

        Handler.standin = standin
        self._server = _Server(("127.0.0.1", port or free_port()), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="dhis2-standin", daemon=True
        )  # a short poll: stop() waits for it, and tests start and stop many stand-ins
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=10)
            self._server = self._thread = None

    def __enter__(self) -> "Dhis2StandIn":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ---- the answers ----------------------------------------------------------------------------

    def authorized(self, header: str | None) -> bool:
        if not header:
            return False
        scheme, _, credentials = header.partition(" ")
        if scheme == "Basic":
            try:
                user, _, password = base64.b64decode(credentials).decode().partition(":")
            except ValueError:
                return False
            return (user, password) == (self.username, self.password)
        if scheme == "ApiToken":
            return self.minor >= 37 and self.token is not None and credentials.strip() == self.token
        return False

    def web_message(self, status: int, message: str, error_code: str | None = None) -> dict:
        body = {"httpStatus": REASONS.get(status, "Error"), "httpStatusCode": status, "status": "ERROR"}
        body["message"] = message
        if error_code and self.minor >= 38:
            body["errorCode"] = error_code
        return body

    def system_info(self) -> dict:
        now = time.strftime("%Y-%m-%dT%H:%M:%S.000", time.gmtime())
        return {
            "contextPath": self.url,
            "version": self.version,
            "revision": "standin",
            "buildTime": "2022-01-01T00:00:00.000",
            "serverDate": now,
            "serverTimeZoneId": "Etc/UTC",
            "calendar": "iso8601",
            "dateFormat": "yyyy-mm-dd",
            "systemName": "DHIS2 stand-in",
        }

    def me(self) -> dict:
        """The signed-in user; `userCredentials` is where 2.36 keeps the username, 2.38 has both."""
        roots = [{"id": u["id"]} for u in self.tree.units if not u.get("parent")]
        me = {"id": "M5zQapPyTZI", "name": "Stand-in Admin", "displayName": "Stand-in Admin"}
        me |= {"userCredentials": {"username": self.username}, "organisationUnits": roots}
        me |= {"authorities": ["ALL"]}
        return me | ({"username": self.username} if self.minor >= 38 else {})

    def answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, dict]:
        if path == "/api/system/info":
            return 200, self.system_info()
        if path == "/api/me":
            return 200, self.me()
        parts = path.removeprefix("/api/").split("/")
        if parts[0] not in RESOURCES or len(parts) > 2:
            return 404, self.web_message(404, f"No endpoint {path}")
        kind, key, type_name = RESOURCES[parts[0]]
        objects = getattr(self.tree, kind)
        first = lambda name, default=None: (query.get(name) or [default])[0]  # noqa: E731
        if len(parts) == 2:
            found = self.index.by_kind[kind].get(parts[1])
            if found is None:
                message = f"{type_name} with id {parts[1]} could not be found."
                return 404, self.web_message(404, message, "E1005")
            fields = parse_fields(first("fields")) if first("fields") else None
            return 200, project(found, fields, self.index)
        filters = [parse_filter(f) for f in query.get("filter", [])]
        for path_, _, _ in filters:
            if not known_property(objects, path_):
                raise QueryError(f"Unknown path property: {path_[0]}")
        if kind == "units" and first("level"):
            filters.append((["level"], "eq", first("level")))
        any_ = first("rootJunction", "AND").upper() == "OR"
        selected = [o for o in objects if not filters or matches(o, filters, self.index, any_)]
        prop, reverse = order_key(first("order"))
        selected.sort(key=lambda o: (str(o.get(prop, "")), o["id"]), reverse=reverse)
        fields = parse_fields(first("fields", "id,displayName"))
        if first("paging", "true").lower() == "false" or first("skipPaging", "false").lower() == "true":
            return 200, {key: [project(o, fields, self.index) for o in selected]}
        try:
            page, size = max(1, int(first("page", "1"))), max(1, int(first("pageSize", "50")))
        except ValueError as exc:
            raise QueryError("page and pageSize must be numbers") from exc
        total = len(selected)
        count = math.ceil(total / size)
        items = selected[(page - 1) * size : page * size]
        if self.repeat_across_pages and page > 1 and items and (page - 1) * size - 1 < total:
            items = [selected[(page - 1) * size - 1], *items]
        pager = {"page": page, "pageCount": count, "total": total, "pageSize": size}
        link = lambda n: f"{self.url}{path}?{urlencode({**_flat(query), 'page': n}, doseq=True)}"  # noqa: E731
        if page < count:
            pager["nextPage"] = link(page + 1)
        if page > 1:
            pager["prevPage"] = link(page - 1)
        return 200, {"pager": pager, key: [project(o, fields, self.index) for o in items]}


def demo_standin(units: int = DEMO_UNITS, version: str = "2.38.4") -> Dhis2StandIn:
    """`make run`'s DHIS2: Iaso's real units (strange geometries included) beside a generated
    country, DHIS2's demo user (admin / district) and a fixed personal access token."""
    tree = merge(load_fixture_tree(), generated_tree(units))
    return Dhis2StandIn(*tree, version=version, username="admin", password="district", token=DEMO_TOKEN)


def _flat(query: dict[str, list[str]]) -> dict[str, list[str] | str]:
    return {k: v for k, v in query.items() if k != "page"}


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        """A client that gave up on a slow answer (its timeout) is expected here, not an error."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    standin: Dhis2StandIn
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms delayed-ACK stall
    server_version = "DHIS2-standin"

    def log_message(self, format: str, *args) -> None:  # quiet: tests read standin.requests
        pass

    def _send(self, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _admit(self) -> tuple[str, dict[str, list[str]]] | None:
        """The path (versioned paths normalised) and query of a request that passed the injected
        faults and the auth check; None when it was answered already."""
        standin = self.standin
        split = urlsplit(self.path)
        query = parse_qs(split.query, keep_blank_values=True)
        path = split.path.rstrip("/").removesuffix(".json")
        parts = path.split("/")
        if len(parts) > 2 and parts[1] == "api" and parts[2].isdigit():
            if not 28 <= int(parts[2]) <= standin.minor:
                self._send(404, standin.web_message(404, f"No API version {parts[2]}"))
                return None
            path = "/".join(parts[:2] + parts[3:])
        auth = self.headers.get("Authorization")
        page = int((query.get("page") or ["1"])[0]) if (query.get("page") or ["1"])[0].isdigit() else 1
        with standin._lock:
            standin.requests.append(
                {"method": self.command, "path": path, "query": query, "auth": (auth or "").split(" ")[0]}
            )
            fault = next((f for f in standin.faults if f.takes(path, page)), None)
            if fault is not None:
                fault.fired += 1
        if fault is not None:
            time.sleep(fault.delay)
            if fault.drop:
                self.close_connection = True
                return None
            if fault.status is not None:
                headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
                message = REASONS.get(fault.status, "Injected fault")
                self._send(fault.status, standin.web_message(fault.status, message), headers)
                return None
        if not standin.authorized(auth):
            body = standin.web_message(401, "Unauthorized")
            self._send(401, body, {"WWW-Authenticate": 'Basic realm="DHIS2"'})
            return None
        return path, query

    def _web_app(self) -> bool:
        """Outside /api: DHIS2's web apps send a visitor without a session to the login page (HTML)."""
        path = urlsplit(self.path).path
        if path == "/api" or path.startswith("/api/"):
            return False
        if path == LOGIN_PAGE:
            data = b"<!DOCTYPE html><html><head><title>DHIS 2</title></head><body>Sign in</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html;charset=UTF-8")
        else:
            data = b""
            self.send_response(302)
            self.send_header("Location", self.standin.url + LOGIN_PAGE)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        return True

    def do_GET(self) -> None:
        if self._web_app():
            return
        admitted = self._admit()
        if admitted is None:
            return
        try:
            status, body = self.standin.answer(*admitted)
        except QueryError as exc:
            status, body = 400, self.standin.web_message(400, str(exc))
        self._send(status, body)

    def do_POST(self) -> None:
        """The write side: each path's answer comes from its module (POSTS); faults and auth as GET."""
        data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        admitted = self._admit()
        if admitted is None:
            return
        path, query = admitted
        answer = POSTS.get(path)
        if answer is None or self.command != "POST":
            message = f"The stand-in does not take {self.command} {path}"
            self._send(405, self.standin.web_message(405, message))
            return
        try:
            status, body = answer(self.standin, query, json.loads(data or b"null"))
        except ValueError as exc:  # unreadable JSON, or a request the module turns down
            status, body = 400, self.standin.web_message(400, str(exc))
        self._send(status, body)

    do_PUT = do_PATCH = do_DELETE = do_POST


# POST path → importer(standin, query, payload) -> (status, body).
POSTS = {"/api/dataValueSets": import_data_values, "/api/metadata": import_metadata}
