"""DHIS2 connections: an account's DHIS2 instances, their credentials kept in Secrets Manager (one
secret per connection, named for the stage, the account and the connection; the row keeps only the
ARN), and the check that asks DHIS2 who it is.

    client = client_for(cur, principal, connection_id)   # a Dhis2Client; another account: 404

The credential never comes back out: not in an answer, a log line or a check's error. Changing the
base URL needs the credential again, so that an admin cannot send a stored password to a server of
their choosing without knowing it.
"""

import ipaddress
import json
from urllib.parse import urlsplit, urlunsplit

from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import ClientError

from chalicelib.dhis2 import connections_sql
from chalicelib.dhis2.client import Credentials, Dhis2Client, Dhis2Failure
from chalicelib.identity import authentication
from chalicelib.identity.permissions import Principal
from chalicelib.platform import aws, config, db, problems
from chalicelib.platform.observability import logger
from chalicelib.tasks.engine import TaskContext, TaskInputError

BASE_URL_MAX_LENGTH = 500
# A check answers within API Gateway's 29 s: two tries of at most 8 s each, and a short backoff.
CHECK_TIMEOUT_SECONDS = 8.0
CHECK_ATTEMPTS = 2
# What a check's failure answers: a wrong setting of the connection is the caller's to fix (400);
# a DHIS2 that cannot be reached or refuses is a failed dependency (424), not our server's error.
CHECK_STATUSES = {"wrong_credentials": 400, "not_dhis2": 400, "unreachable": 424, "refused": 424}
# Cloud metadata services answer on link-local addresses: never a DHIS2, and not for users to probe.
METADATA_HOSTS = ("metadata.google.internal", "metadata")


# ---- the connections ----------------------------------------------------------------------------


def create(cur, principal: Principal, fields: dict) -> dict:
    base_url = normalised_base_url(fields["base_url"])
    auth_kind, username, secret = _credential(fields["auth_kind"], fields)
    values = {"account_id": principal.account_id, "name": fields["name"], "base_url": base_url}
    values |= {"auth_kind": auth_kind, "username": username, "created_by": principal.user_id}
    row = connections_sql.insert(cur, values)
    arn = _create_secret(principal.account_id, row["id"], secret)
    return connections_sql.set_arn(cur, principal.account_id, row["id"], arn)


def list_page(cur, principal: Principal, after: int | None, limit: int) -> list[dict]:
    return connections_sql.list_page(cur, principal.account_id, after, limit)


def get(cur, principal: Principal, connection_id: int) -> dict:
    row = connections_sql.get(cur, principal.account_id, connection_id)
    if row is None:
        raise problems.not_found("dhis2_connection", connection_id)
    return row


def update(cur, principal: Principal, connection_id: int, given: dict) -> dict:
    """`given`: the fields the PATCH carried. A new password or token replaces the secret's value."""
    row = get(cur, principal, connection_id)
    base_url = normalised_base_url(given["base_url"]) if "base_url" in given else row["base_url"]
    auth_kind = given.get("auth_kind") or row["auth_kind"]
    new_secret = given.get("password") or given.get("token")
    if (base_url != row["base_url"] or auth_kind != row["auth_kind"]) and not new_secret:
        field = "token" if auth_kind == "token" else "password"
        reason = "must be given again when base_url or auth_kind changes (a stored credential never follows)"
        raise problems.invalid_field(field, reason)
    username = given.get("username", row["username"])
    if new_secret:
        auth_kind, username, new_secret = _credential(auth_kind, {**given, "username": username})
    elif "username" in given and auth_kind == "basic" and not username:
        raise problems.invalid_field("username", "must not be blank for basic auth")
    values = {"name": given.get("name") or row["name"], "base_url": base_url, "auth_kind": auth_kind}
    values["username"] = username if auth_kind == "basic" else None
    stale = bool(new_secret) or base_url != row["base_url"] or values["username"] != row["username"]
    updated = connections_sql.update(cur, principal.account_id, connection_id, values, stale)
    if new_secret:
        _put_secret(row["secret_arn"], new_secret)
    return updated


def delete(cur, principal: Principal, connection_id: int) -> None:
    row = connections_sql.delete(cur, principal.account_id, connection_id)
    if row is None:
        raise problems.not_found("dhis2_connection", connection_id)
    _delete_secret(row["secret_arn"])


def client_for(cur, principal: Principal, connection_id: int, **options) -> Dhis2Client:
    """A client signed in as the connection says (options: timeout_seconds, max_attempts, sleep)."""
    return Dhis2Client(credentials_of(get(cur, principal, connection_id)), **options)


def task_client(ctx: TaskContext) -> Dhis2Client:
    """The client of a task's connection, as the user who launched it (another account's: 404, which
    a retry cannot cure)."""
    try:
        principal = authentication.principal_of_launcher(ctx.cur, ctx.task["launcher_id"])
        return client_for(ctx.cur, principal, ctx.params["connection_id"])
    except problems.Problem as problem:
        raise TaskInputError(problem.message) from problem


def credentials_of(row: dict) -> Credentials:
    return Credentials(row["base_url"], row["auth_kind"], row["username"], _read_secret(row))


# ---- the check ----------------------------------------------------------------------------------


