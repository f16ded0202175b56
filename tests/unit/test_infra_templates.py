"""infra/: the base stack, the merge template and the IAM policy files, checked offline. (The packaged,
merged template is checked in tests/integration/test_packaging.py.)"""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from chalice.package import YAMLTemplateSerializer

from chalicelib.platform import config

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
CHALICE_CONFIG = json.loads((ROOT / ".chalice" / "config.json").read_text())
LAMBDA_MAX_TIMEOUT = 900


def load(name: str) -> dict:
    """A template as CloudFormation reads it, with the YAML loader `chalice package` merges with."""
    return YAMLTemplateSerializer().load_template((INFRA / name).read_text(), name)


@pytest.fixture(scope="module")
def base() -> dict:
    return load("base.yaml")


@pytest.fixture(scope="module")
def app_template() -> dict:
    return load("app.yaml")


def of_type(template: dict, kind: str) -> dict:
    return {name: res["Properties"] for name, res in template["Resources"].items() if res.get("Type") == kind}


def test_cfn_lint_passes_on_the_base_template():
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run([str(cfn_lint), str(INFRA / "base.yaml")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# Buckets


def test_every_bucket_is_private_encrypted_and_refuses_plain_http(base):
    buckets = of_type(base, "AWS::S3::Bucket")
    assert {"UploadsBucket", "ExportsBucket", "FormsBucket", "ArtifactsBucket"} <= set(buckets)
    policies = {
        props["Bucket"]["Ref"]: props["PolicyDocument"]
        for props in of_type(base, "AWS::S3::BucketPolicy").values()
    }
    for name, bucket in buckets.items():
        assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}, name
        assert len(bucket["PublicAccessBlockConfiguration"]) == 4, name
        (encryption,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}, name
        assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}], name
        (deny,) = policies[name]["Statement"]
        assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert base["Resources"][name]["DeletionPolicy"] == "Retain", name


def lifecycle(bucket: dict) -> dict:
    return {rule["Id"]: rule for rule in bucket["LifecycleConfiguration"]["Rules"]}


