"""infra/: the base stack, the merge template and the IAM policy files, checked offline. (The packaged,
merged template is checked in tests/integration/test_packaging.py.)"""

import json
import re
import shutil
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
        assert base["Resources"][name]["DeletionPolicy"] == "Retain", name
        if name == "ConsoleBucket":  # its policy names the distribution: in the app stack (test below)
            assert name not in policies
            continue
        (deny,) = policies[name]["Statement"]
        assert deny == refuses_plain_http(deny["Resource"])


def refuses_plain_http(resource) -> dict:
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": resource,
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


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


# The web console: a private bucket (base stack) behind CloudFront with the API (app stack)

MANAGED_CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
MANAGED_ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


@pytest.fixture(scope="module")
def distribution(app_template) -> dict:
    return of_type(app_template, "AWS::CloudFront::Distribution")["ConsoleDistribution"]["DistributionConfig"]


def test_only_the_console_distribution_reads_the_console_bucket_through_origin_access_control(
    base, app_template, distribution
):
    assert "ConsoleBucket" in of_type(base, "AWS::S3::Bucket")
    (origin,) = [origin for origin in distribution["Origins"] if "S3OriginConfig" in origin]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["ConsoleOriginAccessControl", "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # no legacy OAI
    assert imports_in(origin["DomainName"]) == {"georegistry-${Stage}-ConsoleBucketDomainName"}
    access = of_type(app_template, "AWS::CloudFront::OriginAccessControl")["ConsoleOriginAccessControl"]
    config = access["OriginAccessControlConfig"]
    assert (config["OriginAccessControlOriginType"], config["SigningBehavior"]) == ("s3", "always")
    (policy,) = of_type(app_template, "AWS::S3::BucketPolicy").values()
    assert imports_in(policy["Bucket"]) == {"georegistry-${Stage}-ConsoleBucketName"}
    read, deny = policy["PolicyDocument"]["Statement"]
    assert read["Effect"] == "Allow" and read["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert read["Action"] == "s3:GetObject"  # no ListBucket: a missing file is a 403, not a listing
    distribution_arn = (
        "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${ConsoleDistribution}"
    )
    assert read["Condition"] == {"StringEquals": {"AWS:SourceArn": {"Fn::Sub": distribution_arn}}}
    assert deny == refuses_plain_http(deny["Resource"])


def directives(policy: str) -> dict[str, list[str]]:
    parsed = (directive.split() for directive in policy.split(";") if directive.strip())
    return {name: sources for name, *sources in parsed}


def test_console_responses_carry_the_local_csp_plus_the_buckets_hsts_and_no_framing(
    app_template, distribution
):
    from devstack.console import SECURITY_HEADERS

    headers = of_type(app_template, "AWS::CloudFront::ResponseHeadersPolicy")["ConsoleHeaders"]
    security = headers["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    csp_template, variables = security["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"]
    deployed = directives(csp_template)
    local = directives(SECURITY_HEADERS["Content-Security-Policy"])
    assert deployed.pop("connect-src") == ["'self'", "${S3}"]  # presigned uploads go to S3 itself
    assert deployed["img-src"] == local["img-src"] + ["${S3}"]  # photos through presigned links
    deployed["img-src"].remove("${S3}")
    assert deployed == local and local["frame-ancestors"] == ["'none'"]
    buckets = imports_in(variables["S3"])
    assert buckets == {f"georegistry-${{Stage}}-{name}BucketName" for name in ("Uploads", "Forms", "Exports")}
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert security["FrameOptions"]["FrameOption"] == "DENY"
    assert security["ReferrerPolicy"]["ReferrerPolicy"] == SECURITY_HEADERS["Referrer-Policy"]
    assert "ContentTypeOptions" in security  # nosniff
    assert all(header["Override"] is True for header in security.values())
    behaviours = [distribution["DefaultCacheBehavior"], *distribution["CacheBehaviors"]]
    assert {behaviour["ResponseHeadersPolicyId"]["Ref"] for behaviour in behaviours} == {"ConsoleHeaders"}
    assert {behaviour["ViewerProtocolPolicy"] for behaviour in behaviours} <= {
        "redirect-to-https",
        "https-only",
    }


def test_the_api_is_on_the_console_origin_uncached_with_every_header_but_host(distribution):
    origins = {origin["Id"]: origin for origin in distribution["Origins"]}
    behaviours = {behaviour["PathPattern"]: behaviour for behaviour in distribution["CacheBehaviors"]}
    assert set(behaviours) == {"/api/*", "/v1/*"}  # every route (test_packaging checks the app's paths)
    for behaviour in behaviours.values():
        api = origins[behaviour["TargetOriginId"]]
        assert api["DomainName"] == {"Fn::Sub": "${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}"}
        assert api["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
        assert behaviour["CachePolicyId"] == MANAGED_CACHING_DISABLED
        assert behaviour["OriginRequestPolicyId"] == MANAGED_ALL_VIEWER_EXCEPT_HOST
        assert {"POST", "PUT", "PATCH", "DELETE"} <= set(behaviour["AllowedMethods"])
    # the viewer's /api/health reaches the stage "api" as /api/api/health, the route Chalice serves
    assert api["OriginPath"] == "/" + CHALICE_CONFIG["stages"]["prod"]["api_gateway_stage"]
    assert {stage["api_gateway_stage"] for stage in CHALICE_CONFIG["stages"].values()} == {"api"}
    assert distribution["DefaultCacheBehavior"]["TargetOriginId"] == "console"
    # custom error responses would apply to the API's own 403s and 404s too
    assert "CustomErrorResponses" not in distribution


def test_console_paths_are_answered_with_index_html_and_files_as_themselves(app_template, tmp_path):
    function = of_type(app_template, "AWS::CloudFront::Function")["ConsoleRoutes"]
    assert function["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0" and function["AutoPublish"] is True
    uris = [
        "/",
        "/console",
        "/console/",
        "/console/tasks/12",
        "/console/assets/app-3LMPNABR.js",
        "/favicon.ico",
    ]
    script = tmp_path / "routes.js"
    calls = (
        f"for (const uri of {json.dumps(uris)}) console.log(JSON.stringify(handler({{request: {{uri}}}})));"
    )
    script.write_text(function["FunctionCode"] + calls + "\n")
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is missing (make setup installs it)")
    result = subprocess.run([node, str(script)], capture_output=True, text=True, check=True)
    answers = dict(zip(uris, map(json.loads, result.stdout.splitlines()), strict=True))
    for uri in ("/", "/console"):
        assert answers[uri]["statusCode"] == 302
        assert answers[uri]["headers"]["location"]["value"] == "/console/"
    assert answers["/console/"]["uri"] == answers["/console/tasks/12"]["uri"] == "/console/index.html"
    assert answers["/console/assets/app-3LMPNABR.js"]["uri"] == "/console/assets/app-3LMPNABR.js"
    assert answers["/favicon.ico"]["uri"] == "/favicon.ico"


def test_the_console_outputs_are_what_deploy_sh_reads(app_template):
    deploy = (INFRA / "deploy.sh").read_text()
    read = set(re.findall(r'stack_output "\$app_stack" (\w+)', deploy))
    assert {"ConsoleUrl", "ConsoleOrigin", "ConsoleDistributionId"} <= read
    assert read <= set(app_template["Outputs"]) | {"EndpointURL"}  # EndpointURL is Chalice's
