"""API Gateway's Lambda authorizer (REQUEST type, no cache) on the OpenRosa routes: it keeps the challenge.

A REST API renames the `WWW-Authenticate` header of a Lambda proxy's answer to
`x-amzn-Remapped-WWW-Authenticate`, which would leave ODK Collect with a 401 and nothing to answer.
A gateway response is not renamed: this authorizer denies with the Digest challenge in its context,
and infra/app.yaml's ACCESS_DENIED gateway response (401) copies it into `WWW-Authenticate`. Digest
answers are checked here in full (one query; wrong ones are throttled as logins, stale nonces get
`stale=true`), so any Digest refusal carries a fresh challenge. Basic and Bearer pass on to the API
function, which checks them; so does anything refused for another reason than 401 (a 429, say).
Token URLs (`/api/openrosa/key/…`) have no authorizer: the path is the credential.
"""

from chalicelib.forms import openrosa_auth
from chalicelib.platform import db, problems
from chalicelib.platform.observability import logger

PASS_ON = ("basic", "bearer")  # checked by the API function


def authorize(event: dict) -> dict:
    headers = event.get("headers") or {}
    context = event.get("requestContext") or {}
    scheme = _authorization(headers).partition(" ")[0].lower()
    if scheme in PASS_ON:
        return _policy(event, "Allow")
    address = (context.get("identity") or {}).get("sourceIp")
    paths = openrosa_auth.sent_paths(context) or ((event.get("path"),) if event.get("path") else ())
    try:
        with db.transaction() as cur:
            principal = openrosa_auth.authenticate(cur, headers, event.get("httpMethod", ""), paths, address)
    except problems.Problem as problem:
        if problem.status != 401:
            return _policy(event, "Allow")  # the API function answers it (429 with Retry-After)
        logger().info("openrosa challenge", extra={"code": problem.code})
        digest = next(v for v in problem.headers["WWW-Authenticate"] if v.startswith("Digest "))
        return _policy(event, "Deny", {"challenge": digest})
    return _policy(event, "Allow", {"user_id": str(principal.user_id)})


def _authorization(headers: dict) -> str:
    return next((value or "" for key, value in headers.items() if key.lower() == "authorization"), "")


def _policy(event: dict, effect: str, context: dict | None = None) -> dict:
    statement = {"Action": "execute-api:Invoke", "Effect": effect, "Resource": event.get("methodArn", "*")}
    return {
        "principalId": "openrosa",
        "policyDocument": {"Version": "2012-10-17", "Statement": [statement]},
        "context": context or {},
    }
