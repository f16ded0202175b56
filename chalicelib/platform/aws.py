"""boto3 clients, one per service per container, pointed at moto when AWS_ENDPOINT_URL is set."""

from functools import cache

import boto3
from aws_lambda_powertools.utilities import parameters
from botocore.config import Config

from chalicelib.platform import config

SECRET_MAX_AGE_SECONDS = 300


# SigV4 everywhere: presigned S3 links then carry X-Amz-Expires and work in every region.
CLIENT_CONFIG = Config(signature_version="s3v4", retries={"mode": "standard", "max_attempts": 3})
# Queue calls sit in API requests (enqueue after commit): fail fast and let the sweeper resend,
# rather than outlast the request's own timeout with botocore's 60 s defaults.
QUEUE_CONFIG = CLIENT_CONFIG.merge(Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 2}))


def client(service: str):
    current = config.settings()
    return _client(service, current.aws_region, current.aws_endpoint_url)


@cache
def _client(service: str, region: str, endpoint_url: str | None):
    """Keyed by what the settings say, so a change of settings gets a new client and no reset."""
    settings = QUEUE_CONFIG if service == "sqs" else CLIENT_CONFIG
    return boto3.client(service, region_name=region, endpoint_url=endpoint_url, config=settings)


@cache
def _secrets() -> parameters.SecretsProvider:
    return parameters.SecretsProvider(boto3_client=client("secretsmanager"))


def secret_json(arn: str, refresh: bool = False) -> dict:
    """A JSON secret, cached for a few minutes; `refresh` after a rotation made the cached one stale."""
    return _secrets().get(arn, transform="json", max_age=SECRET_MAX_AGE_SECONDS, force_fetch=refresh)


def secret_text(arn: str) -> str:
    return _secrets().get(arn, max_age=SECRET_MAX_AGE_SECONDS)


def reset() -> None:
    """Forgets cached secrets (clients are keyed by their settings: they stay)."""
    _secrets.cache_clear()
