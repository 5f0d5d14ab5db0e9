/**
 * scripts/validation-reports.ts splits the report aws-cdk-lib writes into one report per policy engine, on a report
 * from a real synth: cdk-nag's packs to one file, the Control Tower guard (with its acknowledged findings) to the other.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Stack, Stage, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { registerPolicyEngines } from '../../lib/compliance/policy-engines';
import { ValidationReport, engineReport } from '../../scripts/validation-reports';
import { createTestApp } from '../support/cdk-app';

let report: ValidationReport;

beforeAll(() => {
  // Report, do not throw: the script runs after a synth that failed as well as after one that passed.
  const app = createTestApp({ '@aws-cdk/core:failSynthOnValidationErrors': false });
  registerPolicyEngines(app);
  const stack = new Stack(new Stage(app, 'Staged'), 'Queues', { env: { account: '123456789012', region: 'us-east-1' } });
  const queue = new sqs.Queue(stack, 'PlainQueue', { encryption: sqs.QueueEncryption.UNENCRYPTED });
  Validations.of(queue).acknowledge({ id: 'cdk-validator-cfnguard::sqs_dlq_check', reason: 'CT.SQS.PR.1: test acknowledgement' });
  const assembly = app.synth();
  report = JSON.parse(fs.readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8')) as ValidationReport;
});

describe('validation report per engine', () => {
  it('gives cdk-nag its two packs and their findings, failed', () => {
    const nag = engineReport(report, 'cdk-nag');
    expect(nag.pluginReports.map((plugin) => plugin.pluginName).sort()).toEqual(['AwsSolutions', 'Serverless']);
    expect(nag.conclusion).toBe('failure');
    expect(nag.unacknowledged).toBeGreaterThan(0);
    expect(JSON.stringify(nag)).toContain('AwsSolutions-SQS4');
    expect(JSON.stringify(nag)).not.toContain('sqs_queue_encrypted_check');
  });

  it('gives cfn-guard its findings and its acknowledged ones with their reasons', () => {
    const guard = engineReport(report, 'cfn-guard');
    expect(guard.pluginReports.map((plugin) => plugin.pluginName)).toEqual(['cdk-validator-cfnguard']);
    expect(guard.conclusion).toBe('failure');
    expect(JSON.stringify(guard.pluginReports[0]?.violations)).toContain('sqs_queue_encrypted_check');
    expect(guard.acknowledged).toBe(1);
    expect(JSON.stringify(guard.pluginReports[0]?.suppressedViolations)).toContain('CT.SQS.PR.1: test acknowledgement');
  });

  it('reports success with no entries when the engine had nothing to say', () => {
    expect(engineReport({ pluginReports: [] }, 'cfn-guard')).toEqual(expect.objectContaining({ conclusion: 'success', unacknowledged: 0, acknowledged: 0, pluginReports: [] }));
  });
});
