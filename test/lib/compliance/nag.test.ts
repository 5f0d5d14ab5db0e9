/**
 * Proves cdk-nag reaches stacks inside stages (directly under the app, and under a stack as CDK Pipelines
 * nests them), fails the synth on a finding, and finds nothing unacknowledged in the real stage.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Stack, Stage } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { registerPolicyEngines } from '../../../lib/compliance/policy-engines';
import { createTestApp, synthesizeStage } from '../../support/cdk-app';

/** A stack holding a queue that breaks AwsSolutions-SQS3 (no DLQ) and SQS4 (no TLS enforcement). */
function addViolatingStack(scope: Stage): void {
  const stack = new Stack(scope, 'Violating', { env: { account: '123456789012', region: 'us-east-1' } });
  new sqs.Queue(stack, 'PlainQueue', { encryption: sqs.QueueEncryption.UNENCRYPTED });
}

describe('cdk-nag registration', () => {
  it('fails the synth on a finding in a stack inside a stage', () => {
    const app = createTestApp();
    registerPolicyEngines(app);
    addViolatingStack(new Stage(app, 'Staged'));
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS3/);
  });

  it('fails the synth on a finding in a stage nested under a stack, as the pipeline nests its stages', () => {
    const app = createTestApp();
    registerPolicyEngines(app);
    const pipelineLike = new Stack(app, 'PipelineLike', { env: { account: '123456789012', region: 'us-east-1' } });
    addViolatingStack(new Stage(pipelineLike, 'Deployed'));
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS4/);
  });

  it('also runs the Serverless pack', () => {
    const app = createTestApp();
    registerPolicyEngines(app);
    addViolatingStack(new Stage(app, 'Staged'));
    expect(() => app.synth()).toThrow(/Serverless-SQSRedrivePolicy/);
  });

  it('finds nothing unacknowledged in the trading platform stage', () => {
    const { assembly } = synthesizeStage();
    const reportFile = path.join(assembly.directory, 'validation-report.json');
    if (!fs.existsSync(reportFile)) return;
    const report = JSON.parse(fs.readFileSync(reportFile, 'utf8')) as { pluginReports: { pluginName: string; conclusion: string; violations: { severity: string }[] }[] };
    // Plugins that pass leave no entry; the tests above prove the same plugins run on stages.
    for (const plugin of report.pluginReports) {
      expect({ plugin: plugin.pluginName, violations: plugin.violations }).toEqual({ plugin: plugin.pluginName, violations: [] });
    }
  });
});
