"""The operator CLI without its settings says which one is missing, without a traceback (the CLI
against the running local stack, with what `make run`'s banner prints: test_local_stack.py)."""

import pytest

from chalicelib import cli
from chalicelib.platform import config


def test_the_cli_names_the_setting_it_lacks(monkeypatch):
    for name in ("DATABASE_URL", "DB_SECRET_ARN"):
        monkeypatch.delenv(name, raising=False)
    config.reset()
    with pytest.raises(SystemExit) as stopped:
        cli.main(["migrate"])
    config.reset()
    message = "python -m chalicelib.cli migrate: No database configured: set DATABASE_URL or DB_SECRET_ARN."
    assert str(stopped.value) == message
