#!/usr/bin/env node
/**
 * CDK app entry: the delivery pipeline (which deploys Staging and Prod), a standalone sandbox copy of the stage, and the
 * account baseline of each account the stages go to. Creates stacks and nothing else; configuration comes from
 * lib/config, context is read there only.
 */
import { loadAppConfig } from '../lib/config';
import { createValidatedApp } from '../lib/compliance/policy-engines';
import { PipelineStack } from '../lib/pipeline/pipeline-stack';
import { AccountBaselineStack, baselineAccounts } from '../lib/stages/account-baseline-stack';
import { TradingPlatformStage } from '../lib/stages/trading-platform-stage';
import { exitOnConfigError } from '../lib/config/exit-on-config-error';

const app = createValidatedApp();
// A bad config value prints as one line naming the key and the value, and the synth exits 1 (docs/deployment.md).
const config = exitOnConfigError(() => loadAppConfig(app.node, process.env));
new PipelineStack(app, 'TradingPlatformPipeline', {
  config,
  stackName: 'cfn-pipeline-us-east-1-cicd',
  description: 'Self-mutating delivery pipeline of the trading platform (Staging, approval, Prod)',
});
new TradingPlatformStage(app, `Sandbox-${config.sandbox.environmentSuffix}`, { config: config.sandbox });
// Once per account and region, before the first stage (docs/deployment.md): API Gateway's account-level logging role.
for (const account of baselineAccounts([config.sandbox, config.staging, config.prod])) {
  new AccountBaselineStack(app, `AccountBaseline-${account}`, { account });
}
app.synth();
