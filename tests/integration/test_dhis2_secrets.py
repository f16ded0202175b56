"""No DHIS2 password or token anywhere but Secrets Manager: not in any column of any table, any log
line, any task row, any API answer or any artifact in S3, after everything DHIS2 work does with them.

The test is generic on purpose, so that it covers what lands after it: it reads every table of the
schema whole (each row as text), every S3 object of the task buckets, every log record (formatted
as the Lambdas write them, extras included), every answer it received. It creates, patches, checks
(right and wrong credentials) and lists connections, runs every DHIS2 task it finds mounted that a
connection and a data source are enough to start (a tree import, then a sync), pushes a renamed
unit back if pushes are mounted, and reads every
mounted GET under /api/dhis2 that needs at most a connection id. A self-check proves the needles are
findable: Secrets Manager holds them."""

import base64
import gzip
import json
import logging
import re

import pytest

from chalicelib.handlers.http import MOUNTED
from chalicelib.platform import db
from chalicelib.platform.observability import logger
from devstack.dhis2_standin import Dhis2StandIn, generated_tree, load_fixture_tree, merge
from tests.integration.helpers import aws_client, call, make_tenant
from tests.integration.registrykit import post
from tests.integration.taskkit import BUCKET, UPLOADS, drain

pytestmark = pytest.mark.commits  # the tasks commit, and report progress on a second connection

USER = "admin"
PASSWORD = "Pw-7f3a9c-never-stored"
NEW_PASSWORD = "Pw2-c4e81b-never-stored"
WRONG_PASSWORD = "Wrong-5d02aa-never-stored"
TOKEN = "d2pat_SecretScan7f3a9c000000000000000001"
SECRETS = (PASSWORD, NEW_PASSWORD, WRONG_PASSWORD, TOKEN)
# Secrets as they travel: inside a Basic header, and as a bytea column would print them.
NEEDLES = (
    SECRETS
    + tuple(
        text
        for secret in (PASSWORD, NEW_PASSWORD, WRONG_PASSWORD)
        for text in (base64.b64encode(f"{USER}:{secret}".encode()).decode(), secret.encode().hex())
    )
    + (TOKEN.encode().hex(),)
)
# Tasks a connection and a data source are enough to start, in the order they make sense.
STARTERS = ("imports", "syncs")


