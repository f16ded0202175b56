"""`make run`: the whole system on one machine.

PostgreSQL + PostGIS under .local/pg (kept between runs), a moto server standing in for S3, SQS and
Secrets Manager, Chalice's local server serving the API (devstack/api_server.py), and a worker loop
that feeds the local queues to the same handlers the SQS Lambdas run; beside them a DHIS2 stand-in
(devstack/dhis2_standin.py) with demo units, to connect to and import from; on the first start the
demo account imports them (devstack/demo_data.py). Ctrl-C stops everything this started.

Ports and the state directory can be moved with GEOREGISTRY_API_PORT, GEOREGISTRY_PG_PORT,
GEOREGISTRY_MOTO_PORT, GEOREGISTRY_DHIS2_PORT and GEOREGISTRY_LOCAL_DIR; GEOREGISTRY_DHIS2_VERSION
picks the stand-in's DHIS2 version (2.38.4; 2.36.13 for the older answer shapes).
"""

import json
import os
import re
import secrets
import shlex
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import boto3
import psycopg2

from devstack import demo_data
from devstack.console import prepare as prepare_console
from devstack.dhis2_standin import Dhis2StandIn, demo_standin
from devstack.postgres import Cluster, port_in_use

ROOT = Path(__file__).resolve().parents[1]
LOCAL = Path(os.environ.get("GEOREGISTRY_LOCAL_DIR", ROOT / ".local")).absolute()
API_PORT = int(os.environ.get("GEOREGISTRY_API_PORT", "8000"))
PG_PORT = int(os.environ.get("GEOREGISTRY_PG_PORT", "54329"))
MOTO_PORT = int(os.environ.get("GEOREGISTRY_MOTO_PORT", "5005"))
DHIS2_PORT = int(os.environ.get("GEOREGISTRY_DHIS2_PORT", "8081"))
DHIS2_VERSION = os.environ.get("GEOREGISTRY_DHIS2_VERSION", "2.38.4")  # 2.36.x: the older answer shapes
REGION = "eu-west-1"
COLLECT_KEY_IN_PATH = re.compile(rb"/key/[^/\s]+/")
JSON_HEADER = "-H 'Content-Type: application/json'"
READ_ID = "python3 -c 'import sys, json; print(json.load(sys.stdin)[\"id\"])'"

DEMO_ACCOUNT = "Demo"
DEMO_EMAIL = "demo@georegistry.local"
DEMO_PASSWORD = "demo-password"

BUCKETS = ("georegistry-local-uploads", "georegistry-local-exports", "georegistry-local-forms")


def say(message: str) -> None:
    print(f"[georegistry] {message}", flush=True)


def wait_for(description: str, check, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{description} did not come up within {timeout:.0f} s")
        time.sleep(0.2)


def token_secret() -> str:
    """Random, made once and kept, so tokens stay valid across restarts of the local stack."""
    path = LOCAL / "token_secret"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def start_postgres() -> tuple[Cluster, str]:
    cluster = Cluster(LOCAL / "pg", PG_PORT, durable=True)
    fresh = not cluster.initialised()
    state = "new cluster" if fresh else "reusing"
    say(f"PostgreSQL + PostGIS on 127.0.0.1:{PG_PORT} ({state} {cluster.data_dir})")
    if cluster.data_dir != cluster.requested_dir:
        say(f"({cluster.requested_dir} links there: the server runs as postgres, which cannot enter {ROOT})")
    if cluster.running() and port_in_use(PG_PORT):
        say("PostgreSQL was left running by an earlier run; using it")
    else:
        cluster.start()
    return cluster, cluster.create_database("georegistry")


def start_moto(log) -> subprocess.Popen:
    if port_in_use(MOTO_PORT):
        raise RuntimeError(f"Port {MOTO_PORT} is in use; set GEOREGISTRY_MOTO_PORT to a free one.")
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(MOTO_PORT)]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    wait_for("moto server", lambda: port_in_use(MOTO_PORT))
    say(f"moto (S3, SQS, Secrets Manager) on http://127.0.0.1:{MOTO_PORT}")
    return process


