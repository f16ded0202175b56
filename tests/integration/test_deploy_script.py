"""`make deploy STAGE=...` (infra/deploy.sh) against a stand-in `aws` command: nothing here can reach
AWS, so this checks what the script asks of the AWS CLI, in which order, and that it stops when the
migrations fail. The console step builds the real console (devstack/console.py; up to date, it is not
built again) and uploads console/dist."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FAKE_AWS = """\
#!{python}
# Records its arguments; answers describe-stacks from OUTPUTS and PARAMETERS; plays package and lambda invoke.
import json, os, re, shutil, sys

args = sys.argv[1:]
with open(os.environ["FAKE_AWS_LOG"], "a") as log:
    log.write(json.dumps(args) + "\\n")
OUTPUTS = {{"ArtifactsBucketName": "georegistry-dev-artifacts-1", "DbMaxConnections": "250",
           "MigrateFunctionName": "georegistry-dev-migrate", "EndpointURL": "https://api.example/api/",
           "DashboardUrl": "https://console.example/dashboard",
           "ConsoleBucketName": "georegistry-dev-console-1", "ConsoleDistributionId": "E2EXAMPLE",
           "ConsoleOrigin": "https://d111.cloudfront.net", "ConsoleUrl": "https://d111.cloudfront.net/console/"}}
PARAMETERS = {{"CorsAllowedOrigins": os.environ.get("FAKE_CORS_ORIGINS", "*")}}
if args[:2] == ["cloudformation", "describe-stacks"]:
    key = re.search(r"(Output|Parameter)Key=='(\\w+)'", args[args.index("--query") + 1])
    print((OUTPUTS if key.group(1) == "Output" else PARAMETERS)[key.group(2)])
elif args[:2] == ["cloudformation", "package"]:
    shutil.copy(args[args.index("--template-file") + 1], args[args.index("--output-template-file") + 1])
elif args[:2] == ["lambda", "invoke"]:
    failing = os.environ.get("FAKE_MIGRATE_FAILS")
    with open(args[-1], "w") as out:
        json.dump({{"errorMessage": "boom"}} if failing else {{"applied": ["0006_new.sql"]}}, out)
    print("Unhandled" if failing else "None")
