"""The Lambda package: its size, and the cold-start import time of app.py, beside its anchors.

    .venv/bin/python -m bench.bench_package [--stage dev] [--runs 15] [--root CHECKOUT]

--root measures another checkout (a `git worktree` of an older commit) with this venv: before/after.

Packages the stage with infra/package.sh (as `make package` does), unzips deployment.zip, then in
fresh interpreters runs `python -S -X importtime` on `import app` from the unzipped package only
(-S: no site-packages, so nothing is imported from the venv). Anchors, from the same directory:
`import boto3` (what any Python Lambda that talks to AWS pays) and an empty interpreter start.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAMBDA_ZIP_LIMIT = 50 * 1024 * 1024
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024
IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def package(stage: str, out: Path, root: Path = ROOT) -> Path:
    venv = {"VENV_BIN": str(Path(sys.executable).parent)}
    subprocess.run(
        ["infra/package.sh", stage, str(out)],
        cwd=root,
        check=True,
        capture_output=True,
        env=os.environ | venv,
    )
    return out / "deployment.zip"


def import_times(code_dir: Path, module: str) -> tuple[float, list[tuple[int, int, str]]]:
    """(wall seconds of the whole process, [(self µs, cumulative µs, module) at top level and below])."""
    started = time.perf_counter()
    result = subprocess.run(
        [
            sys.executable,
            "-S",
            "-X",
            "importtime",
            "-c",
            f"import sys; sys.path.insert(0, {str(code_dir)!r}); {module}",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - started
    rows = []
    for line in result.stderr.splitlines():
        match = IMPORT_LINE.match(line)
        if match:
            own, cumulative, indent, name = match.groups()
            rows.append((int(own), int(cumulative), len(indent) // 2, name))
    return wall, rows


def cumulative_ms(rows, name: str) -> float:
    return next(cumulative for _, cumulative, _, module in rows if module == name) / 1000


def heaviest_packages(rows, count: int = 8) -> list[tuple[str, float]]:
    """Self time summed by top-level package: where the import time goes."""
    totals = Counter()
    for own, _, _, module in rows:
        totals[module.split(".")[0]] += own
    return [(name, micros / 1000) for name, micros in totals.most_common(count)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to package (default: this one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="georegistry-package-") as tmp:
        archive = package(args.stage, Path(tmp) / args.stage, args.root)
        code = Path(tmp) / "code"
        with zipfile.ZipFile(archive) as opened:
            opened.extractall(code)
            unzipped = sum(info.file_size for info in opened.infolist())
        size = archive.stat().st_size
        print(
            f"deployment.zip: {size / 2**20:.1f} MiB ({size:,} bytes), {size / LAMBDA_ZIP_LIMIT:.0%} of 50 MB"
        )
        print(f"unzipped: {unzipped / 2**20:.1f} MiB, {unzipped / LAMBDA_UNZIPPED_LIMIT:.0%} of 250 MB")
        import_time_of(code, "import app", "app", args.runs, details=True)
        import_time_of(code, "import boto3", "boto3", args.runs)
        walls = [import_times(code, "pass")[0] * 1000 for _ in range(args.runs)]
        print(
            f"anchor, an empty interpreter (python -S -c pass): wall median {statistics.median(walls):.0f} ms"
        )


def import_time_of(code: Path, statement: str, module: str, runs: int, details: bool = False) -> None:
    import_times(code, statement)  # one run to warm the page cache: Lambda's cold start reads from disk too
    measured = [import_times(code, statement) for _ in range(runs)]
    imports = [cumulative_ms(rows, module) for _, rows in measured]
    walls = [wall * 1000 for wall, _ in measured]
    print(
        f"{statement}: importtime median {statistics.median(imports):.0f} ms (min {min(imports):.0f}, "
        f"max {max(imports):.0f}); process wall median {statistics.median(walls):.0f} ms; {runs} runs"
    )
    if details:
        shares = ", ".join(f"{name} {ms:.0f} ms" for name, ms in heaviest_packages(measured[0][1]))
        print(f"  self time by package (one run): {shares}")


if __name__ == "__main__":
    main()
