"""A DHIS2 tree import (the dhis2.import task) beside the anchor of fetching the same pages and parsing
their JSON alone, in one run, and the import's peak worker memory at two sizes.

    .venv/bin/python -m bench.bench_dhis2_import --units 100000 --small 10000

The DHIS2 stand-in (devstack/dhis2_standin.py) serves `generated_tree(N)` from a process of its own
(DHIS2 is another machine), its answers kept once made: after an untimed first pass, each page costs
the stand-in only its JSON encoding, so that the anchor is as fast as a DHIS2 can be and the ratio
as hard as it can be (a real DHIS2 takes 1-5 s per page of 1,000, which both sides would wait for).
The anchor is our DHIS2 client paging `/api/organisationUnits` with the import's fields, 1,000 a
page, parsing each page (no writing). Ours is the task, run by the engine as a worker runs it, into
a new version each time, with S3 a moto server of its own and PostgreSQL a cluster of its own. The
two alternate, `--rounds` times; medians. Each import runs in a forked copy of this process, whose
memory growth (VmHWM above where it started) is the worker's own; its reader (read_ahead, a child
of the worker) is sampled for its unique set size, as in bench_imports.
"""

import argparse
import multiprocessing
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import boto3

from bench.bench_imports import MotoServer, in_child, run_task
from bench.bench_registry import ADMIN_EMAIL, PASSWORD, set_environment, start_cluster
from devstack.dhis2_standin import Dhis2StandIn, generated_tree

USER, SECRET = "admin", "district-bench"


class CachedStandIn(Dhis2StandIn):
    """The stand-in with its answers kept by request: a page is made once."""

    def answer(self, path, query):
        key = (path, tuple(sorted((name, tuple(values)) for name, values in query.items())))
        cache = self.__dict__.setdefault("_answers", {})
        if key not in cache:
            cache[key] = super().answer(path, query)
        return cache[key]


def serve(units: int, started, cached: bool) -> None:
    kind = CachedStandIn if cached else Dhis2StandIn
    standin = kind(*generated_tree(units), username=USER, password=SECRET).start()
    started.send(standin.url)
    started.recv()  # until the bench is done
    standin.stop()


def start_standin(units: int, cached: bool):
    ours, theirs = multiprocessing.Pipe()
    process = multiprocessing.get_context("fork").Process(
        target=serve, args=(units, theirs, cached), daemon=True
    )
    process.start()
    return process, ours, ours.recv()


def setup(url: str, units: int) -> dict:
    from chalicelib import cli
    from chalicelib.dhis2 import connections
    from chalicelib.identity import accounts
    from chalicelib.identity.authentication import principal_of_launcher
    from chalicelib.platform import db
    from chalicelib.registry import reference_data

    cli.run_migrations()
    with db.transaction() as cur:
        created = accounts.bootstrap(
            cur,
            f"Bench Ministry {units}",
            f"{units}.{ADMIN_EMAIL}",
            PASSWORD,
            "HMIS",
            f"org.bench.hmis{units}",
        )
        principal = principal_of_launcher(cur, created["user"]["id"])
        source = reference_data.create_source(cur, principal, "DHIS2 mirror", "", False)
        fields = {"name": "Bench DHIS2", "base_url": url, "auth_kind": "basic", "username": USER}
        connection = connections.create(cur, principal, fields | {"password": SECRET})
    return {"account": created["account"]["id"], "user": created["user"]["id"], "source": source["id"],
            "connection": connection["id"]}  # fmt: skip


def anchor(url: str) -> int:
    """Our client paging the same units with the same fields, level by level as the import does, each
    page parsed, nothing written."""
    from chalicelib.dhis2 import tree_fetch
    from chalicelib.dhis2.client import Credentials, Dhis2Client

    client = Dhis2Client(Credentials(url, "basic", USER, SECRET))
    return sum(len(page.items) for _, page in tree_fetch.tree_pages(client))


def ours(ids: dict) -> dict:
    from chalicelib.dhis2 import tree_import

    params = {"connection_id": ids["connection"], "data_source_id": ids["source"], "skip_invalid": False}
    row = run_task(tree_import.KIND, params, {"account": ids["account"], "user": ids["user"]})
    return row["result"]


def measure(units: int, rounds: int, cached: bool) -> dict:
    process, pipe, url = start_standin(units, cached)
    try:
        ids = setup(url, units)
        begin = time.perf_counter()
        assert anchor(url) == units + 13  # the untimed first pass: the stand-in makes its pages
        print(f"  first pass (the stand-in makes its pages) {time.perf_counter() - begin:6.2f} s", flush=True)
        anchors, imports, growths, readers = [], [], [], []
        for _ in range(rounds):
            begin = time.perf_counter()
            anchor(url)
            anchors.append(time.perf_counter() - begin)
            seconds, growth, reader, result = in_child(lambda: ours(ids))
            assert result["created"] == units + 13, result
            imports.append(seconds)
            growths.append(growth)
            readers.append(reader)
            print(f"  anchor {anchors[-1]:6.2f} s   ours {seconds:6.2f} s   worker +{growth:5.0f} MB"
                  f"   reader {reader:5.0f} MB", flush=True)  # fmt: skip
        return {"anchor": statistics.median(anchors), "ours": statistics.median(imports),
                "growth": max(growths), "reader": max(readers)}  # fmt: skip
    finally:
        pipe.send("done")
        process.join(timeout=10)
        from chalicelib.platform import db

        db.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--server", choices=("plain", "cached"), default="plain")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="georegistry-bench-"))
    root.chmod(0o755)
    cluster, dsn = start_cluster(root)
    moto = MotoServer(root)
    try:
        set_environment(dsn)
        os.environ |= {"EXPORTS_BUCKET": "bench-exports", "TASK_PROGRESS_INTERVAL_SECONDS": "1",
                       "AWS_ENDPOINT_URL": moto.endpoint}  # fmt: skip
        sqs = boto3.client("sqs", region_name="eu-west-1", endpoint_url=moto.endpoint)
        os.environ["TASKS_QUEUE_URL"] = sqs.create_queue(QueueName="bench-tasks")["QueueUrl"]
        s3 = boto3.client("s3", region_name="eu-west-1", endpoint_url=moto.endpoint)
        s3.create_bucket(
            Bucket="bench-exports", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        figures = {}
        for units in (args.small, args.units):
            print(f"{units:,} facilities (+13 units above them)", flush=True)
            figures[units] = measure(units, args.rounds, args.server == "cached")
        for units, got in figures.items():
            ratio = got["ours"] / got["anchor"]
            memory = f"worker +{got['growth']:.0f} MB, reader {got['reader']:.0f} MB"
            times = f"ours {got['ours']:6.2f} s, anchor {got['anchor']:6.2f} s, ratio {ratio:4.2f}x"
            print(f"{units:>9,} units: {times}; {memory}")
    finally:
        from chalicelib.platform import db

        db.close()
        moto.stop()
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
