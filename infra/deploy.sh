#!/usr/bin/env bash
# Deploys one stage to the account and region of the AWS CLI's credentials, in five steps:
#   1. the base stack georegistry-STAGE-base (infra/base.yaml: network, database, secrets, buckets);
#   2. the package (infra/package.sh: Chalice's template merged with infra/app.yaml, and the zip);
#   3. the app stack georegistry-STAGE (the package, its zip uploaded to the base stack's bucket);
#   4. the database migrations, by invoking the stage's migrate Lambda;
#   5. the web console: built (devstack/console.py), uploaded to the console bucket, its index.html
#      invalidated in CloudFront; the buckets' CORS narrowed to the console's origin.
# Re-running is safe: unchanged stacks are left alone, applied migrations and unchanged files skipped.
# Usage: infra/deploy.sh STAGE
# Optional environment: ALARM_EMAIL (subscribed to the alarms), BASE_PARAMETERS and APP_PARAMETERS
# ("Key=Value ..." overrides of the two templates' parameters; kept by later runs), DIST (dist/).
set -euo pipefail
cd "$(dirname "$0")/.."

stage=${1:?usage: infra/deploy.sh STAGE}
base_stack="georegistry-$stage-base"
app_stack="georegistry-$stage"
out="${DIST:-dist}/$stage"

if ! command -v aws >/dev/null; then
  echo "deploy needs the AWS CLI (v2) and credentials for the target account: see README, Deploy to AWS" >&2
  exit 1
fi

stack_output() { # stack_output STACK KEY
  aws cloudformation describe-stacks --stack-name "$1" \
    --query "Stacks[0].Outputs[?OutputKey=='$2'].OutputValue" --output text
}

stack_parameter() { # stack_parameter STACK KEY
  aws cloudformation describe-stacks --stack-name "$1" \
    --query "Stacks[0].Parameters[?ParameterKey=='$2'].ParameterValue" --output text
}

deploy_base() { # deploy_base [Key=Value...]: BASE_PARAMETERS last, so that they win
  # shellcheck disable=SC2086 # BASE_PARAMETERS is a list of Key=Value words
  aws cloudformation deploy --stack-name "$base_stack" --template-file infra/base.yaml \
    --parameter-overrides "Stage=$stage" "$@" ${BASE_PARAMETERS:-} \
    --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND --no-fail-on-empty-changeset
}

echo "== 1/5 $base_stack (the first run creates the database: about 20 minutes)"
deploy_base

echo "== 2/5 package $stage"
infra/package.sh "$stage" "$out"

echo "== 3/5 $app_stack (the first run creates the CloudFront distribution: minutes more)"
aws cloudformation package --template-file "$out/sam.yaml" --output-template-file "$out/packaged.yaml" \
  --s3-bucket "$(stack_output "$base_stack" ArtifactsBucketName)" --s3-prefix "$stage"
# shellcheck disable=SC2086 # APP_PARAMETERS is a list of Key=Value words
aws cloudformation deploy --stack-name "$app_stack" --template-file "$out/packaged.yaml" \
  --parameter-overrides "Stage=$stage" "DbMaxConnections=$(stack_output "$base_stack" DbMaxConnections)" \
  ${ALARM_EMAIL:+"AlarmEmail=$ALARM_EMAIL"} ${APP_PARAMETERS:-} \
  --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND --no-fail-on-empty-changeset

echo "== 4/5 migrations"
migrate=$(stack_output "$app_stack" MigrateFunctionName)
# A migration may run for minutes: wait as long as the Lambda may (900 s), not the CLI's 60 s.
failed=$(aws lambda invoke --function-name "$migrate" --payload '{}' --cli-binary-format raw-in-base64-out \
  --cli-read-timeout 910 --query FunctionError --output text "$out/migrate.json")
cat "$out/migrate.json"
echo
if [ "$failed" != "None" ]; then
  echo "migrate failed ($failed): see above and the log group /aws/lambda/$migrate" >&2
  exit 1
fi

echo "== 5/5 web console"
"${VENV_BIN:-.venv/bin}/python" - <<'PYTHON'
import sys

from devstack.console import ConsoleUnavailable, ensure_built

try:
    print("console", ensure_built())
except ConsoleUnavailable as reason:
    sys.exit(f"cannot deploy the console: {reason}")
PYTHON
bucket=$(stack_output "$base_stack" ConsoleBucketName)
# Hashed names never change content: cached for a year. New files first, then index.html naming
# them, then the old files deleted (a page loaded meanwhile still finds its own).
assets=(--exclude index.html --exclude ".*" --cache-control "public, max-age=31536000, immutable")
aws s3 sync console/dist "s3://$bucket/console" "${assets[@]}"
aws s3 cp console/dist/index.html "s3://$bucket/console/index.html" \
  --cache-control no-cache --content-type "text/html; charset=utf-8"
# Every console path is answered with /console/index.html (infra/app.yaml ConsoleRoutes): one path.
aws cloudfront create-invalidation --distribution-id "$(stack_output "$app_stack" ConsoleDistributionId)" \
  --paths /console/index.html --query Invalidation.Id --output text
aws s3 sync console/dist "s3://$bucket/console" --delete "${assets[@]}"
# Presigned uploads and downloads come from the console only: the buckets allow its origin alone.
origin=$(stack_output "$app_stack" ConsoleOrigin)
if [ "$(stack_parameter "$base_stack" CorsAllowedOrigins)" != "$origin" ]; then
  echo "the buckets' CORS now allows $origin only"
  deploy_base "CorsAllowedOrigins=$origin"
fi

echo "deployed $stage: $(stack_output "$app_stack" EndpointURL)"
echo "console: $(stack_output "$app_stack" ConsoleUrl)"
echo "dashboard: $(stack_output "$app_stack" DashboardUrl)"
