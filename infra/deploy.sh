#!/usr/bin/env bash
# Deploys one stage to the account and region of the AWS CLI's credentials, in four steps:
#   1. the base stack georegistry-STAGE-base (infra/base.yaml: network, database, secrets, buckets);
#   2. the package (infra/package.sh: Chalice's template merged with infra/app.yaml, and the zip);
#   3. the app stack georegistry-STAGE (the package, its zip uploaded to the base stack's bucket);
#   4. the database migrations, by invoking the stage's migrate Lambda.
# Re-running is safe: unchanged stacks are left alone and applied migrations are skipped.
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

echo "== 1/4 $base_stack (the first run creates the database: about 20 minutes)"
# shellcheck disable=SC2086 # BASE_PARAMETERS is a list of Key=Value words
aws cloudformation deploy --stack-name "$base_stack" --template-file infra/base.yaml \
  --parameter-overrides "Stage=$stage" ${BASE_PARAMETERS:-} \
  --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND --no-fail-on-empty-changeset

echo "== 2/4 package $stage"
infra/package.sh "$stage" "$out"

echo "== 3/4 $app_stack"
aws cloudformation package --template-file "$out/sam.yaml" --output-template-file "$out/packaged.yaml" \
  --s3-bucket "$(stack_output "$base_stack" ArtifactsBucketName)" --s3-prefix "$stage"
# shellcheck disable=SC2086 # APP_PARAMETERS is a list of Key=Value words
aws cloudformation deploy --stack-name "$app_stack" --template-file "$out/packaged.yaml" \
  --parameter-overrides "Stage=$stage" "DbMaxConnections=$(stack_output "$base_stack" DbMaxConnections)" \
  ${ALARM_EMAIL:+"AlarmEmail=$ALARM_EMAIL"} ${APP_PARAMETERS:-} \
  --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND --no-fail-on-empty-changeset

echo "== 4/4 migrations"
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
echo "deployed $stage: $(stack_output "$app_stack" EndpointURL)"
echo "dashboard: $(stack_output "$app_stack" DashboardUrl)"
