"""Test support for submissions: a moto *server* (real HTTP, for presigned POSTs) whose uploads bucket
sends "Object Created" events through EventBridge to the ingest queue, as infra/ wires it in AWS; a
drain that feeds that queue to the app's own handler; and forms published straight from XLSForms."""

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from moto.server import ThreadedMotoServer
from pyxform import builder, xls2json

import app as app_module
from chalicelib.platform import aws, config, db
from chalicelib.platform.config import INGEST_QUEUE_NAME, TASKS_QUEUE_NAME
from devstack.worker import LocalContext, Worker
from tests.integration.helpers import Tenant, aws_client, call, make_tenant

UPLOADS = "georegistry-test-uploads"
EXPORTS = "georegistry-test-exports"
FORMS = "georegistry-test-forms"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@dataclass
class Stack:
    endpoint: str
    s3: object
    sqs: object
    ingest_url: str
    tasks_url: str

    def drain(self) -> int:
        """Hands every message of the ingest queue to `ingest_uploads`; returns how many it handled."""
        return self._consume(self.ingest_url, "ingest_uploads", timeout_seconds=60)

    def run_tasks(self) -> int:
        """Runs the queued tasks (exports, bulk uploads) through `run_task`, as the tasks Lambda would."""
        return self._consume(self.tasks_url, "run_task", timeout_seconds=900)

    def _consume(self, url: str, handler: str, timeout_seconds: int) -> int:
        worker = Worker(
            app_module, self.sqs, context_factory=lambda name: LocalContext(name, timeout_seconds)
        )
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        handled = 0
        while count := worker.poll_once(url, arn, getattr(app_module, handler), handler):
            handled += count
        return handled

    def post(self, grant: dict, content: bytes, content_type: str | None = None) -> requests.Response:
        """What the phone does with one presigned POST."""
        files = {"file": (grant["name"], content, content_type or "application/octet-stream")}
        return requests.post(grant["url"], data=grant["fields"], files=files, timeout=10)


@pytest.fixture(scope="session")
def moto_server():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def ingest_stack(database, moto_server, monkeypatch):
    requests.post(f"{moto_server}/moto-api/reset", timeout=10)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    s3, sqs, events = (aws_client(name, moto_server) for name in ("s3", "sqs", "events"))
    for bucket in (UPLOADS, EXPORTS, FORMS):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_bucket_notification_configuration(
        Bucket=UPLOADS, NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    ingest_url = sqs.create_queue(QueueName=INGEST_QUEUE_NAME)["QueueUrl"]
    tasks_url = sqs.create_queue(QueueName=TASKS_QUEUE_NAME)["QueueUrl"]
    ingest_arn = sqs.get_queue_attributes(QueueUrl=ingest_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    pattern = {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [UPLOADS]}, "object": {"key": [{"prefix": "submissions/"}]}},
    }
    events.put_rule(Name="georegistry-uploads", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="georegistry-uploads", Targets=[{"Id": "ingest", "Arn": ingest_arn}])
    for name, value in {"UPLOADS_BUCKET": UPLOADS, "EXPORTS_BUCKET": EXPORTS, "FORMS_BUCKET": FORMS,
                        "TASKS_QUEUE_URL": tasks_url,
                        "TASK_PROGRESS_INTERVAL_SECONDS": "0"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    config.reset()
    aws.reset()
    yield Stack(moto_server, s3, sqs, ingest_url, tasks_url)
    aws.reset()


def collecting_tenant(client, name: str, roles: tuple[str, ...]) -> Tenant:
    """A tenant whose data collector (among `roles`) is a member of its project, as phones need."""
    tenant = make_tenant(client, name, roles=("data_collector", *roles))
    join_project(client, tenant, "data_collector")
    return tenant


def join_project(client, tenant: Tenant, role: str) -> None:
    path = f"/api/users/{tenant.user_ids[role]}"
    status, body, _ = call(
        client, "PATCH", path, tenant.tokens["admin"], {"project_ids": [tenant.project_id]}
    )
    assert status == 200, body


def publish_form(account_id: int, project_ids: list[int], xlsform: str, name: str | None = None) -> dict:
    """A form with one version, converted by pyxform, as if a form manager had uploaded it."""
    descriptor = builder.create_survey_element_from_dict(
        xls2json.parse_file_to_json(str(FIXTURES / xlsform))
    ).to_json_dict()
    with db.transaction() as cur:
        cur.execute(
            "INSERT INTO forms (account_id, name, xform_id) VALUES (%s, %s, %s) RETURNING id",
            (account_id, name or descriptor["title"], descriptor["id_string"]),
        )
        form_id = cur.fetchone()["id"]
        for project_id in project_ids:
            cur.execute(
                "INSERT INTO form_projects (account_id, form_id, project_id) VALUES (%s, %s, %s)",
                (account_id, form_id, project_id),
            )
        version = _xform_version(xlsform)
        cur.execute(
            """INSERT INTO form_versions (account_id, form_id, number, version, xlsform_key, xform_key,
                                          xform_md5, descriptor)
               VALUES (%s, %s, 1, %s, %s, %s, 'md5', %s) RETURNING id""",
            (
                account_id,
                form_id,
                version,
                f"forms/{xlsform}",
                f"forms/{xlsform}.xml",
                json.dumps(descriptor),
            ),
        )
        version_id = cur.fetchone()["id"]
    return {
        "form_id": form_id,
        "version_id": version_id,
        "xform_id": descriptor["id_string"],
        "version": version,
    }


# The version each fixture submission was made with (the XLSForms in tests/fixtures carry none).
SUBMISSION_VERSIONS = {"form_1.xlsx": "2020060801", "repeat_group_form.xlsx": "202008121012"}


def _xform_version(xlsform: str) -> str:
    return SUBMISSION_VERSIONS[xlsform]
