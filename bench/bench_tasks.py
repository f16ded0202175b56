"""Task engine overhead, beside its anchors, in one run.

    .venv/bin/python -m bench.bench_tasks [--rounds 200] [--progress-calls 10000]

Starts a throwaway PostgreSQL + PostGIS and a moto server (real HTTP, as the local stack uses), then:
- enqueue → claim: time from the API's `enqueue` (row insert, commit, SQS send) until the task
  function starts in a worker that long-polls the queue; anchor: a bare SQS send → receive round
  trip plus a bare INSERT + COMMIT, on the same server and database.
- 10,000 progress calls inside one task, throttled (the default one write per second) and
  unthrottled (every call writes); anchor: 10,000 single-row UPDATEs + COMMITs on one connection.
"""

import argparse
import json
import logging
import os
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

import boto3
import psycopg2
from moto.server import ThreadedMotoServer

from devstack.postgres import Cluster, free_port


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def summary(values: list[float]) -> str:
    return (
        f"median {statistics.median(values) * 1000:7.2f} ms   p95 {percentile(values, 0.95) * 1000:7.2f} ms"
    )


def start_stack(root: Path) -> tuple[Cluster, ThreadedMotoServer, str]:
    cluster = Cluster(root / "pg", free_port(), durable=True)
    cluster.start()
    dsn = cluster.create_database("bench")
    moto_port = free_port()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
    moto.start()
    endpoint = f"http://127.0.0.1:{moto_port}"
    os.environ.update(
        {
            "DATABASE_URL": dsn,
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "eu-west-1",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "TOKEN_SECRET": "bench",
        }
    )
    sqs = boto3.client("sqs", region_name="eu-west-1", endpoint_url=endpoint)
    os.environ["TASKS_QUEUE_URL"] = sqs.create_queue(QueueName="georegistry-tasks")["QueueUrl"]
    return cluster, moto, dsn


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--progress-calls", type=int, default=10_000)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="georegistry-bench-"))
    root.chmod(0o755)
    cluster, moto, dsn = start_stack(root)
    try:
        run(dsn, args.rounds, args.progress_calls)
    finally:
        moto.stop()
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


def run(dsn: str, rounds: int, progress_calls: int) -> None:
    from chalicelib import cli
    from chalicelib.identity import accounts_sql
    from chalicelib.platform import aws, config, db
    from chalicelib.tasks import engine

    cli.run_migrations()
    with db.transaction() as cur:
        account_id = accounts_sql.create(cur, "bench")["id"]
    started: dict[int, float] = {}

    @engine.task("bench.noop")
    def noop(ctx):
        started[ctx.task["id"]] = time.perf_counter()
        return None

    @engine.task("bench.progress")
    def progress(ctx):
        begin = time.perf_counter()
        for i in range(progress_calls):
            ctx.progress(i + 1, progress_calls)
        return {"seconds": time.perf_counter() - begin}

    sqs, queue_url = aws.client("sqs"), config.settings().tasks_queue_url
    stop = threading.Event()

    def worker():
        while not stop.is_set():
            messages = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1).get("Messages", [])
            for message in messages:
                engine.run(json.loads(message["Body"])["task_id"])
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        db.close()

    consumer = threading.Thread(target=worker)
    consumer.start()
    enqueue_costs, latencies = [], []
    for _ in range(rounds):
        begin = time.perf_counter()
        with db.transaction() as cur:
            task_id = engine.enqueue(cur, account_id, None, "bench.noop", {})["id"]
        enqueue_costs.append(time.perf_counter() - begin)  # includes the send after commit
        while task_id not in started:
            time.sleep(0.0005)
        latencies.append(started[task_id] - begin)
    stop.set()
    consumer.join()

    round_trips, inserts = anchor_round_trips(sqs, queue_url, dsn, rounds)
    print(f"enqueue → claim over {rounds} tasks (one worker long-polling moto SQS, real PostgreSQL)")
    print(f"  enqueue (insert + commit + SQS send)   {summary(enqueue_costs)}")
    print(f"  enqueue → task function starts         {summary(latencies)}")
    print(f"  anchor: SQS send → receive round trip  {summary(round_trips)}")
    print(f"  anchor: INSERT + COMMIT                {summary(inserts)}")
    anchor = statistics.median(round_trips) + statistics.median(inserts)
    print(f"  ratio enqueue→start / (round trip + insert) = {statistics.median(latencies) / anchor:.2f}")

    os.environ["TASK_PROGRESS_INTERVAL_SECONDS"] = "1"
    config.reset()
    throttled = run_progress_task(account_id)
    os.environ["TASK_PROGRESS_INTERVAL_SECONDS"] = "0"
    config.reset()
    unthrottled = run_progress_task(account_id)
    updates = anchor_updates(dsn, progress_calls)
    print(f"{progress_calls} progress calls in one task")
    for label, seconds in (
        ("throttled (1 write/s, default) ", throttled),
        ("unthrottled (every call writes)", unthrottled),
    ):
        print(f"  {label} {seconds:8.3f} s   {seconds / progress_calls * 1e6:7.2f} µs/call")
    print(f"  anchor: {progress_calls} UPDATE+COMMIT     {updates:8.3f} s")
    print(f"  ratio throttled / anchor = {throttled / updates:.4f}")
    print(f"  ratio unthrottled / anchor = {unthrottled / updates:.2f}")


def run_progress_task(account_id: int) -> float:
    from chalicelib.platform import db
    from chalicelib.tasks import engine, tasks_sql

    with db.transaction() as cur:
        task_id = tasks_sql.insert(cur, account_id, None, "bench.progress", {})["id"]
    engine.run(task_id)
    with db.transaction() as cur:
        return tasks_sql.get_any(cur, task_id)["result"]["seconds"]


def anchor_round_trips(sqs, queue_url: str, dsn: str, rounds: int) -> tuple[list[float], list[float]]:
    trips, inserts = [], []
    conn = psycopg2.connect(dsn)
    with conn.cursor() as cur:
        cur.execute("CREATE TEMP TABLE anchor (id serial PRIMARY KEY, body jsonb)")
    conn.commit()
    for _ in range(rounds):
        begin = time.perf_counter()
        sqs.send_message(QueueUrl=queue_url, MessageBody="{}")
        while True:
            messages = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1).get("Messages", [])
            if messages:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=messages[0]["ReceiptHandle"])
                break
        trips.append(time.perf_counter() - begin)
        begin = time.perf_counter()
        with conn.cursor() as cur:
            cur.execute("INSERT INTO anchor (body) VALUES ('{}')")
        conn.commit()
        inserts.append(time.perf_counter() - begin)
    conn.close()
    return trips, inserts


def anchor_updates(dsn: str, count: int) -> float:
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE TEMP TABLE progress_anchor (id int PRIMARY KEY, value bigint)")
        cur.execute("INSERT INTO progress_anchor VALUES (1, 0)")
        begin = time.perf_counter()
        for i in range(count):
            cur.execute("UPDATE progress_anchor SET value = %s WHERE id = 1", (i,))
        elapsed = time.perf_counter() - begin
    conn.close()
    return elapsed


if __name__ == "__main__":
    main()
