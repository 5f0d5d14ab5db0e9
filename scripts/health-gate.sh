#!/usr/bin/env bash
# Post-deploy health gate (CDK Pipelines ShellStep and CI): polls the API's /v1/health until it answers HTTP 200 with a
# top-level "status":"ok", retrying with capped exponential backoff and jitter, or fails when the deadline passes.
#
# Usage: health-gate.sh <url> [deadline_seconds]      (default deadline: 300 s)
# Exit:  0 healthy, 1 not healthy by the deadline, 2 usage error or missing tool.
# Tuning (environment; the defaults suit a fresh deployment, tests shrink them):
#   HEALTH_GATE_INITIAL_DELAY_MS  first backoff window             (default 2000)
#   HEALTH_GATE_MAX_DELAY_MS      largest backoff window           (default 30000)
#   HEALTH_GATE_CONNECT_TIMEOUT   curl --connect-timeout, seconds  (default 5)
#   HEALTH_GATE_MAX_TIME          curl --max-time per attempt, s   (default 10)
set -euo pipefail

usage() {
  echo "usage: $0 <url> [deadline_seconds]" >&2
  exit 2
}

[ "$#" -ge 1 ] && [ "$#" -le 2 ] || usage
url=$1
deadline_seconds=${2:-300}
initial_delay_ms=${HEALTH_GATE_INITIAL_DELAY_MS:-2000}
max_delay_ms=${HEALTH_GATE_MAX_DELAY_MS:-30000}
connect_timeout=${HEALTH_GATE_CONNECT_TIMEOUT:-5}
max_time=${HEALTH_GATE_MAX_TIME:-10}

is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }
is_seconds() { [[ $1 =~ ^[0-9]+(\.[0-9]+)?$ ]]; }
[[ $url =~ ^https?:// ]] || { echo "health-gate: url must start with http:// or https://, got '$url'" >&2; usage; }
is_uint "$deadline_seconds" || { echo "health-gate: deadline_seconds must be a whole number, got '$deadline_seconds'" >&2; usage; }
is_uint "$initial_delay_ms" && [ "$initial_delay_ms" -ge 1 ] || { echo "health-gate: HEALTH_GATE_INITIAL_DELAY_MS must be a whole number >= 1" >&2; exit 2; }
is_uint "$max_delay_ms" && [ "$max_delay_ms" -ge "$initial_delay_ms" ] || { echo "health-gate: HEALTH_GATE_MAX_DELAY_MS must be >= HEALTH_GATE_INITIAL_DELAY_MS" >&2; exit 2; }
is_seconds "$connect_timeout" || { echo "health-gate: HEALTH_GATE_CONNECT_TIMEOUT must be a number of seconds" >&2; exit 2; }
is_seconds "$max_time" || { echo "health-gate: HEALTH_GATE_MAX_TIME must be a number of seconds" >&2; exit 2; }
command -v curl >/dev/null || { echo "health-gate: curl is required" >&2; exit 2; }
# A JSON parser, not grep: a degraded body can contain "status":"ok" for one of its components.
command -v node >/dev/null || { echo "health-gate: node is required to read the health body" >&2; exit 2; }

now_ms() {
  # EPOCHREALTIME (bash 5) is "seconds.microseconds"; the separator follows the locale, so strip either.
  local t=${EPOCHREALTIME/[.,]/}
  echo $((t / 1000))
}

ms_as_seconds() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }

body_file=$(mktemp)
error_file=$(mktemp)
trap 'rm -f "$body_file" "$error_file"' EXIT

top_level_status_ok() {
  node -e '
    let body;
    try { body = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); } catch { process.exit(1); }
    process.exit(body !== null && typeof body === "object" && body.status === "ok" ? 0 : 1);
  ' "$1"
}

start_ms=$(now_ms)
deadline_ms=$((start_ms + deadline_seconds * 1000))
window_ms=$initial_delay_ms
attempt=0

echo "health-gate: waiting up to ${deadline_seconds}s for HTTP 200 with status \"ok\" from $url"
while :; do
  attempt=$((attempt + 1))
  remaining_ms=$((deadline_ms - $(now_ms)))
  # Never let one attempt run past the deadline.
  attempt_max_ms=$((remaining_ms < 1000 ? 1000 : remaining_ms))
  attempt_time=$max_time
  if awk -v a="$max_time" -v r="$attempt_max_ms" 'BEGIN { exit !(a * 1000 > r) }'; then attempt_time=$(ms_as_seconds "$attempt_max_ms"); fi

  : >"$body_file"
  curl_status=0
  # No --location: the endpoint never redirects, and a redirect to some page that answers 200 must not pass the gate.
  http_code=$(curl --silent --show-error \
    --connect-timeout "$connect_timeout" --max-time "$attempt_time" \
    --header 'accept: application/json' --user-agent 'trading-platform-health-gate' \
    --output "$body_file" --write-out '%{http_code}' "$url" 2>"$error_file") || curl_status=$?
  elapsed=$(ms_as_seconds $(($(now_ms) - start_ms)))

  if [ "$curl_status" -ne 0 ]; then
    outcome="request failed (curl exit $curl_status: $(tr '\n' ' ' <"$error_file" | cut -c1-200))"
  elif [ "$http_code" = "200" ] && top_level_status_ok "$body_file"; then
    echo "attempt $attempt (${elapsed}s): HTTP 200, status ok: healthy"
    exit 0
  else
    outcome="HTTP $http_code, body: $(tr '\n' ' ' <"$body_file" | cut -c1-200)"
  fi

  remaining_ms=$((deadline_ms - $(now_ms)))
  if [ "$remaining_ms" -le 0 ]; then
    echo "attempt $attempt (${elapsed}s): $outcome; deadline of ${deadline_seconds}s reached"
    echo "health-gate: $url was not healthy within ${deadline_seconds}s after $attempt attempt(s)" >&2
    exit 1
  fi
  # Equal jitter: between half and all of the window, so retries neither synchronise nor collapse to zero.
  half=$((window_ms / 2))
  sleep_ms=$((half + (RANDOM * 32768 + RANDOM) % (window_ms - half + 1)))
  [ "$sleep_ms" -gt "$remaining_ms" ] && sleep_ms=$remaining_ms
  echo "attempt $attempt (${elapsed}s): $outcome; retrying in $(ms_as_seconds "$sleep_ms")s"
  sleep "$(ms_as_seconds "$sleep_ms")"
  window_ms=$((window_ms * 2 > max_delay_ms ? max_delay_ms : window_ms * 2))
done
