#!/usr/bin/env bash
# Pipeline step: assume the stage's smoke-test role (execute-api:Invoke on the order routes only), then place a signed
# order and read it back. Inputs: API_URL and SMOKE_TEST_ROLE_ARN from the stage's stack outputs.
set -euo pipefail
: "${API_URL:?API_URL is required}"
: "${SMOKE_TEST_ROLE_ARN:?SMOKE_TEST_ROLE_ARN is required}"
credentials=$(aws sts assume-role --role-arn "$SMOKE_TEST_ROLE_ARN" --role-session-name "pipeline-smoke-test" --duration-seconds 900 --output json)
AWS_ACCESS_KEY_ID=$(node -e 'process.stdout.write(JSON.parse(process.argv[1]).Credentials.AccessKeyId)' "$credentials")
AWS_SECRET_ACCESS_KEY=$(node -e 'process.stdout.write(JSON.parse(process.argv[1]).Credentials.SecretAccessKey)' "$credentials")
AWS_SESSION_TOKEN=$(node -e 'process.stdout.write(JSON.parse(process.argv[1]).Credentials.SessionToken)' "$credentials")
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
exec npx ts-node --transpile-only scripts/smoke-test.ts "$API_URL"
