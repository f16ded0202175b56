"""`make package STAGE=dev` (infra/package.sh) on Python 3.12, the Lambda runtime: a deployable zip and
Chalice's template merged with infra/app.yaml, read here as CloudFormation will read it."""

import ast
import inspect
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from chalice.app import ScheduledEventConfig, SQSEventConfig
from chalice.utils import to_cfn_resource_name

from chalicelib.platform import config

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
LAMBDA_ZIP_LIMIT = 50 * 1024 * 1024  # direct-upload limit for a Lambda deployment package
CHALICE_CONFIG = json.loads((ROOT / ".chalice" / "config.json").read_text())
STAGE_RESOURCE_VARIABLES = {
    "DB_SECRET_ARN": "DbSecretArn",
    "TOKEN_SECRET_ARN": "TokenSecretArn",
    "UPLOADS_BUCKET": "UploadsBucketName",
    "EXPORTS_BUCKET": "ExportsBucketName",
    "FORMS_BUCKET": "FormsBucketName",
}


def run_package(stage: str, out: Path) -> Path:
    """`make package STAGE=stage`, into `out`; infra/package.sh also runs cfn-lint on the result."""
    assert sys.version_info[:2] == (3, 12), "chalice package must run on the Lambda's Python"
    result = subprocess.run(
        ["infra/package.sh", stage, str(out)],
        cwd=ROOT,
        env=os.environ | {"VENV_BIN": str(BIN), "AWS_DEFAULT_REGION": "eu-west-1"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    return run_package("dev", tmp_path_factory.mktemp("package") / "dev")


@pytest.fixture(scope="module")
def template(package) -> dict:
    return yaml.safe_load((package / "sam.yaml").read_text())


@pytest.fixture(scope="module")
def resources(template) -> dict:
    return template["Resources"]


def of_type(resources: dict, kind: str) -> dict:
    return {name: resource["Properties"] for name, resource in resources.items() if resource["Type"] == kind}


def target(reference) -> str:
    """The logical id an intrinsic points at: Ref X, GetAtt X.Arn, or Sub "${X.Arn}" (infra/app.yaml)."""
    assert isinstance(reference, dict) and len(reference) == 1, f"not one intrinsic: {reference}"
    ((function, argument),) = reference.items()
    if function == "Ref":
        return argument
    if function == "Fn::GetAtt":
        return argument[0]
    match = re.fullmatch(r"\$\{(\w+)\.Arn\}", argument) if function == "Fn::Sub" else None
    assert match, f"not a reference to a resource of this template: {reference}"
    return match.group(1)


def imported(value) -> str:
    """The export name of {"Fn::ImportValue": {"Fn::Sub": "georegistry-${Stage}-Name"}}."""
    return value["Fn::ImportValue"]["Fn::Sub"]


def sqs_sources(resources: dict) -> list[tuple[str, dict]]:
    functions = of_type(resources, "AWS::Serverless::Function")
    return [
        (name, event["Properties"])
        for name, props in functions.items()
        for event in props.get("Events", {}).values()
        if event["Type"] == "SQS"
    ]


def cfn_name(function_name: str) -> str:
    """Chalice's logical id of a function (it calls the REST API's function APIHandler)."""
    return "APIHandler" if function_name == "api_handler" else to_cfn_resource_name(function_name)


def own_name(logical_id: str) -> str:
    return next(name for name in CHALICE_CONFIG["lambda_functions"] if cfn_name(name) == logical_id)


# The package


@pytest.mark.slow
def test_package_has_the_app_its_migrations_and_linux_wheels(package):
    archive = package / "deployment.zip"
    assert archive.stat().st_size < LAMBDA_ZIP_LIMIT
    names = set(zipfile.ZipFile(archive).namelist())
    assert {"app.py", "chalicelib/platform/db.py", "chalicelib/platform/migrations/0002_tenancy.sql"} <= names
    assert any(name.startswith("psycopg2/_psycopg.cpython-312-x86_64-linux-gnu") for name in names)
    assert any(name.startswith("shapely/") for name in names)
    assert not any(name.startswith(("tests/", "devstack/", "infra/", "moto/", "pytest/")) for name in names)
    # Chalice ships only its runtime, not its CLI or deployer
    assert {name for name in names if name.startswith("chalice/")} == {
        "chalice/__init__.py",
        "chalice/app.py",
    }


@pytest.mark.slow
def test_the_packaged_template_passes_cfn_lint_and_has_no_yaml_aliases(package):
    result = subprocess.run(
        [str(BIN / "cfn-lint"), str(package / "sam.yaml")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert not re.search(r"[&*]id\d+", (package / "sam.yaml").read_text()), "CloudFormation refuses aliases"


@pytest.mark.slow
def test_every_function_runs_python_312_in_the_vpc_with_the_stage_resources(template, resources):
    functions = of_type(resources, "AWS::Serverless::Function")
    assert {cfn_name(name) for name in CHALICE_CONFIG["lambda_functions"]} == set(functions)
    assert {props["Runtime"] for props in functions.values()} == {"python3.12"}
    defaults = template["Globals"]["Function"]
    assert (
        imported(defaults["VpcConfig"]["SubnetIds"]["Fn::Split"][1])
        == "georegistry-${Stage}-PrivateSubnetIds"
    )
    shared = defaults["Environment"]["Variables"]
    for variable, export in STAGE_RESOURCE_VARIABLES.items():
        assert imported(shared[variable]) == f"georegistry-${{Stage}}-{export}"
    assert target(shared["TASKS_QUEUE_URL"]) == "TasksQueue"
    assert target(shared["TASKS_DLQ_URL"]) == "TasksDeadLetterQueue"
    for name, props in functions.items():
        own = props["Environment"]["Variables"]
        # SAM lets a function's own variable win over Globals: none may shadow the stage's resources.
        assert not set(own) & set(shared), name
        assert own["STAGE"] == "dev" and own["POWERTOOLS_METRICS_NAMESPACE"] == "georegistry-dev"
        assert props["FunctionName"] == {"Fn::Sub": f"georegistry-${{Stage}}-{own_name(name)}"}


# Queues and workers


@pytest.mark.slow
def test_the_tasks_worker_reads_the_stage_tasks_queue_one_message_at_a_time(resources):
    run_task = resources["RunTask"]["Properties"]
    source = run_task["Events"]["RunTaskSqsEventSource"]["Properties"]
    assert target(source["Queue"]) == "TasksQueue"
    assert source["BatchSize"] == 1
    assert source["ScalingConfig"]["MaximumConcurrency"] == {"Ref": "TaskWorkerConcurrency"}
    assert run_task["Timeout"] == 900
    # a million-unit import holds ~0.55 GB of refs and paths, one into an existing version the whole file;
    # GeoPackage exports stage their file in /tmp
    assert run_task["MemorySize"] >= 3008 and run_task["EphemeralStorage"]["Size"] >= 4096
    assert resources["TasksQueue"]["Properties"]["QueueName"] == {"Fn::Sub": "georegistry-${Stage}-tasks"}
    dead_letters = resources["TaskDeadLetter"]["Properties"]["Events"]["TaskDeadLetterSqsEventSource"]
    assert target(dead_letters["Properties"]["Queue"]) == "TasksDeadLetterQueue"


@pytest.mark.slow
def test_every_queue_consumer_reads_a_queue_of_its_own_stage(resources):
    """Chalice names queues alike in every stage; each source must point at this stack's queue."""
    queues = of_type(resources, "AWS::SQS::Queue")
    for function, source in sqs_sources(resources):
        queue = target(source["Queue"])
        assert queue in queues, f"{function} reads {source['Queue']}"
        assert "${Stage}" in queues[queue]["QueueName"]["Fn::Sub"]


@pytest.mark.slow
def test_queues_outlast_six_worker_timeouts_and_redrive_to_their_dlq(resources):
    functions = of_type(resources, "AWS::Serverless::Function")
    queues = of_type(resources, "AWS::SQS::Queue")
    for function, source in sqs_sources(resources):
        queue = queues[target(source["Queue"])]
        assert queue.get("VisibilityTimeout", 30) >= 6 * functions[function]["Timeout"], function
        assert queue["SqsManagedSseEnabled"] is True
    for name in ("TasksQueue", "IngestQueue"):
        redrive = queues[name]["RedrivePolicy"]
        assert target(redrive["deadLetterTargetArn"]) in queues
        assert 1 < redrive["maxReceiveCount"] <= 10
    # the engine and SQS give up after the same number of deliveries
    assert queues["TasksQueue"]["RedrivePolicy"]["maxReceiveCount"] == config.settings().tasks.max_attempts
    assert target(queues["TasksQueue"]["RedrivePolicy"]["deadLetterTargetArn"]) == "TasksDeadLetterQueue"


def returns_batch_item_failures(app_module, function_name: str) -> bool:
    """Whether the app's SQS handler returns a value: all Lambda reads from what an SQS handler returns
    is its batchItemFailures (chalicelib/handlers/workers.py builds them)."""
    handler = next(
        node
        for node in ast.walk(ast.parse(inspect.getsource(app_module)))
        if isinstance(node, ast.FunctionDef) and node.name == function_name
    )
    return any(isinstance(node, ast.Return) and node.value is not None for node in ast.walk(handler))


@pytest.mark.slow
def test_handlers_that_return_batch_item_failures_have_lambda_honour_them(resources):
    """Without ReportBatchItemFailures Lambda deletes the failed messages too;
    a handler that reports nothing must read one message at a time and raise."""
    import app as app_module

    consumers = [source for source in app_module.app.event_sources if isinstance(source, SQSEventConfig)]
    assert {source.name for source in consumers} >= {"run_task", "task_dead_letter", "ingest_uploads"}
    for consumer in consumers:
        function = resources[cfn_name(consumer.name)]["Properties"]
        (event,) = (event["Properties"] for event in function["Events"].values() if event["Type"] == "SQS")
        if returns_batch_item_failures(app_module, consumer.name):
            assert event["FunctionResponseTypes"] == ["ReportBatchItemFailures"], consumer.name
        else:
            assert event["BatchSize"] == 1 and "FunctionResponseTypes" not in event, consumer.name
    assert returns_batch_item_failures(app_module, "ingest_uploads")


@pytest.mark.slow
def test_submission_uploads_reach_the_ingestion_function(resources):
    rule = resources["SubmissionUploadsRule"]["Properties"]
    pattern = rule["EventPattern"]
    assert pattern["source"] == ["aws.s3"] and pattern["detail-type"] == ["Object Created"]
    (bucket,) = pattern["detail"]["bucket"]["name"]
    assert (
        imported(bucket) == "georegistry-${Stage}-UploadsBucketName"
    )  # EventBridge on: test_infra_templates
    assert pattern["detail"]["object"]["key"] == [{"prefix": "submissions/"}]
    (delivery,) = rule["Targets"]
    assert target(delivery["Arn"]) == "IngestQueue"
    assert target(delivery["DeadLetterConfig"]["Arn"]) == "IngestDeadLetterQueue"
    (grant,) = resources["IngestQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert grant["Principal"] == {"Service": "events.amazonaws.com"} and grant["Action"] == "sqs:SendMessage"
    assert target(grant["Condition"]["ArnEquals"]["aws:SourceArn"]) == "SubmissionUploadsRule"
    source = resources["IngestUploads"]["Properties"]["Events"]["IngestUploadsSqsEventSource"]["Properties"]
    assert target(source["Queue"]) == "IngestQueue"


@pytest.mark.slow
def test_every_schedule_of_the_app_is_an_eventbridge_schedule(resources):
    import app as app_module

    schedules = [
        source for source in app_module.app.event_sources if isinstance(source, ScheduledEventConfig)
    ]
    assert [source.name for source in schedules] == ["task_housekeeping", "dhis2_schedules"]
    for source in schedules:
        (event,) = resources[cfn_name(source.name)]["Properties"]["Events"].values()
        assert event["Type"] == "Schedule"
    housekeeping = resources["TaskHousekeeping"]["Properties"]["Events"]["TaskHousekeepingEvent"]
    assert housekeeping["Properties"]["Schedule"] == "rate(5 minutes)"
    dhis2 = resources["Dhis2Schedules"]["Properties"]["Events"]["Dhis2SchedulesEvent"]
    assert dhis2["Properties"]["Schedule"] == "rate(1 minute)"  # due DHIS2 syncs are queued each minute


# Permissions and logs


def statements(role: dict) -> list[dict]:
    return [statement for policy in role["Policies"] for statement in policy["PolicyDocument"]["Statement"]]


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


@pytest.mark.slow
def test_every_function_has_a_role_of_its_own_without_wildcard_actions(resources):
    functions = of_type(resources, "AWS::Serverless::Function")
    roles = of_type(resources, "AWS::IAM::Role")
    used = [target(props["Role"]) for props in functions.values()]
    assert sorted(used) == sorted(set(used)) == sorted(roles), "one role per function, no shared default role"
    for name, role in roles.items():
        for statement in statements(role):
            actions = as_list(statement["Action"])
            assert statement["Effect"] == "Allow"
            assert not [action for action in actions if "*" in action], f"{name}: {actions}"
            if as_list(statement["Resource"]) == ["*"]:
                # Lambda's VPC network interfaces cannot be scoped; nothing else may be unscoped.
                assert all(action.startswith("ec2:") for action in actions), f"{name}: {statement}"


@pytest.mark.slow
def test_data_bucket_access_is_scoped_to_named_buckets_and_prefixes(resources):
    roles = of_type(resources, "AWS::IAM::Role")
    granted = {}
    for name, role in roles.items():
        for statement in statements(role):
            s3_actions = [action for action in as_list(statement["Action"]) if action.startswith("s3:")]
            if not s3_actions:
                continue
            for resource in as_list(statement["Resource"]):
                if "Fn::ImportValue" in resource:  # the bucket itself: listing only
                    assert s3_actions == ["s3:ListBucket"], f"{name}: {statement}"
                    granted.setdefault(name, set()).add(f"s3:ListBucket {imported(resource)}")
                    continue
                path, variables = resource["Fn::Sub"]
                (bucket_arn,) = variables.values()
                assert re.fullmatch(r"\$\{Bucket\}/[\w/*]*\*", path), f"{name}: {path}"
                export = imported(bucket_arn).removeprefix("georegistry-${Stage}-")
                granted.setdefault(name, set()).update(f"{action} {export} {path}" for action in s3_actions)
    assert "s3:PutObject UploadsBucketArn ${Bucket}/imports/*" in granted["ApiHandlerRole"]
    assert "s3:PutObject UploadsBucketArn ${Bucket}/bulk/*" in granted["RunTaskRole"]
    assert "s3:GetObject UploadsBucketArn ${Bucket}/submissions/*" in granted["IngestUploadsRole"]
    assert "s3:DeleteObject ExportsBucketArn ${Bucket}/tasks/*" in granted["TaskHousekeepingRole"]
    assert "s3:PutObject UploadsBucketArn ${Bucket}/openrosa/*" in granted["ApiHandlerRole"]
    deletes = {grant for grant in granted["ApiHandlerRole"] | granted["RunTaskRole"] if "Delete" in grant}
    assert deletes == {"s3:DeleteObject FormsBucketArn ${Bucket}/forms/*/uploads/*"}  # an XLSForm, once read
    # without it S3 answers 403, not 404, for a missing XLSForm upload (form_versions._uploaded)
    assert "s3:ListBucket georegistry-${Stage}-FormsBucketArn" in granted["ApiHandlerRole"]
    assert "MigrateRole" not in granted and "CreateAccountRole" not in granted


@pytest.mark.slow
def test_every_function_has_a_log_group_with_a_retention(resources):
    functions = of_type(resources, "AWS::Serverless::Function")
    log_groups = of_type(resources, "AWS::Logs::LogGroup")
    named = {group["LogGroupName"]["Fn::Sub"]: group for group in log_groups.values()}
    for name in functions:
        group = named.get(f"/aws/lambda/${{{name}}}")
        assert group is not None, f"{name} has no log group of its own"
        assert group["RetentionInDays"] == CHALICE_CONFIG["log_retention_in_days"]


# Monitoring


def alarm_subjects(alarm: dict) -> set:
    """What an alarm watches: (metric, dimension value) pairs, from a plain or a math alarm."""
    queries = alarm.get("Metrics", [])
    stats = (
        [alarm]
        if "MetricName" in alarm
        else [query["MetricStat"]["Metric"] for query in queries if "MetricStat" in query]
    )
    return {
        (stat["MetricName"], json.dumps(dimension["Value"], sort_keys=True))
        for stat in stats
        for dimension in stat.get("Dimensions", [])
    }


@pytest.mark.slow
def test_alarms_watch_dead_letters_waiting_messages_5xx_lambda_errors_and_db_connections(resources):
    alarms = of_type(resources, "AWS::CloudWatch::Alarm")
    watched = set().union(*(alarm_subjects(alarm) for alarm in alarms.values()))

    def queue(name):
        return json.dumps({"Fn::GetAtt": [name, "QueueName"]}, sort_keys=True)

    assert ("ApproximateNumberOfMessagesVisible", queue("TasksDeadLetterQueue")) in watched
    assert ("ApproximateNumberOfMessagesVisible", queue("IngestDeadLetterQueue")) in watched
    assert ("ApproximateAgeOfOldestMessage", queue("TasksQueue")) in watched
    assert ("ApproximateAgeOfOldestMessage", queue("IngestQueue")) in watched
    assert ("5XXError", json.dumps({"Fn::Sub": "georegistry-${Stage}"})) in watched
    database = json.dumps({"Fn::ImportValue": {"Fn::Sub": "georegistry-${Stage}-DbInstanceId"}})
    assert ("DatabaseConnections", database) in watched
    for function in ("APIHandler", "RunTask", "TaskDeadLetter", "TaskHousekeeping", "IngestUploads"):
        assert ("Errors", json.dumps({"Ref": function})) in watched, function
    for name, alarm in alarms.items():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}] == alarm["OKActions"], name
    assert resources["AlarmTopic"]["Type"] == "AWS::SNS::Topic"


@pytest.mark.slow
def test_api_metrics_are_read_under_the_api_name_and_stage(resources):
    api = resources["RestAPI"]["Properties"]
    assert api["Name"] == api["DefinitionBody"]["info"]["title"] == {"Fn::Sub": "georegistry-${Stage}"}
    assert api["StageName"] == CHALICE_CONFIG["stages"]["dev"]["api_gateway_stage"] == "api"


@pytest.mark.slow
def test_the_dashboard_shows_api_functions_queues_task_outcomes_and_database(resources):
    body, variables = resources["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    assert variables["MetricsNamespace"] == {"Fn::Sub": "georegistry-${Stage}"}
    assert "${MetricsNamespace}" in body
    placeholders = set(re.findall(r"\$\{([\w:.]+)\}", body))
    functions = of_type(resources, "AWS::Serverless::Function")
    assert set(functions) <= placeholders, "a graph of every function"
    assert {"TasksQueue.QueueName", "TasksDeadLetterQueue.QueueName", "IngestQueue.QueueName"} <= placeholders
    assert {"IngestDeadLetterQueue.QueueName", "DbInstanceId"} <= placeholders
    rendered = json.loads(
        re.sub(r"\$\{DbMaxConnections\}", "200", re.sub(r"\$\{(?!DbMax)[\w:.]+\}", "x", body))
    )
    titles = {widget["properties"].get("title") for widget in rendered["widgets"]}
    assert {"API latency (ms)", "Lambda errors", "Lambda throttles", "Task outcomes by kind"} <= titles
    for metric in ("TasksSucceeded", "TasksErrored", "TasksKilled", "TasksRetried", "DatabaseConnections"):
        assert metric in body
    # the EMF metrics' namespace is the stage's (chalicelib/observability.py, .chalice/config.json)
    assert (
        CHALICE_CONFIG["stages"]["dev"]["environment_variables"]["POWERTOOLS_METRICS_NAMESPACE"]
        == "georegistry-dev"
    )


@pytest.mark.slow
def test_prod_packages_with_its_own_settings_and_lints(tmp_path):
    out = run_package("prod", tmp_path / "prod")
    resources = yaml.safe_load((out / "sam.yaml").read_text())["Resources"]
    run_task = resources["RunTask"]["Properties"]
    assert run_task["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"] == "georegistry-prod"
    assert resources["TasksQueue"]["Properties"]["VisibilityTimeout"] >= 6 * run_task["Timeout"]
    assert resources["RunTaskLogGroup"]["Properties"]["RetentionInDays"] == 90


def test_what_api_gateway_answers_itself_has_the_api_error_shape(resources):
    responses = resources["RestAPI"]["Properties"]["DefinitionBody"]["x-amazon-apigateway-gateway-responses"]
    assert set(responses) == {"MISSING_AUTHENTICATION_TOKEN", "ACCESS_DENIED", "DEFAULT_4XX", "DEFAULT_5XX"}
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["statusCode"] == 404
    for response in responses.values():
        assert response["responseParameters"]["gatewayresponse.header.X-Request-Id"] == "context.requestId"
        template = response["responseTemplates"]["application/json"]
        # API Gateway fills the $context variables; what is left must be the API's error object.
        filled = template.replace("$context.error.messageString", '"Too many requests"')
        filled = re.sub(r"\$context\.[a-zA-Z.]+", "X", filled)
        body = json.loads(filled)
        assert set(body["error"]) == {"code", "message", "details"}


def test_openrosa_routes_keep_collects_challenge_through_the_gateway(resources):
    """A Lambda proxy's WWW-Authenticate reaches the client renamed (x-amzn-Remapped-WWW-Authenticate):
    the OpenRosa routes get an uncached REQUEST authorizer whose Deny carries the Digest challenge, and
    the ACCESS_DENIED gateway response sends it as WWW-Authenticate with a 401."""
    body = resources["RestAPI"]["Properties"]["DefinitionBody"]
    gate = body["securityDefinitions"]["openrosa_gate"]
    authorizer = gate["x-amazon-apigateway-authorizer"]
    assert gate["x-amazon-apigateway-authtype"] == "custom" and authorizer["type"] == "request"
    assert authorizer["authorizerResultTtlInSeconds"] == 0 and "identitySource" not in authorizer
    assert "${OpenrosaAuthorizer.Arn}/invocations" in authorizer["authorizerUri"]["Fn::Sub"]
    function = resources["OpenrosaAuthorizer"]["Properties"]
    assert function["Handler"] == "app.openrosa_authorizer" and function["Timeout"] <= 10
    permission = resources["OpenrosaAuthorizerInvokePermission"]["Properties"]
    assert target(permission["FunctionName"]) == "OpenrosaAuthorizer"
    assert permission["Principal"] == "apigateway.amazonaws.com"
    assert permission["SourceArn"]["Fn::Sub"].endswith("${RestAPI}/authorizers/*")
    openrosa = [(path, method, spec) for path, methods in body["paths"].items()
                if path.startswith("/api/openrosa/") for method, spec in methods.items()]  # fmt: skip
    assert len(openrosa) >= 10
    for path, method, spec in openrosa:
        keyed = path.startswith("/api/openrosa/key/{key}/")  # a token URL: the path is the credential
        assert spec.get("security") == (None if keyed else [{"openrosa_gate": []}]), (method, path)
    denied = body["x-amazon-apigateway-gateway-responses"]["ACCESS_DENIED"]
    assert denied["statusCode"] == 401
    assert (
        denied["responseParameters"]["gatewayresponse.header.WWW-Authenticate"]
        == "context.authorizer.challenge"
    )
    assert denied["responseParameters"]["gatewayresponse.header.X-OpenRosa-Version"] == "'1.0'"
    assert set(json.loads(denied["responseTemplates"]["application/json"])["error"]) == {
        "code",
        "message",
        "details",
    }


@pytest.mark.slow
def test_every_route_is_reachable_through_the_console_distribution(resources):
    paths = resources["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    config = resources["ConsoleDistribution"]["Properties"]["DistributionConfig"]
    prefixes = tuple(behaviour["PathPattern"].rstrip("*") for behaviour in config["CacheBehaviors"])
    assert prefixes == ("/api/", "/v1/")
    assert [path for path in paths if not path.startswith(prefixes)] == []
    (api,) = [origin for origin in config["Origins"] if origin["Id"] == "api"]
    assert api["OriginPath"] == "/" + resources["RestAPI"]["Properties"]["StageName"]
    # the bucket policy names this template's distribution, so it is deployed with it
    policy = resources["ConsoleBucketPolicy"]["Properties"]["PolicyDocument"]
    assert (
        "${ConsoleDistribution}"
        in policy["Statement"][0]["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
    )
