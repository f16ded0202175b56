"""Submission ingestion throughput: N form_1-sized instances through the app's ingestion handler.

    .venv/bin/python -m bench.bench_ingestion [--submissions 10000] [--batch 10]

Starts a throwaway PostgreSQL 15 + PostGIS cluster and a moto server (S3 over real HTTP, as in the
local stack), migrates, creates an account and project, and publishes tests/fixtures/form_1.xlsx
(pyxform) as a form. Untimed setup: N upload grants, N copies of form_1_submission.xml (each with
its own instanceID) put in the uploads bucket, and as many 50 KB photos for the second round.

Timed, each in one run on the same data:
- ingestion: the SQS events that EventBridge would deliver (batches of `--batch` records, bodies
  shaped as S3 "Object Created" events) handed to `app.ingest_uploads`, as Lambda calls it: per
  object, the grant lookup, S3 GET, XML parsing into JSON with the form's descriptor, the insert,
  and a commit;
- the same with one attachment per submission (2N objects: the photo recorded, then the XML);
- anchor: per submission, S3 GET of the same XML + INSERT of its bytes into a bare table + commit,
  the least any ingestion that stores a submission durably must do.
"""

import argparse
import json
import logging
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg2
from moto.server import ThreadedMotoServer

from bench.bench_registry import set_environment, start_cluster

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
UPLOADS = "georegistry-bench-uploads"
FORM_UUID = "df8b4f5d-6b26-4fc5-a39a-6d923f740ecb"
PHOTO_BYTES = 50_000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--submissions", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=10)
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every request
    root = Path(tempfile.mkdtemp(prefix="georegistry-bench-"))
    root.chmod(0o755)
    cluster, dsn = start_cluster(root)
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    try:
        host, port = moto.get_host_and_port()
        set_environment(dsn)
        os.environ.update({"AWS_ENDPOINT_URL": f"http://{host}:{port}", "UPLOADS_BUCKET": UPLOADS})
        run(dsn, args)
    finally:
        from chalicelib.platform import db

        db.close()
        moto.stop()
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


def run(dsn: str, args: argparse.Namespace) -> None:
    from chalicelib import cli
    from chalicelib.identity import accounts
    from chalicelib.platform import aws, db
    from tests.integration.ingestkit import publish_form

    cli.run_migrations()
    with db.transaction() as cur:
        created = accounts.bootstrap(cur, "Bench", "admin@bench.example.org", "bench-password-1", "Surveys",
                                     "org.bench.surveys")  # fmt: skip
    account_id, project_id = created["account"]["id"], created["project"]["id"]
    user_id = created["user"]["id"]
    form = publish_form(account_id, [project_id], "form_1.xlsx")
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=UPLOADS, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    xml = (FIXTURES / "form_1_submission.xml").read_bytes()
    n = args.submissions
    plain = [str(uuid.uuid4()) for _ in range(n)]
    with_photo = [str(uuid.uuid4()) for _ in range(n)]
    started = time.perf_counter()
    objects = prepare(dsn, s3, account_id, project_id, user_id, form, xml, plain, with_photo)
    print(f"setup: {2 * n} grants, {3 * n} objects in S3 in {time.perf_counter() - started:.0f} s; "
          f"XML {len(xml):,} bytes, photo {PHOTO_BYTES:,} bytes")  # fmt: skip

    ingest = timed_ingestion(objects["plain"], args.batch)
    ingest_photo = timed_ingestion(objects["with_photo"], args.batch)
    anchor = timed_anchor(dsn, s3, objects["plain"])
    with db.transaction() as cur:
        cur.execute("SELECT count(*) AS n FROM submissions")
        stored = cur.fetchone()["n"]
        cur.execute("SELECT count(*) AS n FROM submission_files")
        files = cur.fetchone()["n"]
        cur.execute("SELECT count(*) AS n FROM quarantined_uploads")
        quarantined = cur.fetchone()["n"]
    assert (stored, files, quarantined) == (2 * n, n, 0), (stored, files, quarantined)
    print(f"\nResults: {n:,} submissions per round, SQS batches of {args.batch}, one process")
    print("| what | seconds | submissions/s | vs anchor |")
    print("| --- | ---: | ---: | ---: |")
    rounds = [("ingestion, XML only", ingest), ("ingestion, XML + one 50 KB photo", ingest_photo),
              ("anchor: S3 GET + INSERT of the bytes + COMMIT", anchor)]  # fmt: skip
    for label, seconds in rounds:
        print(f"| {label} | {seconds:.1f} | {n / seconds:,.0f} | {seconds / anchor:.2f}x |")


