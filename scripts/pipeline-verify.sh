#!/usr/bin/env bash
# Pipeline step Verify (Staging, after the smoke test): assume the stage's verification role, then prove every path
# only AWS runs (scripts/staging-verification.ts). Inputs: VERIFICATION_ROLE_ARN, API_URL and HEALTH_CHECK_ID from the
# stage's outputs; the stage's names and VERIFY_SESSION_SECONDS from the step (lib/pipeline/verification-step.ts).
set -euo pipefail
: "${VERIFICATION_ROLE_ARN:?VERIFICATION_ROLE_ARN is required}"
: "${VERIFY_SESSION_SECONDS:?VERIFY_SESSION_SECONDS is required}"
here=$(dirname "$0")
. "$here/stage-role.sh"
assume_stage_role "$VERIFICATION_ROLE_ARN" pipeline-staging-verification "$VERIFY_SESSION_SECONDS"
exec npx ts-node --transpile-only "$here/staging-verification.ts"
