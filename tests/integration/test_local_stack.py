"""The README's run command: up, usable with the printed credentials, Ctrl-C leaves nothing behind,
and a second run finds the first run's data."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

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
    def __init__(self, local_dir: Path):
        self.ports = {name: free_port() for name in ("API", "PG", "MOTO")}
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TOKEN_SECRET")}
        env |= {f"GEOREGISTRY_{name}_PORT": str(port) for name, port in self.ports.items()}
        env["GEOREGISTRY_LOCAL_DIR"] = str(local_dir)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "devstack.run"],
            cwd=ROOT,
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


def _demo_credentials(output: str) -> tuple[str, str]:
    email, password = re.search(r"demo login\s+(\S+) / (\S+)", output).groups()
    return email, password


def _processes_mentioning(text: str) -> list[str]:
    listing = subprocess.run(["ps", "-eo", "stat=,args="], capture_output=True, text=True).stdout
    return [line for line in listing.splitlines() if text in line and not line.lstrip().startswith("Z")]


@pytest.mark.slow
def test_run_command_brings_up_a_usable_stack_twice():
    # Not pytest's tmp_path: that is private to us, and the database server may run as `postgres`.
    root = Path(tempfile.mkdtemp(prefix="georegistry-stack-"))
    root.chmod(0o755)
    try:
        _bring_up_twice(root / "local")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _bring_up_twice(local_dir: Path) -> None:
    first = Stack(local_dir)
    try:
        status, health = _request("GET", f"{first.url}/api/health")
        assert status == 200 and health["database"]["ok"] and health["queues"]["tasks"]["ok"]
        email, password = _demo_credentials(first.output)
        _, login = _request("POST", f"{first.url}/api/auth/login", {"email": email, "password": password})
        status, me = _request("GET", f"{first.url}/api/me", token=login["token"])
        assert status == 200 and me["account"]["name"] == "Demo"
        project = {"name": "Kept", "app_id": "org.demo.kept"}
        assert _request("POST", f"{first.url}/api/projects", project, login["token"])[0] == 201
        _demo_task_succeeds(first.url, login["token"])
    finally:
        stopped = first.stop()
    assert "stopped PostgreSQL" in stopped
    assert not any(port_in_use(port) for port in first.ports.values())
    assert _processes_mentioning(str(local_dir)) == []

    second = Stack(local_dir)
    try:
        assert "demo account already there" in second.output
        _, login = _request("POST", f"{second.url}/api/auth/login", {"email": email, "password": password})
        _, projects = _request("GET", f"{second.url}/api/projects", token=login["token"])
        assert "Kept" in [p["name"] for p in projects["results"]]
    finally:
        second.stop()
    assert not any(port_in_use(port) for port in second.ports.values())