def test_exports_expire_after_the_housekeeping_forgot_them_and_orphan_uploads_expire(base):
    buckets = of_type(base, "AWS::S3::Bucket")
    exports = lifecycle(buckets["ExportsBucket"])["expire-exports"]
    # one day after TASK_RETENTION_DAYS: a task never links to a file S3 already expired
    assert exports["ExpirationInDays"] == config.settings().tasks.retention_days + 1
    assert "Prefix" not in exports
    imports = lifecycle(buckets["UploadsBucket"])["expire-import-files"]
    assert imports["Prefix"] == "imports/" and imports["ExpirationInDays"] <= 30
    for name in ("UploadsBucket", "ExportsBucket", "FormsBucket"):
        abort = lifecycle(buckets[name])["abort-incomplete-uploads"]
        assert abort["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 1, name


def test_browsers_may_post_presigned_uploads_and_read_exports(base):
    buckets = of_type(base, "AWS::S3::Bucket")
    for name, methods in (("UploadsBucket", {"POST"}), ("FormsBucket", {"POST"}), ("ExportsBucket", {"GET"})):
        (rule,) = buckets[name]["CorsConfiguration"]["CorsRules"]
        assert methods <= set(rule["AllowedMethods"]), name
        assert rule["AllowedOrigins"] == {"Ref": "CorsAllowedOrigins"}


def test_the_uploads_bucket_sends_object_created_events_to_eventbridge(base, app_template):
    uploads = of_type(base, "AWS::S3::Bucket")["UploadsBucket"]
    assert uploads["NotificationConfiguration"]["EventBridgeConfiguration"] == {"EventBridgeEnabled": True}
    exported = base["Outputs"]["UploadsBucketName"]
    assert exported["Value"] == {"Ref": "UploadsBucket"}
    rule = of_type(app_template, "AWS::Events::Rule")["SubmissionUploadsRule"]
    (bucket,) = rule["EventPattern"]["detail"]["bucket"]["name"]
    assert bucket["Fn::ImportValue"] == exported["Export"]["Name"]


# Database


def test_the_database_is_private_encrypted_backed_up_and_protected_in_prod(base):
    resource = base["Resources"]["Database"]
    database = resource["Properties"]
    assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Snapshot"
    assert database["Engine"] == "postgres" and database["PubliclyAccessible"] is False
    assert database["StorageEncrypted"] is True
    assert database["BackupRetentionPeriod"] == {"Fn::If": ["IsProd", 30, 7]}
    assert database["DeletionProtection"] == {"Fn::If": ["IsProd", True, False]}
    assert base["Conditions"]["IsProd"] == {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}
    assert database["VPCSecurityGroups"] == [{"Ref": "DatabaseSecurityGroup"}]
    logs = of_type(base, "AWS::Logs::LogGroup")["DatabaseLogGroup"]
    instance = database["DBInstanceIdentifier"]["Fn::Sub"]  # the database's log, kept for a while
    assert logs["LogGroupName"] == {"Fn::Sub": f"/aws/rds/instance/{instance}/postgresql"}
    assert resource["DependsOn"] == "DatabaseLogGroup" and "RetentionInDays" in logs
    (ingress,) = of_type(base, "AWS::EC2::SecurityGroup")["DatabaseSecurityGroup"]["SecurityGroupIngress"]
    assert ingress["SourceSecurityGroupId"] == {"Ref": "LambdaSecurityGroup"} and ingress["FromPort"] == 5432


def test_the_parameter_group_matches_the_engine_and_forces_tls(base):
    parameters = of_type(base, "AWS::RDS::DBParameterGroup")["DbParameterGroup"]
    version = base["Parameters"]["DbEngineVersion"]
    assert re.fullmatch(version["AllowedPattern"], version["Default"])
    assert parameters["Family"] == f"postgres{version['Default'].split('.')[0]}"
    assert parameters["Parameters"]["rds.force_ssl"] == "1"
    assert parameters["Parameters"]["max_connections"] == {"Ref": "DbMaxConnections"}


def test_the_database_secret_holds_what_db_py_reads_and_is_rotated(base):
    secret = of_type(base, "AWS::SecretsManager::Secret")["DbSecret"]["GenerateSecretString"]
    assert json.loads(secret["SecretStringTemplate"]) == {"username": "georegistry", "dbname": "georegistry"}
    assert secret["GenerateStringKey"] == "password"
    attachment = of_type(base, "AWS::SecretsManager::SecretTargetAttachment")["DbSecretAttachment"]
    assert attachment["TargetId"] == {"Ref": "Database"}  # adds host, port and engine to the secret
    assert base["Transform"].startswith("AWS::SecretsManager-")
    rotation = of_type(base, "AWS::SecretsManager::RotationSchedule")["DbSecretRotation"]
    assert rotation["SecretId"] == {"Ref": "DbSecret"}
    assert rotation["HostedRotationLambda"]["RotationType"] == "PostgreSQLSingleUser"
    assert rotation["HostedRotationLambda"]["VpcSecurityGroupIds"] == {"Ref": "LambdaSecurityGroup"}


# Network


def test_lambdas_reach_s3_sqs_and_secrets_manager_through_vpc_endpoints(base):
    endpoints = of_type(base, "AWS::EC2::VPCEndpoint").values()
    services = {endpoint["ServiceName"]["Fn::Sub"].rsplit(".", 1)[1] for endpoint in endpoints}
    assert services == {"s3", "sqs", "secretsmanager"}
    for endpoint in endpoints:
        if endpoint["VpcEndpointType"] == "Interface":
            assert endpoint["PrivateDnsEnabled"] is True
            assert endpoint["SecurityGroupIds"] == [{"Ref": "EndpointSecurityGroup"}]


# Between the stacks and the app


def imports_in(value) -> set[str]:
    if isinstance(value, dict):
        if "Fn::ImportValue" in value:
            return {value["Fn::ImportValue"]["Fn::Sub"]}
        return set().union(*(imports_in(item) for item in value.values()))
    if isinstance(value, list):
        return set().union(*(imports_in(item) for item in value))
    return set()


def test_everything_the_app_stack_imports_is_exported_by_the_base_stack(base, app_template):
    exported = {
        output["Export"]["Name"]["Fn::Sub"] for output in base["Outputs"].values() if "Export" in output
    }
    policies = [json.loads(path.read_text()) for path in (INFRA / "policies").glob("*.json")]
    imported = imports_in(app_template) | imports_in(policies)
    assert imported <= exported
    assert {"georegistry-${Stage}-DbSecretArn", "georegistry-${Stage}-UploadsBucketArn"} <= imported
    # an imported value cannot change while imported: tunables are passed as parameters instead
    assert "Export" not in base["Outputs"]["DbMaxConnections"]
    assert (
        app_template["Parameters"]["DbMaxConnections"]["Default"]
        == base["Parameters"]["DbMaxConnections"]["Default"]
    )


def test_every_function_declares_its_own_policy_file(app_template):
    assert CHALICE_CONFIG["autogen_policy"] is False
    for function, settings in CHALICE_CONFIG["lambda_functions"].items():
        policy = (ROOT / ".chalice" / settings["iam_policy_file"]).resolve()
        assert policy == INFRA / "policies" / f"{function}.json"
        document = json.loads(policy.read_text())
        (logs,) = [statement for statement in document["Statement"] if statement["Sid"] == "OwnLogGroup"]
        assert logs["Resource"]["Fn::Sub"].endswith(f"/aws/lambda/georegistry-${{Stage}}-{function}:*")


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_stage_settings_leave_the_stage_resources_to_the_stack(stage, app_template):
    settings = CHALICE_CONFIG["stages"][stage]
    variables = settings["environment_variables"]
    # SAM would let these win over the stack's values (infra/app.yaml Globals)
    assert not set(variables) & set(app_template["Globals"]["Function"]["Environment"]["Variables"])
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == f"georegistry-{stage}"
    assert variables["STAGE"] == stage


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_every_queue_outlasts_six_timeouts_of_its_worker_in_every_stage(stage, app_template):
    functions = CHALICE_CONFIG["stages"][stage]["lambda_functions"]
    queues = of_type(app_template, "AWS::SQS::Queue")
    wired = 0
    for logical_id, resource in app_template["Resources"].items():
        for event in resource.get("Properties", {}).get("Events", {}).values():
            queue = re.fullmatch(r"\$\{(\w+)\.Arn\}", event["Properties"]["Queue"]["Fn::Sub"]).group(1)
            function = next(name for name in functions if name.replace("_", "") == logical_id.lower())
            timeout = functions[function]["lambda_timeout"]
            assert timeout <= LAMBDA_MAX_TIMEOUT
            assert queues[queue]["VisibilityTimeout"] >= 6 * timeout, (stage, function)
            wired += 1
    assert wired == 3


@pytest.mark.parametrize(
    ("target", "script"), [("package", "infra/package.sh"), ("deploy", "infra/deploy.sh")]
)
def test_make_targets_run_the_infra_scripts_for_the_stage(target, script):
    result = subprocess.run(["make", "-n", target, "STAGE=prod"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert f"{script} prod" in result.stdout.splitlines()


def test_the_lambdas_reach_dhis2_through_a_nat_gateway_unless_egress_is_turned_off(base):
    egress = {"InternetGateway", "PublicSubnet", "NatGateway", "PrivateDefaultRoute", "LambdaHttpEgress"}
    for name in egress:
        assert base["Resources"][name]["Condition"] == "HasInternetEgress", name
    route = base["Resources"]["PrivateDefaultRoute"]["Properties"]
    assert (
        route["RouteTableId"] == {"Ref": "PrivateRouteTable"} and route["DestinationCidrBlock"] == "0.0.0.0/0"
    )
    assert route["NatGatewayId"] == {"Ref": "NatGateway"}
    assert base["Resources"]["NatGateway"]["Properties"]["SubnetId"] == {"Ref": "PublicSubnet"}
    assert base["Parameters"]["InternetEgress"]["AllowedValues"] == ["true", "false"]
