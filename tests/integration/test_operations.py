"""The operator Lambdas that infra/deploy.sh and the README invoke: migrate and create_account."""

import pytest

from tests.integration.helpers import call, login


def test_the_migrate_lambda_applies_what_is_pending_and_reports_it(client):
    # Given the session's database, already migrated
    # When the migrate Lambda runs (as infra/deploy.sh does after every deploy)
    response = client.lambda_.invoke("migrate", {})
    # Then it applies nothing more and says so
    assert response.payload == {"applied": []}


def test_create_account_gives_a_working_admin_with_a_generated_password(client):
    event = {
        "name": "Ministry",
        "admin_email": " Root@Ministry.example.org",
        "project": "Polio",
        "app_id": "org.x",
    }
    created = client.lambda_.invoke("create_account", event).payload
    assert created["admin_email"] == "root@ministry.example.org"
    assert len(created["admin_password"]) >= 20
    token = login(client, created["admin_email"], created["admin_password"])
    _, me, _ = call(client, "GET", "/api/me", token)
    assert me["role"] == "admin" and me["account"]["id"] == created["account_id"]
    assert me["project_ids"] == [created["project_id"]]


def test_create_account_names_the_fields_it_misses(client):
    with pytest.raises(ValueError, match="missing: project, app_id"):
        client.lambda_.invoke(
            "create_account", {"name": "Ministry", "admin_email": "root@ministry.example.org"}
        )
