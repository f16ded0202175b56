import pytest
from moto import mock_aws

from chalicelib.platform import aws, config, db
from devstack.postgres import free_port
from tests.integration.helpers import aws_client, call


def test_health_reports_database_and_needs_no_auth(client):
    status, body, _ = call(client, "GET", "/api/health")
    assert status == 200
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["database"]["postgis"].startswith("3.")
    assert body["queues"] == {}


def test_health_is_503_when_the_database_is_down(client, monkeypatch):
    db.close()
    monkeypatch.setenv("DATABASE_URL", f"postgresql://nobody@127.0.0.1:{free_port()}/none")
    config.reset()
    status, body, _ = call(client, "GET", "/api/health")
    assert status == 503
    assert body["status"] == "unavailable"
    assert body["database"] == {"ok": False, "error": "database unreachable"}
    assert "Traceback" not in str(body)


def test_api_answers_a_clean_500_when_the_database_is_down(client, monkeypatch):
    db.close()
    monkeypatch.setenv("DATABASE_URL", f"postgresql://nobody@127.0.0.1:{free_port()}/none")
    config.reset()
    status, body, headers = call(client, "GET", "/api/me", "token")
    assert status == 500
    assert body["error"]["code"] == "server.error"
    assert headers["X-Request-Id"] in body["error"]["message"]
    assert "psycopg2" not in str(body) and "Traceback" not in str(body)


@pytest.fixture
def queues(monkeypatch):
    with mock_aws():
        sqs = aws_client("sqs")
        main = sqs.create_queue(QueueName="tasks")["QueueUrl"]
        dlq = sqs.create_queue(QueueName="tasks-dlq")["QueueUrl"]
        monkeypatch.setenv("TASKS_QUEUE_URL", main)
        monkeypatch.setenv("TASKS_DLQ_URL", dlq)
        config.reset()
        aws.reset()
        yield sqs, main, dlq
        aws.reset()


def test_health_reports_queue_depths(client, queues):
    sqs, main, dlq = queues
    for _ in range(3):
        sqs.send_message(QueueUrl=main, MessageBody="{}")
    sqs.send_message(QueueUrl=dlq, MessageBody="{}")
    status, body, _ = call(client, "GET", "/api/health")
    assert status == 200
    assert body["queues"]["tasks"] == {"ok": True, "visible": 3, "in_flight": 0}
    assert body["queues"]["tasks_dlq"]["visible"] == 1


def test_unreachable_queue_is_reported_without_failing_health(client, queues, monkeypatch):
    monkeypatch.setenv("TASKS_DLQ_URL", "https://sqs.eu-west-1.amazonaws.com/123456789012/missing")
    config.reset()
    status, body, _ = call(client, "GET", "/api/health")
    assert status == 200
    assert body["queues"]["tasks_dlq"] == {"ok": False, "error": "queue unreachable"}
