"""The local stand-in for Lambda's event sources: long-polls the local SQS queues and calls the
app's own `@app.on_sqs_message` handlers with Lambda-shaped events, and fires `@app.schedule`
handlers on a timer. A handler that raises leaves its message on the queue, so it comes back after
the visibility timeout and, past maxReceiveCount, goes to the DLQ, as in AWS.
"""

import threading
import time
import uuid
from dataclasses import dataclass

from chalice.app import CloudWatchEventConfig, ScheduledEventConfig, SQSEventConfig

from chalicelib.platform.observability import logger

LAMBDA_TIMEOUT_SECONDS = 900


@dataclass
class LocalContext:
    """The bits of the Lambda context object our handlers use."""

    function_name: str
    timeout_seconds: int = LAMBDA_TIMEOUT_SECONDS

    def __post_init__(self):
        self.aws_request_id = str(uuid.uuid4())
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def sqs_event(message: dict, queue_arn: str) -> dict:
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": message.get("MessageAttributes", {}),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": queue_arn.split(":")[3],
            }
        ]
    }


def scheduled_event(rule_name: str) -> dict:
    """What EventBridge sends a scheduled Lambda."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": "eu-west-1",
        "resources": [f"arn:aws:events:eu-west-1:000000000000:rule/{rule_name}"],
        "detail": {},
    }


class Worker:
    def __init__(self, app_module, sqs, schedule_every_seconds: float = 60.0, context_factory=LocalContext):
        """`app_module` is the module that defines the Chalice `app` (Lambda's handler module);
        `context_factory(function_name)` makes the Lambda context of each invocation."""
        self.module = app_module
        self.context_factory = context_factory
        self.app = app_module.app
        self.sqs = sqs
        self.schedule_every_seconds = schedule_every_seconds
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []

    def queue_consumers(self) -> list[SQSEventConfig]:
        return [source for source in self.app.event_sources if isinstance(source, SQSEventConfig)]

    def schedules(self) -> list:
        kinds = (ScheduledEventConfig, CloudWatchEventConfig)
        return [source for source in self.app.event_sources if isinstance(source, kinds)]

    def handler(self, source):
        # Chalice names every handler "app.<function>", whatever the module is called.
        return getattr(self.module, source.handler_string.rpartition(".")[2])

    def start(self) -> None:
        for source in self.queue_consumers():
            self._spawn(self._consume, source)
        if self.schedules():
            self._spawn(self._tick)

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True, name=f"worker-{target.__name__}")
        thread.start()
        self.threads.append(thread)

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=30)

    def _consume(self, source: SQSEventConfig) -> None:
        url = self.sqs.get_queue_url(QueueName=source.queue)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        handler = self.handler(source)
        while not self.stopping.is_set():
            self.poll_once(url, arn, handler, source.name, wait_seconds=1)

    def poll_once(self, url: str, arn: str, handler, name: str, wait_seconds: int = 0) -> int:
        """Receives at most one message and hands it to the handler; returns how many it handled."""
        received = self.sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=wait_seconds, AttributeNames=["All"]
        ).get("Messages", [])
        for message in received:
            try:
                result = handler(sqs_event(message, arn), self.context_factory(name))
            except Exception:
                logger().exception(
                    "local worker: handler failed; the message will be redelivered", extra={"handler": name}
                )
                continue
            if _reported_failed(result, message["MessageId"]):  # ReportBatchItemFailures, as Lambda does
                continue
            self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return len(received)

    def _tick(self) -> None:
        while not self.stopping.wait(self.schedule_every_seconds):
            self.run_schedules()

    def run_schedules(self) -> None:
        for source in self.schedules():
            event = scheduled_event(source.name)
            try:
                self.handler(source)(event, self.context_factory(source.name))
            except Exception:
                logger().exception("local worker: scheduled handler failed", extra={"handler": source.name})


def _reported_failed(result, message_id: str) -> bool:
    failures = result.get("batchItemFailures", []) if isinstance(result, dict) else []
    return any(failure.get("itemIdentifier") == message_id for failure in failures)
