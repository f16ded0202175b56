"""Settings, read from the environment when asked for (never at import time), so tests can set them.

Each Lambda gets its environment from `.chalice/config.json` (per stage); the local stack and the
tests set the same variables themselves. `settings()` is cached; `reset()` forgets it.
"""

import os
from dataclasses import dataclass
from functools import cache

# Names fixed at import time: Chalice's decorators (and infra/) need them before any settings exist.
TASKS_QUEUE_NAME = "georegistry-tasks"
TASKS_DLQ_NAME = "georegistry-tasks-dlq"


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


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as error:
        raise RuntimeError(f"environment variable {name} must be an integer, got {raw!r}") from error


def _str(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name) or default


@cache
def settings() -> Settings:
    return Settings(
        stage=_str("STAGE", "local"),
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
    )


def reset() -> None:
    settings.cache_clear()


def queue_urls() -> dict[str, str]:
    """The queues the health check reports on, by name."""
    current = settings()
    named = {"tasks": current.tasks_queue_url, "tasks_dlq": current.tasks_dlq_url}
    return {name: url for name, url in named.items() if url}
