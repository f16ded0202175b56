"""Test settings shared by every test. Set before anything imports the app: Powertools reads its
variables when its Logger is built, and boto3 must never find real credentials."""

import os

os.environ.update(
    {
        "STAGE": "test",
        "POWERTOOLS_SERVICE_NAME": "georegistry",
        "POWERTOOLS_METRICS_NAMESPACE": "georegistry",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "TOKEN_SECRET": "test-token-secret-not-for-production",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_REGION": "eu-west-1",
        # Production's scrypt cost takes 0.3 s and 128 MiB per hash; the tests hash hundreds.
        "PASSWORD_SCRYPT_N": "16",
        "CHECK_RESPONSES": "1",  # every response is decoded into the type its operation declares
    }
)
for leaked in ("DATABASE_URL", "DB_SECRET_ARN", "TOKEN_SECRET_ARN", "AWS_ENDPOINT_URL", "AWS_PROFILE"):
    os.environ.pop(leaked, None)