def check(principal: Principal, connection_id: int) -> dict:
    """GET /api/system/info with the connection's credential; the version or the failure is recorded
    on the row (committed), then a failure answers as a Problem. No transaction stays open meanwhile."""
    with db.transaction() as cur:
        row = get(cur, principal, connection_id)
    version, failure = _system_version(row)
    error = _failure_text(failure, row) if failure else None
    with db.transaction() as cur:
        recorded = connections_sql.record_check(cur, principal.account_id, connection_id, version, error)
    if recorded is None:  # deleted while we were asking
        raise problems.not_found("dhis2_connection", connection_id)
    logger().info("dhis2 check", extra={"connection_id": connection_id, "ok": failure is None})
    if failure:
        details = {"connection_id": connection_id, "reason": failure.kind}
        raise problems.Problem(CHECK_STATUSES[failure.kind], f"dhis2.{failure.kind}", error, details)
    return recorded


def _system_version(row: dict) -> tuple[str | None, Dhis2Failure | None]:
    client = Dhis2Client(
        credentials_of(row), timeout_seconds=CHECK_TIMEOUT_SECONDS, max_attempts=CHECK_ATTEMPTS
    )
    try:
        info = client.get("/api/system/info")
    except Dhis2Failure as failure:
        return None, failure
    version = info.get("version")
    if not isinstance(version, str) or not version:
        return None, Dhis2Failure("not_dhis2", "/api/system/info answered without a DHIS2 version")
    return version[:50], None


def _failure_text(failure: Dhis2Failure, row: dict) -> str:
    if failure.kind == "wrong_credentials":
        hint = "the token" if row["auth_kind"] == "token" else "the username and password"
        older = " (personal access tokens need DHIS2 2.37 or later)" if row["auth_kind"] == "token" else ""
        return f"DHIS2 at {row['base_url']} refused the credentials: wrong credentials; check {hint}{older}."
    if failure.kind == "not_dhis2":
        return f"Not a DHIS2 URL: {row['base_url']} ({failure.message})."
    if failure.kind == "unreachable":
        return f"DHIS2 at {row['base_url']} is unreachable: {failure.message}."
    return f"DHIS2 at {row['base_url']} refused the check: {failure.message}."


# ---- validation ---------------------------------------------------------------------------------


def normalised_base_url(text: str) -> str:
    """http(s), a host, no credentials, query or fragment inside; no trailing slash (nor a trailing
    /api: the client adds it)."""
    text = (text or "").strip()
    if not text or len(text) > BASE_URL_MAX_LENGTH:
        raise problems.invalid_field("base_url", f"must be a URL of at most {BASE_URL_MAX_LENGTH} characters")
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError as exc:
        raise problems.invalid_field("base_url", f"is not a URL ({exc})") from exc
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise problems.invalid_field("base_url", "must be an http:// or https:// URL with a host")
    if parts.username is not None or parts.password is not None:
        reason = "must not carry credentials: give username and password (or token) as their own fields"
        raise problems.invalid_field("base_url", reason)
    if parts.query or parts.fragment:
        raise problems.invalid_field("base_url", "must not have a query or a fragment")
    if _is_metadata_host(parts.hostname):
        raise problems.invalid_field("base_url", "must not point at a cloud metadata service")
    path = parts.path.rstrip("/").removesuffix("/api").rstrip("/")
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, "", ""))


def _is_metadata_host(host: str) -> bool:
    if host.lower() in METADATA_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_link_local
    except ValueError:
        return False


def _credential(auth_kind: str, fields: dict) -> tuple[str, str | None, str]:
    """(auth_kind, username, secret) from the body's fields, each checked."""
    if auth_kind == "basic":
        username, password = (fields.get("username") or "").strip(), fields.get("password") or ""
        if not username:
            raise problems.invalid_field("username", "is required for basic auth")
        if not password:
            raise problems.invalid_field("password", "is required for basic auth")
        if fields.get("token"):
            raise problems.invalid_field("token", "goes with auth_kind 'token', not 'basic'")
        return auth_kind, username, password
    if auth_kind == "token":
        token = (fields.get("token") or "").strip().removeprefix("ApiToken ").strip()
        if not token or any(c.isspace() for c in token):
            reason = "is required for token auth: a personal access token, d2pat_…"
            raise problems.invalid_field("token", reason)
        if fields.get("password"):
            raise problems.invalid_field("password", "goes with auth_kind 'basic', not 'token'")
        return auth_kind, None, token
    raise problems.invalid_field("auth_kind", "is not 'basic' or 'token'")


# ---- Secrets Manager ----------------------------------------------------------------------------


def _secret_name(account_id: int, connection_id: int) -> str:
    return f"georegistry/{config.settings().stage}/account-{account_id}/dhis2-connection-{connection_id}"


def _create_secret(account_id: int, connection_id: int, secret: str) -> str:
    created = aws.client("secretsmanager").create_secret(
        Name=_secret_name(account_id, connection_id),
        Description="A DHIS2 credential of the georegistry (its dhis2_connections row keeps this ARN)",
        SecretString=json.dumps({"secret": secret}),
        Tags=[{"Key": "account_id", "Value": str(account_id)}, {"Key": "app", "Value": "georegistry"}],
    )
    return created["ARN"]


def _put_secret(arn: str, secret: str) -> None:
    aws.client("secretsmanager").put_secret_value(SecretId=arn, SecretString=json.dumps({"secret": secret}))


def _delete_secret(arn: str) -> None:
    """At once, without a recovery window: the user asked for the credential to be gone."""
    try:
        aws.client("secretsmanager").delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise


def _read_secret(row: dict) -> str:
    """Fetched afresh: a PATCH in another container must not leave this one with the old value."""
    try:
        return aws.secret_json(row["secret_arn"], refresh=True)["secret"]
    except (ClientError, GetParameterError) as exc:
        message = "The connection's credential is missing from Secrets Manager: set it again (PATCH)."
        raise problems.conflict("dhis2_connection.secret_missing", message, connection_id=row["id"]) from exc