class Records(logging.Handler):
    """Every record of our logger, formatted as the Lambdas print it (JSON with every extra)."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logger().registered_formatter)

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def records():
    handler = Records()
    stdlib = logging.getLogger(logger().name)
    stdlib.addHandler(handler)
    level = stdlib.level
    stdlib.setLevel(logging.DEBUG)
    yield handler
    stdlib.removeHandler(handler)
    stdlib.setLevel(level)


@pytest.fixture(scope="module")
def standin():
    server = Dhis2StandIn(*merge(load_fixture_tree(), generated_tree(30)), username=USER, password=PASSWORD)
    server.token = TOKEN
    yield server.start()
    server.stop()


class Session:
    def __init__(self, client):
        self.client = client
        self.answers: list[str] = []

    def __call__(self, method: str, path: str, token: str, body=None, expect: int | None = None):
        status, answer, headers = call(self.client, method, path, token, body)
        self.answers.append(json.dumps(answer) + json.dumps(dict(headers)))
        assert expect is None or status == expect, (method, path, status, answer)
        return status, answer


def mounted(method: str, suffix: str) -> bool:
    return any(
        op.method == method and op.path == f"/api/dhis2/connections/{{connection_id}}/{suffix}"
        for op in MOUNTED
    )


def test_no_dhis2_secret_is_stored_logged_answered_or_written(client, task_aws, standin, records, capfd):
    tenant = make_tenant(client, "secretscan", ("registry_editor",))
    admin, editor = tenant.tokens["admin"], tenant.tokens["registry_editor"]
    api = Session(client)
    base = {"base_url": standin.url, "auth_kind": "basic", "username": USER}
    _, basic = api(
        "POST", "/api/dhis2/connections", admin, base | {"name": "Basic", "password": WRONG_PASSWORD}, 201
    )
    assert api("POST", f"/api/dhis2/connections/{basic['id']}/check", admin)[0] == 400
    path = f"/api/dhis2/connections/{basic['id']}"
    api("PATCH", path, admin, {"password": NEW_PASSWORD}, 200)
    api("PATCH", path, admin, {"password": PASSWORD}, 200)
    api("POST", f"{path}/check", admin, None, 200)
    token = {"name": "Token", "base_url": standin.url, "auth_kind": "token", "token": TOKEN}
    _, by_token = api("POST", "/api/dhis2/connections", admin, token, 201)
    api("POST", f"/api/dhis2/connections/{by_token['id']}/check", admin, None, 200)
    source = post(client, admin, "/api/data-sources", {"name": "From DHIS2"})
    ran = []
    for what in STARTERS:
        if mounted("POST", what):
            api(
                "POST",
                f"/api/dhis2/connections/{by_token['id']}/{what}",
                editor,
                {"data_source_id": source["id"]},
            )
            drain(task_aws)
            ran.append(what)
    _, runs = api("GET", f"/api/dhis2/connections/{by_token['id']}/runs", admin)
    made = [r["version_id"] for r in (runs or {}).get("results", []) if r.get("version_id")]
    if mounted("POST", "pushes") and made:  # a renamed unit pushed back: the push task and its report
        _, copied = api("POST", f"/api/versions/{min(made)}/copy", admin, {"description": "edits"}, 201)
        drain(task_aws)
        version = copied["version"]["id"]
        _, units = api("GET", f"/api/orgunits?version={version}&limit=1", admin, None, 200)
        api("PATCH", f"/api/orgunits/{units['results'][0]['id']}", admin, {"name": "Renamed, to push"}, 200)
        api("POST", f"/api/dhis2/connections/{by_token['id']}/pushes", editor, {"version_id": version}, 201)
        drain(task_aws)
        ran.append("pushes")
    for op in MOUNTED:
        if op.method == "GET" and op.path.startswith("/api/dhis2") and set(op.path_ids) <= {"connection_id"}:
            api("GET", op.path.replace("{connection_id}", str(by_token["id"])), admin, None, 200)
    api("GET", "/api/tasks?limit=100", admin)

    found = {
        "tables": _in_tables(),
        "artifacts": _in_buckets(),
        "logs": _in_texts(records.lines + capfd.readouterr().out.splitlines()),
        "answers": _in_texts(api.answers),
    }
    assert found == {"tables": [], "artifacts": [], "logs": [], "answers": []}
    assert records.lines and len(api.answers) >= 9 and (not mounted("POST", "imports") or "imports" in ran)
    assert _tasks_ran() >= len(ran)
    assert "pushes" not in ran or any(r["method"] == "POST" for r in standin.requests)
    assert _in_secrets_manager() == {PASSWORD, TOKEN}  # the needles are findable where they belong


def _in_texts(texts: list[str]) -> list[str]:
    return [f"{needle!r} in {text[:200]!r}" for text in texts for needle in NEEDLES if needle in text]


def _tables() -> list[str]:
    with db.transaction() as cur:
        cur.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
        )
        return [row["table_name"] for row in cur.fetchall()]


def _in_tables() -> list[str]:
    """Each row of each table as text: every column, text, json, arrays and bytea (as hex) alike."""
    hits, tables = [], _tables()
    assert "dhis2_connections" in tables
    pattern = "|".join(re.escape(n) for n in NEEDLES)
    with db.transaction() as cur:
        for table in tables:
            cur.execute(
                db.composed("SELECT count(*) AS n FROM {table} AS t WHERE t::text ~ %s", table=table),
                (pattern,),
            )
            if cur.fetchone()["n"]:
                hits.append(table)
    return hits


def _in_buckets() -> list[str]:
    s3, hits = aws_client("s3"), []
    for bucket in (BUCKET, UPLOADS):
        for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
            data = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            if data[:2] == b"\x1f\x8b":
                data = gzip.decompress(data)
            text = data.decode("utf-8", "replace")
            hits += [f"{bucket}/{item['Key']}" for needle in NEEDLES if needle in text]
    return hits


def _tasks_ran() -> int:
    with db.transaction() as cur:
        cur.execute("SELECT count(*) AS n FROM tasks WHERE kind LIKE 'dhis2%%' AND status = 'SUCCESS'")
        return cur.fetchone()["n"]


def _in_secrets_manager() -> set[str]:
    sm, values = aws_client("secretsmanager"), set()
    for secret in sm.list_secrets()["SecretList"]:
        values.add(json.loads(sm.get_secret_value(SecretId=secret["ARN"])["SecretString"])["secret"])
    return values
