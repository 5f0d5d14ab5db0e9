#!/usr/bin/env bash
# Pipeline synth step (CodeBuild, Ubuntu standard image): install the local test services, run the README's test
# command, then synthesize every stack with cdk-nag failing on any finding. No Docker: Lambda bundling uses esbuild.
set -euo pipefail
export CDK_DISABLE_CLI_TELEMETRY=true
if ! command -v pg_config >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql
fi
command -v moto_server >/dev/null || python3 -m pip install --quiet 'moto[server]' cfn-lint
npm ci --no-audit --no-fund
npm test
npm run synth
