/**
 * Proves both policy engines (cdk-nag, and the Control Tower proactive controls through cfn-guard) reach stacks inside
 * stages (directly under the app, and under a stack as CDK Pipelines nests them), fail the synth on a finding naming
 * the rule, pass a compliant construct, and find nothing unacknowledged in the real stage.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, Stack, Stage } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { ControlTowerGuard, applicableRules } from '../../../lib/compliance/control-tower-guard';
import { registerPolicyEngines } from '../../../lib/compliance/policy-engines';
import { restrictGrantsToAwsServices } from '../../../lib/constructs/platform-key';
import { createTestApp, synthesizeStage } from '../../support/cdk-app';

const env = { account: '123456789012', region: 'us-east-1' };

/** A stack holding a queue that breaks AwsSolutions-SQS3 (no DLQ) and SQS4 (no TLS enforcement). */
function addViolatingStack(scope: Stage): void {
  const stack = new Stack(scope, 'Violating', { env });
  new sqs.Queue(stack, 'PlainQueue', { encryption: sqs.QueueEncryption.UNENCRYPTED });
}

/** A key cdk-nag accepts (rotation) and the Control Tower rules accept (grants only by AWS services). */
function compliantKey(stack: Stack): kms.Key {
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  restrictGrantsToAwsServices(key);
  return key;
}

/**
 * A log group that passes cdk-nag (it has no log-group rule) and breaks only CT.CLOUDWATCH.PR.2 (retention under a
 * year), so the failure can only come from the Control Tower engine; `compliant` gives it a year instead.
 */
function addLogGroupStack(scope: Stage, compliant: boolean): Stack {
  const stack = new Stack(scope, 'Logs', { env });
  new logs.LogGroup(stack, 'AuditTrail', { retention: compliant ? logs.RetentionDays.ONE_YEAR : logs.RetentionDays.ONE_WEEK, encryptionKey: compliantKey(stack) });
  return stack;
}

describe('cdk-nag', () => {
  it('fails the synth on a finding in a stack inside a stage', () => {
    const app = createTestApp();
    registerPolicyEngines(app);
    addViolatingStack(new Stage(app, 'Staged'));
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS3/);
  });

  it('fails the synth on a finding in a stage nested under a stack, as the pipeline nests its stages', () => {
    const app = createTestApp();
    registerPolicyEngines(app);
    const pipelineLike = new Stack(app, 'PipelineLike', { env });
    addViolatingStack(new Stage(pipelineLike, 'Deployed'));
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS4/);
  });

  it('also runs the Serverless pack', () => {
    const app = createTestApp();
    registerPolicyEngines(app);
    addViolatingStack(new Stage(app, 'Staged'));
    expect(() => app.synth()).toThrow(/Serverless-SQSRedrivePolicy/);
  });
});

describe('Control Tower proactive controls (cfn-guard)', () => {
  it('fails the synth on a finding cdk-nag does not make, naming the guard rule, the control and the resource', () => {
    const app = createTestApp();
    registerPolicyEngines(app);
    addLogGroupStack(new Stage(app, 'Staged'), false);
    expect(() => app.synth()).toThrow(/CT\.CLOUDWATCH\.PR\.2[\s\S]*Staged\/Logs\/AuditTrail[\s\S]*cdk-validator-cfnguard::cloudwatch_log_group_retention_period_check/);
  });

  it('reaches a stage nested under a stack, as the pipeline nests its stages', () => {
    const app = createTestApp();
    registerPolicyEngines(app);
    addLogGroupStack(new Stage(new Stack(app, 'PipelineLike', { env }), 'Deployed'), false);
    expect(() => app.synth()).toThrow(/CT\.CLOUDWATCH\.PR\.2[\s\S]*PipelineLike\/Deployed\/Logs\/AuditTrail[\s\S]*cloudwatch_log_group_retention_period_check/);
  });

  it('passes the compliant construct: a year of retention, a key that only AWS services may create grants on', () => {
    const app = createTestApp();
    registerPolicyEngines(app);
    addLogGroupStack(new Stage(app, 'Staged'), true);
    expect(() => app.synth()).not.toThrow();
  });

  it('fails the synth when the key policy lets anyone create grants (CT.KMS.PR.3), which cdk-nag accepts', () => {
    const app = createTestApp();
    registerPolicyEngines(app);
    const stack = new Stack(new Stage(app, 'Staged'), 'Keys', { env });
    new kms.Key(stack, 'OpenKey', { enableKeyRotation: true });
    expect(() => app.synth()).toThrow(/CT\.KMS\.PR\.3[\s\S]*Staged\/Keys\/OpenKey[\s\S]*kms_create_grant_aws_service_check/);
  });
});

