"""`chalice package` on Python 3.12 (the Lambda runtime) produces a deployable template and zip."""

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAMBDA_ZIP_LIMIT = 50 * 1024 * 1024  # direct-upload limit for a Lambda deployment package


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    assert sys.version_info[:2] == (3, 12), "chalice package must run on the Lambda's Python"
    out = tmp_path_factory.mktemp("package")
    chalice = Path(sys.executable).with_name("chalice")
    env = os.environ | {"AWS_DEFAULT_REGION": "eu-west-1"}
    result = subprocess.run(
        [str(chalice), "package", "--stage", "dev", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out


@pytest.mark.slow
def test_package_has_the_app_its_migrations_and_linux_wheels(package):
    archive = package / "deployment.zip"
    assert archive.stat().st_size < LAMBDA_ZIP_LIMIT
    names = set(zipfile.ZipFile(archive).namelist())
    assert {"app.py", "chalicelib/db.py", "chalicelib/migrations/0002_tenancy.sql"} <= names
    assert any(name.startswith("psycopg2/_psycopg.cpython-312-x86_64-linux-gnu") for name in names)
    assert any(name.startswith("shapely/") for name in names)
    assert not any(name.startswith(("tests/", "devstack/", "moto/", "pytest/")) for name in names)
    # Chalice ships only its runtime, not its CLI or deployer
    assert {name for name in names if name.startswith("chalice/")} == {
        "chalice/__init__.py",
        "chalice/app.py",
    }


@pytest.mark.slow
def test_template_declares_the_api_function_on_python_312(package):
    template = json.loads((package / "sam.json").read_text())
    functions = {
        name: resource["Properties"]
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    assert "APIHandler" in functions
    assert {props["Runtime"] for props in functions.values()} == {"python3.12"}
    assert functions["APIHandler"]["Environment"]["Variables"]["STAGE"] == "dev"


@pytest.mark.slow
def test_task_workers_are_wired_to_their_queues_with_batch_size_one_and_a_long_timeout(package):
    resources = json.loads((package / "sam.json").read_text())["Resources"]
    run_task = resources["RunTask"]["Properties"]
    event = run_task["Events"]["RunTaskSqsEventSource"]["Properties"]
    assert event["BatchSize"] == 1
    assert "georegistry-tasks" in json.dumps(event["Queue"])
    assert run_task["Timeout"] == 900
    dead_letters = resources["TaskDeadLetter"]["Properties"]["Events"]["TaskDeadLetterSqsEventSource"]
    assert "georegistry-tasks-dlq" in json.dumps(dead_letters["Properties"]["Queue"])
    schedule = resources["TaskHousekeeping"]["Properties"]["Events"]["TaskHousekeepingEvent"]["Properties"]
    assert schedule["Schedule"] == "rate(5 minutes)"
