"""Logging in, and turning an Authorization header into a Principal.

`Authorization: Bearer <token>` carries either a session token from login or an API key
(`grk_…`). The user row is read on every request, so deactivation and password changes take effect
at once, not when a token expires. Failed logins are throttled per email and per client address
(login_throttle).
"""

import hmac
from datetime import UTC, datetime, timedelta

from chalicelib.identity import (
    api_keys_sql,
    credentials,
    digest_credentials,
    http_digest,
    login_throttle,
    profiles_sql,
    users_sql,
)
from chalicelib.identity.permissions import Principal, SubtreeRoot
from chalicelib.platform import aws, config, problems
from chalicelib.platform.observability import logger


def token_secret() -> str:
    current = config.settings()
    if current.token_secret:
        return current.token_secret
    if current.token_secret_arn:
        return aws.secret_text(current.token_secret_arn)
    raise RuntimeError("No token secret configured: set TOKEN_SECRET or TOKEN_SECRET_ARN.")


def login(cur, email: str, password: str, address: str | None = None) -> dict:
    """A session token; `address` is the client's (API Gateway's sourceIp), throttled with the email."""
    if "\x00" in email:  # PostgreSQL's text cannot hold it, so no account has it
        raise problems.invalid_field("email", "must not contain a NUL character")
    login_throttle.refuse_if_throttled(cur, email, address)
    try:
        user = _login_user(cur, email, password)
    except problems.Problem:
        login_throttle.record_failure(email, address)
        raise
    login_throttle.reset(cur, email)
    users_sql.record_login(cur, user["id"])
    _rehash_if_weaker(cur, user, password)
    digest_credentials.remember(cur, token_secret(), user, password, user["digest_ha1_sealed"])
    ttl = config.settings().token_ttl_seconds
    token = credentials.issue_token(user["id"], token_secret(), ttl, version=user["token_version"])
    return {"token": token, "token_type": "Bearer", "expires_in": ttl}


def _login_user(cur, email: str, password: str) -> dict:
    user = users_sql.login_by_email(cur, email)
    valid = credentials.verify_password(password, user["password_hash"] if user else None)
    if not (valid and user["is_active"]):
        logger().info("login refused", extra={"reason": "bad credentials or inactive"})
        raise problems.invalid_credentials()
    if users_sql.principal_row(cur, user["id"]) is None:
        raise problems.invalid_credentials()  # a user without a profile belongs to no account
    return user


def authenticate(cur, authorization: str | None) -> Principal:
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise problems.unauthenticated("Send 'Authorization: Bearer <token or API key>'.")
    value = value.strip()
    if credentials.split_api_key(value):
        return _from_api_key(cur, value)
    return _from_token(cur, value)


def _from_token(cur, token: str) -> Principal:
    try:
        claims = credentials.read_token(token, token_secret())
    except credentials.InvalidToken as error:
        raise problems.unauthenticated(f"The token is not valid ({error}); log in again.") from error
    row = users_sql.principal_row(cur, claims.user_id)
    if row is None or not row["is_active"] or claims.version != row["token_version"]:
        raise problems.unauthenticated("The token is no longer valid; log in again.")
    return _principal(cur, row, via="token")


def _from_api_key(cur, key: str) -> Principal:
    prefix, secret = credentials.split_api_key(key)
    stored = api_keys_sql.usable_by_prefix(cur, prefix)
    if stored is None or not hmac.compare_digest(bytes(stored["secret_sha256"]), credentials.sha256(secret)):
        raise problems.unauthenticated("The API key is unknown, revoked or expired.")
    row = users_sql.principal_row(cur, stored["user_id"])
    if row is None or not row["is_active"]:
        raise problems.unauthenticated("The API key's user is deactivated.")
    api_keys_sql.touch(cur, stored["id"])
    return _principal(cur, row, via="api_key")