describe('Control Tower rule selection', () => {
  const guard = new ControlTowerGuard();

  it('holds every Control Tower rule the package bundles: one per control in its metadata', () => {
    const metadata = path.join(path.dirname(require.resolve('@cdklabs/cdk-validator-cfnguard/package.json')), 'rules', 'control-tower', 'metadata');
    const controls = fs.readdirSync(metadata, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.metadata.json'));
    expect(controls.length).toBeGreaterThan(200);
    expect(guard.ruleCount).toBe(controls.length);
  });

  it('runs a rule where one of the types it names occurs, and a rule that names none everywhere', () => {
    const s3Rule = { path: 's3.guard', resourceTypes: new Set(['AWS::S3::Bucket']) };
    const kmsAndQueueRule = { path: 'sqs.guard', resourceTypes: new Set(['AWS::SQS::Queue', 'AWS::KMS::Key']) };
    const untyped = { path: 'any.guard', resourceTypes: new Set<string>() };
    expect(applicableRules([s3Rule, kmsAndQueueRule, untyped], new Set(['AWS::KMS::Key'])).map((rule) => rule.path)).toEqual(['sqs.guard', 'any.guard']);
    expect(applicableRules([s3Rule, kmsAndQueueRule, untyped], new Set(['AWS::S3::Bucket'])).map((rule) => rule.path)).toEqual(['s3.guard', 'any.guard']);
  });

  it('finds exactly what all the rules find, on a template with findings of several services', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Mixed', { env });
    new sqs.Queue(stack, 'PlainQueue', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    new logs.LogGroup(stack, 'ShortLived', { retention: logs.RetentionDays.ONE_DAY });
    new kms.Key(stack, 'OpenKey');
    const templatePath = path.join(app.synth().directory, 'Mixed.template.json');
    const summary = (violations: readonly { ruleName: string; violatingResources: readonly { resourceLogicalId?: string }[] }[]) =>
      violations.flatMap((violation) => violation.violatingResources.map((resource) => `${violation.ruleName} ${resource.resourceLogicalId ?? ''}`)).sort();

    const selected = guard.validate({ templatePaths: [templatePath], stackTemplates: [], appConstruct: app });
    const everyRule = new CfnGuardValidator({ maxBuffer: 64 * 1024 * 1024 }).validate({ templatePaths: [templatePath], appConstruct: app });

    expect(selected.success).toBe(false);
    expect(summary(selected.violations)).toEqual(summary(everyRule.violations));
    expect(summary(selected.violations)).toEqual(expect.arrayContaining([expect.stringMatching(/^sqs_queue_encrypted_check PlainQueue/), expect.stringMatching(/^cloudwatch_log_group_retention_period_check ShortLived/)]));
    for (const violation of selected.violations) expect(violation.severity).toBe('error');
  });
});

describe('the trading platform stage', () => {
  it('has no unacknowledged finding of either engine, and every acknowledged one has a reason', () => {
    const { assembly } = synthesizeStage();
    const reportFile = path.join(assembly.directory, 'validation-report.json');
    const report = JSON.parse(fs.readFileSync(reportFile, 'utf8')) as {
      pluginReports: { pluginName: string; conclusion: string; violations: unknown[]; suppressedViolations?: { reason?: string }[] }[];
    };
    // Plugins that pass with nothing acknowledged leave no entry; the tests above prove the same plugins run on stages.
    for (const plugin of report.pluginReports) {
      expect({ plugin: plugin.pluginName, conclusion: plugin.conclusion, violations: plugin.violations }).toEqual({ plugin: plugin.pluginName, conclusion: 'success', violations: [] });
      for (const suppressed of plugin.suppressedViolations ?? []) expect(suppressed.reason).toMatch(/\S{3,}/);
    }
    expect(report.pluginReports.map((plugin) => plugin.pluginName)).toContain('cdk-validator-cfnguard');
  });
});
