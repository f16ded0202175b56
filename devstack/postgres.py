"""A private PostgreSQL + PostGIS cluster for the tests and the local stack.

`initdb` + `pg_ctl` from Debian's postgresql-15 packages, TCP on 127.0.0.1 only, trust auth. When we
run as root (CI, containers) the server runs as the `postgres` user, since PostgreSQL refuses root.
"""

import glob
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import psycopg2

SUPERUSER = "georegistry"


def find_bin_dir() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    on_path = shutil.which("pg_config")
    if on_path:
        bindir = subprocess.run([on_path, "--bindir"], capture_output=True, text=True).stdout.strip()
        candidates.append(os.path.join(bindir, "initdb"))
    for initdb in candidates:
        if os.access(initdb, os.X_OK) and os.access(Path(initdb).with_name("pg_ctl"), os.X_OK):
            return Path(initdb).parent
    raise RuntimeError(
        "PostgreSQL server binaries not found (looked in /usr/lib/postgresql/*/bin). "
        "Install them with: sudo apt-get install postgresql-15 postgresql-15-postgis-3"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


class Cluster:
    def __init__(self, data_dir: Path, port: int, durable: bool = True):
        self.data_dir = Path(data_dir).absolute()
        self.port = port
        self.durable = durable
        self.bin_dir = find_bin_dir()
        self.as_postgres = os.geteuid() == 0

    def dsn(self, dbname: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({result.returncode}): {result.stderr or result.stdout}")
        return result

    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def init(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.as_postgres:
            shutil.chown(self.data_dir, "postgres", "postgres")
        self._run(
            "initdb", "-D", str(self.data_dir), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--locale=C"
        )

    def start(self) -> None:
        if not self.initialised():
            self.init()
        if port_in_use(self.port):
            raise RuntimeError(f"Port {self.port} is already in use: stop what runs there or choose another.")
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
        if not self.durable:
            # Throwaway test clusters trade crash safety for speed.
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", str(self.data_dir), "-o", options, "-l", str(self.log_file), "-w", "start")
        self._wait_ready()

    @property
    def log_file(self) -> Path:
        return self.data_dir / "server.log"

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                psycopg2.connect(self.dsn(), connect_timeout=2).close()
                return
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def running(self) -> bool:
        return (self.data_dir / "postmaster.pid").exists()

    def stop(self) -> None:
        if self.running():
            self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop")

    def create_database(self, name: str, template: str | None = None) -> str:
        """Creates `name` unless it exists; returns its DSN."""
        conn = psycopg2.connect(self.dsn())
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cur.fetchone() is None:
                template_clause = f' TEMPLATE "{template}"' if template else ""
                cur.execute(f'CREATE DATABASE "{name}"{template_clause}')
        conn.close()
        return self.dsn(name)