def create_aws_resources(endpoint: str, dsn: str) -> dict[str, str]:
    """Buckets, the tasks queue with its DLQ, and the secrets; returns the environment that names them."""
    session = boto3.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name=REGION)
    s3 = session.client("s3", endpoint_url=endpoint)
    for bucket in BUCKETS:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    sqs = session.client("sqs", endpoint_url=endpoint)
    from chalicelib.platform.config import TASKS_DLQ_NAME, TASKS_QUEUE_NAME

    dlq_url = sqs.create_queue(QueueName=TASKS_DLQ_NAME)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"})
    queue_url = sqs.create_queue(
        QueueName=TASKS_QUEUE_NAME, Attributes={"VisibilityTimeout": "60", "RedrivePolicy": redrive}
    )["QueueUrl"]
    route_uploads_to_ingestion(session, endpoint, s3, sqs)
    secrets_manager = session.client("secretsmanager", endpoint_url=endpoint)
    database = psycopg2.extensions.parse_dsn(dsn)
    db_secret = {"host": database["host"], "port": int(database["port"]), "username": database["user"],
                 "password": "", "dbname": database["dbname"]}  # fmt: skip
    db_arn = secrets_manager.create_secret(Name="georegistry-local-db", SecretString=json.dumps(db_secret))[
        "ARN"
    ]
    token_arn = secrets_manager.create_secret(Name="georegistry-local-token", SecretString=token_secret())[
        "ARN"
    ]
    return {
        "DB_SECRET_ARN": db_arn,
        "TOKEN_SECRET_ARN": token_arn,
        "TASKS_QUEUE_URL": queue_url,
        "TASKS_DLQ_URL": dlq_url,
        "UPLOADS_BUCKET": BUCKETS[0],
        "EXPORTS_BUCKET": BUCKETS[1],
        "FORMS_BUCKET": BUCKETS[2],
    }