def prepare(dsn, s3, account_id, project_id, user_id, form, xml, plain, with_photo) -> dict:
    """Grants (straight into the table: they are the API's part, not ingestion's) and the objects."""
    objects = {"plain": [], "with_photo": []}
    photo = os.urandom(PHOTO_BYTES)
    conn = psycopg2.connect(dsn)
    with conn, conn.cursor() as cur:
        for kind, instance_uuids in (("plain", plain), ("with_photo", with_photo)):
            for instance_uuid in instance_uuids:
                prefix = f"submissions/{account_id}/{project_id}/{instance_uuid}/"
                files = [{"name": "instance.xml", "key": prefix + "instance.xml", "size": len(xml) + 100,
                          "content_type": "text/xml", "role": "xml"}]  # fmt: skip
                if kind == "with_photo":
                    files.append({"name": "photo.jpg", "key": prefix + "photo.jpg", "size": PHOTO_BYTES,
                                  "content_type": "image/jpeg", "role": "attachment"})  # fmt: skip
                    s3.put_object(Bucket=UPLOADS, Key=prefix + "photo.jpg", Body=photo)
                    objects[kind].append((prefix + "photo.jpg", PHOTO_BYTES))
                body = xml.replace(FORM_UUID.encode(), instance_uuid.encode())
                s3.put_object(Bucket=UPLOADS, Key=prefix + "instance.xml", Body=body)
                objects[kind].append((prefix + "instance.xml", len(body)))
                cur.execute(
                    """INSERT INTO submission_upload_grants (account_id, project_id, instance_uuid, user_id,
                                                             form_id, form_version_id, files)
                       VALUES (%s, %s, %s, %s, %s, %s, %s)""",
                    (account_id, project_id, instance_uuid, user_id, form["form_id"], form["version_id"],
                     json.dumps(files)),
                )  # fmt: skip
    conn.close()
    return objects


def sqs_event(objects: list[tuple[str, int]]) -> dict:
    records = []
    for key, size in objects:
        body = {"version": "0", "detail-type": "Object Created", "source": "aws.s3",
                "detail": {"bucket": {"name": UPLOADS}, "object": {"key": key, "size": size}}}  # fmt: skip
        records.append({"messageId": str(uuid.uuid4()), "receiptHandle": "r", "body": json.dumps(body),
                        "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
                        "eventSource": "aws:sqs",
                        "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:georegistry-ingest",
                        "awsRegion": "eu-west-1"})  # fmt: skip
    return {"Records": records}


def timed_ingestion(objects: list[tuple[str, int]], batch: int) -> float:
    import app
    from devstack.worker import LocalContext

    started = time.perf_counter()
    for first in range(0, len(objects), batch):
        result = app.ingest_uploads(
            sqs_event(objects[first : first + batch]), LocalContext("ingest_uploads", 60)
        )
        assert not result["batchItemFailures"], result
    return time.perf_counter() - started


def timed_anchor(dsn: str, s3, objects: list[tuple[str, int]]) -> float:
    conn = psycopg2.connect(dsn)
    with conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE anchor_submissions (id bigserial PRIMARY KEY, key text, xml bytea)")
    started = time.perf_counter()
    for key, _ in objects:
        body = s3.get_object(Bucket=UPLOADS, Key=key)["Body"].read()
        with conn, conn.cursor() as cur:
            cur.execute("INSERT INTO anchor_submissions (key, xml) VALUES (%s, %s)", (key, body))
    seconds = time.perf_counter() - started
    conn.close()
    return seconds


if __name__ == "__main__":
    main()
