"""Peak memory of each hostile-input case, beside the memory of the Lambda function that would run it.

    .venv/bin/python -m bench.bench_hostile [--stage dev] [--jobs 2] [-k SUBSTRING] [--limit N] [--json FILE]

Each test of tests/*/test_hostile_*.py (one parametrized case each) runs alone in a fresh
`python -m pytest <node id>`, so its peak is its own. This module is also loaded into that process
as a pytest plugin (`-p bench.bench_hostile`), which reports:
- the process's own peak resident set (VmHWM of /proc/self/status when pytest ends): the test, the
  app, moto's threaded server, the task or ingestion run in-process;
- the peak resident set of each child it forked with os.fork() (the XLSForm conversion child, the
  import reader, the export writer), from os.wait4() when the app collects it, killed ones
  included. The processes that subprocess starts (initdb, pg_ctl) are not counted: PostgreSQL is
  not in the Lambda.
The total is the process's peak plus its largest child's, an upper bound of what the Lambda holds
(pages the child shares with its parent are counted twice, and both peaks as if at once). A child's
ru_maxrss counts only the inherited pages it touches, so its peak less its parent's resident set at
the fork would measure nothing: the sum is the figure held to the Lambda's memory.
The credential cases run a second time with a deployed stage's scrypt cost (the tests' is cheap).
Baselines: a trivial test with the unit and with the integration fixtures (app, PostgreSQL, client).
The function of a case is the API handler unless a rule below names a task or the ingestion; its
Lambda memory is the stage's in .chalice/config.json. Exits 1 if a total exceeds its Lambda's memory.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOSTILE_FILES = ["tests/integration/test_hostile_*.py", "tests/unit/test_hostile_*.py"]
OUT_ENV = "BENCH_HOSTILE_OUT"
SCRYPT_ENV = "BENCH_HOSTILE_SCRYPT_N"
# The tests hash with a cheap scrypt; a deployed stage's login holds 128 MiB at OWASP's cost.
PRODUCTION_SCRYPT_N = 2**17
SCRYPT_CASES = r"test_hostile_credentials\.py"
CHALICE_DEFAULT_MB = 128
CASE_TIMEOUT_SECONDS = 900
# (pattern searched in the node id, the function that would run it), first match wins.
FUNCTION_RULES = [
    (r"test_hostile_files\.py", "run_task"),  # imports
    (r"test_hostile_kill\.py", "run_task"),
    (r"test_ingestion_quarantines", "ingest_uploads"),
    (r"test_bulk_", "run_task"),  # the bulk zip is ingested as a task
    (r"test_a_10_mb_|test_a_nul_in_an_input_error|ends_a_task_errored|test_an_import_problem", "run_task"),
    (
        r"unit/test_hostile_nesting_parsers\.py::test_(xml|more_elements|same_named|a_long_repeat|an_entity)",
        "ingest_uploads",
    ),
    (r"unit/test_hostile_nesting_parsers\.py::test_(answers|an_unreadable|an_instance_id)", "ingest_uploads"),
]
DEFAULT_FUNCTION = "api_handler"
BASELINE_TEST = "def test_baseline({fixtures}):\n    pass\n"
BASELINES = {
    "baseline: trivial unit test": ("", ["tests.conftest"]),
    "baseline: trivial integration test (app, PostgreSQL, client)": (
        "client",
        ["tests.conftest", "tests.integration.conftest"],
    ),
}


# --- the plugin, in the measured pytest process -------------------------------------------------

_measured_pid = os.getpid()
_forked: set[int] = set()
_children_kib: dict[int, int] = {}


def pytest_configure(config) -> None:
    if os.environ.get(OUT_ENV):
        _watch_forks()
    if os.environ.get(SCRYPT_ENV):  # after tests/conftest.py has set the tests' cheap cost
        os.environ["PASSWORD_SCRYPT_N"] = os.environ[SCRYPT_ENV]


def pytest_unconfigure(config) -> None:
    out = os.environ.get(OUT_ENV)
    if out and os.getpid() == _measured_pid:
        figures = {"self_kib": _status_kib("VmHWM"), "children_kib": _children_kib}
        Path(out).write_text(json.dumps(figures))


def _watch_forks() -> None:
    """os.fork remembers the children it makes; os.waitpid collects with os.wait4, which also gives
    the collected child's peak (the kernel's ru_maxrss), kept for the children os.fork made."""
    real_fork, real_wait4 = os.fork, os.wait4

    def fork() -> int:
        pid = real_fork()
        if pid:
            _forked.add(pid)
        return pid

    def waitpid(pid: int, options: int) -> tuple[int, int]:
        ended, status, usage = real_wait4(pid, options)
        if ended in _forked:
            _children_kib[ended] = usage.ru_maxrss
        return ended, status

    os.fork, os.waitpid = fork, waitpid


def _status_kib(field: str) -> int:
    status = Path("/proc/self/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+) kB", status, re.M).group(1))


# --- the runner ---------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    function: str
    env: dict[str, str] = field(default_factory=dict)
    self_mb: float = 0.0
    child_mb: float = 0.0
    passed: bool = False

    @property
    def total_mb(self) -> float:
        return self.self_mb + self.child_mb

    @property
    def label(self) -> str:
        return self.name + (" (scrypt at the production cost)" if SCRYPT_ENV in self.env else "")


def lambda_memory(stage: str) -> dict[str, int]:
    """Each function's lambda_memory_size in the stage (function, then stage, then top level)."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    staged = config["stages"][stage]
    default = staged.get("lambda_memory_size", config.get("lambda_memory_size", CHALICE_DEFAULT_MB))
    functions = set(config.get("lambda_functions", {})) | {"api_handler"}
    per_function = staged.get("lambda_functions", {})
    return {name: per_function.get(name, {}).get("lambda_memory_size", default) for name in functions}


