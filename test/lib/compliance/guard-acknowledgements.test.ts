/**
 * The Control Tower acknowledgements hold only where their reason does: a cross-stack key but not a missing key, short
 * retention outside Prod but not in Prod, and each acknowledged finding of the real stage names its control and reason.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Stack, Stage } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { GUARD_RULES, acknowledgeStageGuardFindings, acknowledgeVerifiedGuardFindings } from '../../../lib/compliance/guard-acknowledgements';
import { GUARD_PLUGIN_NAME } from '../../../lib/compliance/control-tower-guard';
import { registerPolicyEngines } from '../../../lib/compliance/policy-engines';
import { restrictGrantsToAwsServices } from '../../../lib/constructs/platform-key';
import { TradingPlatformStage } from '../../../lib/stages/trading-platform-stage';
import { createTestApp, synthesizeStage, testConfig } from '../../support/cdk-app';

const env = { account: '123456789012', region: 'us-east-1' };

function keyIn(stack: Stack): kms.Key {
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  restrictGrantsToAwsServices(key);
  return key;
}

/** The synth's error message, or '' when it passes. */
function synthError(synth: () => unknown): string {
  try {
    synth();
    return '';
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

describe('verified acknowledgements', () => {
  it('acknowledge a log group encrypted with a key of another stack, never one without a key', () => {
    const app = createTestApp();
    registerPolicyEngines(app);
    const stage = new Stage(app, 'Stage');
    const key = keyIn(new Stack(stage, 'Keys', { env }));
    const logsStack = new Stack(stage, 'Logs', { env });
    new logs.LogGroup(logsStack, 'CrossStackKey', { retention: logs.RetentionDays.ONE_YEAR, encryptionKey: key });
    new logs.LogGroup(logsStack, 'NoKey', { retention: logs.RetentionDays.ONE_YEAR });
    acknowledgeVerifiedGuardFindings(stage, undefined);

    const message = synthError(() => app.synth());
    expect(message).toMatch(/CT\.CLOUDWATCH\.PR\.3[\s\S]*Stage\/Logs\/NoKey/);
    expect(message).not.toContain('Stage/Logs/CrossStackKey');
  });

  it('acknowledge retention under a year outside Prod, and not without an environment that allows it', () => {
    const build = (shortRetention: 'sandbox' | undefined) => {
      const app = createTestApp();
      registerPolicyEngines(app);
      const stage = new Stage(app, 'Stage');
      const stack = new Stack(stage, 'Logs', { env });
      new logs.LogGroup(stack, 'Week', { retention: logs.RetentionDays.ONE_WEEK, encryptionKey: keyIn(stack) });
      acknowledgeVerifiedGuardFindings(stage, shortRetention);
      return () => app.synth();
    };
    expect(synthError(build('sandbox'))).toBe('');
    expect(synthError(build(undefined))).toMatch(/CT\.CLOUDWATCH\.PR\.2[\s\S]*Stage\/Logs\/Week/);
  });

  it('fail loudly when the stage layout they name has changed, instead of acknowledging nothing', () => {
    const app = createTestApp();
    expect(() => acknowledgeStageGuardFindings(new Stage(app, 'Empty'), 'sandbox')).toThrow(/Empty\/Data\/Database\/Cluster: no such construct/);
  });
});

describe('Prod', () => {
  it('fails the synth when its log retention drops under a year: short retention is acknowledged outside Prod only', () => {
    const app = createTestApp();
    registerPolicyEngines(app);
    const prod = testConfig().prod;
    new TradingPlatformStage(app, 'Prod', { config: { ...prod, logRetention: logs.RetentionDays.ONE_MONTH } });
    expect(synthError(() => app.synth())).toMatch(/CT\.CLOUDWATCH\.PR\.2[\s\S]*Prod\/Data\/Network\/FlowLogGroup/);
  });
});

interface SuppressedViolation {
  readonly ruleName: string;
  readonly reason?: string;
  readonly acknowledgedAt?: string;
  readonly violatingConstructs: readonly { readonly constructPath: string }[];
}

describe('the sandbox stage', () => {
  let acknowledged: SuppressedViolation[];
  beforeAll(() => {
    const { assembly } = synthesizeStage();
    const report = JSON.parse(fs.readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8')) as {
      pluginReports: { pluginName: string; suppressedViolations?: SuppressedViolation[] }[];
    };
    acknowledged = report.pluginReports.find((plugin) => plugin.pluginName === GUARD_PLUGIN_NAME)?.suppressedViolations ?? [];
  });

  const at = (rule: string) => acknowledged.filter((violation) => violation.ruleName === rule).flatMap((violation) => violation.violatingConstructs.map((construct) => construct.constructPath));

  it('uses every listed rule, each acknowledgement reasoned and prefixed with its Control Tower id', () => {
    const byRule = new Map<string, string>(Object.values(GUARD_RULES).map(({ rule, control }) => [rule, control]));
    expect([...new Set(acknowledged.map((violation) => violation.ruleName))].sort()).toEqual([...byRule.keys()].sort());
    for (const violation of acknowledged) expect(violation.reason).toMatch(new RegExp(`^${(byRule.get(violation.ruleName) ?? '?').replace(/\./g, '\\.')}: .{40,}`));
  });

  it('acknowledges deletion protection and IAM auth on the cluster only, for the customer\'s and the design\'s reasons', () => {
    expect(at(GUARD_RULES.clusterDeletionProtection.rule)).toEqual(['Test/Data/Database/Cluster/Resource']);
    expect(at(GUARD_RULES.clusterIamAuthentication.rule)).toEqual(['Test/Data/Database/Cluster/Resource']);
  });

  it('acknowledges SSE-S3 and no access logging on the access log bucket only', () => {
    expect(at(GUARD_RULES.bucketKmsEncryption.rule)).toEqual(['Test/Data/Buckets/AccessLogBucket/Resource']);
    expect(at(GUARD_RULES.bucketAccessLogging.rule)).toEqual(['Test/Data/Buckets/AccessLogBucket/Resource']);
    expect(at(GUARD_RULES.bucketEventNotifications.rule)).toEqual(['Test/Data/Buckets/AccessLogBucket/Resource']);
  });

  it('acknowledges no dead-letter queue on the end-of-line queues, not on the orders DLQ (it declares its source queue)', () => {
    expect(at(GUARD_RULES.queueDeadLetterQueue.rule).sort()).toEqual(
      ['Alerting/DeliveryDeadLetterQueue', 'EventBus/DeliveryDeadLetterQueue', 'Health/MonitorDeadLetterQueue', 'Sessions/StreamFailureQueue'].map((queue) => `Test/Service/${queue}/Resource`),
    );
  });

  it('acknowledges functions outside the VPC only for the health monitor and aws-cdk-lib\'s providers', () => {
    const outside = at(GUARD_RULES.functionInVpc.rule).filter((construct) => !/\/(Orders\/Processor|Orders\/Query|Sessions\/Handler|Sessions\/StreamConsumer|Health\/Health|SchemaMigrations\/Migrator)\/Function\//.test(construct));
    expect(outside.sort()).toEqual([
      'Test/Data/Custom::S3AutoDeleteObjectsCustomResourceProvider/Handler',
      'Test/Data/Custom::VpcRestrictDefaultSGCustomResourceProvider/Handler',
      'Test/Data/SchemaMigrations/Provider/framework-onEvent/Resource',
      'Test/Service/AWS679f53fac002430cb0da5b7982bd2287/Resource',
      'Test/Service/Health/Monitor/Function/Resource',
    ]);
  });
});
