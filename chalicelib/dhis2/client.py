"""The DHIS2 Web API client: Basic or personal-access-token auth, explicit timeouts, retries with
backoff, and every failure turned into a Dhis2Failure whose kind a user can act on.

    client = Dhis2Client(Credentials("https://dhis2.example.org", "token", None, "d2pat_…"))
    client.get("/api/system/info")["version"]
    for page in client.pages("/api/organisationUnits", "organisationUnits", {"fields": "id,path"}): …
    answer = client.post("/api/metadata", body, {"importMode": "VALIDATE"})  # 409 + report → Answer

Retried (with exponential backoff, `Retry-After` honoured): 429, 502, 503, 504, and connections that
failed or died before an answer. Never retried: any other 4xx (retrying cannot fix it), 500 (DHIS2's
answer to a request it cannot handle, which stays so), and a POST whose answer timed out (DHIS2 may
be importing it still; the caller's task retries whole, idempotent batches instead).
Redirects are not followed: the Authorization header must never travel to another address, and a
base URL that redirects (http → https, a login page) is reported with where it leads.
"""

import base64
import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urlencode

import urllib3

from chalicelib.platform.observability import logger

AUTH_KINDS = ("basic", "token")
RETRIED_STATUSES = frozenset({429, 502, 503, 504})
DEFAULT_TIMEOUT_SECONDS = 30.0
DEFAULT_MAX_ATTEMPTS = 4
BACKOFF_FIRST_SECONDS = 0.5
BACKOFF_MAX_SECONDS = 20.0
RETRY_AFTER_MAX_SECONDS = 60.0
USER_AGENT = "georegistry-dhis2/1"
FAILURE_KINDS = ("wrong_credentials", "not_dhis2", "unreachable", "refused")


@dataclass(frozen=True)
class Credentials:
    """Where DHIS2 is and how to sign in. `secret` is the password (basic) or the token (token)."""

    base_url: str
    auth_kind: str
    username: str | None
    secret: str = field(repr=False)

    def authorization(self) -> str:
        if self.auth_kind == "token":
            return f"ApiToken {self.secret}"
        pair = f"{self.username or ''}:{self.secret}".encode()
        return "Basic " + base64.b64encode(pair).decode()


@dataclass(frozen=True)
class Answer:
    """A DHIS2 answer to a POST: 2xx, or 409 carrying an import report (a result, not a crash)."""

    status: int
    body: dict


@dataclass(frozen=True)
class Page:
    number: int
    page_count: int
    total: int
    items: list[dict]


class Dhis2Failure(Exception):
    """kind: wrong_credentials (401), not_dhis2 (404, HTML, not JSON, a redirect), unreachable
    (no connection, timeouts, 5xx after the retries), refused (any other 4xx: DHIS2's message)."""

    def __init__(self, kind: str, message: str, status: int | None = None):
        super().__init__(message)
        self.kind, self.message, self.status = kind, message, status


class _Retry(Exception):
    def __init__(self, failure: Dhis2Failure, wait: float | None = None):
        self.failure, self.wait = failure, wait


