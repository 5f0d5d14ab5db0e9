# Sourced by the pipeline's post-deploy wrappers (pipeline-verify.sh, pipeline-bake.sh), never run on its own.
# assume_stage_role <role-arn> <session-name> <duration-seconds>: exports the credentials of a session of that role
# in the stage account, so that what runs next can do exactly what the role allows there and nothing else.
assume_stage_role() {
  local role_arn=$1 session_name=$2 duration_seconds=$3 credentials
  # Bounded: the CLI's standard retry mode with 5 attempts, each with a 10 s connect and 30 s read deadline.
  if ! credentials=$(AWS_RETRY_MODE=standard AWS_MAX_ATTEMPTS=5 aws sts assume-role --role-arn "$role_arn" \
    --role-session-name "$session_name" --duration-seconds "$duration_seconds" \
    --cli-connect-timeout 10 --cli-read-timeout 30 --output json); then
    echo "stage-role: could not assume $role_arn (session $session_name, ${duration_seconds}s)" >&2
    return 1
  fi
  AWS_ACCESS_KEY_ID=$(node -e 'process.stdout.write(JSON.parse(process.argv[1]).Credentials.AccessKeyId)' "$credentials")
  AWS_SECRET_ACCESS_KEY=$(node -e 'process.stdout.write(JSON.parse(process.argv[1]).Credentials.SecretAccessKey)' "$credentials")
  AWS_SESSION_TOKEN=$(node -e 'process.stdout.write(JSON.parse(process.argv[1]).Credentials.SessionToken)' "$credentials")
  export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
  echo "stage-role: assumed $role_arn as $session_name for ${duration_seconds}s"
}
