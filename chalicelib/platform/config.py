"""Settings, read from the environment when asked for (never at import time), so tests can set them.

Each Lambda gets its environment from `.chalice/config.json` (per stage); the local stack and the
tests set the same variables themselves. `settings()` is cached; `reset()` forgets it.
"""

import os
from dataclasses import dataclass
from functools import cache

# Names fixed at import time: Chalice's decorators and the local stack need them before any settings
# exist. In AWS each stage has its own queues (georegistry-<stage>-tasks...): infra/app.yaml points
# the event sources at them and sets TASKS_QUEUE_URL and TASKS_DLQ_URL.
TASKS_QUEUE_NAME = "georegistry-tasks"
# S3 "Object Created" events of the uploads bucket, routed by an EventBridge rule (infra/).
INGEST_QUEUE_NAME = "georegistry-ingest"
TASKS_DLQ_NAME = "georegistry-tasks-dlq"
# OWASP's scrypt cost for passwords (N = 2^17, r = 8, p = 1); only throwaway stages may go lower.
OWASP_SCRYPT_N = 2**17
THROWAWAY_STAGES = ("local", "test")  # cheap hashes and default resource names are allowed only here
# What a deployed stage must be given (infra/app.yaml sets them all): no default name can be right there.
REQUIRED_IN_AWS = ("UPLOADS_BUCKET", "EXPORTS_BUCKET", "FORMS_BUCKET", "TASKS_QUEUE_URL", "TASKS_DLQ_URL")
ONE_OF_IN_AWS = (("DATABASE_URL", "DB_SECRET_ARN"), ("TOKEN_SECRET", "TOKEN_SECRET_ARN"))


@dataclass(frozen=True)
class Settings:
    stage: str
    database_url: str | None
    database_secret_arn: str | None
    token_secret: str | None
    token_secret_arn: str | None
    token_ttl_seconds: int
    aws_endpoint_url: str | None
    aws_region: str
    uploads_bucket: str
    exports_bucket: str
    forms_bucket: str
    tasks_queue_url: str | None
    tasks_dlq_url: str | None
    statement_timeout_ms: int
    idle_in_transaction_timeout_ms: int
    password_scrypt_n: int
    check_responses: bool  # the tests check every response against its declared type
    tasks: "TaskSettings"


@dataclass(frozen=True)
class TaskSettings:
    progress_interval_seconds: float  # at most one progress write (and kill check) per interval
    deadline_margin_seconds: float  # a task hands over to a new invocation this long before timeout
    default_lease_seconds: int  # lease when no Lambda deadline is known
    max_attempts: int  # claims before a task that keeps dying or failing is ERRORED
    retry_base_seconds: int  # backoff of a transient failure: base * 2^(receive count - 1)
    resend_after_seconds: int  # a QUEUED task whose message is older than this is sent again
    retention_days: int  # logs and artifacts of ended tasks are purged after this
    artifact_url_seconds: int  # lifetime of presigned download links


def _int(name: str, default: int) -> int:
    return _number(name, default, int)


def _float(name: str, default: float) -> float:
    return _number(name, default, float)


def _number(name: str, default, parse):
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return parse(raw)
    except ValueError as error:
        raise RuntimeError(f"environment variable {name} must be a {parse.__name__}, got {raw!r}") from error


def _str(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name) or default


def _scrypt_n(stage: str) -> int:
    n = _int("PASSWORD_SCRYPT_N", OWASP_SCRYPT_N)
    if n < 2 or n & (n - 1):
        raise RuntimeError(f"environment variable PASSWORD_SCRYPT_N must be a power of 2, got {n}")
    if n < OWASP_SCRYPT_N and stage not in THROWAWAY_STAGES:
        raise RuntimeError(f"PASSWORD_SCRYPT_N below {OWASP_SCRYPT_N} is for the local and test stages only")
    return n


def _check_deployed(stage: str) -> None:
    if stage in THROWAWAY_STAGES:
        return
    missing = [name for name in REQUIRED_IN_AWS if not os.environ.get(name)]
    missing += [" or ".join(pair) for pair in ONE_OF_IN_AWS if not any(os.environ.get(name) for name in pair)]
    if missing:
        raise RuntimeError(f"stage {stage!r} is missing environment variables: {', '.join(missing)}")


def check_at_start() -> None:
    """Called when app.py is imported: in a Lambda of a deployed stage, a missing setting stops the
    container there, with the names, rather than failing later on a default name. (`chalice package`
    imports app.py with the stage's variables but none of the template's, hence the Lambda check.)"""
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME") and _str("STAGE", "local") not in THROWAWAY_STAGES:
        settings()


@cache
def settings() -> Settings:
    stage = _str("STAGE", "local")
    _check_deployed(stage)
    return Settings(
        stage=stage,
        database_url=_str("DATABASE_URL"),
        database_secret_arn=_str("DB_SECRET_ARN"),
        token_secret=_str("TOKEN_SECRET"),
        token_secret_arn=_str("TOKEN_SECRET_ARN"),
        token_ttl_seconds=_int("TOKEN_TTL_SECONDS", 3600),
        aws_endpoint_url=_str("AWS_ENDPOINT_URL"),
        aws_region=_str("AWS_REGION", _str("AWS_DEFAULT_REGION", "eu-west-1")),
        uploads_bucket=_str("UPLOADS_BUCKET", "georegistry-uploads"),
        exports_bucket=_str("EXPORTS_BUCKET", "georegistry-exports"),
        forms_bucket=_str("FORMS_BUCKET", "georegistry-forms"),
        tasks_queue_url=_str("TASKS_QUEUE_URL"),
        tasks_dlq_url=_str("TASKS_DLQ_URL"),
        statement_timeout_ms=_int("DB_STATEMENT_TIMEOUT_MS", 25_000),
        idle_in_transaction_timeout_ms=_int("DB_IDLE_IN_TRANSACTION_TIMEOUT_MS", 60_000),
        password_scrypt_n=_scrypt_n(stage),
        check_responses=_str("CHECK_RESPONSES") == "1",
        tasks=TaskSettings(
            progress_interval_seconds=_float("TASK_PROGRESS_INTERVAL_SECONDS", 1.0),
            deadline_margin_seconds=_float("TASK_DEADLINE_MARGIN_SECONDS", 60.0),
            default_lease_seconds=_int("TASK_DEFAULT_LEASE_SECONDS", 960),
            max_attempts=_int("TASK_MAX_ATTEMPTS", 5),
            retry_base_seconds=_int("TASK_RETRY_BASE_SECONDS", 30),
            resend_after_seconds=_int("TASK_RESEND_AFTER_SECONDS", 3600),
            retention_days=_int("TASK_RETENTION_DAYS", 30),
            artifact_url_seconds=_int("ARTIFACT_URL_SECONDS", 3600),
        ),
    )


def reset() -> None:
    settings.cache_clear()


def queue_urls() -> dict[str, str]:
    """The queues the health check reports on, by name."""
    current = settings()
    named = {"tasks": current.tasks_queue_url, "tasks_dlq": current.tasks_dlq_url}
    return {name: url for name, url in named.items() if url}
