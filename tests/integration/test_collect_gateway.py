"""The OpenRosa authorizer as API Gateway calls it (a REQUEST event, no cache), and the challenge as the
ACCESS_DENIED gateway response passes it on (infra/app.yaml: WWW-Authenticate from
context.authorizer.challenge). The template's wiring is tested in test_packaging.py."""

import pytest

from chalicelib.handlers import openrosa_gate
from tests.integration.collect_client import (
    CollectClient,
    _DigestState,
    basic_authorization,
    parse_challenges,
)
from tests.integration.helpers import PASSWORD, make_tenant

GATEWAY = "https://abc.execute-api.eu-west-1.amazonaws.com"
STAGE_PATH = "/api"  # the stage's prefix in the path the client sends (API Gateway's requestContext.path)


@pytest.fixture
def alpha(client):
    return make_tenant(client, "alpha", roles=("data_collector",))


def _event(path: str, method: str = "GET", authorization: str | None = None) -> dict:
    headers = {"Host": "abc.execute-api.eu-west-1.amazonaws.com", "X-OpenRosa-Version": "1.0"}
    if authorization:
        headers["Authorization"] = authorization
    return {
        "type": "REQUEST",
        "methodArn": f"arn:aws:execute-api:eu-west-1:123456789012:abc/api/{method}{path}",
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "requestContext": {"path": STAGE_PATH + path, "stage": "api", "identity": {"sourceIp": "192.0.2.7"}},
    }


def _challenge(policy: dict) -> str:
    """What the client gets: a 401 whose WWW-Authenticate is the Deny's context.challenge."""
    [statement] = policy["policyDocument"]["Statement"]
    assert statement["Effect"] == "Deny"
    return policy["context"]["challenge"]


def _answer(
    challenge: str, path: str, password: str = PASSWORD, method: str = "GET", signed_prefix: str = STAGE_PATH
) -> str:
    [(scheme, params)] = parse_challenges([challenge])  # one header, Digest alone
    assert scheme == "digest"
    phone = CollectClient(GATEWAY, "data_collector@alpha.example.org", password)
    phone.digest = _DigestState(params["realm"], params["nonce"], params["qop"], None)
    return phone._digest_authorization(method, f"{GATEWAY}{signed_prefix}{path}")


def test_the_authorizer_challenges_then_lets_a_digest_answer_through(alpha):
    path = f"/api/openrosa/{alpha.project_id}/formList"
    challenge = _challenge(openrosa_gate.authorize(_event(path)))
    assert challenge.startswith('Digest realm="georegistry", qop="auth", algorithm=MD5, nonce="')
    allowed = openrosa_gate.authorize(_event(path, authorization=_answer(challenge, path)))
    assert allowed["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert allowed["context"] == {"user_id": str(alpha.user_ids["data_collector"])}
    wrong = openrosa_gate.authorize(_event(path, authorization=_answer(challenge, path, "wrong password")))
    assert "stale" not in _challenge(wrong)  # a fresh challenge: Collect asks its user again
    head = f"/api/openrosa/{alpha.project_id}/submission"
    other_uri = openrosa_gate.authorize(_event(head, "HEAD", _answer(challenge, path, method="HEAD")))
    assert _challenge(other_uri)  # an answer made for another URI proves nothing here


def test_a_stale_nonce_gets_a_stale_challenge_and_basic_or_bearer_pass_on(alpha):
    path = f"/api/openrosa/{alpha.project_id}/formList"
    expired = (
        'Digest realm="georegistry", qop="auth", algorithm=MD5, nonce="1000000000.AAAAAAAAAAAAAAAAAAAAAAAA"'
    )
    stale = _challenge(openrosa_gate.authorize(_event(path, authorization=_answer(expired, path))))
    assert stale.endswith(", stale=true")
    for authorization in (basic_authorization("data_collector@alpha.example.org", "anything"), "Bearer x"):
        passed = openrosa_gate.authorize(_event(path, authorization=authorization))
        assert passed["policyDocument"]["Statement"][0]["Effect"] == "Allow"  # the API function checks them


def test_a_phone_calling_through_the_console_distribution_signs_the_path_without_the_stage(alpha):
    """CloudFront sends /api/openrosa/… on as /{stage}/api/openrosa/… (the stage is its origin path), so
    the phone signed a path API Gateway never saw whole; it stays bound to this resource."""
    path = f"/api/openrosa/{alpha.project_id}/formList"
    challenge = _challenge(openrosa_gate.authorize(_event(path)))
    through_cloudfront = _answer(challenge, path, signed_prefix="")
    allowed = openrosa_gate.authorize(_event(path, authorization=through_cloudfront))
    assert allowed["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    head = f"/api/openrosa/{alpha.project_id}/submission"
    elsewhere = _answer(challenge, path, method="HEAD", signed_prefix="")
    assert _challenge(openrosa_gate.authorize(_event(head, "HEAD", elsewhere)))
