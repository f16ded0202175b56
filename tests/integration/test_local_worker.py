"""The local worker loop feeds SQS messages to Chalice handlers as Lambda would."""

import json
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from chalice import Chalice
from moto import mock_aws

from devstack.worker import Worker

app = Chalice(app_name="worker-demo")
THIS_MODULE = sys.modules[__name__]
ROOT = Path(__file__).resolve().parents[2]
seen: list[dict] = []


@app.on_sqs_message(queue="demo-queue", batch_size=1)
def consume(event):
    for record in event:
        body = json.loads(record.body)
        if body.get("fail"):
            raise RuntimeError("transient failure")
        seen.append(body)


@app.schedule("rate(1 minute)")
def every_minute(event):
    seen.append({"scheduled": True})


@pytest.fixture
def sqs():
    seen.clear()
    with mock_aws():
        client = boto3.client("sqs", region_name="eu-west-1")
        url = client.create_queue(QueueName="demo-queue", Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
        yield client, url


def _arn(client, url):
    return client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def test_a_handled_message_is_deleted(sqs):
    client, url = sqs
    worker = Worker(THIS_MODULE, client)
    assert [source.queue for source in worker.queue_consumers()] == ["demo-queue"]
    client.send_message(QueueUrl=url, MessageBody=json.dumps({"n": 1}))
    assert worker.poll_once(url, _arn(client, url), consume, "consume") == 1
    assert seen == [{"n": 1}]
    assert worker.poll_once(url, _arn(client, url), consume, "consume") == 0


def test_a_failing_message_stays_for_redelivery_with_its_receive_count(sqs):
    client, url = sqs
    worker = Worker(THIS_MODULE, client)
    client.send_message(QueueUrl=url, MessageBody=json.dumps({"fail": True}))
    assert worker.poll_once(url, _arn(client, url), consume, "consume") == 1
    again = client.receive_message(QueueUrl=url, AttributeNames=["ApproximateReceiveCount"])["Messages"]
    assert again[0]["Attributes"]["ApproximateReceiveCount"] == "2"


def test_schedules_run_on_the_timer(sqs):
    client, _ = sqs
    worker = Worker(THIS_MODULE, client)
    assert len(worker.schedules()) == 1
    worker.run_schedules()
    assert seen == [{"scheduled": True}]


# Run in a process of its own, which imports app.py as the local stack's worker loop does: that
# import is what gave each record a second, text handler (Chalice's) beside the JSON one.
ONE_FAILURE = """
import json, boto3
from moto import mock_aws
import app
from devstack.worker import Worker

def failing(event, context):
    raise RuntimeError("the handler broke")

with mock_aws():
    sqs = boto3.client("sqs", region_name="eu-west-1")
    url = sqs.create_queue(QueueName="demo-queue")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": 1}))
    Worker(app, sqs).poll_once(url, arn, failing, "failing")
"""


def test_each_log_record_is_one_json_line():
    result = subprocess.run(
        [sys.executable, "-c", ONE_FAILURE], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    record = json.loads(lines[0])
    assert record["message"] == "local worker: handler failed; the message will be redelivered"
    assert record["handler"] == "failing" and "the handler broke" in record["exception"]
    assert "the handler broke" not in result.stderr
