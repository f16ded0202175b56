import pytest

from chalicelib.platform import config
from tests.unit.deployed import pose_as_deployed


def test_settings_are_read_when_asked_and_reset(monkeypatch):
    monkeypatch.setenv("TOKEN_TTL_SECONDS", "120")
    config.reset()
    assert config.settings().token_ttl_seconds == 120
    monkeypatch.setenv("TOKEN_TTL_SECONDS", "60")
    assert config.settings().token_ttl_seconds == 120  # cached until reset
    config.reset()
    assert config.settings().token_ttl_seconds == 60
    config.reset()


def test_a_malformed_number_names_the_variable(monkeypatch):
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT_MS", "soon")
    config.reset()
    with pytest.raises(RuntimeError, match="DB_STATEMENT_TIMEOUT_MS"):
        config.settings()
    config.reset()


def test_queue_urls_lists_only_configured_queues(monkeypatch):
    monkeypatch.setenv("TASKS_QUEUE_URL", "http://q/tasks")
    monkeypatch.delenv("TASKS_DLQ_URL", raising=False)
    config.reset()
    assert config.queue_urls() == {"tasks": "http://q/tasks"}
    config.reset()


def test_a_deployed_stage_stops_at_start_naming_every_missing_setting(monkeypatch):
    pose_as_deployed(monkeypatch)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "georegistry-dev-api_handler")
    monkeypatch.delenv("PASSWORD_SCRYPT_N")
    for name in ("FORMS_BUCKET", "TASKS_DLQ_URL", "DB_SECRET_ARN"):
        monkeypatch.delenv(name)
    config.reset()
    with pytest.raises(RuntimeError) as raised:
        config.check_at_start()
    missing = "FORMS_BUCKET, TASKS_DLQ_URL, DATABASE_URL or DB_SECRET_ARN"
    assert str(raised.value) == f"stage 'dev' is missing environment variables: {missing}"
    monkeypatch.setenv("FORMS_BUCKET", "f")
    monkeypatch.setenv("TASKS_DLQ_URL", "http://q/dlq")
    monkeypatch.setenv("DATABASE_URL", "postgresql://db")
    config.reset()
    config.check_at_start()
    assert config.settings().forms_bucket == "f"
    config.reset()
