"""The local console's CSP lets the browser meet S3 (moto) as it meets S3 in AWS, and nothing more."""

from devstack.console import SECURITY_HEADERS, security_headers
from tests.unit.test_infra_templates import directives


def test_without_an_endpoint_the_policy_is_the_base_one():
    assert security_headers(None) == SECURITY_HEADERS


def test_the_s3_endpoints_origin_is_allowed_for_uploads_and_images_only():
    policy = directives(security_headers("http://127.0.0.1:5123/some/path")["Content-Security-Policy"])
    base = directives(SECURITY_HEADERS["Content-Security-Policy"])
    assert policy.pop("connect-src") == ["'self'", "http://127.0.0.1:5123"]
    assert policy.pop("img-src") == base.pop("img-src") + ["http://127.0.0.1:5123"]
    assert policy == base