"""


# `chalice package` and cfn-lint are tested in test_packaging; here they only leave their files.
FAKE_CHALICE = """\
#!/bin/sh
out=$(eval echo \\${{$#}})
mkdir -p "$out"
echo "Resources: {{RestAPI: {{Properties: {{DefinitionBody: {{paths: {{}}}}}}}}}}" > "$out/sam.yaml"
echo zip > "$out/deployment.zip"
"""


def _script(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o755)


def _venv_bin(tmp_path: Path) -> Path:
    venv_bin = tmp_path / "venv-bin"
    venv_bin.mkdir(exist_ok=True)
    _script(venv_bin / "python", f'#!/bin/sh\nexec {sys.executable} "$@"\n')  # a symlink would leave the venv
    _script(venv_bin / "chalice", FAKE_CHALICE.format())
    _script(venv_bin / "cfn-lint", "#!/bin/sh\n")
    return venv_bin


def deploy(tmp_path: Path, **extra_env) -> tuple[subprocess.CompletedProcess, list[list[str]]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    _script(bin_dir / "aws", FAKE_AWS.format(python=sys.executable))
    log = tmp_path / "aws.log"
    log.unlink(missing_ok=True)
    env = (
        os.environ
        | {
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "FAKE_AWS_LOG": str(log),
            "DIST": str(tmp_path / "dist"),
            "VENV_BIN": str(_venv_bin(tmp_path)),
            "AWS_DEFAULT_REGION": "eu-west-1",
        }
        | extra_env
    )
    result = subprocess.run(["infra/deploy.sh", "dev"], cwd=ROOT, env=env, capture_output=True, text=True)
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return result, calls


def value_after(call: list[str], option: str) -> str:
    return call[call.index(option) + 1]


def overrides(call: list[str]) -> list[str]:
    start = call.index("--parameter-overrides") + 1
    end = next(i for i in range(start, len(call)) if call[i].startswith("--"))
    return call[start:end]


def test_deploy_creates_the_base_stack_then_the_app_stack_then_migrates_then_uploads_the_console(tmp_path):
    result, calls = deploy(tmp_path, ALARM_EMAIL="ops@example.org", APP_PARAMETERS="TaskWorkerConcurrency=4")
    assert result.returncode == 0, result.stdout + result.stderr
    actions = [call for call in calls if call[1] != "describe-stacks"]
    assert [" ".join(call[:2]) for call in actions] == [
        "cloudformation deploy",
        "cloudformation package",
        "cloudformation deploy",
        "lambda invoke",
        "s3 sync",
        "s3 cp",
        "cloudfront create-invalidation",
        "s3 sync",
        "cloudformation deploy",
    ]
    base, package, app, migrate, *_console, cors = actions
    assert value_after(base, "--stack-name") == "georegistry-dev-base"
    assert value_after(base, "--template-file") == "infra/base.yaml"
    assert overrides(base) == ["Stage=dev"]
    assert "CAPABILITY_AUTO_EXPAND" in base  # the hosted secret rotation is a nested stack
    assert value_after(package, "--s3-bucket") == "georegistry-dev-artifacts-1"
    assert value_after(package, "--template-file") == str(tmp_path / "dist" / "dev" / "sam.yaml")
    assert value_after(app, "--stack-name") == "georegistry-dev"
    assert value_after(app, "--template-file") == value_after(package, "--output-template-file")
    assert overrides(app) == [
        "Stage=dev",
        "DbMaxConnections=250",
        "AlarmEmail=ops@example.org",
        "TaskWorkerConcurrency=4",
    ]
    assert value_after(migrate, "--function-name") == "georegistry-dev-migrate"
    assert int(value_after(migrate, "--cli-read-timeout")) > 900
    assert '{"applied": ["0006_new.sql"]}' in result.stdout
    assert "https://api.example/api/" in result.stdout
    # the first deploy narrows the buckets' CORS from "*" to the console's origin
    assert value_after(cors, "--stack-name") == "georegistry-dev-base"
    assert overrides(cors) == ["Stage=dev", "CorsAllowedOrigins=https://d111.cloudfront.net"]
    assert "https://d111.cloudfront.net/console/" in result.stdout


def test_deploy_uploads_the_built_console_new_files_first_then_index_html_then_invalidates_it(tmp_path):
    result, calls = deploy(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    uploads = [call for call in calls if call[0] in ("s3", "cloudfront")]
    assets, index, invalidation, cleanup = uploads
    dist = ROOT / "console" / "dist"
    assert (dist / "index.html").is_file() and list((dist / "assets").glob("app-*.js"))  # built
    for sync in (assets, cleanup):
        assert sync[2:4] == ["console/dist", "s3://georegistry-dev-console-1/console"]
        assert value_after(sync, "--cache-control") == "public, max-age=31536000, immutable"
        excluded = [sync[i + 1] for i, arg in enumerate(sync) if arg == "--exclude"]
        assert "index.html" in excluded and ".*" in excluded  # nor the build's stamp file
    assert "--delete" not in assets and "--delete" in cleanup  # old files go once index.html names the new
    assert index[2:4] == ["console/dist/index.html", "s3://georegistry-dev-console-1/console/index.html"]
    assert value_after(index, "--cache-control") == "no-cache"
    assert value_after(index, "--content-type").startswith("text/html")
    assert value_after(invalidation, "--distribution-id") == "E2EXAMPLE"
    assert value_after(invalidation, "--paths") == "/console/index.html"


def test_deploy_leaves_the_base_stack_alone_when_cors_already_names_the_console(tmp_path):
    result, calls = deploy(tmp_path, FAKE_CORS_ORIGINS="https://d111.cloudfront.net")
    assert result.returncode == 0, result.stdout + result.stderr
    deploys = [call for call in calls if call[:2] == ["cloudformation", "deploy"]]
    assert [value_after(call, "--stack-name") for call in deploys] == [
        "georegistry-dev-base",
        "georegistry-dev",
    ]


def test_deploy_fails_when_the_migrations_fail(tmp_path):
    result, calls = deploy(tmp_path, FAKE_MIGRATE_FAILS="1")
    assert result.returncode == 1
    assert "migrate failed (Unhandled)" in result.stderr
    assert "/aws/lambda/georegistry-dev-migrate" in result.stderr
    assert calls[-1][:2] == ["lambda", "invoke"]


def test_deploy_explains_what_it_needs_without_the_aws_cli(tmp_path):
    env = os.environ | {"PATH": "/usr/bin:/bin"}
    if any((Path(directory) / "aws").exists() for directory in env["PATH"].split(":")):
        pytest.skip("an aws command is installed system-wide")
    result = subprocess.run(["infra/deploy.sh", "dev"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 1
    assert "AWS CLI" in result.stderr