def authenticate_password(cur, email: str, secret: str, address: str | None = None) -> Principal:
    """Credentials sent with every request (HTTP Basic, as ODK Collect does): the email with the
    user's password, or with one of the user's API keys. Wrong passwords count as failed logins, so
    Basic is no way around the login throttle; counts are not reset on success (a write per request)
    and end with their minute."""
    if credentials.split_api_key(secret):
        principal = _from_api_key(cur, secret)
        if principal.email.lower() != email.strip().lower():
            raise problems.unauthenticated("This API key belongs to another user.")
        return principal
    if "\x00" in email:  # PostgreSQL's text cannot hold it, so no account has it
        raise problems.invalid_credentials()
    login_throttle.refuse_if_throttled(cur, email, address)
    user = users_sql.login_by_email(cur, email.strip())
    if not (
        credentials.verify_password(secret, user["password_hash"] if user else None) and user["is_active"]
    ):
        login_throttle.record_failure(email, address)
        raise problems.invalid_credentials()
    row = users_sql.principal_row(cur, user["id"])
    if row is None:
        raise problems.invalid_credentials()
    _rehash_if_weaker(cur, user, secret)
    digest_credentials.remember(cur, token_secret(), user, secret, user["digest_ha1_sealed"])
    return _principal(cur, row, via="password")


def authenticate_digest(
    cur, answer: http_digest.DigestResponse, method: str, address: str | None = None
) -> Principal:
    """A Digest answer (its nonce already found fresh), throttled as logins are. Users who have not
    given their password since Digest came (no HA1 yet) are refused as a wrong password would be, so
    that the answer does not tell which emails exist."""
    email = answer.username.strip()
    if "\x00" in email:
        raise problems.invalid_credentials()
    login_throttle.refuse_if_throttled(cur, email, address)
    user = users_sql.login_by_email(cur, email)
    ha1 = digest_credentials.ha1_of(token_secret(), user) if user and user["is_active"] else None
    if ha1 is None or not http_digest.verify(ha1, method, answer):
        login_throttle.record_failure(email, address)
        raise problems.unauthenticated(
            "Wrong email or password; or Digest is not set up for this user yet: log in once with the "
            "password (the web app, or HTTP Basic over HTTPS)."
        )
    row = users_sql.principal_row(cur, user["id"])
    if row is None:
        raise problems.invalid_credentials()
    return _principal(cur, row, via="digest")


def _rehash_if_weaker(cur, user: dict, password: str) -> None:
    """Hashes made before the cost was raised are redone with the password just checked."""
    if credentials.needs_rehash(user["password_hash"]):
        users_sql.rehash_password(cur, user["id"], credentials.hash_password(password))


def principal_of_launcher(cur, user_id: int | None) -> Principal:
    """Who a task acts as: the user who launched it, with their role and subtrees as they are now."""
    row = users_sql.principal_row(cur, user_id) if user_id else None
    if row is None or not row["is_active"]:
        raise problems.Problem(
            400, "task.launcher_inactive", "The user who launched this task is no longer active."
        )
    return _principal(cur, row, via="task")


def principal_of_row(cur, row: dict, via: str) -> Principal:
    """The Principal of a users_sql.principal_row (for credentials checked elsewhere)."""
    return _principal(cur, row, via)


def _principal(cur, row: dict, via: str) -> Principal:
    roots = None
    if row["restricted"]:  # one more query, for restricted profiles only
        found = profiles_sql.subtree_roots(cur, row["account_id"], row["id"])
        roots = tuple(SubtreeRoot(root["version_id"], root["path"]) for root in found)
    return Principal(
        user_id=row["id"],
        email=row["email"],
        account_id=row["account_id"],
        role=row["role"],
        project_ids=frozenset(row["project_ids"]),
        via=via,
        default_version_id=row["default_version_id"],
        subtree_roots=roots,
    )


def create_api_key(cur, principal: Principal, name: str, expires_in_days: int | None) -> dict:
    """The new key, with its plaintext shown this once."""
    new = credentials.new_api_key()
    expires_at = datetime.now(UTC) + timedelta(days=expires_in_days) if expires_in_days else None
    row = api_keys_sql.create(cur, principal.user_id, name, new.prefix, new.secret_sha256, expires_at)
    return row | {"key": new.plaintext}
