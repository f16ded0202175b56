"""Who is calling an OpenRosa route: ODK Collect's ways of authenticating.

- Collect first calls without credentials and answers the 401's challenge. We offer Digest (RFC 7616,
  MD5, qop=auth; identity/http_digest.py) first and Basic second, as two WWW-Authenticate headers:
  Collect's okhttp-digest takes the first scheme it supports, and sends Basic only over HTTPS.
- Basic carries the email with the password or an API key; Bearer tokens and API keys work as on
  the rest of the API. Wrong passwords and wrong Digest answers are throttled as logins are.
- A token URL (`/api/openrosa/key/<token>/<project>/…`, identity/collect_tokens.py) needs no
  challenge: the path is the credential.
"""

import base64
import binascii
import urllib.parse
from collections.abc import Mapping

from chalicelib.identity import authentication, collect_tokens, http_digest
from chalicelib.identity.digest_credentials import REALM
from chalicelib.identity.permissions import Principal
from chalicelib.platform import problems

STALE = "auth.stale_nonce"


def challenges(stale: bool = False) -> list[str]:
    """The WWW-Authenticate values of a 401, Digest first (a fresh nonce each time)."""
    return [http_digest.challenge(REALM, authentication.token_secret(), stale), f'Basic realm="{REALM}"']


def sent_paths(request_context: Mapping) -> tuple[str, ...]:
    """The paths a Digest answer may name: API Gateway's path with its stage (what a client calling the
    API's own address signs), and without it (what a client of a CloudFront distribution signs, since
    CloudFront adds the stage as its origin path)."""
    path = request_context.get("path") or ""
    stage_prefix = f"/{request_context.get('stage') or ''}"
    if len(stage_prefix) > 1 and path.startswith(stage_prefix + "/"):
        return path, path[len(stage_prefix) :]
    return (path,) if path else ()


def authenticate(
    cur, headers: Mapping[str, str], method: str, sent_path: tuple[str, ...], address: str | None = None
) -> Principal:
    """The caller, from Digest, Basic or Bearer credentials; else a 401 Problem carrying the challenges.
    `sent_path`: the paths (sent_paths) of which a Digest answer must name one; empty: no check."""
    authorization = _header(headers, "authorization")
    scheme, _, value = authorization.partition(" ")
    try:
        if scheme.lower() == "digest":
            return _digest(cur, value, method, sent_path, address)
        if scheme.lower() == "basic":
            return authentication.authenticate_password(cur, *_basic_credentials(value.strip()), address)
        if scheme.lower() == "bearer":
            return authentication.authenticate(cur, authorization)
        raise problems.unauthenticated(
            "Answer the Digest challenge with your email and password, or send HTTP Basic credentials "
            "(email and password or an API key) or a Bearer token."
        )
    except problems.Problem as problem:
        if problem.status == 401:
            problem.headers = {"WWW-Authenticate": challenges(stale=problem.code == STALE)}
        raise


def by_token(cur, token: str, project_id_text: str) -> Principal:
    """The caller of a token URL; the project in the path must be the token's."""
    if not project_id_text.isdigit() or len(project_id_text) > 18:
        raise problems.not_found("project", project_id_text[:20])
    return collect_tokens.principal_of(cur, token, int(project_id_text))


def _digest(cur, value: str, method: str, sent_path: tuple[str, ...], address: str | None) -> Principal:
    answer = http_digest.parse(value)
    if answer is None or answer.realm != REALM:
        raise problems.unauthenticated(f'The Digest answer is malformed or not for realm "{REALM}".')
    if sent_path and _path_of(answer.uri) not in {urllib.parse.unquote(path) for path in sent_path}:
        raise problems.unauthenticated("The Digest answer's uri is not this request's.")
    if not http_digest.nonce_is_fresh(authentication.token_secret(), answer.nonce):
        # stale=true: the phone retries with the new nonce without asking its user
        raise problems.Problem(401, STALE, "The Digest nonce has expired; answer the new challenge.")
    return authentication.authenticate_digest(cur, answer, method, address)


def _path_of(uri: str) -> str | None:
    try:
        return urllib.parse.unquote(urllib.parse.urlsplit(uri).path)
    except ValueError:  # e.g. an unbalanced "[" where a host would be
        return None


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value or ""
    return ""


def _basic_credentials(value: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, ValueError) as error:
        raise problems.unauthenticated("The Basic credentials are not base64 of 'email:password'.") from error
    email_address, colon, secret = decoded.partition(":")
    if not colon or not email_address or not secret:
        raise problems.unauthenticated("The Basic credentials must be 'email:password'.")
    return email_address, secret
