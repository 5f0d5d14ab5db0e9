#!/usr/bin/env bash
# Pipeline synth step (CodeBuild aws/codebuild/standard:7.0; the project selects Node.js and Python): install what
# the image lacks for the test run (the PostgreSQL server: the image has only libpq-dev; moto), run the README's test
# command, then synthesize every stack with cdk-nag and the Control Tower guard rules failing on any finding and every
# placeholder refused (-c strictPlaceholders=true). The cloud assembly it outputs carries validation-report.json, both
# engines' findings and acknowledgements. No Docker: Lambda bundling uses the local esbuild.
set -euo pipefail
cd "$(dirname "$0")/.."
export CDK_DISABLE_CLI_TELEMETRY=true
bash scripts/install-prerequisites.sh postgresql moto
npm ci --no-audit --no-fund
npm test
npm run synth -- -c strictPlaceholders=true