class Dhis2Client:
    def __init__(
        self,
        credentials: Credentials,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.credentials = credentials
        self.base_url = credentials.base_url.rstrip("/")
        self.timeout_seconds = timeout_seconds
        self.timeout = urllib3.Timeout(connect=min(10.0, timeout_seconds), read=timeout_seconds)
        self.max_attempts = max(1, max_attempts)
        self.sleep = sleep
        self._http = urllib3.PoolManager(retries=False, timeout=self.timeout)

    def __repr__(self) -> str:
        return f"Dhis2Client({self.base_url!r}, {self.credentials.auth_kind})"

    # ---- the calls ------------------------------------------------------------------------------

    def get(self, path: str, params: Mapping | Sequence | None = None) -> dict:
        status, body = self._call("GET", path, params, None)
        return body

    def post(self, path: str, body: dict | list, params: Mapping | Sequence | None = None) -> Answer:
        status, answer = self._call("POST", path, params, json.dumps(body).encode())
        return Answer(status, answer)

    def pages(
        self,
        path: str,
        collection: str,
        params: Mapping | None = None,
        page_size: int = 1000,
        start_page: int = 1,
    ) -> Iterator[Page]:
        """DHIS2's pages one at a time (never all in memory), from `start_page` to the last."""
        number = start_page
        while True:
            body = self.get(path, {**(params or {}), "page": number, "pageSize": page_size})
            items = body.get(collection)
            if not isinstance(items, list):
                raise Dhis2Failure("not_dhis2", f"{path} answered without a {collection!r} list")
            pager = body.get("pager")
            if not isinstance(pager, dict):  # paging=false, or a server that ignored the page
                yield Page(number, number, len(items), items)
                return
            page_count = int(pager.get("pageCount") or 0)
            yield Page(number, page_count, int(pager.get("total") or 0), items)
            if number >= page_count:
                return
            number += 1

    # ---- one request, retried -------------------------------------------------------------------

    def _call(self, method: str, path: str, params, payload: bytes | None) -> tuple[int, dict]:
        url = self.base_url + "/" + path.lstrip("/")
        if params:
            pairs = list(params.items()) if isinstance(params, Mapping) else list(params)
            url += "?" + urlencode(pairs, doseq=True)
        for attempt in range(1, self.max_attempts + 1):
            try:
                return self._once(method, path, url, payload)
            except _Retry as retry:
                if attempt == self.max_attempts:
                    raise retry.failure from None
                wait = retry.wait if retry.wait is not None else self._backoff(attempt)
                logger().info("dhis2 retry", extra={"path": path, "attempt": attempt, "wait_s": wait})
                self.sleep(wait)
        raise AssertionError("unreachable: the loop returns or raises")

    def _backoff(self, attempt: int) -> float:
        return min(BACKOFF_MAX_SECONDS, BACKOFF_FIRST_SECONDS * 2 ** (attempt - 1))

    def _headers(self, payload: bytes | None) -> dict[str, str]:
        headers = {"Authorization": self.credentials.authorization(), "Accept": "application/json"}
        headers["User-Agent"] = USER_AGENT
        if payload is not None:
            headers["Content-Type"] = "application/json"
        return headers

    def _once(self, method: str, path: str, url: str, payload: bytes | None) -> tuple[int, dict]:
        started = time.monotonic()
        try:
            response = self._http.request(
                method, url, body=payload, headers=self._headers(payload), redirect=False
            )
        except urllib3.exceptions.ReadTimeoutError as exc:
            failure = Dhis2Failure(
                "unreachable", f"DHIS2 did not answer {path} within {self.timeout_seconds} s"
            )
            if method == "GET":
                raise _Retry(failure) from exc
            raise failure from exc
        except urllib3.exceptions.HTTPError as exc:
            reason = type(getattr(exc, "reason", None) or exc).__name__
            raise _Retry(Dhis2Failure("unreachable", f"Could not reach {self.base_url} ({reason})")) from exc
        elapsed = round(time.monotonic() - started, 3)
        call = {"method": method, "path": path, "status": response.status, "seconds": elapsed}
        logger().info("dhis2 call", extra=call)
        return _read(response, path, payload is not None)


def _read(response, path: str, is_post: bool) -> tuple[int, dict]:
    status = response.status
    if 300 <= status < 400:
        where = response.headers.get("Location", "elsewhere")
        raise Dhis2Failure("not_dhis2", f"{path} redirects to {where}: not a DHIS2 API URL", status)
    body = _json(response)
    if status in RETRIED_STATUSES:
        failure = Dhis2Failure("unreachable", f"DHIS2 answered {status} to {path}, again and again", status)
        raise _Retry(failure, _retry_after(response.headers.get("Retry-After")) if status == 429 else None)
    if status == 401:
        raise Dhis2Failure("wrong_credentials", "DHIS2 refused the credentials (wrong credentials)", 401)
    if status == 404 or (body is None and status < 400):  # a web page or a proxy's, not DHIS2's API
        what = "answered 404" if status == 404 else "did not answer JSON"
        raise Dhis2Failure("not_dhis2", f"{path} {what}: not a DHIS2 URL", status)
    if status >= 500:
        raise Dhis2Failure("unreachable", f"DHIS2 failed on {path} ({status}): {_message(body)}", status)
    if status >= 400 and not (is_post and status == 409 and isinstance(body, dict)):
        raise Dhis2Failure("refused", f"DHIS2 refused {path} ({status}): {_message(body)}", status)
    if not isinstance(body, dict):
        raise Dhis2Failure("not_dhis2", f"{path} did not answer a JSON object: not a DHIS2 URL", status)
    return status, body


def _json(response) -> dict | list | None:
    kind = (response.headers.get("Content-Type") or "").lower()
    if "html" in kind:
        return None
    try:
        return json.loads(response.data or b"null")
    except ValueError:
        return None


def _message(body) -> str:
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return body["message"][:500]
    return "no message"


def _retry_after(header: str | None) -> float | None:
    """Seconds (the usual form) or an HTTP date; capped, so one answer cannot park a Lambda."""
    if not header:
        return None
    try:
        seconds = float(header)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(header).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return max(0.0, min(RETRY_AFTER_MAX_SECONDS, seconds))
