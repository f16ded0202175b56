import json
from urllib.parse import urlparse

from moto import mock_aws

from chalicelib import cli
from chalicelib.platform import aws, config, db
from tests.integration.helpers import aws_client, call, login


def test_create_account_bootstraps_a_working_admin(client, monkeypatch, capsys):
    monkeypatch.setenv("ADMIN_PASSWORD", "bootstrap password")
    argv = ["create-account", "--name", "Ministry", "--admin-email", "Root@Ministry.example.org"]
    assert cli.main(argv + ["--project", "Polio", "--app-id", "org.ministry.polio"]) == 0
    created = json.loads(capsys.readouterr().out)
    token = login(client, "root@ministry.example.org", "bootstrap password")
    _, me, _ = call(client, "GET", "/api/me", token)
    assert me["role"] == "admin" and me["account"]["id"] == created["account_id"]
    assert me["project_ids"] == [created["project_id"]]


def test_migrate_command_is_a_no_op_on_a_migrated_database(database, capsys):
    assert cli.main(["migrate"]) == 0
    assert json.loads(capsys.readouterr().out) == {"applied": []}


def test_database_credentials_can_come_from_secrets_manager(database, monkeypatch):
    url = urlparse(database)
    secret = {
        "host": url.hostname,
        "port": url.port,
        "username": url.username,
        "password": "",
        "dbname": "georegistry",
    }
    with mock_aws():
        arn = aws_client("secretsmanager").create_secret(
            Name="georegistry-db", SecretString=json.dumps(secret)
        )["ARN"]
        monkeypatch.delenv("DATABASE_URL")
        monkeypatch.setenv("DB_SECRET_ARN", arn)
        config.reset()
        aws.reset()
        db.close()
        assert "PostgreSQL" in db.ping()
        aws.reset()
