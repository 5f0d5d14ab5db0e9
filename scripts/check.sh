#!/bin/sh
# The one check behind the pull-request check (CodeBuild) and CI (.ci/run). POSIX sh, because CodeBuild runs buildspec
# commands with sh, which has no pipefail: every exit status is read from the command itself, never from a pipe.
#
#   1. tests          npm test (the README's test command; JUnit XML for the report group)
#   2. synth          npm run synth: every stack, bundled, cdk-nag and the Control Tower guard rules failing the synth
#                     on any unacknowledged finding
#   3. destroy check  scripts/check-destroyable.ts over cdk.out (after a successful synth)
#   4. cfn-lint       every synthesized template; errors fail, warnings and informational findings pass
#
# Reports (for reviewers; the PR check publishes them): $REPORTS_DIR (default reports/) holds test.log, junit/,
# synth.log, validation-report.json (every engine, as aws-cdk-lib writes it), cdk-nag-validation-report.json and
# cfn-guard-validation-report.json (one engine each, acknowledged findings with their reasons), destroy-check.txt,
# cfn-lint.txt.
# Exit: 0 when every step passed; 1 otherwise, after every step that can still run, naming the failed ones.
# Run from anywhere; it works in the repository holding it. Prerequisites: scripts/install-prerequisites.sh, npm ci.
set -u
cd "$(dirname "$0")/.." || exit 1

reports=${REPORTS_DIR:-reports}
rm -rf "$reports" && mkdir -p "$reports/junit" || exit 1
export CDK_DISABLE_CLI_TELEMETRY=true
JEST_JUNIT_OUTPUT_DIR=${JEST_JUNIT_OUTPUT_DIR:-$reports/junit}
export JEST_JUNIT_OUTPUT_DIR
failed=''

step() { printf '\n==> %s\n' "$*"; }

# run_logged LOG COMMAND...: shows and saves the command's output; returns the command's own exit status.
run_logged() {
  log=$1
  shift
  { if "$@" 2>&1; then echo 0 >"$log.status"; else echo "$?" >"$log.status"; fi; } | tee "$log"
  status=$(cat "$log.status")
  rm -f "$log.status"
  return "$status"
}

step 'Tests (npm test)'
run_logged "$reports/test.log" npm test || failed="$failed tests"

step 'Synth: every stack, bundled, cdk-nag and Control Tower guard failing on any finding (npm run synth)'
rm -rf cdk.out
synth_passed=true
run_logged "$reports/synth.log" npm run synth || { synth_passed=false; failed="$failed synth"; }
if [ -f cdk.out/validation-report.json ]; then
  cp cdk.out/validation-report.json "$reports/validation-report.json"
  # One report per engine; prints a summary line each. Informational: the synth's exit status decides.
  npx ts-node --transpile-only scripts/validation-reports.ts cdk.out "$reports" || echo 'could not split the validation report; see validation-report.json'
fi

if "$synth_passed"; then
  step 'Nothing may survive cdk destroy (scripts/check-destroyable.ts)'
  run_logged "$reports/destroy-check.txt" npx ts-node --transpile-only scripts/check-destroyable.ts cdk.out || failed="$failed destroy-check"

  step 'cfn-lint over every synthesized template'
  templates=$(find cdk.out -name '*.template.json' | sort)
  if [ -z "$templates" ]; then
    echo 'no templates in cdk.out' >&2
    failed="$failed cfn-lint"
  else
    echo "$(printf '%s\n' "$templates" | wc -l | tr -d ' ') templates"
    lint_status=0
    # CDK's template file names hold no spaces or glob characters: split on newlines only, no globbing.
    set -f
    old_ifs=$IFS
    IFS='
'
    # shellcheck disable=SC2086
    cfn-lint --format parseable $templates >"$reports/cfn-lint.txt" 2>&1 || lint_status=$?
    IFS=$old_ifs
    set +f
    cat "$reports/cfn-lint.txt"
    # cfn-lint's exit status is a bit mask: 2 error, 4 warning, 8 informational; 1 is its own failure (bad usage).
    if [ $((lint_status & 3)) -ne 0 ] || [ "$lint_status" -gt 15 ]; then
      echo "cfn-lint reported errors (exit $lint_status)" >&2
      failed="$failed cfn-lint"
    elif [ "$lint_status" -ne 0 ]; then
      echo "cfn-lint: warnings or informational findings only (exit $lint_status): passed; see $reports/cfn-lint.txt"
    fi
  fi
else
  echo 'Skipping the destroy check and cfn-lint: the synth failed.'
fi

summary=$(grep -E '^Tests: [0-9]+ passed, [0-9]+ failed' "$reports/test.log" | tail -n 1)
if [ -n "$failed" ]; then
  printf '\ncheck failed:%s\n' "$failed" >&2
  [ -z "$summary" ] || echo "$summary"
  exit 1
fi
printf '\nAll checks passed.\n'
[ -z "$summary" ] || echo "$summary"
