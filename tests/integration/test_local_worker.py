"""The local worker loop feeds SQS messages to Chalice handlers as Lambda would."""

import json
import sys

import boto3
import pytest
from chalice import Chalice
from moto import mock_aws

from devstack.worker import Worker

app = Chalice(app_name="worker-demo")
THIS_MODULE = sys.modules[__name__]
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
