#!/usr/bin/env bash
# Pipeline step Bake (Staging before the approval, Prod after its health gate): watch the stage's alarms for the bake
# window (scripts/alarm-bake.ts) with the stage's alarm-reader role. Where the stage rolls back by itself (Prod), a
# rollback execution of the stage is recognised first: its bake waits for the alarms to clear instead of failing on
# the alarm that caused the rollback.
# Inputs: ALARM_READER_ROLE_ARN (stage output), BAKE_SESSION_SECONDS, BAKE_MINUTES, ALARM_NAME_PREFIX,
# ALARM_NAME_SUFFIX, REQUIRED_ALARMS; ROLLBACK_PIPELINE_NAME and ROLLBACK_STAGE_NAME where the stage rolls back.
set -euo pipefail
: "${ALARM_READER_ROLE_ARN:?ALARM_READER_ROLE_ARN is required}"
: "${BAKE_SESSION_SECONDS:?BAKE_SESSION_SECONDS is required}"
here=$(dirname "$0")
mode=watch
if [ -n "${ROLLBACK_PIPELINE_NAME:-}" ]; then
  : "${ROLLBACK_STAGE_NAME:?ROLLBACK_STAGE_NAME is required with ROLLBACK_PIPELINE_NAME}"
  # With the build's own credentials (the pipeline account), before the stage role replaces them. GetPipelineState's
  # stageStates[].latestExecution.type is STANDARD or ROLLBACK (CodePipeline API Reference, StageExecution).
  execution_type=$(AWS_RETRY_MODE=standard AWS_MAX_ATTEMPTS=5 aws codepipeline get-pipeline-state --name "$ROLLBACK_PIPELINE_NAME" \
    --query "stageStates[?stageName=='$ROLLBACK_STAGE_NAME'] | [0].latestExecution.type" --output text \
    --cli-connect-timeout 10 --cli-read-timeout 30)
  case "$execution_type" in
    ROLLBACK) mode=recover ;;
    # "None": the CLI's text output of an absent type, which only a standard execution lacks.
    STANDARD | None) mode=watch ;;
    *)
      echo "pipeline-bake: unexpected execution type '$execution_type' of stage $ROLLBACK_STAGE_NAME in $ROLLBACK_PIPELINE_NAME" >&2
      exit 1
      ;;
  esac
  echo "pipeline-bake: stage $ROLLBACK_STAGE_NAME runs a $execution_type execution: bake mode $mode"
fi
export BAKE_MODE=$mode
. "$here/stage-role.sh"
assume_stage_role "$ALARM_READER_ROLE_ARN" pipeline-alarm-bake "$BAKE_SESSION_SECONDS"
exec npx ts-node --transpile-only "$here/alarm-bake.ts"
