"""The README's run command: up, usable with the printed credentials, Ctrl-C leaves nothing behind,
and a second run finds the first run's data."""

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from devstack import demo_data
from devstack.postgres import free_port, port_in_use

ROOT = Path(__file__).resolve().parents[2]


def _request(method: str, url: str, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


class Stack:
    """`make run` (after its setup step) in `clone`: the README's run command, with free ports."""

    def __init__(self, clone: Path):
        self.ports = {name: free_port() for name in ("API", "PG", "MOTO")}
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TOKEN_SECRET")}
        env |= {f"GEOREGISTRY_{name}_PORT": str(port) for name, port in self.ports.items()}
        env.pop("GEOREGISTRY_LOCAL_DIR", None)  # the default, .local in the clone, is what users get
        self.process = subprocess.Popen(
            [".venv/bin/python", "-m", "devstack.run"],  # what `make run` runs
            cwd=clone,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.output = self._read_until("georegistry ready")
        self.url = f"http://127.0.0.1:{self.ports['API']}"

    def _read_until(self, marker: str, timeout: float = 90) -> str:
        lines, deadline = [], time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line and self.process.poll() is not None:
                break
            lines.append(line)
            if marker in line:
                return "".join(lines)
        self.process.kill()
        self.process.communicate()
        pytest.fail("local stack did not start:\n" + "".join(lines))

    def stop(self) -> str:
        self.process.send_signal(signal.SIGINT)
        rest, _ = self.process.communicate(timeout=60)
        assert self.process.returncode == 0, rest
        return rest


def _demo_task_succeeds(url: str, token: str) -> None:
    """The API enqueues, the local worker loop runs it from the moto queue, the API shows SUCCESS."""
    status, task = _request("POST", f"{url}/api/tasks/demo", {"n": 3}, token)
    assert status == 201
    deadline = time.monotonic() + 30
    while task["status"] in ("QUEUED", "RUNNING") and time.monotonic() < deadline:
        time.sleep(0.2)
        _, task = _request("GET", f"{url}/api/tasks/{task['id']}", token=token)
    assert task["status"] == "SUCCESS" and task["result"] == {"counted": 3}
    assert task["artifacts"][0]["url"].startswith("http://127.0.0.1:")


def _demo_registry_is_imported(output: str, url: str, token: str) -> None:
    """The first start imports the DHIS2 stand-in's units into the demo account, as a task."""
    units = int(re.search(r"demo registry: importing the stand-in's (\d+) units", output).group(1))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        _, sources = _request("GET", f"{url}/api/data-sources", token=token)
        found = [s for s in sources["results"] if s["name"] == demo_data.SOURCE_NAME]
        _, listed = _request("GET", f"{url}/api/data-sources/{found[0]['id']}/versions", token=token)
        if any(version["org_unit_count"] == units for version in listed["results"]):
            return
        time.sleep(0.5)
    pytest.fail(f"the demo registry never got its {units} units: {listed}")


def _demo_credentials(output: str) -> tuple[str, str]:
    email, password = re.search(r"demo login\s+(\S+) / (\S+)", output).groups()
    return email, password


def _processes_mentioning(text: str) -> list[str]:
    listing = subprocess.run(["ps", "-eo", "stat=,args="], capture_output=True, text=True).stdout
    return [line for line in listing.splitlines() if text in line and not line.lstrip().startswith("Z")]


def private_clone() -> Path:
    """This working tree copied into a fresh `mktemp -d` (mode 0700: only its owner, root when the
    tests run as root, may enter it, as under /root), sharing our virtualenv. Returns the clone."""
    root = Path(tempfile.mkdtemp(prefix="georegistry-clone-"))
    clone = root / "georegistry"
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    for name in filter(None, listed.split("\0")):
        if (ROOT / name).is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, clone / name)
    (clone / ".venv").symlink_to(ROOT / ".venv")
    return clone


def remove_clone(clone: Path) -> None:
    cluster_dir = clone / ".local" / "pg"
    if cluster_dir.is_symlink():  # relocated, as root (devstack/postgres.py)
        shutil.rmtree(cluster_dir.resolve(), ignore_errors=True)
    shutil.rmtree(clone.parent, ignore_errors=True)


def _operator_cli_works(clone: Path, banner: str, url: str) -> None:
    """The operator CLI, with exactly the environment the banner prints, on the running stack."""
    exports = re.search(r"operator CLI\s+(export .*)", banner).group(1)
    cli = ".venv/bin/python -m chalicelib.cli"
    script = f"{exports}\n{cli} migrate\n{cli} create-account --name Ops --admin-email ops@example.org" \
        " --project Field --app-id org.ops.field"  # fmt: skip
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/"), "ADMIN_PASSWORD": "ops-password"}
    done = subprocess.run(["bash", "-c", script], cwd=clone, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    migrated, created = map(json.loads, done.stdout.splitlines())
    assert migrated == {"applied": []} and created["account_id"]
    login = {"email": "ops@example.org", "password": "ops-password"}
    assert _request("POST", f"{url}/api/auth/login", login)[0] == 200


def _one_line_per_record(*outputs: str) -> None:
    """Chalice's text lines ("georegistry - INFO - …") doubled every JSON log line."""
    assert not [line for text in outputs for line in text.splitlines() if line.startswith("georegistry - ")]


@pytest.fixture(scope="module")
def clone():
    made = private_clone()
    yield made
    remove_clone(made)


@pytest.mark.slow
def test_run_command_from_a_clone_only_root_can_enter_is_usable_twice(clone):
    _bring_up_twice(clone)


@pytest.mark.slow
def test_the_test_command_runs_from_a_clone_only_root_can_enter(clone):
    """`make test`'s own machinery (conftest's cluster, migrations, PostGIS) on one small file,
    rather than the whole suite again."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PYTEST_ADDOPTS")}
    command = [
        ".venv/bin/python",
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "tests/integration/test_postgis.py",
    ]
    done = subprocess.run(command, cwd=clone, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and " passed" in done.stdout, done.stdout + done.stderr


def _chunked_login(url: str, email: str, password: str) -> dict:
    """A body sent in chunks, as pyodk sends attachments: the local API joins them as API Gateway does."""
    body = json.dumps({"email": email, "password": password}).encode()
    request = urllib.request.Request(
        f"{url}/api/auth/login",
        data=iter([body[:7], body[7:]]),
        method="POST",
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _bring_up_twice(clone: Path) -> None:
    first = Stack(clone)
    try:
        status, health = _request("GET", f"{first.url}/api/health")
        assert status == 200 and health["database"]["ok"] and health["queues"]["tasks"]["ok"]
        email, password = _demo_credentials(first.output)
        login = _chunked_login(first.url, email, password)
        status, me = _request("GET", f"{first.url}/api/me", token=login["token"])
        assert status == 200 and me["account"]["name"] == "Demo"
        project = {"name": "Kept", "app_id": "org.demo.kept"}
        assert _request("POST", f"{first.url}/api/projects", project, login["token"])[0] == 201
        _demo_task_succeeds(first.url, login["token"])
        _demo_registry_is_imported(first.output, first.url, login["token"])
        _operator_cli_works(clone, first.output, first.url)
    finally:
        stopped = first.stop()
    assert "stopped PostgreSQL" in stopped
    _one_line_per_record(first.output, stopped, (clone / ".local" / "api.log").read_text())
    assert not any(port_in_use(port) for port in first.ports.values())
    cluster_dir = (clone / ".local" / "pg").resolve()
    assert _processes_mentioning(str(clone)) == [] and _processes_mentioning(str(cluster_dir)) == []

    second = Stack(clone)
    try:
        assert "demo account already there" in second.output
        assert "demo registry" not in second.output  # imported once, on the first start
        _, login = _request("POST", f"{second.url}/api/auth/login", {"email": email, "password": password})
        _, projects = _request("GET", f"{second.url}/api/projects", token=login["token"])
        assert "Kept" in [p["name"] for p in projects["results"]]
    finally:
        second.stop()
    assert not any(port_in_use(port) for port in second.ports.values())