def function_of(node_id: str) -> str:
    for pattern, function in FUNCTION_RULES:
        if re.search(pattern, node_id):
            return function
    return DEFAULT_FUNCTION


def collect() -> list[str]:
    files = sorted(str(path.relative_to(ROOT)) for pattern in HOSTILE_FILES for path in ROOT.glob(pattern))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *files],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return [line for line in result.stdout.splitlines() if "::" in line]


def measure(case: Case, pytest_args: list[str]) -> Case:
    """Runs pytest with the plugin in a fresh process and fills the case's figures."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "bench.bench_hostile",
        ]
        result = subprocess.run(
            command + pytest_args,
            cwd=ROOT,
            env=os.environ | case.env | {OUT_ENV: out.name},
            capture_output=True,
            timeout=CASE_TIMEOUT_SECONDS,
        )
        figures = json.loads(Path(out.name).read_text() or "{}")
    case.passed = result.returncode == 0
    case.self_mb = figures.get("self_kib", 0) / 1024
    case.child_mb = max(figures.get("children_kib", {}).values(), default=0) / 1024
    print(f"{case.total_mb:6.0f} MB  {case.label}", file=sys.stderr, flush=True)
    return case


def measure_baseline(name: str, fixtures: str, plugins: list[str]) -> Case:
    with tempfile.TemporaryDirectory() as directory:
        test = Path(directory) / "test_baseline.py"
        test.write_text(BASELINE_TEST.format(fixtures=fixtures))
        args = [arg for plugin in plugins for arg in ("-p", plugin)]
        return measure(
            Case(name, "-"), [*args, "--rootdir", str(ROOT), "-c", str(ROOT / "pyproject.toml"), str(test)]
        )


def table(cases: list[Case], memory: dict[str, int]) -> list[str]:
    lines = [
        "| case | function | process MB | largest child MB | total MB | Lambda MB | ratio | test |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for case in cases:
        limit = memory.get(case.function)
        ratio = f"{case.total_mb / limit:.2f}" if limit else ""
        lines.append(
            f"| `{case.label}` | {case.function} | {case.self_mb:.0f} | {case.child_mb:.0f} | "
            f"{case.total_mb:.0f} | {limit or ''} | {ratio} | {'passed' if case.passed else 'FAILED'} |"
        )
    return lines


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--stage", default="dev", help="the stage of .chalice/config.json (dev: the smallest)"
    )
    parser.add_argument("--jobs", type=int, default=2, help="cases run at once")
    parser.add_argument("-k", dest="keyword", default="", help="only node ids containing this")
    parser.add_argument("--limit", type=int, default=0, help="only the first N cases")
    parser.add_argument("--json", type=Path, help="also write every case's figures to this file")
    return parser.parse_args()


def cases_to_run(keyword: str, limit: int) -> list[Case]:
    """The collected cases, then the credential ones again with a deployed stage's scrypt cost."""
    cases = [Case(node, function_of(node)) for node in collect() if keyword in node]
    cases = cases[:limit] if limit else cases
    scrypt = {SCRYPT_ENV: str(PRODUCTION_SCRYPT_N)}
    return cases + [Case(c.name, c.function, scrypt) for c in cases if re.search(SCRYPT_CASES, c.name)]


def by_test(cases: list[Case]) -> list[Case]:
    """One row per test function (and scrypt cost): the largest figures over its parameters."""
    groups: dict[tuple[str, bool], list[Case]] = {}
    for case in cases:
        groups.setdefault((case.name.split("[")[0], SCRYPT_ENV in case.env), []).append(case)
    rows = []
    for (name, _), group in groups.items():
        top = max(group, key=lambda case: case.total_mb)
        label = f"{name} (x{len(group)})" if len(group) > 1 else name
        rows.append(
            Case(label, top.function, top.env, top.self_mb, top.child_mb, all(c.passed for c in group))
        )
    return rows


def main() -> int:
    args = parse_args()
    memory = lambda_memory(args.stage)
    cases = cases_to_run(args.keyword, args.limit)
    baselines = [measure_baseline(name, *spec) for name, spec in BASELINES.items()]
    with ThreadPoolExecutor(args.jobs) as pool:
        done = list(pool.map(lambda case: measure(case, [case.name]), cases))
    if args.json:
        args.json.write_text(json.dumps([asdict(case) for case in baselines + done], indent=1))
    print(f"stage {args.stage}: " + ", ".join(f"{name} {mb} MB" for name, mb in sorted(memory.items())))
    print("\n".join(table(baselines + done, memory)))
    print("\nBy test, the largest over its parameters:\n" + "\n".join(table(by_test(done), memory)))
    over = [case for case in done if case.total_mb > memory[case.function]]
    for case in over:
        print(f"OVER: {case.label}: {case.total_mb:.0f} MB > {memory[case.function]} MB ({case.function})")
    failed = sum(not case.passed for case in done)
    print(f"{len(done)} cases, {len(over)} over their Lambda's memory, {failed} failed as tests")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
