"""A private PostgreSQL + PostGIS cluster for the tests and the local stack.

`initdb` + `pg_ctl` from Debian's postgresql-15 packages, TCP on 127.0.0.1 only, trust auth. When we
run as root (CI, containers) the server runs as the `postgres` user, since PostgreSQL refuses root.
That user cannot enter a clone under /root or a `mktemp -d` (mode 0700): the cluster then lives
under /var/tmp/georegistry-postgres/ instead, in a directory named after the path asked for, which
becomes a symlink to it (see `reachable_data_dir`).
"""

import glob
import hashlib
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import psycopg2

SUPERUSER = "georegistry"
SERVER_USER = "postgres"  # who runs the server when we are root
# Kept across reboots (unlike /tmp), so `make run` finds its data again; reachable by SERVER_USER.
RELOCATED_ROOT = Path("/var/tmp/georegistry-postgres")


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


def server_user_can_enter(directory: Path) -> bool:
    """Whether SERVER_USER may reach `directory` (search permission on it and every directory above)."""
    check = ["runuser", "-u", SERVER_USER, "--", "test", "-x", str(directory)]
    return subprocess.run(check, cwd="/", capture_output=True).returncode == 0


def relocated_dir(wanted: Path) -> Path:
    """Where the cluster asked for at `wanted` lives when SERVER_USER cannot reach `wanted`: one
    directory per wanted path, so two clones (or a clone and its tests) never share a cluster."""
    digest = hashlib.sha256(str(wanted).encode()).hexdigest()[:16]
    return RELOCATED_ROOT / f"{wanted.parent.parent.name}-{wanted.parent.name}-{wanted.name}-{digest}"


def reachable_data_dir(wanted: Path) -> Path:
    """The data directory the server will use for `wanted`: `wanted` itself if SERVER_USER can enter
    its parent, else relocated_dir(wanted), with `wanted` made a symlink to it (so the clone still
    shows where its data is, and the next run finds it)."""
    if wanted.is_symlink():
        return wanted.resolve()
    wanted.parent.mkdir(parents=True, exist_ok=True)
    if server_user_can_enter(wanted.parent):
        return wanted
    if wanted.is_dir() and not any(wanted.iterdir()):
        wanted.rmdir()  # left by a run that failed before this existed
    if wanted.exists():
        raise RuntimeError(f"{wanted} exists, but the {SERVER_USER} user cannot enter {wanted.parent}.")
    real = relocated_dir(wanted)
    RELOCATED_ROOT.mkdir(mode=0o755, exist_ok=True)
    if RELOCATED_ROOT.is_symlink() or RELOCATED_ROOT.stat().st_uid != 0:  # another user's trap
        raise RuntimeError(f"{RELOCATED_ROOT} must be a directory owned by root; remove it.")
    RELOCATED_ROOT.chmod(0o755)
    real.mkdir(mode=0o700, exist_ok=True)
    wanted.symlink_to(real, target_is_directory=True)
    return real


class Cluster:
    def __init__(self, data_dir: Path, port: int, durable: bool = True):
        self.as_postgres = os.geteuid() == 0
        wanted = Path(data_dir).absolute()
        self.requested_dir = wanted
        self.data_dir = reachable_data_dir(wanted) if self.as_postgres else wanted
        self.port = port
        self.durable = durable
        self.bin_dir = find_bin_dir()

    def dsn(self, dbname: str = "postgres") -> str:
        return self.dsn_at(self.port, dbname)

    @staticmethod
    def dsn_at(port: int, dbname: str) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{port}/{dbname}"

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.as_postgres:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        # cwd: SERVER_USER may not be able to enter ours
        result = subprocess.run(command, cwd=self.data_dir.parent, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({result.returncode}): {result.stderr or result.stdout}")
        return result

    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def init(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.as_postgres:
            shutil.chown(self.data_dir, SERVER_USER, SERVER_USER)
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

    def remove(self) -> None:
        """Stops the cluster and deletes its data, wherever it lives (relocated or not)."""
        self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)
        if self.requested_dir.is_symlink():
            self.requested_dir.unlink()

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
