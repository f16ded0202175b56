import pytest

from chalicelib.platform import config


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