def route_uploads_to_ingestion(session, endpoint: str, s3, sqs) -> None:
    """Uploads bucket → EventBridge "Object Created" → the ingest queue, as infra/ wires it in AWS."""
    from chalicelib.platform.config import INGEST_QUEUE_NAME

    url = sqs.create_queue(QueueName=INGEST_QUEUE_NAME, Attributes={"VisibilityTimeout": "60"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(
        Bucket=BUCKETS[0], NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    events = session.client("events", endpoint_url=endpoint)
    pattern = {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [BUCKETS[0]]}, "object": {"key": [{"prefix": "submissions/"}]}},
    }
    events.put_rule(Name="georegistry-local-uploads", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="georegistry-local-uploads", Targets=[{"Id": "ingest", "Arn": arn}])


def stack_environment(endpoint: str, resources: dict[str, str]) -> dict[str, str]:
    return {
        "STAGE": "local",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "POWERTOOLS_SERVICE_NAME": "georegistry",
        "POWERTOOLS_METRICS_NAMESPACE": "georegistry",
        "POWERTOOLS_METRICS_DISABLED": "true",
        **resources,
    }


def migrate_and_seed() -> bool:
    """Migrates; makes the demo account when it is missing, and says whether it did."""
    from chalicelib import cli
    from chalicelib.identity import accounts, accounts_sql
    from chalicelib.platform import db

    applied = cli.run_migrations()
    say(f"migrations: {len(applied)} applied" if applied else "migrations: up to date")
    with db.transaction() as cur:
        if accounts_sql.get_by_name(cur, DEMO_ACCOUNT) is None:
            accounts.bootstrap(
                cur, DEMO_ACCOUNT, DEMO_EMAIL, DEMO_PASSWORD, "Demo project", "org.georegistry.demo"
            )
            say("demo account created")
            return True
        say("demo account already there")
        return False


def start_api(log) -> subprocess.Popen:
    if port_in_use(API_PORT):
        raise RuntimeError(f"Port {API_PORT} is in use; set GEOREGISTRY_API_PORT to a free one.")
    command = [sys.executable, "-m", "devstack.api_server", "--stage", "local", "--host", "127.0.0.1",
               "--port", str(API_PORT)]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    threading.Thread(target=copy_redacted, args=(process.stdout, log), daemon=True).start()
    wait_for("the local API", lambda: _health_answers() or process.poll() is not None)
    if process.poll() is not None:
        raise RuntimeError(f"the local API exited with {process.returncode}; see {LOCAL / 'api.log'}")
    return process


def copy_redacted(lines, log) -> None:
    """chalice local logs each request's path, and a Collect token URL carries its secret."""
    for line in lines:
        log.write(COLLECT_KEY_IN_PATH.sub(rb"/key/<token>/", line))
        log.flush()


def _health_answers() -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{API_PORT}/api/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def stop_process(process: subprocess.Popen | None, name: str) -> None:
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    say(f"stopped {name}")


def operator_environment() -> str:
    """What the operator CLI (chalicelib/cli.py) needs to work on the local stack: its database, and
    the token secret (creating a user seals a credential with it), read from its file when used."""
    database = Cluster.dsn_at(PG_PORT, "georegistry")
    secret = shlex.quote(str(LOCAL / "token_secret"))
    return f'export STAGE=local DATABASE_URL={database} TOKEN_SECRET="$(cat {secret})"'


def start_dhis2() -> Dhis2StandIn:
    """On its port, or (that port taken) on any free one: the banner says where; it is only a demo."""
    if not port_in_use(DHIS2_PORT):
        return demo_standin(version=DHIS2_VERSION).start(DHIS2_PORT)
    say(f"port {DHIS2_PORT} is in use: the DHIS2 stand-in takes a free one (GEOREGISTRY_DHIS2_PORT sets it)")
    return demo_standin(version=DHIS2_VERSION).start()


def dhis2_banner(dhis2: Dhis2StandIn) -> str:
    """How to connect the demo account to the stand-in and import its tree, as commands to paste."""
    url, auth, json_in = f"http://127.0.0.1:{API_PORT}", '-H "Authorization: Bearer $TOKEN"', JSON_HEADER
    connection = demo_data.connection_body(dhis2)
    token = f", or the token {dhis2.token}" if dhis2.minor >= 37 else " (no tokens before DHIS2 2.37)"
    return f"""
  DHIS2        stand-in {dhis2.url}/api (DHIS2 {dhis2.version}, {len(dhis2.tree.units)} units)
               user {dhis2.username} / {dhis2.password}{token}
  connect it   CONN=$(curl -s -X POST {url}/api/dhis2/connections {auth} {json_in} \\
                 -d '{json.dumps(connection)}' | {READ_ID})
               curl -s -X POST {url}/api/dhis2/connections/$CONN/check {auth}
  import       SOURCE=$(curl -s -X POST {url}/api/data-sources {auth} {json_in} \\
                 -d '{{"name": "From DHIS2"}}' | {READ_ID})
               curl -s -X POST {url}/api/dhis2/connections/$CONN/imports {auth} {json_in} \\
                 -d '{{"data_source_id": '$SOURCE'}}'
               curl -s {url}/api/dhis2/connections/$CONN/runs {auth}"""


def banner(cluster: Cluster, dhis2: Dhis2StandIn) -> None:
    url = f"http://127.0.0.1:{API_PORT}"
    print(
        f"""
georegistry is running.
  API          {url}/api   (OpenAPI: {url}/api/openapi.json)
  console      {url}/console/   ({prepare_console()}; log in as the demo user below)
  health       curl {url}/api/health
  demo login   {DEMO_EMAIL} / {DEMO_PASSWORD}
  try          TOKEN=$(curl -s -X POST {url}/api/auth/login -H 'Content-Type: application/json' \\
                 -d '{{"email": "{DEMO_EMAIL}", "password": "{DEMO_PASSWORD}"}}' \\
                 | python3 -c 'import sys, json; print(json.load(sys.stdin)["token"])')
               curl -s {url}/api/me -H "Authorization: Bearer $TOKEN"{dhis2_banner(dhis2)}
  operator CLI {operator_environment()}
               .venv/bin/python -m chalicelib.cli --help   (or: eval "$(make -s operator-env)")
  logs         {LOCAL}/api.log, {LOCAL}/moto.log, {cluster.log_file}
Press Ctrl-C to stop.
georegistry ready""",
        flush=True,
    )


def main() -> int:
    LOCAL.mkdir(parents=True, exist_ok=True)
    LOCAL.chmod(0o755)  # the database server may run as the postgres user
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    cluster = moto = api = worker = dhis2 = None
    with open(LOCAL / "moto.log", "ab") as moto_log, open(LOCAL / "api.log", "ab") as api_log:
        try:
            cluster, dsn = start_postgres()
            moto = start_moto(moto_log)
            endpoint = f"http://127.0.0.1:{MOTO_PORT}"
            os.environ.update(stack_environment(endpoint, create_aws_resources(endpoint, dsn)))
            new_account = migrate_and_seed()
            api = start_api(api_log)
            worker = start_worker()
            dhis2 = start_dhis2()
            if new_account:
                api_url = f"http://127.0.0.1:{API_PORT}"
                say(demo_data.import_from_dhis2(api_url, DEMO_EMAIL, DEMO_PASSWORD, dhis2))
            banner(cluster, dhis2)
            while not stopping.wait(0.5):
                pass
        except Exception as error:
            say(f"could not start: {error}")
            return 1
        finally:
            say("stopping")
            if worker:
                worker.stop()
            if dhis2:
                dhis2.stop()
            stop_process(api, "API")
            stop_process(moto, "moto")
            if cluster:
                cluster.stop()
                say("stopped PostgreSQL")
    return 0


def start_worker():
    import app
    from chalicelib.platform import aws
    from devstack.worker import Worker

    worker = Worker(app, aws.client("sqs"))
    worker.start()
    consumers = ", ".join(source.queue for source in worker.queue_consumers()) or "none yet"
    say(f"worker loop: queues {consumers}; {len(worker.schedules())} schedule(s)")
    return worker


if __name__ == "__main__":
    if sys.argv[1:] == ["--operator-env"]:  # `make operator-env`
        print(operator_environment())
        sys.exit(0)
    sys.exit(main())
